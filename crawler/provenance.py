"""The provenance chain of one value: value → cell → document bytes → captures → listing page.

``value_chain`` walks it in the database and checks the last link against the archive: the bytes
stored under the document's sha256 must hash to that sha256, and each capture's WARC record must
be where the row says it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.archive import Archive, ArchiveError, WarcLocation
from crawler.db.models import Agency, Capture, Document, Report, ReportValue, parse_number


class ChainError(LookupError):
    """The value (or its report/agency) is not in the database; the message says which."""


@dataclass
class CaptureLink:
    url: str
    final_url: Optional[str]
    status: Optional[int]
    fetched_at: Optional[str]
    is_revisit: bool
    warc_file: Optional[str]
    warc_offset: Optional[int]
    warc_length: Optional[int]
    warc_record_ok: Optional[bool]  # the WARC record at that offset exists and names this URL
    referrer_url: Optional[str]  # the listing page that linked to it
    referrer_capture: Optional[dict[str, Any]] = None  # how that listing page itself was archived


@dataclass
class Chain:
    agency: Optional[str]
    year: Optional[int]
    report_id: int
    report_version: int
    parser_version: str
    title: Optional[str]
    key: str
    value: Any
    cell: dict[str, Any]
    document_sha256: str
    document_size: int
    media_type: Optional[str]
    archive_path: str
    bytes_verified: bool  # the archived bytes hash to document_sha256
    captures: list[CaptureLink] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["value"] = _json_value(self.value)
        return data


def find_report(session: Session, agency: str, year: int) -> Report:
    """The current report of an agency (exact name, alias, or a unique name containing it)."""
    agency_row = find_agency(session, agency)
    report = session.scalar(select(Report).where(Report.agency_id == agency_row.id, Report.year == year,
                                                 Report.is_current.is_(True)).limit(1))
    if report is None:
        raise ChainError(f"no report of {agency_row.name} for {year}")
    return report


def find_agency(session: Session, query: str) -> Agency:
    query = query.strip()
    exact = session.scalar(select(Agency).where(Agency.name == query))
    if exact is not None:
        return exact
    candidates = list(session.scalars(select(Agency).where(Agency.name.contains(query, autoescape=True)).limit(20)))
    aliased = [a for a in session.scalars(select(Agency)) if query in (a.aliases or [])] if not candidates else []
    matches = candidates or aliased
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ChainError(f"no agency matches {query!r}")
    names = ", ".join(a.name for a in matches[:5])
    raise ChainError(f"{query!r} matches several agencies ({names}); give the full name")


def value_chain(session: Session, archive: Archive, key: str, *, report_id: Optional[int] = None,
                agency: Optional[str] = None, year: Optional[int] = None) -> Chain:
    """The chain for ``key`` in a report given by id, or by agency name and year (current version)."""
    if report_id is not None:
        report = session.get(Report, report_id)
        if report is None:
            raise ChainError(f"no report with id {report_id}")
    elif agency is not None and year is not None:
        report = find_report(session, agency, year)
    else:
        raise ChainError("give a report id, or an agency and a year")
    value = session.scalar(select(ReportValue).where(ReportValue.report_id == report.id, ReportValue.key == key))
    if value is None:
        raise ChainError(f"report {report.id} has no value {key!r}")
    document = session.get(Document, report.document_id)
    assert document is not None
    agency_row = session.get(Agency, report.agency_id) if report.agency_id else None
    return Chain(
        agency=agency_row.name if agency_row else None, year=report.year, report_id=report.id,
        report_version=report.version, parser_version=report.parser_version, title=report.title,
        key=key, value=parse_number(value.value_text),
        cell={"raw": value.raw, "page": value.page, "table": value.table_index,
              "row_label": value.row_label, "col_label": value.col_label,
              "confidence": value.confidence, "source": value.cell_source},
        document_sha256=document.sha256, document_size=document.size, media_type=document.media_type,
        archive_path=str(archive.blob_path(document.sha256)),
        bytes_verified=_blob_hashes_to(archive, document.sha256),
        captures=[_capture_link(session, archive, c) for c in _captures_of(session, document.sha256)])


def _captures_of(session: Session, sha256: str) -> list[Capture]:
    return list(session.scalars(select(Capture).where(Capture.sha256 == sha256).order_by(Capture.fetched_at, Capture.id)))


def _capture_link(session: Session, archive: Archive, capture: Capture) -> CaptureLink:
    referrer = None
    if capture.referrer_url:
        listing = session.scalar(select(Capture).where(Capture.url == capture.referrer_url,
                                                       Capture.fetched_at <= capture.fetched_at)
                                 .order_by(Capture.fetched_at.desc(), Capture.id.desc()).limit(1))
        if listing is not None:
            referrer = {"url": listing.url, "fetched_at": _iso(listing.fetched_at), "sha256": listing.sha256,
                        "warc_file": listing.warc_file, "warc_offset": listing.warc_offset}
    return CaptureLink(url=capture.url, final_url=capture.final_url, status=capture.status,
                       fetched_at=_iso(capture.fetched_at), is_revisit=capture.is_revisit,
                       warc_file=capture.warc_file, warc_offset=capture.warc_offset,
                       warc_length=capture.warc_length, warc_record_ok=_warc_record_ok(archive, capture),
                       referrer_url=capture.referrer_url, referrer_capture=referrer)


def _blob_hashes_to(archive: Archive, sha256: str) -> bool:
    digest = hashlib.sha256()
    try:
        with archive.open_blob(sha256) as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except (ArchiveError, OSError):
        return False
    return digest.hexdigest() == sha256


def _warc_record_ok(archive: Archive, capture: Capture) -> Optional[bool]:
    if not capture.warc_file or capture.warc_offset is None:
        return None
    try:
        headers, _ = archive.read_record(WarcLocation(capture.warc_file, capture.warc_offset,
                                                      capture.warc_length or 0, capture.warc_record_id or ""))
    except (ArchiveError, OSError, ValueError, EOFError):
        return False
    except Exception:  # warcio's errors on a damaged file
        return False
    return headers.get("WARC-Target-URI") == capture.url


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return moment.isoformat() if moment else None


def _json_value(value: Any) -> Any:
    from parsers.model import json_number

    return json_number(value)
