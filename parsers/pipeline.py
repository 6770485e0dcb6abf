"""One document's way through the parsers: sniff → extract → map tables → metadata → format → checks."""

from __future__ import annotations

import hashlib
import importlib
from typing import Optional

from parsers import schema
from parsers.checks import run_checks
from parsers.errors import ParseError
from parsers.extract import extract
from parsers.limits import Limits
from parsers.metadata import extract_metadata, is_report_title, split_sections
from parsers.model import Extraction, Report
from parsers.sniff import sniff
from parsers.tables import MappedValues, map_grids

OLD_FORMAT_MARKERS = ("收费及减免", "政府信息公开情况统计表", "回应解读", "依申请公开政府信息情况", "概述")


def parse_document(data: bytes, media_type: Optional[str], name: str, limits: Limits,
                   meta: Optional[dict[str, str]] = None) -> Report:
    from parsers import PARSER_VERSION

    if not data or not data.strip():
        raise ParseError("empty file")
    if len(data) > limits.max_bytes:
        raise ParseError(f"file too large ({len(data)} bytes > {limits.max_bytes})")
    detected = sniff(data, name, media_type)
    try:
        extraction = extract(data, detected, limits)
    except ParseError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise ParseError(f"document too complex to read ({type(exc).__name__})") from exc
    except Exception as exc:  # third-party readers raise anything on corrupt input
        raise ParseError(f"unreadable {detected} document: {type(exc).__name__}: {exc}") from exc
    report = Report(file=name, sha256=hashlib.sha256(data).hexdigest(), media_type=detected,
                    parser_version=PARSER_VERSION, pages=extraction.pages)
    interpret(extraction, report, meta or {})
    return report


def interpret(extraction: Extraction, report: Report, context: dict[str, str]) -> None:
    """Fill ``report`` from an extraction (shared by every input format)."""
    meta = {**context, **extraction.meta}
    report.warnings.extend(extraction.warnings)
    signals = format_signals(extraction)
    table_fmt = signals_format(signals)
    mapped = map_grids(extraction.tables, table_fmt or schema.F2021)
    if extraction.flat_text or _needs_flat(mapped, extraction.text):
        merge_flat(extraction.text, table_fmt or schema.F2021, mapped)
    md = extract_metadata(extraction.text, meta)
    report.title, report.agency, report.year = md.title, md.agency, md.year
    report.signature_agency, report.signature_date, report.publish_date = md.signature_agency, md.signature_date, md.publish_date
    report.format = decide_format(table_fmt, mapped, md.title, md.year, extraction.text, report)
    if report.format in (schema.F2021, schema.F2019) and is_blank_form(mapped, md.year):
        report.format = schema.NOT_A_REPORT
        report.warnings.append("every table cell is blank and no report year is given: a blank form, not a report")
    if report.format in (schema.F2021, schema.F2019):
        report.values, report.cells = mapped.values, mapped.cells
        report.extras = mapped.extras
        report.warnings.extend(mapped.warnings)
        report.checks = run_checks(report.values, extraction.text)
        if extraction.confidence < 1:
            report.warnings.append(f"text from OCR (confidence {extraction.confidence:.2f}): check values against the image")
    report.ambiguous = mapped.ambiguous
    report.sections = split_sections(extraction.text)


def format_signals(extraction: Extraction) -> dict[str, int]:
    """Header words of the formats, in the table cells (and in the text when tables were flattened)."""
    cells = " ".join(c for t in extraction.tables for row in t.rows for c in row if c and len(c) < 60)
    signals = schema.detect_format_signals(schema.compact(cells))
    if not any(signals.values()):
        signals = schema.detect_format_signals(schema.compact(extraction.text))
    return signals


def signals_format(signals: dict[str, int]) -> Optional[str]:
    if signals[schema.F2021] == 0 and signals[schema.F2019] == 0:
        return None
    return schema.F2019 if signals[schema.F2019] > signals[schema.F2021] else schema.F2021


def decide_format(table_fmt: Optional[str], mapped: MappedValues, title: Optional[str], year: Optional[int],
                  text: str, report: Report) -> str:
    """Format from header labels (never from the year); the year only separates PRE2019 from UNKNOWN."""
    report_title = is_report_title(title)
    if table_fmt:
        fmt = table_fmt
    elif mapped.values and {"B", "C"} & mapped.tables_seen:
        fmt = schema.F2019 if mapped.single_other_row else schema.F2021
        report.warnings.append("table A not found: format inferred from tables B/C")
    elif report_title is False:
        return schema.NOT_A_REPORT
    elif year is not None and year >= 2019 and not any(m in text for m in OLD_FORMAT_MARKERS):
        report.warnings.append("no statistical tables found (tables may be images or missing)")
        return schema.UNKNOWN if report_title or "政府信息公开" in text else schema.NOT_A_REPORT
    elif report_title or "政府信息公开" in text[:2000]:
        return schema.PRE2019
    else:
        return schema.NOT_A_REPORT
    if year is not None:
        expected = schema.F2021 if year >= 2021 else schema.F2019 if year >= 2019 else schema.PRE2019
        if expected != fmt:
            report.warnings.append(f"format {fmt} detected from the table headers, unusual for report year {year}")
    return fmt


def is_blank_form(mapped: MappedValues, year: Optional[int]) -> bool:
    """A template: the tables are there, not one number is filled in, and nothing names a year."""
    return year is None and all(v is None for v in mapped.values.values())


def _needs_flat(mapped: MappedValues, text: str) -> bool:
    """The grids gave no table B, yet the text names its rows: the tables were flattened."""
    return not any(k.startswith("applications.") for k in mapped.values) and (
        "本年新收" in text or "申请人情况" in text or "本年度办理结果" in text)


def merge_flat(text: str, fmt: str, mapped: MappedValues) -> None:
    """Fill keys the grids did not give from flattened text (page.txt dumps, PDF text copies)."""
    try:
        flat = importlib.import_module("parsers.flat")
    except ImportError:
        return
    result = flat.values_from_flat_text(text, fmt)
    for key, value in result.values.items():
        if key not in mapped.values:
            mapped.values[key] = value
            mapped.cells[key] = result.cells[key]
    prefixes = {"active_disclosure": "A", "applications": "B", "review_litigation": "C"}
    mapped.tables_seen.update(prefixes[k.split(".")[0]] for k in result.values)
    mapped.single_other_row = mapped.single_other_row or "applications.results.other.total.total" in mapped.values
    mapped.warnings.extend(result.warnings)
    mapped.ambiguous.extend(a for a in result.ambiguous
                            if not any(k.startswith(f"{a.get('key')}.") for k in mapped.values if a.get("key")))
