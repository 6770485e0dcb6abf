"""Writing to the database: captures, documents, parsed reports, versions and cross-year checks.

The crawler pipeline calls, per response (archive first, row second)::

    with transaction(factory) as session:
        result = capture_response(session, archive, url=..., status=..., headers=..., body=...,
                                  is_document=True, referrer_url=listing_url, run_id=..., source_id=...)

Parse workers call::

    for document in claim_pending_documents(session, worker_id, limit=10):   # commits the claim
        with transaction(factory) as s:
            parse_and_store(s, archive, s.get(Document, document.id))

Functions taking a session flush but never commit (the caller's transaction decides), except
:func:`claim_pending_documents`, whose claim must be visible to other workers at once. All of them
are idempotent: storing the same thing twice adds no rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from crawler.archive import Archive, ArchivedResponse, Body, Headers
from crawler.db.models import (Agency, Capture, CheckResult, CrawlRun, Document, Report,
                               ReportChange, ReportValue, Source, format_number, parse_number, utcnow)

APPLICANT_COLUMNS = ("natural_person", "org_commercial", "org_research", "org_public_welfare",
                     "org_legal_service", "org_other", "total")
X2_CATEGORIES = ("regulations", "normative_documents")
CROSS_YEAR_CHECKS = ("X1", "X2")
DEFAULT_STALE_CLAIM = timedelta(minutes=30)
DEFAULT_MAX_ATTEMPTS = 3

ParseFunction = Callable[..., Any]  # parsers.parse-compatible: (data, media_type=, name=) -> Report|dict


class StoreError(Exception):
    """Input that cannot be stored (e.g. a report dict without the contract's fields)."""


@dataclass
class CaptureResult:
    capture: Capture
    document: Optional[Document]
    archived: Optional[ArchivedResponse]


@dataclass(frozen=True)
class RecordedCapture:
    """A capture row as a batch writer hands it back: ids and what was stored, no ORM state."""

    id: int
    sha256: Optional[str]
    size: Optional[int]
    media_type: Optional[str]
    status: Optional[int]
    is_revisit: bool
    document_id: Optional[int] = None  # the document row of a report candidate (``is_document``)


@dataclass
class CaptureInput:
    """One response to archive and record (the arguments of :func:`capture_response`)."""

    url: str
    status: int
    headers: Headers
    body: Body
    is_document: bool = False
    method: str = "GET"
    request_headers: Headers = None
    request_body: bytes = b""
    final_url: Optional[str] = None
    media_type: Optional[str] = None
    referrer_url: Optional[str] = None
    run_id: Optional[int] = None
    source_id: Optional[int] = None
    fetched_at: Optional[datetime] = None


@dataclass
class StoreResult:
    """What :func:`store_report` did."""

    report: Report
    created: bool  # False: this (document, parser version) was stored before, nothing written
    kind: str = "new"  # new | version (changed document) | reparse | duplicate | unchanged
    changes: list[ReportChange] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.kind == "version"


# ---------------------------------------------------------------------- registry
def get_or_create_agency(session: Session, name: str, **attributes: Any) -> Agency:
    """The agency of that exact name, created when new (attributes fill only a new row)."""
    name = (name or "").strip()
    if not name:
        raise StoreError("an agency needs a name")
    agency = session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        _insert_ignore(session, Agency, {"name": name, "aliases": attributes.pop("aliases", []) or [],
                                         **attributes}, ["name"])
        agency = session.scalar(select(Agency).where(Agency.name == name))
    assert agency is not None
    return agency


def get_or_create_source(session: Session, name: str, start_url: str, *, agency: Optional[Agency] = None,
                         platform: Optional[str] = None, how_established: Optional[str] = None) -> Source:
    """A registry entry by name; an existing one is updated to the registry's current fields."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        _insert_ignore(session, Source, {"name": name, "start_url": start_url}, ["name"])
        source = session.scalar(select(Source).where(Source.name == name))
    assert source is not None
    source.start_url = start_url
    source.agency_id = agency.id if agency is not None else source.agency_id
    source.platform = platform or source.platform
    source.how_established = how_established or source.how_established
    session.flush()
    return source


def start_run(session: Session, settings: Optional[Mapping[str, Any]] = None) -> CrawlRun:
    run = CrawlRun(settings=jsonable(dict(settings or {})), stats={}, outcome="running")
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run: CrawlRun, *, outcome: str,
               stats: Optional[Mapping[str, Any]] = None) -> CrawlRun:
    run.ended_at = utcnow()
    run.outcome = outcome
    run.stats = jsonable(dict(stats or {}))
    session.flush()
    return run


def open_crawl_run(session: Session, settings: Mapping[str, Any],
                   sources: Sequence[Mapping[str, Any]]) -> tuple[int, dict[str, int]]:
    """A crawl's run row, and its registry sources (with their agencies) created or found:
    the run's id and each source's id by name. Sources are dicts: name, url, agency, level,
    division_code, platform, how_established."""
    run = start_run(session, settings)
    ids = {}
    for source in sources:
        agency = get_or_create_agency(session, source["agency"], level=source.get("level"),
                                      division_code=source.get("division_code"))
        row = get_or_create_source(session, source["name"], source["url"], agency=agency,
                                   platform=source.get("platform") or "auto",
                                   how_established=source.get("how_established"))
        ids[source["name"]] = row.id
    return run.id, ids


def mark_run_killed(session: Session, run_id: Optional[int]) -> None:
    """A run whose process died without closing (SIGKILL, power loss): say so in its record."""
    run = session.get(CrawlRun, run_id) if run_id else None
    if run is not None and run.outcome == "running":
        run.outcome = "killed"
        run.ended_at = utcnow()
        session.flush()


def close_crawl_run(session: Session, run_id: Optional[int], outcome: str, stats: Mapping[str, Any]) -> None:
    """Record how a crawl run ended (a run that is not there — a database reset — is skipped)."""
    run = session.get(CrawlRun, run_id) if run_id is not None else None
    if run is not None:
        finish_run(session, run, outcome=outcome, stats=stats)


# ---------------------------------------------------------------------- captures
def conditional_headers(session: Session, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last successful capture of ``url``."""
    last = session.scalar(
        select(Capture).where(Capture.url == url, Capture.status == 200, Capture.sha256.is_not(None))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc()).limit(1))
    headers: dict[str, str] = {}
    if last is not None and last.etag:
        headers["If-None-Match"] = last.etag
    if last is not None and last.last_modified:
        headers["If-Modified-Since"] = last.last_modified
    return headers


def earlier_capture_of(session: Session, sha256: str) -> Optional[tuple[str, datetime]]:
    """URL and time of the first capture with this payload (for WARC revisit records)."""
    row = session.execute(
        select(Capture.url, Capture.fetched_at).where(Capture.sha256 == sha256, Capture.is_revisit.is_(False))
        .order_by(Capture.id).limit(1)).first()
    return (row[0], row[1]) if row else None


def capture_response(session: Session, archive: Archive, *, url: str, status: int, headers: Headers,
                     body: Body, is_document: bool = False, method: str = "GET",
                     request_headers: Headers = None, request_body: bytes = b"",
                     final_url: Optional[str] = None, media_type: Optional[str] = None,
                     referrer_url: Optional[str] = None, run_id: Optional[int] = None,
                     source_id: Optional[int] = None, fetched_at: Optional[datetime] = None) -> CaptureResult:
    """Archive one response, record its capture and (for report candidates) its document.

    A 304 Not Modified is recorded as a revisit of the last capture of that URL (no new
    payload). ``media_type`` defaults to the Content-Type header without parameters.
    """
    headers = materialize_headers(headers)  # may be a one-shot iterator (Scrapy's Headers.items())
    request_headers = materialize_headers(request_headers)
    header_map = headers_dict(headers)
    media_type = media_type or _media_type(header_map)
    archived = archive.archive_response(
        url, status, headers, body, method=method, request_headers=request_headers,
        request_body=request_body, fetched_at=fetched_at,
        refers_to=lambda sha: earlier_capture_of(session, sha))
    capture = record_capture(session, archived=archived, url=url, status=status, method=method,
                             request_headers=request_headers, response_headers=headers,
                             final_url=final_url, media_type=media_type, referrer_url=referrer_url,
                             run_id=run_id, source_id=source_id)
    document = None
    if status == 304:
        _mark_not_modified(session, capture)
    elif is_document and 200 <= status < 300:
        document = ensure_document(session, archived.sha256, size=archived.size,
                                   media_type=media_type, first_seen=archived.fetched_at)
    return CaptureResult(capture=capture, document=document, archived=archived)


def archive_captures(session: Session, archive: Archive, inputs: Sequence[CaptureInput]
                     ) -> list[ArchivedResponse]:
    """Archive many responses as one batch: when this returns, all their bytes are durable.

    The first half of :func:`capture_responses`, apart so that a writer whose row insert fails can
    retry the rows without archiving the bytes twice. A payload seen twice in the batch is written
    once; the second capture is a revisit of the first.
    """
    first_seen: dict[str, tuple[str, datetime]] = {}

    def refers_to(sha: str) -> Optional[tuple[str, datetime]]:
        return first_seen.get(sha) or earlier_capture_of(session, sha)

    archived = []
    with archive.batch():
        for item in inputs:
            item.headers = materialize_headers(item.headers)  # may be one-shot iterators
            item.request_headers = materialize_headers(item.request_headers)
            result = archive.archive_response(
                item.url, item.status, item.headers, item.body, method=item.method,
                request_headers=item.request_headers, request_body=item.request_body,
                fetched_at=item.fetched_at, refers_to=refers_to)
            if not result.is_revisit:
                first_seen.setdefault(result.sha256, (result.url, result.fetched_at))
            archived.append(result)
    return archived


def record_archived_captures(session: Session, inputs: Sequence[CaptureInput],
                             archived: Sequence[ArchivedResponse], *, just_archived: bool = False
                             ) -> list[RecordedCapture]:
    """Capture rows (and documents) for responses :func:`archive_captures` made durable.

    The rows :func:`capture_response` would write, in bulk and without ORM units of work (about a
    third of the store's CPU went to them): one SELECT for rows already recorded (a batch retried
    after a failed insert; skipped when ``just_archived`` says every record was written by this
    caller's own :func:`archive_captures` call, whose record ids no row can hold yet), one INSERT …
    RETURNING for the rest, one INSERT … ON CONFLICT DO NOTHING and one SELECT for the documents.
    """
    record_ids = [a.response.record_id for a in archived]
    columns = (Capture.id, Capture.sha256, Capture.size, Capture.media_type, Capture.status, Capture.is_revisit)
    existing = {row.warc_record_id: RecordedCapture(*row[:6]) for row in session.execute(
        select(*columns, Capture.warc_record_id).where(Capture.warc_record_id.in_(record_ids)))} \
        if record_ids and not just_archived else {}
    fresh = [(item, result, _capture_values(
        url=item.url, archived=result, status=item.status, method=item.method, request_headers=item.request_headers,
        response_headers=item.headers, final_url=item.final_url, media_type=item.media_type,
        referrer_url=item.referrer_url, run_id=item.run_id, source_id=item.source_id))
        for item, result in zip(inputs, archived) if result.response.record_id not in existing]
    if fresh:
        ids = session.scalars(insert(Capture).returning(Capture.id, sort_by_parameter_order=True),
                              [values for _item, _result, values in fresh]).all()
        for (_item, result, values), capture_id in zip(fresh, ids):
            existing[result.response.record_id] = RecordedCapture(
                capture_id, values["sha256"], values["size"], values["media_type"], values["status"],
                values["is_revisit"])
    wanted = [(item, result) for item, result in zip(inputs, archived)
              if item.is_document and 200 <= item.status < 300]
    document_ids = ensure_document_ids(session, [
        (r.sha256, r.size, item.media_type or _media_type(headers_dict(item.headers)), r.fetched_at)
        for item, r in wanted])
    recorded = []
    for item, result in zip(inputs, archived):
        capture = existing[result.response.record_id]
        if item.status == 304:  # rare: the ORM row, pointed at the content it confirmed
            row = session.get(Capture, capture.id)
            _mark_not_modified(session, row)
            capture = RecordedCapture(row.id, row.sha256, row.size, row.media_type, row.status, row.is_revisit)
        if item.is_document and 200 <= item.status < 300:
            capture = replace(capture, document_id=document_ids.get(result.sha256))
        recorded.append(capture)
    return recorded


def capture_responses(session: Session, archive: Archive, inputs: Sequence[CaptureInput]) -> list[RecordedCapture]:
    """:func:`capture_response` for many responses: one archive batch, then the rows in bulk."""
    return record_archived_captures(session, inputs, archive_captures(session, archive, inputs), just_archived=True)


def record_capture(session: Session, *, url: str, archived: Optional[ArchivedResponse] = None,
                   status: Optional[int] = None, method: str = "GET", request_headers: Headers = None,
                   response_headers: Headers = None, final_url: Optional[str] = None,
                   media_type: Optional[str] = None, referrer_url: Optional[str] = None,
                   run_id: Optional[int] = None, source_id: Optional[int] = None,
                   error: Optional[str] = None, fetched_at: Optional[datetime] = None) -> Capture:
    """A capture row for an archived response (or for a failed fetch: ``archived=None, error=...``).

    Archive first: pass the :class:`ArchivedResponse` returned by the archive, so the row only
    ever points at bytes that are on disk. Idempotent by WARC record id.
    """
    if archived is not None:
        existing = session.scalar(select(Capture).where(Capture.warc_record_id == archived.response.record_id))
        if existing is not None:
            return existing
    capture = _capture_row(url=url, archived=archived, status=status, method=method,
                           request_headers=request_headers, response_headers=response_headers,
                           final_url=final_url, media_type=media_type, referrer_url=referrer_url,
                           run_id=run_id, source_id=source_id, error=error, fetched_at=fetched_at)
    session.add(capture)
    session.flush()
    return capture


def _capture_row(**fields: Any) -> Capture:
    return Capture(**_capture_values(**fields))


def _capture_values(*, url: str, archived: Optional[ArchivedResponse], status: Optional[int], method: str,
                    request_headers: Headers, response_headers: Headers, final_url: Optional[str],
                    media_type: Optional[str], referrer_url: Optional[str], run_id: Optional[int],
                    source_id: Optional[int], error: Optional[str] = None,
                    fetched_at: Optional[datetime] = None) -> dict[str, Any]:
    """A capture row's columns (for an ORM object or a bulk INSERT alike)."""
    response_map = headers_dict(response_headers)
    values: dict[str, Any] = dict(
        url=url, final_url=final_url or url, method=method.upper(), status=status,
        request_headers=headers_dict(request_headers), response_headers=response_map,
        fetched_at=archived.fetched_at if archived else (fetched_at or utcnow()),
        media_type=media_type or _media_type(response_map), referrer_url=referrer_url,
        etag=_header(response_map, "etag"), last_modified=_header(response_map, "last-modified"),
        run_id=run_id, source_id=source_id, error=error, is_revisit=False,
        sha256=None, size=None, warc_file=None, warc_offset=None, warc_length=None, warc_record_id=None)
    if archived is not None:
        values.update(sha256=archived.sha256, size=archived.size, is_revisit=archived.is_revisit,
                      warc_file=archived.response.file, warc_offset=archived.response.offset,
                      warc_length=archived.response.length, warc_record_id=archived.response.record_id)
    return values


def _mark_not_modified(session: Session, capture: Capture) -> None:
    """A 304 carries no payload: point the capture at the content it confirmed unchanged."""
    previous = session.scalar(
        select(Capture).where(Capture.url == capture.url, Capture.status == 200, Capture.id != capture.id)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc()).limit(1))
    capture.is_revisit = True
    if previous is not None:
        capture.sha256, capture.size = previous.sha256, previous.size
        capture.media_type = previous.media_type
    session.flush()


# ---------------------------------------------------------------------- documents and the work queue
def ensure_document(session: Session, sha256: str, *, size: int, media_type: Optional[str] = None,
                    first_seen: Optional[datetime] = None) -> Document:
    """The document with this payload; a new one starts with ``parse_status='pending'``."""
    document = session.scalar(select(Document).where(Document.sha256 == sha256))
    if document is None:
        _insert_ignore(session, Document, {"sha256": sha256, "size": size, "media_type": media_type,
                                           "first_seen": first_seen or utcnow(),
                                           "parse_status": "pending", "attempts": 0}, ["sha256"])
        document = session.scalar(select(Document).where(Document.sha256 == sha256))
    assert document is not None
    return document


def ensure_document_ids(session: Session, documents: Sequence[tuple[str, int, Optional[str], Optional[datetime]]]
                        ) -> dict[str, int]:
    """:func:`ensure_document` for many (sha256, size, media type, first seen), by id: one SELECT of
    those known (on a re-crawl, most), one INSERT … ON CONFLICT DO NOTHING for the rest and one
    SELECT of their ids. The first mention of a sha256 wins."""
    if not documents:
        return {}
    rows: dict[str, dict[str, Any]] = {}
    for sha256, size, media_type, first_seen in documents:
        rows.setdefault(sha256, {"sha256": sha256, "size": size, "media_type": media_type,
                                 "first_seen": first_seen or utcnow(), "parse_status": "pending",
                                 "attempts": 0})
    known = _document_ids(session, list(rows))
    new = [row for sha, row in rows.items() if sha not in known]
    if new:
        _insert_ignore_many(session, Document, new, ["sha256"])
        known.update(_document_ids(session, [row["sha256"] for row in new]))
    return known


def _document_ids(session: Session, sha256s: list[str]) -> dict[str, int]:
    return {sha: id_ for sha, id_ in session.execute(select(Document.sha256, Document.id).where(Document.sha256.in_(sha256s)))}


def claim_pending_documents(session: Session, worker_id: str, limit: int = 1, *,
                            stale_after: timedelta = DEFAULT_STALE_CLAIM,
                            max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> list[Document]:
    """Atomically hand up to ``limit`` documents to ``worker_id`` and COMMIT the claim.

    Pending documents, and documents whose claim went stale (a worker killed mid-parse) while
    under ``max_attempts``, are claimed. PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` inside
    the UPDATE, so concurrent workers never wait for or share a row. SQLite: the same single
    UPDATE under the database write lock (BEGIN IMMEDIATE), equally exclusive.
    """
    now = utcnow()
    claimable = or_(Document.parse_status == "pending",
                    and_(Document.parse_status == "parsing", Document.claimed_at < now - stale_after,
                         Document.attempts < max_attempts))
    picked = (select(Document.id).where(claimable).order_by(Document.id).limit(limit)
              .with_for_update(skip_locked=True))
    claimed_ids = session.scalars(
        update(Document).where(Document.id.in_(picked.scalar_subquery()))
        .values(parse_status="parsing", claimed_by=worker_id, claimed_at=now,
                attempts=Document.attempts + 1)
        .returning(Document.id)
        .execution_options(synchronize_session=False)).all()
    session.commit()
    if not claimed_ids:
        return []
    return list(session.scalars(select(Document).where(Document.id.in_(claimed_ids)).order_by(Document.id)))


def finish_document(session: Session, document: Document, *, error: Optional[str] = None) -> None:
    """Mark a claimed document done (or failed with a one-line reason); it stays archived."""
    document.parse_status = "failed" if error else "done"
    document.parse_error = error.splitlines()[0][:2000] if error else None
    document.claimed_by = None
    session.flush()


def parse_and_store(session: Session, archive: Archive, document: Document,
                    parse_fn: Optional[ParseFunction] = None, *,
                    agency: Optional[Agency | str] = None) -> Optional[StoreResult]:
    """Parse an archived document (no network) and store the report; a parse failure is stored
    with the document. Returns None when the document could not be parsed."""
    if parse_fn is None:
        import parsers

        parse_fn = parsers.parse
    context = document_context(session, document)
    try:
        parts = detail_parts(session, archive, document, context["url"])
        parsed = parse_fn(document_bytes(archive, document, parts), media_type=document.media_type,
                          name=context["name"])
        report_dict = parsed.to_dict() if hasattr(parsed, "to_dict") else dict(parsed)
        note_detail_parts(report_dict, parts)
    except Exception as exc:  # a parser bug must not stop the worker; the reason is kept
        finish_document(session, document, error=f"{type(exc).__name__}: {exc}")
        return None
    source = session.get(Source, context["source_id"]) if context["source_id"] else None
    if agency is None and not report_dict.get("agency") and source is not None and source.agency_id:
        agency = session.get(Agency, source.agency_id)
    result = store_report(session, document, report_dict, agency=agency, source=source,
                          source_url=context["url"])
    finish_document(session, document)
    return result


def detail_parts(session: Session, archive: Archive, document: Document, url: Optional[str]
                 ) -> list[tuple[str, Optional[str]]]:
    """The later parts of a detail page TRS split over ``t…_<id>.html``, ``t…_<id>_1.html`` …, as
    (URL, sha256 — None when that part was never archived); [] for any other document.

    Found from the first part's pager and the crawl's captures, so a re-parse from the archive
    finds them the same way.
    """
    if not url or "html" not in (document.media_type or ""):
        return []
    from crawler.platforms import trs
    from crawler.platforms.encoding import decode_body

    parts = []
    for part_url in trs.detail_part_urls(url, decode_body(archive.read_blob(document.sha256))):
        sha = session.scalar(select(Capture.sha256).where(
            Capture.url == part_url, Capture.status == 200, Capture.sha256.is_not(None))
            .order_by(Capture.id.desc()).limit(1))
        parts.append((part_url, sha))
    return parts


def document_bytes(archive: Archive, document: Document, parts: Sequence[tuple[str, Optional[str]]]) -> bytes:
    """What to parse for a document: its payload, with the archived later parts (see
    :func:`detail_parts`) joined into one page."""
    from crawler.platforms import trs

    data = archive.read_blob(document.sha256)
    found = [archive.read_blob(sha) for _url, sha in parts if sha]
    return trs.join_detail_parts(data, found) if found else data


def note_detail_parts(report: dict[str, Any], parts: Sequence[tuple[str, Optional[str]]]) -> None:
    """Say in a parse result which pages it was read from, and which part was missing."""
    if not parts:
        return
    report["parts"] = [url for url, _sha in parts]
    missing = [url for url, sha in parts if not sha]
    if missing:
        report.setdefault("warnings", []).append(
            f"{len(missing)} of {len(parts) + 1} pages of this report were not archived: {', '.join(missing)}")


def document_context(session: Session, document: Document) -> dict[str, Any]:
    """Where a document was first found: URL, source, and a name hint for the parser.

    The name is only a hint for format sniffing; it never becomes a file path.
    """
    capture = session.scalar(select(Capture).where(Capture.sha256 == document.sha256)
                             .order_by(Capture.is_revisit, Capture.id).limit(1))
    url = (capture.final_url or capture.url) if capture else None
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) if url else ""
    return {"url": url, "source_id": capture.source_id if capture else None, "name": name}


# ---------------------------------------------------------------------- reports
def store_report(session: Session, document: Document, report: Mapping[str, Any], *,
                 agency: Optional[Agency | str] = None, source: Optional[Source] = None,
                 source_url: Optional[str] = None) -> StoreResult:
    """Store one parse result (``parsers.parse(...).to_dict()``) of ``document``.

    * same document + same parser version again → nothing written (idempotent);
    * same document, new parser version → a new row superseding the old parse (kind ``reparse``);
    * another document for the same agency and year with different values → a new version,
      ``changed_after_publication`` set, the differing values in ``report_changes``;
      with the same values → kept as a ``duplicate`` (e.g. the HTML page and its PDF);
    * X1/X2 against the neighbouring years are (re)computed for this year and the next.
    """
    if not isinstance(report, Mapping) or "values" not in report:
        raise StoreError("report must be a parse-output dict with 'values'")
    parser_version = str(report.get("parser_version") or "")
    existing = session.scalar(select(Report).where(Report.document_id == document.id,
                                                   Report.parser_version == parser_version))
    if existing is not None:
        return StoreResult(report=existing, created=False, kind="unchanged")

    agency_row = _resolve_agency(session, agency if agency is not None else report.get("agency"))
    if agency_row is not None:
        _lock_agency(session, agency_row)
    year = _year(report.get("year"))
    values = _value_texts(report.get("values") or {})
    status = _report_status(report, agency_row, year)

    earlier_parse = session.scalar(select(Report).where(Report.document_id == document.id)
                                   .order_by(Report.id.desc()).limit(1))
    current = _current_report(session, agency_row.id, year) if status == "ok" and agency_row else None
    kind, version, supersedes, changed = "new", 1, None, False
    if earlier_parse is not None:
        kind, version, supersedes = "reparse", earlier_parse.version, earlier_parse
        changed = earlier_parse.changed_after_publication
        status = "duplicate" if earlier_parse.status == "duplicate" else status
    elif current is not None:
        if _same_values(values, _values_of(session, current.id)):
            kind, version, status = "duplicate", current.version, "duplicate"
        else:
            kind, supersedes, changed = "version", current, True
            version = _max_version(session, agency_row.id, year) + 1  # type: ignore[union-attr]

    row = Report(
        agency_id=agency_row.id if agency_row else None, year=year, title=report.get("title"),
        publish_date=_date_text(report.get("publish_date")), signature_date=_date_text(report.get("signature_date")),
        format=str(report.get("format") or "UNKNOWN"), document_id=document.id, version=version,
        parser_version=parser_version, status=status, error=None, source_url=source_url,
        source_id=source.id if source else None, is_current=False, supersedes_id=supersedes.id if supersedes else None,
        changed_after_publication=changed, details=_details(report))
    session.add(row)
    session.flush()
    _add_values(session, row, values, report.get("cells") or {})
    _add_checks(session, row, report.get("checks") or [])
    changes = _record_changes(session, supersedes, row, values, kind) if supersedes else []
    _refresh_current(session, row)
    if row.agency_id is not None and row.year is not None:
        update_cross_year_checks(session, row.agency_id, row.year)
    session.flush()
    return StoreResult(report=row, created=True, kind=kind, changes=changes)


def _report_status(report: Mapping[str, Any], agency: Optional[Agency], year: Optional[int]) -> str:
    if report.get("format") == "NOT_A_REPORT":
        return "not_a_report"
    if agency is None or year is None:
        return "incomplete"
    return "ok"


def _resolve_agency(session: Session, agency: Optional[Agency | str]) -> Optional[Agency]:
    """Any spelling of an agency's name → one row with level, division code and parent."""
    if agency is None or isinstance(agency, Agency):
        return agency
    name = str(agency).strip()
    if not name:
        return None
    from crawler.agencies import resolve_agency

    return resolve_agency(session, name)


def _lock_agency(session: Session, agency: Agency) -> None:
    """Serialise version numbering per agency across workers (PostgreSQL row lock; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Agency.id).where(Agency.id == agency.id).with_for_update())


def _current_report(session: Session, agency_id: int, year: Optional[int]) -> Optional[Report]:
    if year is None:
        return None
    return session.scalar(select(Report).where(Report.agency_id == agency_id, Report.year == year,
                                               Report.is_current.is_(True)).limit(1))


def _max_version(session: Session, agency_id: int, year: int) -> int:
    versions = session.scalars(select(Report.version).where(Report.agency_id == agency_id, Report.year == year))
    return max(versions, default=0)


def _refresh_current(session: Session, row: Report) -> None:
    """Exactly one current row per (agency, year): the highest version, latest parse, not a
    duplicate. Earlier parses of the same document are never current. Rows outside a series
    (no agency or year, not a report) are current as the latest parse of their document."""
    session.execute(update(Report).where(Report.document_id == row.document_id, Report.id != row.id)
                    .values(is_current=False).execution_options(synchronize_session="fetch"))
    if row.status != "ok" or row.agency_id is None or row.year is None:
        row.is_current = row.status in ("incomplete", "not_a_report")
        session.flush()
        return
    rows = list(session.scalars(select(Report).where(Report.agency_id == row.agency_id, Report.year == row.year)))
    eligible = [r for r in rows if r.status == "ok"]
    best = max(eligible, key=lambda r: (r.version, r.id))
    for candidate in rows:
        candidate.is_current = candidate is best
    session.flush()


def _value_texts(values: Mapping[str, Any]) -> dict[str, Optional[str]]:
    texts = {}
    for key, value in values.items():
        try:
            texts[str(key)] = format_number(value)
        except (ValueError, ArithmeticError) as exc:
            raise StoreError(f"value of {key} is not a number: {value!r}") from exc
    return texts


def _add_values(session: Session, row: Report, values: Mapping[str, Optional[str]],
                cells: Mapping[str, Any]) -> None:
    for key, text in values.items():
        cell = cells.get(key) or {}
        session.add(ReportValue(
            report_id=row.id, key=key, value_text=text,
            value_num=float(Decimal(text)) if text is not None else None,
            raw=cell.get("raw"), page=cell.get("page"), table_index=cell.get("table"),
            row_label=cell.get("row_label"), col_label=cell.get("col_label"),
            confidence=cell.get("confidence"), cell_source=cell.get("source")))


def _add_checks(session: Session, row: Report, checks: Iterable[Mapping[str, Any]]) -> None:
    for check in checks:
        session.add(CheckResult(
            report_id=row.id, check_id=str(check.get("id") or ""), scope=str(check.get("scope") or ""),
            status=str(check.get("status") or ""), expected=_number_text(check.get("expected")),
            actual=_number_text(check.get("actual")), note=check.get("note") or None))


def _values_of(session: Session, report_id: int) -> dict[str, Optional[str]]:
    return dict(session.execute(select(ReportValue.key, ReportValue.value_text)
                                .where(ReportValue.report_id == report_id)).all())


def value_diff(old: Mapping[str, Optional[str]], new: Mapping[str, Optional[str]]
               ) -> list[tuple[str, bool, Optional[str], bool, Optional[str]]]:
    """(key, old present, old value, new present, new value) for every key that differs."""
    diff = []
    for key in sorted(set(old) | set(new)):
        old_present, new_present = key in old, key in new
        old_value, new_value = old.get(key), new.get(key)
        same_number = (old_value is not None and new_value is not None
                       and Decimal(old_value) == Decimal(new_value))
        if old_present != new_present or not (same_number or old_value == new_value):
            diff.append((key, old_present, old_value, new_present, new_value))
    return diff


def _same_values(new: Mapping[str, Optional[str]], old: Mapping[str, Optional[str]]) -> bool:
    return not value_diff(old, new)


def _record_changes(session: Session, old: Report, new: Report, new_values: Mapping[str, Optional[str]],
                    kind: str) -> list[ReportChange]:
    changes = [ReportChange(old_report_id=old.id, new_report_id=new.id, kind=kind, key=key,
                            old_value=old_value, new_value=new_value, old_present=old_present,
                            new_present=new_present)
               for key, old_present, old_value, new_present, new_value
               in value_diff(_values_of(session, old.id), new_values)]
    session.add_all(changes)
    return changes


# ---------------------------------------------------------------------- cross-year checks
def update_cross_year_checks(session: Session, agency_id: int, year: int) -> None:
    """(Re)compute X1 and X2 for ``year`` and ``year + 1`` of one agency (warn-level).

    The checks belong to the later year's current report; rows that already say the same are
    left alone, so storing the same report twice writes nothing.
    """
    session.flush()
    for this_year in (year, year + 1):
        report = _current_report(session, agency_id, this_year)
        if report is None:
            continue
        previous = _current_report(session, agency_id, this_year - 1)
        wanted = cross_year_checks(_values_of(session, report.id),
                                   _values_of(session, previous.id) if previous else None, this_year)
        _sync_checks(session, report, wanted)


def cross_year_checks(this: Mapping[str, Optional[str]], previous: Optional[Mapping[str, Optional[str]]],
                      year: int) -> list[dict[str, Any]]:
    """X1 and X2 for ``year`` given the values of ``year`` and ``year - 1`` (pure function)."""
    if previous is None:
        return []
    span = f"{year - 1}→{year}"
    checks = []
    for column in APPLICANT_COLUMNS:
        this_key, prev_key = f"applications.carried_over.{column}", f"applications.carried_forward.{column}"
        if this_key not in this or prev_key not in previous:  # a table one year lacks: nothing to compare
            continue
        checks.append(_compare("X1", f"{span} {column}", expected=previous.get(prev_key),
                               actual=this.get(this_key),
                               note=f"{year} carried_over vs {year - 1} carried_forward"))
    for category in X2_CATEGORIES:
        prefix = f"active_disclosure.{category}"
        if f"{prefix}.in_force" not in this or f"{prefix}.in_force" not in previous:
            continue
        parts = [previous.get(f"{prefix}.in_force"), this.get(f"{prefix}.issued"), this.get(f"{prefix}.repealed")]
        expected = (None if any(p is None for p in parts)
                    else format_number(Decimal(parts[0]) + Decimal(parts[1]) - Decimal(parts[2])))  # type: ignore[arg-type]
        checks.append(_compare("X2", f"{span} {category}", expected=expected, actual=this.get(f"{prefix}.in_force"),
                               note=f"in_force({year}) = in_force({year - 1}) + issued({year}) - repealed({year})"))
    return checks


def _compare(check_id: str, scope: str, *, expected: Optional[str], actual: Optional[str], note: str) -> dict[str, Any]:
    if expected is None or actual is None:
        status = "skip"
    else:
        status = "pass" if Decimal(expected) == Decimal(actual) else "warn"
    return {"check_id": check_id, "scope": scope, "status": status, "expected": expected,
            "actual": actual, "note": note}


def _sync_checks(session: Session, report: Report, wanted: Sequence[Mapping[str, Any]]) -> None:
    have = {(c.check_id, c.scope): c for c in session.scalars(
        select(CheckResult).where(CheckResult.report_id == report.id, CheckResult.check_id.in_(CROSS_YEAR_CHECKS)))}
    for check in wanted:
        row = have.pop((check["check_id"], check["scope"]), None)
        if row is None:
            session.add(CheckResult(report_id=report.id, **check))
            continue
        for name in ("status", "expected", "actual", "note"):
            if getattr(row, name) != check[name]:
                setattr(row, name, check[name])
    for stale in have.values():
        session.delete(stale)


# ---------------------------------------------------------------------- small helpers
def materialize_headers(headers: Headers) -> Optional[list[tuple[Any, Any]]]:
    if headers is None:
        return None
    return list(headers.items() if isinstance(headers, Mapping) else headers)


def headers_dict(headers: Headers) -> dict[str, str]:
    """Headers as a JSON object; repeated headers are joined with ', ' (Set-Cookie with '\\n')."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for key, value in items:
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        separator = "\n" if key.lower() == "set-cookie" else ", "
        if isinstance(value, (list, tuple)):
            value = separator.join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in value)
        elif isinstance(value, bytes):
            value = value.decode("latin-1")
        result[key] = f"{result[key]}{separator}{value}" if key in result else str(value)
    return result


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _media_type(headers: Mapping[str, str]) -> Optional[str]:
    content_type = _header(headers, "content-type")
    return content_type.split(";", 1)[0].strip().lower() or None if content_type else None


def _year(value: Any) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _date_text(value: Any) -> Optional[str]:
    return str(value)[:10] if value else None


def _number_text(value: Any) -> Optional[str]:
    try:
        return format_number(value)
    except (ValueError, ArithmeticError):
        return str(value)[:64]


def _details(report: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("file", "media_type", "signature_agency", "sections", "extras", "ambiguous", "warnings",
            "pages", "agency", "parts")
    return jsonable({key: report.get(key) for key in keep if report.get(key) not in (None, [], {}, "")})


def jsonable(value: Any) -> Any:
    """A value as plain JSON types (anything else as its ``str``)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _insert_ignore(session: Session, model: type, values: Mapping[str, Any], unique: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: concurrent workers creating the same row both succeed."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise StoreError(f"unsupported database: {dialect}")
    session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=unique))


def _insert_ignore_many(session: Session, model: type, rows: list[dict[str, Any]], unique: list[str]) -> None:
    """:func:`_insert_ignore` for many rows in one executemany."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise StoreError(f"unsupported database: {dialect}")
    session.execute(insert(model).on_conflict_do_nothing(index_elements=unique), rows)


def report_values(session: Session, report_id: int) -> dict[str, Optional[int | Decimal]]:
    """A stored report's values as the parser printed them (None for a blank cell)."""
    return {key: parse_number(text) for key, text in _values_of(session, report_id).items()}
