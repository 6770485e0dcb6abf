"""The objects that flow through the parsers: what an extractor produces and what a parse returns.

Two layers, kept apart on purpose (pdfplumber's lesson: explicit objects, no hidden magic):

* ``Extraction`` is what an input format yields: the document's plain text, its tables as grids,
  and page metadata. Every extractor (HTML, PDF, DOCX, text, OCR...) produces one, and knows
  nothing about report keys.
* ``Report`` is the normalized record (the contract of ``spec/parse-output.md``): values under the
  canonical keys, the provenance of each value (``Cell``), the identity checks and warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Optional

Value = Optional[int | Decimal]  # a printed number, or None for a blank / placeholder cell


@dataclass
class Table:
    """A table as a dense grid of cell texts.

    ``rows[r][c]`` is the text of the cell whose top-left corner is at (r, c), ``""`` for a real
    cell that is empty, and ``None`` for a position covered by a merged cell that starts above or
    to the left (the convention of pdfplumber's ``extract_tables``).
    """

    rows: list[list[Optional[str]]]
    page: Optional[int] = None  # 1-based page of the first row, for paged formats
    index: int = 0  # position among the document's tables (0-based)
    confidence: float = 1.0  # < 1 when the text came from OCR
    row_pages: Optional[list[Optional[int]]] = None  # page of each row when a table spans pages


@dataclass
class TextRow:
    """A table row recovered from flattened text: a label and the raw text printed after it.

    Text extractions (``page.txt`` dumps, Markdown from PDF converters) often lose cell
    boundaries. The text extractor finds the row labels it knows and hands over what follows each
    one; ``cells`` is set when the boundaries survived (tabs, pipes, spaces), ``blob`` when the
    digits ran together and must be split using the row's width and the format's identities.
    """

    label: str
    cells: Optional[list[str]] = None
    blob: Optional[str] = None
    line: Optional[int] = None  # 1-based line in the text where the label was found


@dataclass
class Extraction:
    """What an input format yields, before any interpretation."""

    media_type: str
    text: str  # the article's plain text, paragraphs separated by newlines
    tables: list[Table] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # e.g. ArticleTitle, ContentSource, pdf Title
    pages: int = 0  # number of pages for paged formats, 0 otherwise
    confidence: float = 1.0  # < 1 when the text came from OCR
    warnings: list[str] = field(default_factory=list)
    flat_text: bool = False  # True when tables may be flattened into the text (txt/md extractions)


@dataclass
class Cell:
    """Where a value was printed: raw text, page, table index, row and column labels as printed."""

    raw: str
    page: Optional[int] = None
    table: Optional[int] = None
    row_label: str = ""
    col_label: str = ""
    confidence: float = 1.0
    source: str = "table"  # "table" (a grid cell), "text" (split from a text row), "ocr"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Check:
    """One identity check. status: pass | fail | skip (skip = not computable, e.g. a blank cell)."""

    id: str
    scope: str
    status: str
    expected: Optional[int | Decimal] = None
    actual: Optional[int | Decimal] = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "status": self.status,
            "expected": json_number(self.expected),
            "actual": json_number(self.actual),
            "note": self.note,
        }


@dataclass
class Report:
    """The normalized record of one document (see spec/parse-output.md)."""

    file: str = ""
    sha256: str = ""
    media_type: str = ""
    format: str = "UNKNOWN"  # F2021 | F2019 | PRE2019 | NOT_A_REPORT | UNKNOWN
    title: Optional[str] = None
    agency: Optional[str] = None
    year: Optional[int] = None
    signature_agency: Optional[str] = None
    signature_date: Optional[str] = None  # ISO date
    publish_date: Optional[str] = None  # from page metadata when present
    sections: dict[str, str] = field(default_factory=dict)  # overview, active_disclosure, ...
    values: dict[str, Value] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)  # non-standard rows, kept not mapped
    ambiguous: list[dict[str, Any]] = field(default_factory=list)  # cells that could not be split
    warnings: list[str] = field(default_factory=list)
    pages: int = 0
    parser_version: str = ""

    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form printed by ``xxgk parse --json`` and stored by the crawler."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "media_type": self.media_type,
            "format": self.format,
            "title": self.title,
            "agency": self.agency,
            "year": self.year,
            "signature_agency": self.signature_agency,
            "signature_date": self.signature_date,
            "publish_date": self.publish_date,
            "values": {k: json_number(v) for k, v in self.values.items()},
            "cells": {k: c.to_dict() for k, c in self.cells.items()},
            "checks": [c.to_dict() for c in self.checks],
            "extras": self.extras,
            "ambiguous": self.ambiguous,
            "sections": self.sections,
            "warnings": self.warnings,
            "pages": self.pages,
            "parser_version": self.parser_version,
        }


def json_number(value: Any) -> Any:
    """Decimals become JSON numbers without losing printed digits (int when integral)."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.as_tuple().exponent >= 0:
            return int(value)
        return float(value) if len(value.as_tuple().digits) <= 15 else str(value)
    return value
