"""Table grids → values under canonical keys, by row and column labels (not by position).

The grids of a document are read as one stream of rows in document order, so a table split across
pages, a header that is not repeated, or three tables printed as one grid all read the same. Each
row is split into label cells and data cells; the label picks the row spec (longest matching
label fragment, with the merged parent label — （三）不予公开 … — as context), and the data
cells fill the spec's columns in printed order. Unlabelled rows (labels lost in an extraction)
take the next row the format expects, with a warning; unknown labelled rows are kept as extras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from parsers import schema
from parsers.model import Cell, Table, Value
from parsers.numbers import clean_cell_text, is_value_cell, looks_numeric, parse_number
from parsers.schema import RowSpec, compact, label_score, norm_label

_TAG = re.compile(r"<[^>]{1,20}>")


@dataclass
class GridRow:
    """One grid row split into its label cells and its data cells (with their grid columns)."""

    labels: list[str]
    data: list[tuple[int, str]]  # (grid column, text); covered (None) positions dropped
    table: Table
    index: int

    @property
    def page(self) -> Optional[int]:
        if self.table.row_pages and self.index < len(self.table.row_pages):
            return self.table.row_pages[self.index]
        return self.table.page

    @property
    def has_numbers(self) -> bool:
        return any(looks_numeric(text) for _, text in self.data)

    @property
    def text(self) -> str:
        return " ".join(self.labels)


@dataclass
class MappedValues:
    values: dict[str, Value] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)
    extras: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ambiguous: list[dict] = field(default_factory=list)
    tables_seen: set[str] = field(default_factory=set)
    single_other_row: bool = False


def split_row(cells: list[Optional[str]]) -> tuple[list[str], list[tuple[int, str]]]:
    """Labels = the non-empty cells before the trailing run of value cells (numbers/blanks)."""
    present = [(i, c) for i, c in enumerate(cells) if c is not None]
    start = len(present)
    while start > 0 and is_value_cell(present[start - 1][1]):
        start -= 1
    labels = [clean_label(c) for _, c in present[:start] if clean_label(c)]
    data = [(i, c) for i, c in present[start:]]
    return labels, data


def clean_label(text: Optional[str]) -> str:
    """A label as printed, with the line breaks of narrow cells removed."""
    if not text:
        return ""
    text = _TAG.sub("", text)  # <br> left in Markdown cells by PDF converters
    return "".join(part.strip() for part in text.splitlines()).replace("\u3000", " ").strip()


def _label_only(row: GridRow) -> bool:
    return bool(row.labels) and not row.has_numbers


def _numbers_only(row: GridRow) -> bool:
    return not row.labels and row.has_numbers


def join_split_labels(rows: list[GridRow]) -> list[GridRow]:
    """Re-attach labels printed on their own line above (or below) their numbers.

    Text copied out of PDFs breaks a row whose label wraps: ``（四）无法提供  1.本机关不掌握…`` on one
    line and ``2  0  0  0  0  0  2`` on the next. A label-only row followed by a numbers-only row
    is one row; a numbers-only row whose label comes after it (and not before) is one row too.
    """
    out: list[GridRow] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        if nxt is not None and _label_only(row) and _numbers_only(nxt) and not _is_header_like(row):
            out.append(GridRow(row.labels, nxt.data, nxt.table, nxt.index))
            i += 2
            continue
        if nxt is not None and _numbers_only(row) and _label_only(nxt) and not (out and _label_only(out[-1])) \
                and not _is_header_like(nxt) and (i + 2 >= len(rows) or not _numbers_only(rows[i + 2])):
            out.append(GridRow(nxt.labels, row.data, row.table, row.index))
            i += 2
            continue
        out.append(row)
        i += 1
    return out


def _is_header_like(row: GridRow) -> bool:
    """Column headers and captions are label-only rows that must not swallow the numbers below."""
    text = compact(row.text)
    return any(m in text for m in ("第二十条", "信息内容", "申请人情况", "自然人", "结果维持", "复议后起诉",
                                   "行政诉讼", "本年制发件数", "本年新制作数量"))


class GridMapper:
    """Walks the row stream of a document and fills values, keeping table and group context."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.out = MappedValues()
        self.table_ctx: Optional[str] = None
        self.group: Optional[str] = None
        self.a_specs: tuple[RowSpec, ...] = schema.table_a_specs(fmt)
        self.b_order: list[RowSpec] = list(schema.TABLE_B_F2019 if fmt == schema.F2019 else schema.TABLE_B_F2021)
        self.last_b: Optional[RowSpec] = None
        self.headers: dict[int, str] = {}  # grid column → the header printed above it
        self.header_table: Optional[int] = None

    # -- public -------------------------------------------------------------------------------
    def map_tables(self, tables: list[Table]) -> MappedValues:
        for table in tables:
            rows = [GridRow(*split_row(cells), table, index) for index, cells in enumerate(table.rows)]
            for row in join_split_labels([r for r in rows if r.labels or r.data]):
                self._row(row)
        return self.out

    # -- context --------------------------------------------------------------------------------
    def _note_headers(self, row: GridRow) -> None:
        """Column headers as printed: each row without numbers updates the text above its columns."""
        if row.table.index != self.header_table:
            self.header_table, self.headers = row.table.index, {}
        if row.has_numbers:
            return
        for col, text in enumerate(row.table.rows[row.index]):
            label = clean_label(text)
            if label:
                self.headers[col] = label

    def _update_context(self, row: GridRow) -> None:
        joined = compact(row.text)
        if any(m in joined for m in ("申请人情况", "自然人", "本年新收", "上年结转")):
            self._enter("B")
        elif any(m in joined for m in schema.TABLE_MARKERS["C"]) or (
                "行政复议" in joined and "行政诉讼" in joined):
            self._enter("C")
        elif any(m in joined for m in ("第二十条", "信息内容")):
            self._enter("A")
        signals = schema.detect_format_signals(joined)
        if signals[schema.F2019] > signals[schema.F2021]:
            self.a_specs = schema.TABLE_A_F2019
        elif signals[schema.F2021] > signals[schema.F2019]:
            self.a_specs = schema.TABLE_A_F2021
        for label in row.labels:
            norm = norm_label(label)
            for group, words in schema.B_GROUPS.items():
                if any(norm.startswith(w) for w in words):
                    self.group = None if group == "results" else group

    def _enter(self, table: str) -> None:
        if self.table_ctx != table:
            self.table_ctx = table
            self.group = None
            self.out.tables_seen.add(table)

    # -- rows -----------------------------------------------------------------------------------
    def _row(self, row: GridRow) -> None:
        self._note_headers(row)
        self._update_context(row)
        if not row.data or not row.has_numbers and not self._is_blank_data_row(row):
            return
        spec = self._match(row)
        if spec is None:
            if row.has_numbers:
                self.out.extras.append({"table": row.table.index, "page": row.page, "label": row.text,
                                        "cells": [t for _, t in row.data]})
            return
        if spec.table == "B":
            self.last_b = spec
            if spec.key == schema.OTHER_TOTAL.key:
                self.out.single_other_row = True
        self.out.tables_seen.add(spec.table)
        self._assign(spec, row)

    def _is_blank_data_row(self, row: GridRow) -> bool:
        """A labelled leaf row whose cells are all blank prints nulls; a group header prints nothing."""
        if not row.labels or self.table_ctx == "C":
            return False
        leaf = norm_label(row.labels[-1])
        if any(leaf.startswith(w) for words in schema.B_GROUPS.values() for w in words):
            return False
        return self._match(row, dry_run=True) is not None and len(row.data) >= 1

    def _match(self, row: GridRow, dry_run: bool = False) -> Optional[RowSpec]:
        leaf = norm_label(row.labels[-1]) if row.labels else ""
        if self.table_ctx == "C" or (not leaf and len(row.data) == 15):
            if len(row.data) >= 15:
                self._enter("C")
                return schema.TABLE_C
            if self.table_ctx == "C" and len(row.data) == 5:
                label = compact(row.text)
                return next((spec for word, spec in C_GROUP_SPECS if word in label), None)
        spec = self._match_a(leaf) if leaf else None
        if spec is not None and self.table_ctx in (None, "A"):
            self.table_ctx = "A"
            return spec
        spec_b = self._match_b(leaf, row)
        if spec_b is not None:
            if not dry_run:
                self._enter("B") if self.table_ctx != "B" else None
            return spec_b
        return spec

    def _match_a(self, leaf: str) -> Optional[RowSpec]:
        best, best_score = None, 0
        for spec in self.a_specs:
            score = label_score(leaf, spec)
            if score > best_score:
                best, best_score = spec, score
        return best

    def _match_b(self, leaf: str, row: GridRow) -> Optional[RowSpec]:
        if len(row.data) < 7:  # a table B row always has 7 data columns (blanks included)
            return None
        if not leaf:
            if self.table_ctx == "B" and len(row.data) >= 7:
                return self._next_expected_b(row)
            return None
        in_b = self.table_ctx == "B"
        best, best_score = None, 0
        for spec in schema.TABLE_B_ALL:
            score = label_score(leaf, spec)
            if score == 0:
                continue
            if spec.key == "applications.results.other.other" and not (self.group == "other" and leaf == "其他"):
                continue
            if spec.key == "applications.results.total" and not in_b:
                continue
            if spec.group and self.group and spec.group != self.group and score < 4:
                continue
            if score > best_score:
                best, best_score = spec, score
        if best is not None and (in_b or best_score >= 4):
            return best
        if in_b and len(row.data) >= 7:
            return self._fuzzy_b(leaf, row)
        return None

    def _next_expected_b(self, row: GridRow) -> Optional[RowSpec]:
        order = self.b_order
        start = order.index(self.last_b) + 1 if self.last_b in order else 0
        for spec in order[start:]:
            if spec.value_keys()[0] not in self.out.values:
                self.out.warnings.append(
                    f"unlabelled row in table {row.table.index} (row {row.index + 1}) taken as {spec.key} by position")
                return spec
        return None

    def _fuzzy_b(self, leaf: str, row: GridRow) -> Optional[RowSpec]:
        order = self.b_order
        start = order.index(self.last_b) + 1 if self.last_b in order else 0
        candidates = [s for s in order[start:start + 2] if s.value_keys()[0] not in self.out.values]
        for spec in candidates:
            if schema.fuzzy_score(leaf, spec) >= 0.5:
                self.out.warnings.append(f"row label {row.text!r} matched to {spec.key} by similarity")
                return spec
        return None

    # -- values ---------------------------------------------------------------------------------
    def _assign(self, spec: RowSpec, row: GridRow) -> None:
        data = self._fit(spec, row)
        if data is None:
            return
        headers = self.headers
        for i, (column, (grid_col, text)) in enumerate(zip(spec.columns, data)):
            key = f"{spec.key}.{column}"
            if key in self.out.values:
                if self.out.cells[key].raw != clean_cell_text(text):
                    self.out.warnings.append(f"{key} printed twice ({self.out.cells[key].raw!r}, {text!r}); kept the first")
                continue
            decimal = spec.decimal and (column in ("amount_10k_yuan", "total_amount"))
            parsed = parse_number(text, decimal=decimal, signed=column in spec.signed_columns)
            if not parsed.ok:
                self.out.warnings.append(f"{key}: cell {text!r} is not a number; recorded as null")
            self.out.values[key] = parsed.value
            col_label = headers.get(grid_col) or (spec.column_labels[i] if i < len(spec.column_labels) else column)
            self.out.cells[key] = Cell(
                raw=(text or "").strip(), page=row.page, table=row.table.index,
                row_label=row.labels[-1] if row.labels else "", col_label=col_label,
                confidence=row.table.confidence, source="ocr" if row.table.confidence < 1 else "table")

    def _fit(self, spec: RowSpec, row: GridRow) -> Optional[list[tuple[int, str]]]:
        """The row's data cells for the spec's columns: trims label-zone blanks and phantom cells."""
        width = len(spec.columns)
        data = list(row.data)
        while len(data) > width:  # blanks left over from the label zone (front) or row padding (end)
            if not clean_cell_text(data[0][1]):
                data.pop(0)
            elif not clean_cell_text(data[-1][1]):
                data.pop()
            else:
                break
        if len(data) > width and spec.table == "B":
            by_header = self._by_headers(spec, row, data)
            if by_header is not None:
                return by_header
        if len(data) > width:
            non_blank = [d for d in data if clean_cell_text(d[1])]
            if len(non_blank) == width:
                data = non_blank
            elif spec.table == "A":
                data = data[:width]
            else:
                self.out.warnings.append(
                    f"{spec.key}: {len(data)} cells for {width} columns (table {row.table.index}); row skipped")
                return None
        if len(data) < width:
            self.out.warnings.append(f"{spec.key}: {len(data)} cells for {width} columns; filled from the left")
        return data


    def _by_headers(self, spec: RowSpec, row: GridRow,
                    data: list[tuple[int, str]]) -> Optional[list[tuple[int, str]]]:
        """Pick the spec's columns by the headers printed above them (a table with an extra column,
        e.g. a 法人或其他组织 subtotal); the extra cells are kept as extras, never mapped."""
        wanted = {norm_label(label): i for i, label in enumerate(spec.column_labels)}
        picked: dict[int, tuple[int, str]] = {}
        extra = []
        for grid_col, text in data:
            index = wanted.get(norm_label(self.headers.get(grid_col, "")))
            if index is not None and index not in picked:
                picked[index] = (grid_col, text)
            elif clean_cell_text(text):
                extra.append({"column": self.headers.get(grid_col, ""), "raw": text})
        if len(picked) != len(spec.columns):
            return None
        if extra:
            self.out.extras.append({"table": row.table.index, "page": row.page, "label": row.text,
                                    "cells": extra, "note": "cells under non-standard columns"})
        return [picked[i] for i in range(len(spec.columns))]


# Table C printed one group per row (行政复议 / 未经复议直接起诉 / 复议后起诉), five cells each.
C_GROUP_SPECS: tuple[tuple[str, RowSpec], ...] = tuple(
    (word, RowSpec(f"review_litigation.{group}", "C", (word,), tuple(leaf for leaf, _ in schema.REVIEW_LEAVES),
                   tuple(label for _, label in schema.REVIEW_LEAVES)))
    for word, group in (("复议后起诉", "litigation_after_review"), ("直接起诉", "litigation_direct"),
                        ("行政复议", "review"))
)


def map_grids(tables: list[Table], fmt: str) -> MappedValues:
    return GridMapper(fmt).map_tables(tables)
