"""Look-ups for researchers and journalists: the library behind ``xxgk agency|report|history|flags|coverage``.

Every function takes an SQLAlchemy session and returns plain JSON-able dicts and lists, so that
the CLI's ``--json`` output, the rich tables and scripts all see the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import Engine, and_, create_engine, event, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.agencies import identify, normalize_name
from crawler.db.models import (Agency, Capture, CheckResult, Document, Report, ReportChange, ReportValue,
                               Source, parse_number)

# The figures a journalist asks for first (report-keys.md); history shows them year by year.
KEY_FIGURES: dict[str, str] = {
    "applications.new.total": "新收申请 new requests",
    "applications.carried_over.total": "上年结转 carried over",
    "applications.results.granted.total": "予以公开 granted",
    "applications.results.total.total": "办理总计 processed",
    "applications.carried_forward.total": "结转下年 carried forward",
    "review_litigation.review.total": "行政复议 reviews",
    "review_litigation.litigation_direct.total": "行政诉讼 lawsuits (direct)",
    "review_litigation.litigation_after_review.total": "行政诉讼 lawsuits (after review)",
    "active_disclosure.normative_documents.in_force": "规范性文件现行有效 normative docs in force",
    "active_disclosure.administrative_penalty.decisions": "行政处罚 penalty decisions",
}
BLOCKED_STATUSES = (403, 412, 429, 521)
ARCHIVE_ROUTE = "/-/archive/{sha256}"


class LookupError_(LookupError):
    """Nothing matches what was asked (no such agency, no report for that year...)."""


# ---------------------------------------------------------------------- opening the database
def open_readonly(db_url: str) -> sessionmaker[Session]:
    """Sessions for reading: the schema is brought to the head once, then reads never take
    SQLite's write lock (the writers' engine begins every transaction IMMEDIATE)."""
    from crawler.config import sqlite_path
    from crawler.db.session import SQLITE_BUSY_TIMEOUT_MS, cached_engine, open_database

    sqlite_file = sqlite_path(db_url)
    if sqlite_file is not None and not sqlite_file.exists():
        raise LookupError_(f"no database at {sqlite_file}: crawl first (xxgk crawl / xxgk demo) or pass --db")
    open_database(db_url)  # creates or upgrades the schema when needed
    if sqlite_file is None:
        return sessionmaker(bind=cached_engine(db_url), expire_on_commit=False)
    engine = _readonly_sqlite_engine(sqlite_file, SQLITE_BUSY_TIMEOUT_MS)
    return sessionmaker(bind=engine, expire_on_commit=False)


_READONLY_ENGINES: dict[Path, Engine] = {}


def _readonly_sqlite_engine(path: Path, busy_timeout_ms: int) -> Engine:
    if path not in _READONLY_ENGINES:
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")

        def pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.close()

        event.listen(engine, "connect", pragmas)
        _READONLY_ENGINES[path] = engine
    return _READONLY_ENGINES[path]


# ---------------------------------------------------------------------- agencies
@dataclass
class AgencyHit:
    agency: Agency
    score: float
    matched: str


def search_agencies(session: Session, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Agencies whose name, alias or full division path matches ``query`` (fuzzy, best first).

    A query contained in a name ranks first (shorter names before longer ones); otherwise
    rapidfuzz's partial ratio over characters decides. A query of digits matches division codes.
    """
    text = normalize_name(query)
    if not text:
        raise LookupError_("empty query")
    agencies = list(session.scalars(select(Agency)))
    hits = [hit for hit in (_score(agency, text) for agency in agencies) if hit is not None]
    hits.sort(key=lambda h: (-h.score, len(h.agency.name), h.agency.id))
    hits = hits[:limit]
    counts = _report_counts(session, [h.agency.id for h in hits])
    parents = _names(session, [h.agency.parent_id for h in hits if h.agency.parent_id])
    return [{"id": h.agency.id, "name": h.agency.name, "level": h.agency.level,
             "division_code": h.agency.division_code, "parent": parents.get(h.agency.parent_id or -1),
             "aliases": list(h.agency.aliases or []), "score": round(h.score, 1), "matched": h.matched,
             "reports": counts.get(h.agency.id, {}).get("reports", 0),
             "years": counts.get(h.agency.id, {}).get("years", [])} for h in hits]


def _score(agency: Agency, query: str) -> Optional[AgencyHit]:
    from rapidfuzz import fuzz

    if query.isdigit():
        code = agency.division_code or ""
        return AgencyHit(agency, 100.0 - (len(code) - len(query)), code) if code.startswith(query) else None
    best: Optional[AgencyHit] = None
    for candidate in _candidate_names(agency):
        if query in candidate:
            score = 100.0 - min(20.0, (len(candidate) - len(query)) * 0.5)
        else:
            score = fuzz.partial_ratio(query, candidate) * 0.8 if len(query) > 1 else 0.0
        if best is None or score > best.score:
            best = AgencyHit(agency, score, candidate)
    return best if best is not None and best.score >= 60 else None


def _candidate_names(agency: Agency) -> list[str]:
    names = [agency.name, *(agency.aliases or [])]
    return list(dict.fromkeys(normalize_name(n) for n in names if n))


def _report_counts(session: Session, agency_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not agency_ids:
        return {}
    rows = session.execute(select(Report.agency_id, Report.year).where(
        Report.agency_id.in_(agency_ids), Report.is_current.is_(True), Report.status == "ok")).all()
    counts: dict[int, dict[str, Any]] = defaultdict(lambda: {"reports": 0, "years": []})
    for agency_id, year in rows:
        counts[agency_id]["reports"] += 1
        counts[agency_id]["years"].append(year)
    for value in counts.values():
        value["years"] = sorted(y for y in value["years"] if y is not None)
    return counts


def _names(session: Session, agency_ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(agency_ids))
    if not ids:
        return {}
    return {row[0]: row[1] for row in session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids)))}


def find_one_agency(session: Session, query: str) -> Agency:
    """The one agency meant by ``query``: exact name or alias, same division identity, else a
    unique best fuzzy match. Several equally good matches → an error listing them."""
    text = normalize_name(query)
    exact = session.scalar(select(Agency).where(Agency.name.in_({query.strip(), text})))
    if exact is not None:
        return exact
    identity = identify(query)
    if identity.division is not None:
        for row in session.scalars(select(Agency).where(Agency.division_code == identity.division.code)):
            if identify(row.name).key == identity.key:
                return row
    hits = search_agencies(session, query, limit=5)
    if not hits:
        raise LookupError_(f"no agency matches {query!r}: try `xxgk agency {query}`")
    top = [h for h in hits if h["score"] == hits[0]["score"]]
    if len(top) > 1:
        names = ", ".join(h["name"] for h in top)
        raise LookupError_(f"{query!r} matches several agencies ({names}); give the full name")
    agency = session.get(Agency, hits[0]["id"])
    assert agency is not None
    return agency


def agency_summary(agency: Agency, session: Session) -> dict[str, Any]:
    parent = session.get(Agency, agency.parent_id) if agency.parent_id else None
    return {"id": agency.id, "name": agency.name, "level": agency.level, "division_code": agency.division_code,
            "parent": parent.name if parent else None, "aliases": list(agency.aliases or [])}


# ---------------------------------------------------------------------- one report
def report_detail(session: Session, agency_query: str, year: int, *, archive_dir: Optional[Path] = None,
                  base_url: Optional[str] = None) -> dict[str, Any]:
    """One report as printed: tables, failed checks, provenance, archived original and source page."""
    agency = find_one_agency(session, agency_query)
    report = session.scalar(select(Report).where(Report.agency_id == agency.id, Report.year == year,
                                                 Report.is_current.is_(True)).limit(1))
    if report is None:
        years = sorted(y for y in session.scalars(select(Report.year).where(Report.agency_id == agency.id).distinct())
                       if y is not None)
        raise LookupError_(f"no report of {agency.name} for {year} (years stored: {years or 'none'})")
    return describe_report(session, report, archive_dir=archive_dir, base_url=base_url)


def describe_report(session: Session, report: Report, *, archive_dir: Optional[Path] = None,
                    base_url: Optional[str] = None) -> dict[str, Any]:
    agency = session.get(Agency, report.agency_id) if report.agency_id else None
    document = session.get(Document, report.document_id)
    assert document is not None
    values = list(session.scalars(select(ReportValue).where(ReportValue.report_id == report.id)
                                  .order_by(ReportValue.id)))
    checks = list(session.scalars(select(CheckResult).where(CheckResult.report_id == report.id)
                                  .order_by(CheckResult.id)))
    return {
        "report_id": report.id,
        "agency": agency_summary(agency, session) if agency else None,
        "year": report.year, "title": report.title, "format": report.format, "status": report.status,
        "version": report.version, "parser_version": report.parser_version,
        "signature_date": report.signature_date, "publish_date": report.publish_date,
        "changed_after_publication": report.changed_after_publication,
        "values": {v.key: _json_number(v.value_text) for v in values},
        "tables": tables_as_printed(values),
        "checks": [_check_dict(c) for c in checks],
        "failed_checks": [_check_dict(c) for c in checks if c.status in ("fail", "warn")],
        "changes": changes_of(session, report.id),
        "versions": versions_of(session, report),
        "provenance": provenance_of(session, report, document, archive_dir=archive_dir, base_url=base_url),
    }


def tables_as_printed(values: Sequence[ReportValue]) -> list[dict[str, Any]]:
    """Values grouped by table, rows and columns in the order and with the labels the document
    printed; values without a printed position are grouped by the section of their key."""
    tables: dict[Any, dict[str, Any]] = {}
    for value in values:
        table_id = value.table_index if value.table_index is not None else value.key.split(".", 1)[0]
        table = tables.setdefault(table_id, {"table": table_id, "page": value.page, "columns": [], "rows": {}})
        column = value.col_label or value.key.rsplit(".", 1)[-1]
        row = value.row_label or value.key.rsplit(".", 1)[0]
        if column not in table["columns"]:
            table["columns"].append(column)
        table["rows"].setdefault(row, {})[column] = {"key": value.key, "value": _json_number(value.value_text),
                                                      "raw": value.raw}
    return [{"table": t["table"], "page": t["page"], "columns": t["columns"],
             "rows": [{"label": label, "cells": cells} for label, cells in t["rows"].items()]}
            for t in tables.values()]


def provenance_of(session: Session, report: Report, document: Document, *, archive_dir: Optional[Path] = None,
                  base_url: Optional[str] = None) -> dict[str, Any]:
    captures = list(session.scalars(select(Capture).where(Capture.sha256 == document.sha256)
                                    .order_by(Capture.fetched_at, Capture.id)))
    archive_path = None
    if archive_dir is not None:
        from crawler.archive import Archive

        path = Archive(archive_dir).blob_path(document.sha256)
        archive_path = {"path": str(path), "exists": path.is_file()}
    route = ARCHIVE_ROUTE.format(sha256=document.sha256)
    return {
        "document_sha256": document.sha256, "size": document.size, "media_type": document.media_type,
        "archived_original": archive_path,
        "archived_original_url": (base_url.rstrip("/") + route) if base_url else route,
        "source_url": report.source_url or (captures[0].final_url or captures[0].url if captures else None),
        "captures": [{"url": c.url, "final_url": c.final_url, "status": c.status,
                      "fetched_at": _iso(c.fetched_at), "is_revisit": c.is_revisit,
                      "listing_page": c.referrer_url, "warc_file": c.warc_file, "warc_offset": c.warc_offset}
                     for c in captures],
    }


def changes_of(session: Session, report_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(ReportChange).where(ReportChange.new_report_id == report_id).order_by(ReportChange.key))
    return [{"key": c.key, "kind": c.kind, "old": _json_number(c.old_value) if c.old_present else "absent",
             "new": _json_number(c.new_value) if c.new_present else "absent", "old_report_id": c.old_report_id}
            for c in rows]


def versions_of(session: Session, report: Report) -> list[dict[str, Any]]:
    if report.agency_id is None or report.year is None:
        return []
    rows = session.execute(
        select(Report.id, Report.version, Report.status, Report.is_current, Report.stored_at, Document.sha256)
        .join(Document, Document.id == Report.document_id)
        .where(Report.agency_id == report.agency_id, Report.year == report.year).order_by(Report.version, Report.id))
    return [{"report_id": r.id, "version": r.version, "status": r.status, "is_current": r.is_current,
             "stored_at": _iso(r.stored_at), "document_sha256": r.sha256} for r in rows]


# ---------------------------------------------------------------------- history
def agency_history(session: Session, agency_query: str, keys: Optional[Sequence[str]] = None) -> dict[str, Any]:
    """Key figures of every year of one agency, with each year's X1/X2 and failed checks.

    Three indexed queries whatever the size of the database (reports by agency, values by
    report and key, checks by report).
    """
    agency = find_one_agency(session, agency_query)
    keys = list(keys or KEY_FIGURES)
    reports = list(session.execute(
        select(Report.id, Report.year, Report.format, Report.version, Report.changed_after_publication,
               Report.title).where(Report.agency_id == agency.id, Report.is_current.is_(True),
                                   Report.status == "ok").order_by(Report.year)))
    ids = [r.id for r in reports]
    figures: dict[int, dict[str, Any]] = defaultdict(dict)
    checks: dict[int, list[CheckResult]] = defaultdict(list)
    if ids:
        for report_id, key, text in session.execute(select(ReportValue.report_id, ReportValue.key, ReportValue.value_text)
                                                    .where(ReportValue.report_id.in_(ids), ReportValue.key.in_(keys))):
            figures[report_id][key] = _json_number(text)
        for check in session.scalars(select(CheckResult).where(CheckResult.report_id.in_(ids))):
            checks[check.report_id].append(check)
    years = []
    for r in reports:
        report_checks = checks.get(r.id, [])
        years.append({
            "year": r.year, "report_id": r.id, "format": r.format, "version": r.version, "title": r.title,
            "changed_after_publication": r.changed_after_publication,
            "figures": {key: figures[r.id].get(key) for key in keys},
            "X1": _summary([c for c in report_checks if c.check_id == "X1"]),
            "X2": _summary([c for c in report_checks if c.check_id == "X2"]),
            "failed_checks": sorted({c.check_id for c in report_checks if c.status in ("fail", "warn")}),
        })
    return {"agency": agency_summary(agency, session), "keys": {k: KEY_FIGURES.get(k, k) for k in keys},
            "years": years}


def _summary(checks: Sequence[CheckResult]) -> Optional[str]:
    """One word for a group of checks: fail/warn if any, else pass, skip, or None when not run."""
    statuses = {c.status for c in checks}
    for status in ("fail", "warn", "pass", "skip"):
        if status in statuses:
            return status
    return None


# ---------------------------------------------------------------------- flags
def flagged_reports(session: Session, *, year: Optional[int] = None, check: Optional[str] = None,
                    changed_only: bool = False, limit: Optional[int] = None) -> list[dict[str, Any]]:
    """Current reports with a failed identity (fail/warn) or changed after publication."""
    failing = select(CheckResult.report_id).where(CheckResult.status.in_(("fail", "warn")))
    if check:
        failing = failing.where(CheckResult.check_id == check.upper())
    condition = Report.changed_after_publication.is_(True)
    if not changed_only:
        condition = or_(condition, Report.id.in_(failing))
    query = (select(Report, Agency.name).outerjoin(Agency, Agency.id == Report.agency_id)
             .where(Report.is_current.is_(True), condition).order_by(Agency.name, Report.year))
    if year is not None:
        query = query.where(Report.year == year)
    if limit:
        query = query.limit(limit)
    rows = session.execute(query).all()
    ids = [report.id for report, _ in rows]
    failed: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        for c in session.scalars(select(CheckResult).where(CheckResult.report_id.in_(ids),
                                                           CheckResult.status.in_(("fail", "warn")))
                                 .order_by(CheckResult.id)):
            failed[c.report_id].append(_check_dict(c))
    return [{"report_id": report.id, "agency": name, "year": report.year, "format": report.format,
             "title": report.title, "version": report.version,
             "changed_after_publication": report.changed_after_publication,
             "changes": changes_of(session, report.id) if report.changed_after_publication else [],
             "failed_checks": failed.get(report.id, []), "source_url": report.source_url}
            for report, name in rows]


# ---------------------------------------------------------------------- coverage
COVERAGE_STATES = ("parsed", "flagged", "found", "missing", "blocked", "not_due")


def coverage(session: Session, *, years: Optional[Sequence[int]] = None, level: Optional[str] = None,
             region: Optional[str] = None, today: Optional[dt.date] = None) -> dict[str, Any]:
    """The agency × year matrix: which reports we expected, found, parsed, flagged, miss, or
    could not fetch because the portal blocked us.

    Expected: every agency with a registry source or at least one stored report, for every year
    asked whose report is due (a year's report is due by 31 March of the next year). Per cell:
    ``parsed`` (a current report with values), ``flagged`` (parsed, with a failed identity or
    changed after publication), ``found`` (a document stored but not parsed into values),
    ``missing`` (nothing) or ``blocked`` (nothing, and the agency's portal answered 403/412/429/521).
    """
    today = today or dt.date.today()
    agencies = _expected_agencies(session, level=level, region=region)
    agency_ids = [a.id for a in agencies]
    reports = _reports_by_cell(session, agency_ids)
    if not years:
        stored = sorted({year for (_, year) in reports if year is not None})
        years = list(range(stored[0], stored[-1] + 1)) if stored else []
    flagged_ids = _flagged_report_ids(session, [r["id"] for r in reports.values()])
    blocked = _blocked_agencies(session, agency_ids)
    matrix, totals = [], {state: 0 for state in COVERAGE_STATES + ("expected",)}
    for agency in agencies:
        cells = {}
        for year in years:
            state = _cell_state(reports.get((agency.id, year)), flagged_ids, agency.id in blocked,
                                due=dt.date(year + 1, 3, 31) <= today)
            cells[str(year)] = state
            totals[state] += 1
            totals["expected"] += state != "not_due"
        matrix.append({"agency": agency.name, "agency_id": agency.id, "level": agency.level,
                       "division_code": agency.division_code, "blocked": agency.id in blocked, "years": cells})
    return {"years": list(years), "agencies": matrix, "totals": totals}


def _expected_agencies(session: Session, *, level: Optional[str], region: Optional[str]) -> list[Agency]:
    with_source = select(Source.agency_id).where(Source.agency_id.is_not(None))
    with_report = select(Report.agency_id).where(Report.agency_id.is_not(None))
    query = select(Agency).where(or_(Agency.id.in_(with_source), Agency.id.in_(with_report)))
    if level:
        query = query.where(Agency.level == level)
    if region:
        query = query.where(Agency.division_code.startswith(region, autoescape=True))
    return list(session.scalars(query.order_by(Agency.division_code, Agency.name)))


def _reports_by_cell(session: Session, agency_ids: Sequence[int]) -> dict[tuple[int, int], dict[str, Any]]:
    if not agency_ids:
        return {}
    value_counts = (select(ReportValue.report_id, func.count().label("n")).group_by(ReportValue.report_id).subquery())
    rows = session.execute(
        select(Report.id, Report.agency_id, Report.year, Report.status, Report.format, Report.is_current,
               Report.changed_after_publication, func.coalesce(value_counts.c.n, 0))
        .outerjoin(value_counts, value_counts.c.report_id == Report.id)
        .where(Report.agency_id.in_(agency_ids), Report.year.is_not(None)))
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for rid, agency_id, year, status, fmt, current, changed, n_values in rows:
        cell = cells.setdefault((agency_id, year), {"id": rid, "parsed": False, "changed": False})
        if current and status == "ok":
            cell.update(id=rid, parsed=n_values > 0 or fmt == "PRE2019", changed=bool(changed))
    return cells


def _flagged_report_ids(session: Session, report_ids: Sequence[int]) -> set[int]:
    if not report_ids:
        return set()
    found: set[int] = set()
    for chunk_start in range(0, len(report_ids), 500):
        chunk = report_ids[chunk_start:chunk_start + 500]
        found |= set(session.scalars(select(CheckResult.report_id).where(
            CheckResult.report_id.in_(chunk), CheckResult.status.in_(("fail", "warn"))).distinct()))
    return found


def _blocked_agencies(session: Session, agency_ids: Sequence[int]) -> set[int]:
    if not agency_ids:
        return set()
    blocked_capture = and_(Capture.source_id == Source.id,
                           or_(Capture.status.in_(BLOCKED_STATUSES), Capture.error.ilike("%blocked%")))
    rows = session.scalars(select(Source.agency_id).where(Source.agency_id.in_(agency_ids))
                           .where(select(Capture.id).where(blocked_capture).exists()))
    return set(rows)


def _cell_state(cell: Optional[dict[str, Any]], flagged: set[int], blocked: bool, *, due: bool) -> str:
    if cell is None:
        if not due:
            return "not_due"
        return "blocked" if blocked else "missing"
    if not cell["parsed"]:
        return "found"
    return "flagged" if (cell["changed"] or cell["id"] in flagged) else "parsed"


# ---------------------------------------------------------------------- small helpers
def _check_dict(check: CheckResult) -> dict[str, Any]:
    return {"id": check.check_id, "scope": check.scope, "status": check.status,
            "expected": _json_number(check.expected), "actual": _json_number(check.actual), "note": check.note}


def _json_number(text: Optional[str]) -> Any:
    """Stored exact text as the JSON number the parser printed (int, or float for decimals)."""
    if text is None:
        return None
    try:
        number = parse_number(text)
    except Exception:  # a check's expected value may be free text
        return text
    from parsers.model import json_number

    return json_number(number)


def _iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return moment.isoformat() if moment else None
