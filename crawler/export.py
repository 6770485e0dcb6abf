"""Exports of the stored reports: CSV, JSON Lines, Parquet and XLSX, long or wide.

* long: one row per value (report, key, value, and the cell it was printed in);
* wide: one row per report (one column per canonical key). The wide JSON Lines record carries
  ``values``, ``cells`` and ``checks`` exactly as ``xxgk parse --json`` prints them, so a
  record reads the same whether it came from a file or from a crawl.

Values are exact: CSV and JSON write the printed number (``value`` in long CSV is the exact text);
Parquet and XLSX hold numbers (``value_num``, float64) and, in long form, the exact text as well.
Reports are read in batches, so memory stays flat whatever the size of the export.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.db.models import Agency, CheckResult, Document, Report, ReportValue

FORMATS = ("csv", "jsonl", "parquet", "xlsx")
SHAPES = ("long", "wide")
DEFAULT_SHAPE = {"csv": "long", "jsonl": "wide", "parquet": "long", "xlsx": "wide"}
BATCH_REPORTS = 500
XLSX_MAX_ROWS = 1_048_575  # one header row + data rows per sheet

REPORT_COLUMNS = ("report_id", "agency", "agency_level", "division_code", "year", "format", "title", "version",
                  "signature_date", "source_url", "document_sha256", "parser_version",
                  "changed_after_publication", "failed_checks")
LONG_COLUMNS = ("report_id", "agency", "agency_level", "division_code", "year", "format", "document_sha256",
                "key", "value", "value_num", "raw", "page", "table", "row_label", "col_label", "confidence")

VALUE_FIELDS = (ReportValue.report_id, ReportValue.key, ReportValue.value_text, ReportValue.value_num,
                ReportValue.raw, ReportValue.page, ReportValue.table_index, ReportValue.row_label,
                ReportValue.col_label, ReportValue.confidence)
CHECK_FIELDS = (CheckResult.report_id, CheckResult.check_id, CheckResult.scope, CheckResult.status,
                CheckResult.expected, CheckResult.actual)

Progress = Callable[[int], None]  # called with the number of reports just written


class ExportError(ValueError):
    """An export that cannot be made as asked (unknown format, binary format to a terminal...)."""


@dataclass
class ExportFilter:
    """Which reports to export. ``region`` is a division-code prefix ("3208" = 淮安市)."""

    years: Sequence[int] = ()
    level: Optional[str] = None
    region: Optional[str] = None
    formats: Sequence[str] = ()
    agency_ids: Sequence[int] = ()
    all_versions: bool = False  # default: the current version of each report only


@dataclass
class ExportResult:
    reports: int = 0
    rows: int = 0
    sheets: list[str] = field(default_factory=list)


@dataclass
class ReportRecord:
    """One report with its values, cells and checks, as read from the database."""

    base: dict[str, Any]
    values: list[Any]  # rows with the attributes of VALUE_FIELDS
    checks: list[Any]  # rows with the attributes of CHECK_FIELDS
    warnings: list[str]


# ---------------------------------------------------------------------- reading
def report_query(flt: ExportFilter):  # type: ignore[no-untyped-def]
    query = (select(Report, Agency, Document.sha256, Document.media_type)
             .join(Document, Document.id == Report.document_id)
             .outerjoin(Agency, Agency.id == Report.agency_id)
             .where(Report.status == "ok"))
    if not flt.all_versions:
        query = query.where(Report.is_current.is_(True))
    if flt.years:
        query = query.where(Report.year.in_(list(flt.years)))
    if flt.level:
        query = query.where(Agency.level == flt.level)
    if flt.region:
        query = query.where(Agency.division_code.startswith(flt.region, autoescape=True))
    if flt.formats:
        query = query.where(Report.format.in_([f.upper() for f in flt.formats]))
    if flt.agency_ids:
        query = query.where(Report.agency_id.in_(list(flt.agency_ids)))
    return query.order_by(Report.id)


def count_reports(session: Session, flt: ExportFilter) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.count()).select_from(report_query(flt).subquery())) or 0


def iter_records(session: Session, flt: ExportFilter, batch: int = BATCH_REPORTS) -> Iterator[ReportRecord]:
    """Reports in id order, ``batch`` at a time (one query for their values, one for checks)."""
    last_id = 0
    while True:
        rows = session.execute(report_query(flt).where(Report.id > last_id).limit(batch)).all()
        if not rows:
            return
        ids = [row[0].id for row in rows]
        # plain rows, not ORM objects: an order of magnitude faster on millions of values
        values: dict[int, list[Any]] = {i: [] for i in ids}
        for value in session.execute(select(*VALUE_FIELDS).where(ReportValue.report_id.in_(ids))
                                     .order_by(ReportValue.report_id, ReportValue.id)):
            values[value.report_id].append(value)
        checks: dict[int, list[Any]] = {i: [] for i in ids}
        for check in session.execute(select(*CHECK_FIELDS).where(CheckResult.report_id.in_(ids))
                                     .order_by(CheckResult.report_id, CheckResult.id)):
            checks[check.report_id].append(check)
        for report, agency, sha256, media_type in rows:
            failed = sorted({c.check_id for c in checks[report.id] if c.status in ("fail", "warn")})
            base = {
                "report_id": report.id, "agency": agency.name if agency else None,
                "agency_level": agency.level if agency else None,
                "division_code": agency.division_code if agency else None, "year": report.year,
                "format": report.format, "title": report.title, "version": report.version,
                "signature_date": report.signature_date, "source_url": report.source_url,
                "document_sha256": sha256, "media_type": media_type, "parser_version": report.parser_version,
                "changed_after_publication": bool(report.changed_after_publication),
                "failed_checks": ",".join(failed),
            }
            warnings = list((report.details or {}).get("warnings") or [])
            yield ReportRecord(base, values[report.id], checks[report.id], warnings)
        session.expunge_all()  # keep memory flat on big exports
        last_id = ids[-1]


def distinct_keys(session: Session, flt: ExportFilter) -> list[str]:
    """The wide form's value columns: every key of the selected reports, in a stable order."""
    ids = report_query(flt).with_only_columns(Report.id).subquery()
    keys = session.scalars(select(ReportValue.key).where(ReportValue.report_id.in_(select(ids.c.id))).distinct())
    return sorted(keys, key=_key_order)


def _key_order(key: str) -> tuple[int, str]:
    sections = ("active_disclosure", "applications", "review_litigation")
    head = key.split(".", 1)[0]
    return (sections.index(head) if head in sections else len(sections), key)


# ---------------------------------------------------------------------- record shapes
def long_rows(record: ReportRecord) -> Iterator[dict[str, Any]]:
    base = record.base
    for v in record.values:
        yield {"report_id": base["report_id"], "agency": base["agency"], "agency_level": base["agency_level"],
               "division_code": base["division_code"], "year": base["year"], "format": base["format"],
               "document_sha256": base["document_sha256"], "key": v.key, "value": v.value_text,
               "value_num": v.value_num, "raw": v.raw, "page": v.page, "table": v.table_index,
               "row_label": v.row_label, "col_label": v.col_label, "confidence": v.confidence}


def wide_row(record: ReportRecord, keys: Sequence[str]) -> dict[str, Any]:
    row = {column: record.base[column] for column in REPORT_COLUMNS}
    by_key = {v.key: v for v in record.values}
    for key in keys:
        value = by_key.get(key)
        row[key] = value.value_text if value is not None else None
    return row


def json_record(record: ReportRecord) -> dict[str, Any]:
    """The wide JSON Lines record: the fields of ``xxgk parse --json`` plus where it came from."""
    from crawler.lookup import _json_number

    base = record.base
    return {
        "report_id": base["report_id"], "agency": base["agency"], "agency_level": base["agency_level"],
        "division_code": base["division_code"], "year": base["year"], "format": base["format"],
        "title": base["title"], "signature_date": base["signature_date"], "version": base["version"],
        "changed_after_publication": base["changed_after_publication"],
        "source_url": base["source_url"], "document_sha256": base["document_sha256"], "sha256": base["document_sha256"],
        "media_type": base["media_type"], "parser_version": base["parser_version"],
        "values": {v.key: _json_number(v.value_text) for v in record.values},
        "cells": {v.key: {"raw": v.raw, "page": v.page, "table": v.table_index, "row_label": v.row_label,
                          "col_label": v.col_label, **({"confidence": v.confidence} if v.confidence is not None else {})}
                  for v in record.values},
        "checks": [{"id": c.check_id, "scope": c.scope, "status": c.status, "expected": _json_number(c.expected),
                    "actual": _json_number(c.actual)} for c in record.checks],
        "warnings": record.warnings,
    }


# ---------------------------------------------------------------------- writers
def export(session: Session, fmt: str, shape: Optional[str], output: Path | IO[str] | IO[bytes],
           flt: Optional[ExportFilter] = None, progress: Optional[Progress] = None) -> ExportResult:
    """Write the selected reports to ``output`` (a path, or a text stream for csv/jsonl)."""
    flt = flt or ExportFilter()
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    shape = (shape or DEFAULT_SHAPE[fmt]).lower()
    if shape not in SHAPES:
        raise ExportError(f"unknown shape {shape!r}; expected long or wide")
    if fmt in ("parquet", "xlsx") and not isinstance(output, Path):
        raise ExportError(f"{fmt} is a binary format: give --output FILE")
    keys = distinct_keys(session, flt) if shape == "wide" else []
    writer = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet, "xlsx": _write_xlsx}[fmt]
    records = _counting(iter_records(session, flt), progress)
    return writer(records, shape, keys, output)


def _counting(records: Iterator[ReportRecord], progress: Optional[Progress]) -> Iterator[ReportRecord]:
    for record in records:
        yield record
        if progress is not None:
            progress(1)


def _text_stream(output: Path | IO[Any]):  # type: ignore[no-untyped-def]
    if isinstance(output, Path):
        return open(output, "w", encoding="utf-8", newline=""), True
    return output, False


def _write_csv(records: Iterator[ReportRecord], shape: str, keys: Sequence[str], output: Path | IO[Any]) -> ExportResult:
    stream, owned = _text_stream(output)
    result = ExportResult()
    try:
        columns = list(LONG_COLUMNS) if shape == "long" else [*REPORT_COLUMNS, *keys]
        writer = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            result.reports += 1
            rows = list(long_rows(record)) if shape == "long" else [wide_row(record, keys)]
            writer.writerows(rows)
            result.rows += len(rows)
    finally:
        if owned:
            stream.close()
    return result


def _write_jsonl(records: Iterator[ReportRecord], shape: str, keys: Sequence[str], output: Path | IO[Any]) -> ExportResult:
    stream, owned = _text_stream(output)
    result = ExportResult()
    try:
        for record in records:
            result.reports += 1
            rows = list(long_rows(record)) if shape == "long" else [json_record(record)]
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            result.rows += len(rows)
    finally:
        if owned:
            stream.close()
    return result


def _arrow_schema(shape: str, keys: Sequence[str]):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    base = {"report_id": pa.int64(), "agency": pa.string(), "agency_level": pa.string(),
            "division_code": pa.string(), "year": pa.int32(), "format": pa.string(), "title": pa.string(),
            "version": pa.int32(), "signature_date": pa.string(), "source_url": pa.string(),
            "document_sha256": pa.string(), "parser_version": pa.string(),
            "changed_after_publication": pa.bool_(), "failed_checks": pa.string(),
            "key": pa.string(), "value": pa.string(), "value_num": pa.float64(), "raw": pa.string(),
            "page": pa.int32(), "table": pa.int32(), "row_label": pa.string(), "col_label": pa.string(),
            "confidence": pa.float64()}
    if shape == "long":
        return pa.schema([(c, base[c]) for c in LONG_COLUMNS])
    return pa.schema([(c, base[c]) for c in REPORT_COLUMNS] + [(k, pa.float64()) for k in keys])


def _numeric_wide(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    for key in keys:
        row[key] = float(row[key]) if row[key] is not None else None
    return row


def _write_parquet(records: Iterator[ReportRecord], shape: str, keys: Sequence[str], output: Path | IO[Any]) -> ExportResult:
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert isinstance(output, Path)
    schema = _arrow_schema(shape, keys)
    result = ExportResult()
    buffer: list[dict[str, Any]] = []
    with pq.ParquetWriter(str(output), schema, compression="zstd") as writer:
        for record in records:
            result.reports += 1
            rows = list(long_rows(record)) if shape == "long" else [_numeric_wide(wide_row(record, keys), keys)]
            buffer.extend(rows)
            result.rows += len(rows)
            if len(buffer) >= 50_000:
                writer.write_table(pa.Table.from_pylist(buffer, schema=schema))
                buffer.clear()
        if buffer or result.rows == 0:
            writer.write_table(pa.Table.from_pylist(buffer, schema=schema))
    return result


def _write_xlsx(records: Iterator[ReportRecord], shape: str, keys: Sequence[str], output: Path | IO[Any]) -> ExportResult:
    """Excel holds 1,048,576 rows per sheet: a long export continues on values_2, values_3..."""
    from openpyxl import Workbook

    assert isinstance(output, Path)
    columns = list(LONG_COLUMNS) if shape == "long" else [*REPORT_COLUMNS, *keys]
    base_name = "values" if shape == "long" else "reports"
    workbook = Workbook(write_only=True)
    result = ExportResult()
    sheet, rows_in_sheet = None, XLSX_MAX_ROWS
    for record in records:
        result.reports += 1
        rows = list(long_rows(record)) if shape == "long" else [_numeric_wide(wide_row(record, keys), keys)]
        for row in rows:
            if rows_in_sheet >= XLSX_MAX_ROWS:
                name = base_name if not result.sheets else f"{base_name}_{len(result.sheets) + 1}"
                sheet, rows_in_sheet = workbook.create_sheet(name), 0
                sheet.append(columns)
                result.sheets.append(name)
            assert sheet is not None
            sheet.append([_cell(row.get(c)) for c in columns])
            rows_in_sheet += 1
        result.rows += len(rows)
    if not result.sheets:
        workbook.create_sheet(base_name).append(columns)
        result.sheets.append(base_name)
    workbook.save(str(output))
    return result


def _cell(value: Any) -> Any:
    """Excel has no None-vs-'' distinction for us to keep, and refuses control characters."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    return value


def export_to_string(session: Session, fmt: str, shape: Optional[str] = None,
                     flt: Optional[ExportFilter] = None) -> str:
    """csv/jsonl export as a string (small exports, tests)."""
    stream = io.StringIO()
    export(session, fmt, shape, stream, flt)
    return stream.getvalue()
