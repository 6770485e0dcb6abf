"""Re-parse: run the current parser over the archived documents (no network) and say what changed.

Each document is parsed from its blob and stored under the parser's version (a new report row
superseding the previous parse, see :func:`crawler.store.store_report`), one transaction per
document so that an interruption keeps what was done. The summary lists, per report, the values
added, removed and changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler.archive import Archive
from crawler.db.models import Agency, Document, Report
from crawler.db.session import transaction
from crawler.store import ParseFunction, _value_texts, _values_of, parse_and_store, value_diff


@dataclass
class ReportDiff:
    """What re-parsing one document changed. status: changed | unchanged | new | failed | stale_version."""

    document_id: int
    sha256: str
    status: str
    agency: Optional[str] = None
    year: Optional[int] = None
    old_report_id: Optional[int] = None
    new_report_id: Optional[int] = None
    old_parser_version: Optional[str] = None
    new_parser_version: Optional[str] = None
    added: dict[str, Optional[str]] = field(default_factory=dict)
    removed: dict[str, Optional[str]] = field(default_factory=dict)
    changed: dict[str, list[Optional[str]]] = field(default_factory=dict)  # key -> [old, new]
    error: Optional[str] = None


@dataclass
class ReparseSummary:
    documents: int = 0
    changed: int = 0
    unchanged: int = 0
    new: int = 0
    failed: int = 0
    stale_version: int = 0  # values differ but the parser version did not change: nothing stored
    diffs: list[ReportDiff] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reparse(factory: sessionmaker[Session], archive: Archive, parse_fn: Optional[ParseFunction] = None, *,
            document_ids: Optional[Iterable[int]] = None,
            progress: Optional[Callable[[int, int], None]] = None) -> ReparseSummary:
    """Re-parse documents (all that no worker is parsing right now, or ``document_ids``)."""
    if parse_fn is None:
        import parsers

        parse_fn = parsers.parse
    with transaction(factory) as session:
        query = select(Document.id).where(Document.parse_status != "parsing").order_by(Document.id)
        if document_ids is not None:
            query = select(Document.id).where(Document.id.in_(list(document_ids))).order_by(Document.id)
        ids = list(session.scalars(query))
    summary = ReparseSummary(documents=len(ids))
    for done, document_id in enumerate(ids, start=1):
        with transaction(factory) as session:
            diff = _reparse_one(session, archive, document_id, parse_fn)
        summary.diffs.append(diff)
        setattr(summary, diff.status, getattr(summary, diff.status) + 1)
        if progress:
            progress(done, len(ids))
    return summary


def _reparse_one(session: Session, archive: Archive, document_id: int, parse_fn: ParseFunction) -> ReportDiff:
    document = session.get(Document, document_id)
    assert document is not None
    before = session.scalar(select(Report).where(Report.document_id == document.id).order_by(Report.id.desc()).limit(1))
    old_values = _values_of(session, before.id) if before else {}
    captured: dict[str, Any] = {}

    def parse_and_keep(data: bytes, **kwargs: Any) -> Any:
        parsed = parse_fn(data, **kwargs)
        captured["dict"] = parsed.to_dict() if hasattr(parsed, "to_dict") else dict(parsed)
        return captured["dict"]

    result = parse_and_store(session, archive, document, parse_and_keep)
    diff = ReportDiff(document_id=document.id, sha256=document.sha256, status="failed",
                      old_report_id=before.id if before else None,
                      old_parser_version=before.parser_version if before else None)
    if result is None:
        diff.error = document.parse_error
        return diff
    report = result.report
    diff.new_report_id, diff.new_parser_version = report.id, report.parser_version
    diff.year = report.year
    agency = session.get(Agency, report.agency_id) if report.agency_id else None
    diff.agency = agency.name if agency else None
    new_values = _values_of(session, report.id) if result.created else _value_texts(captured["dict"].get("values") or {})
    for key, old_present, old_value, new_present, new_value in value_diff(old_values, new_values):
        if not old_present:
            diff.added[key] = new_value
        elif not new_present:
            diff.removed[key] = old_value
        else:
            diff.changed[key] = [old_value, new_value]
    differs = bool(diff.added or diff.removed or diff.changed)
    if before is None:
        diff.status = "new"
    elif not result.created:
        diff.status = "stale_version" if differs else "unchanged"
    else:
        diff.status = "changed" if differs else "unchanged"
    return diff
