"""Tables flattened into running text → values, recovered only where the digits leave one answer.

Text dumps of report pages (the archive crawler's ``page.txt``, Markdown from PDF converters)
often print a table row as its label followed by its digits, the cell boundaries gone:
``行政规范性文件5845546``, ``（一）予以公开330000033``, ``00000002.其他法律…`` (the next label's
ordinal glued on). This module finds the rows of Tables A, B and C by their labels in the order
the format prints them, takes the digits between one label and the next as the row's blob, and
splits each blob into the row's known number of cells:

* spaces (and pipes, tabs) are cell boundaries when present; otherwise every split is tried;
* no multi-digit cell starts with 0; a decimal point only in money cells; a sign only in
  signed cells (F2019 本年增/减); units (元, 万元) are dropped;
* the format's identities prune the splits: B2 per row (total = sum of the six applicant
  columns), then B1/B3 across rows column by column (searched jointly, rows with one split
  fixed first), C1–C3 for Table C.

When exactly one split survives, its cells are emitted with ``source="text"``. When several
survive, nothing is guessed: the row goes to ``ambiguous`` with its candidates and its keys stay
out of ``values``. Printed numbers are never changed; a document whose own figures break an
identity keeps its figures (the identity is then simply not used to choose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Optional

from parsers import schema
from parsers.model import Cell, Value
from parsers.numbers import parse_number
from parsers.schema import RowSpec, compact, nfkc

MAX_CANDIDATES = 5000  # per row: beyond this a row is reported as ambiguous without listing all
MAX_STEPS = 100_000  # per row: search steps before giving up (a blob far too long for its row)
MAX_COMBINATIONS = 200_000  # joint search over Table B rows
MAX_LISTED = 20  # candidates listed per ambiguous row
MAX_INT_DIGITS = 12
MAX_MONEY_DIGITS = 14

MAX_ROW_CHARS_PER_CELL = 8  # a blob longer than 8 characters per cell is not one row
MAX_CELL_CHARS = 24  # longest cell text: 14 digits, a point and fraction digits

MONEY_COLUMNS = frozenset({"amount_10k_yuan", "total_amount"})

_A_ANCHORS = ("第二十条第", "本年制发件数", "本年新制作数量", "本年处理决定数量", "上一年项目数量")
_B_ANCHORS = ("申请人情况", "本年新收政府信息公开申请数量")
_C_ANCHORS = ("结果维持", "结果纠正", "尚未审结", "未经复议直接起诉", "复议后起诉")
_SPLIT_OTHER_SIGNALS = ("逾期不补正", "逾期未按收费通知")

_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$", re.M)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
_RUN_CHARS = set("0123456789.+-−—/ \t\n,")
_PLACEHOLDER_TOKEN = re.compile(r"^(?:—+|-|/)$")
_INT = re.compile(r"^(?:0|[1-9]\d{0,%d})$" % (MAX_INT_DIGITS - 1))
_SIGNED = re.compile(r"^[+\-−]?(?:0|[1-9]\d{0,%d})$" % (MAX_INT_DIGITS - 1))
_MONEY = re.compile(r"^(?:0|[1-9]\d{0,%d})(?:\.\d+)?$" % (MAX_MONEY_DIGITS - 1))


@dataclass
class FlatResult:
    """Values recovered from flattened text, their provenance, and the rows left undecided."""

    values: dict[str, Value] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)
    ambiguous: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class FoundRow:
    """A row label found in the text and the digits printed after it."""

    spec: RowSpec
    label: str  # as printed
    start: int  # offset of the label in the prepared text
    end: int
    blob: str = ""  # the digit run, ordinal of the next label removed
    candidates: list[tuple[str, ...]] = field(default_factory=list)
    overflow: bool = False  # more candidates than MAX_CANDIDATES
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Public entry point


def values_from_flat_text(text: str, fmt: str) -> FlatResult:
    """Recover Tables A, B and C of an F2021 / F2019 report from flattened text."""
    result = FlatResult()
    if fmt not in (schema.F2021, schema.F2019):
        return result
    doc = PreparedText(text)
    a_start = doc.find_first(_A_ANCHORS, 0)
    b_start = doc.find_first(_B_ANCHORS, a_start or 0)
    c_start = doc.find_first(_C_ANCHORS, b_start if b_start is not None else (a_start or 0))
    end = len(doc.text)
    if a_start is not None:
        a_end = min(x for x in (b_start, c_start, end) if x is not None)
        _solve_table_a(doc, fmt, a_start, a_end, result)
        if fmt == schema.F2021:
            _add_narrative_hints(doc.text[:a_start], result)
    if b_start is not None:
        _solve_table_b(doc, fmt, b_start, c_start if c_start is not None else end, result)
    if c_start is not None:
        _solve_table_c(doc, c_start, end, result)
    return result


# ---------------------------------------------------------------------------------------------
# Text preparation and label search


class PreparedText:
    """NFKC text with Markdown rules gone and pipes/tabs as spaces, plus a punctuation-free index.

    Labels are searched in the compact form (``schema.compact``: no whitespace or punctuation),
    so ``危及“三安全一稳定”`` and a label broken over two lines still match; offsets map back to
    the prepared text, where the digits are read.
    """

    def __init__(self, text: str) -> None:
        prepared = nfkc(text or "")
        prepared = _MD_SEPARATOR.sub(lambda m: " " * len(m.group(0)), prepared)
        self.raw = prepared  # pipes kept: tells Markdown table rows apart
        prepared = prepared.replace("|", " ").replace("\t", " ")
        self.text = prepared
        compact_chars: list[str] = []
        self.c2o: list[int] = []
        self.o2c: list[int] = []
        for offset, char in enumerate(prepared):
            self.o2c.append(len(compact_chars))
            for c in compact(char):
                compact_chars.append(c)
                self.c2o.append(offset)
        self.o2c.append(len(compact_chars))
        self.compact = "".join(compact_chars)

    def find(self, fragment: str, start: int, end: Optional[int] = None) -> Optional[tuple[int, int]]:
        """(start, end) offsets in the prepared text of the first ``fragment`` in [start, end)."""
        c_start = self.o2c[min(start, len(self.text))]
        c_end = self.o2c[min(end, len(self.text))] if end is not None else len(self.compact)
        index = self.compact.find(fragment, c_start, c_end)
        if index < 0 or not fragment:
            return None
        return self.c2o[index], self.c2o[index + len(fragment) - 1] + 1

    def in_table_row(self, offset: int) -> bool:
        """True when ``offset`` lies on a Markdown pipe-table line."""
        line_start = self.raw.rfind("\n", 0, offset) + 1
        return self.raw[line_start:offset + 1].lstrip().startswith("|")

    def find_first(self, fragments: Iterable[str], start: int, end: Optional[int] = None) -> Optional[int]:
        hits = [hit[0] for hit in (self.find(f, start, end) for f in fragments) if hit]
        return min(hits) if hits else None

    def find_label(self, spec: RowSpec, start: int, end: int) -> Optional[tuple[int, int]]:
        """Earliest occurrence of any of the spec's label fragments; the longest at that place."""
        best: Optional[tuple[int, int]] = None
        for fragment in spec.labels:
            hit = self.find(fragment, start, end)
            if hit and (best is None or hit[0] < best[0] or (hit[0] == best[0] and hit[1] > best[1])):
                best = hit
        return best


# ---------------------------------------------------------------------------------------------
# Blobs: the digit run after a label


def leading_run(between: str, width: Optional[int] = None) -> str:
    """The first run of digits (with spaces, signs, decimal points, placeholders) in ``between``.

    The run starts at the first digit that is not glued to other words (``数据1`` in a header
    is not a value) and ends at the first other character (a unit, the next heading, the next
    label). A line break ends it once it holds ``width`` numbers, so one Markdown row does not
    run into the next. A digit directly followed by ``.`` or ``、`` at the end of the run is
    the next label's ordinal (``…00000002.其他法律…``) and is removed.
    """
    begin = _run_start(between)
    if begin is None:
        return ""
    stop = begin
    while stop < len(between) and between[stop] in _RUN_CHARS:
        if between[stop] == "\n" and width is not None and len(tokens_of(between[begin:stop])) >= width:
            break
        stop += 1
    run = between[begin:stop].rstrip()
    following = between[stop:stop + 1]
    if re.search(r"\d\.$", run) and not following.isdigit():
        run = run[:-2]  # "…00000002." + label
    elif following == "、" and run and run[-1].isdigit():
        run = run[:-1]  # "…0000000 2、" + label
    return run.strip()


def _run_start(between: str) -> Optional[int]:
    """Offset of the first digit that starts a value: right after the label, after a space,
    pipe or bracket, or after a remainder of the label glued to it (no spaces before it)."""
    for i, ch in enumerate(between):
        if not (ch.isdigit() or _starts_placeholder(between, i)):
            continue
        if i == 0:
            return i
        before = between[i - 1]
        if not before.isalnum() or not any(c.isspace() for c in between[:i]):
            return i
    return None


def _starts_placeholder(text: str, index: int) -> bool:
    return text[index] == "—"


def tokens_of(run: str) -> list[str]:
    """Whitespace-separated tokens; thousands separators removed, other commas split tokens."""
    run = _THOUSANDS.sub("", run).replace(",", " ").replace("−", "-")
    return run.split()


# ---------------------------------------------------------------------------------------------
# Splitting one blob into cells


Validator = Callable[[str], bool]


def column_validators(spec: RowSpec) -> list[Validator]:
    def for_column(column: str) -> Validator:
        if column in MONEY_COLUMNS:
            return _MONEY.match  # type: ignore[return-value]
        if column in spec.signed_columns:
            return _SIGNED.match  # type: ignore[return-value]
        return _INT.match  # type: ignore[return-value]

    return [for_column(c) for c in spec.columns]


def split_blob(tokens: list[str], validators: list[Validator], sums: Optional[dict[int, list[int]]] = None,
               limit: int = MAX_CANDIDATES) -> tuple[list[tuple[str, ...]], bool]:
    """Every way to cut ``tokens`` into ``len(validators)`` valid cells.

    A cell never spans two tokens (spaces are boundaries) and every token holds at least one
    cell. ``sums`` maps a cell index to the indices whose sum it must print (B2, C1–C3); such a
    cell is not enumerated but read as that sum's digits, which keeps the search small. Returns
    the candidates and whether the search stopped at ``limit``.
    """
    width = len(validators)
    sums = sums or {}
    if _is_trailing_total(sums, width) and tokens:
        return _split_trailing_total(tokens, validators, limit)
    max_lengths = [_max_length(v) for v in validators]
    results: list[tuple[str, ...]] = []
    overflow = False
    remaining_chars = [0] * (len(tokens) + 1)
    for i in range(len(tokens) - 1, -1, -1):
        remaining_chars[i] = remaining_chars[i + 1] + len(tokens[i])
    cells: list[str] = []

    def advance(ti: int, end: int) -> tuple[int, int]:
        return (ti + 1, 0) if end == len(tokens[ti]) else (ti, end)

    def feasible(ti: int, off: int, index: int) -> bool:
        """Enough characters left for the cells still to come, and not too many."""
        left = width - index
        if ti == len(tokens):
            return left == 0
        chars = remaining_chars[ti] - off
        if not (len(tokens) - ti) <= left or chars > sum(max_lengths[index:]):
            return False
        return chars >= left + _pending_total_digits(index)

    def _pending_total_digits(index: int) -> int:
        """A total still to come needs at least as many digits as its leaves' running sum."""
        extra = 0
        for total_index, parts in sums.items():
            if total_index >= index:
                done = [cells[i] for i in parts if i < index]
                if done and all(c.isdigit() for c in done):
                    extra += len(str(sum(int(c) for c in done))) - 1
        return extra

    steps = 0

    def rec(ti: int, off: int) -> None:
        nonlocal overflow, steps
        steps += 1
        if overflow or steps > MAX_STEPS:
            overflow = True
            return
        index = len(cells)
        if index == width:
            if ti == len(tokens):
                results.append(tuple(cells))
                if len(results) >= limit:
                    overflow = True
            return
        if not feasible(ti, off, index):
            return
        token = tokens[ti]
        if off == 0 and _PLACEHOLDER_TOKEN.match(token):
            cells.append(token)
            rec(ti + 1, 0)
            cells.pop()
            return
        forced = _forced_sum(cells, sums.get(index))
        if forced is not None:
            if token.startswith(forced, off) and validators[index](forced):
                cells.append(forced)
                rec(*advance(ti, off + len(forced)))
                cells.pop()
            return
        later_cells_need = width - index - 1 - (len(tokens) - ti - 1)  # chars later cells need here
        last_end = min(len(token), off + max_lengths[index])
        if ti == len(tokens) - 1:
            last_end = min(last_end, len(token) - later_cells_need)
        for end in range(off + 1, last_end + 1):
            piece = token[off:end]
            if not validators[index](piece):
                if len(piece) > 1 and piece[0] == "0" and "." not in token[off:]:
                    break  # a leading zero never becomes valid by growing
                continue
            cells.append(piece)
            rec(*advance(ti, end))
            cells.pop()

    if tokens:
        rec(0, 0)
    return results, overflow


def _is_trailing_total(sums: dict[int, list[int]], width: int) -> bool:
    return list(sums) == [width - 1] and sorted(sums[width - 1]) == list(range(width - 1))


def _split_trailing_total(tokens: list[str], validators: list[Validator],
                          limit: int) -> tuple[list[tuple[str, ...]], bool]:
    """B2 rows: the total is the last cell, so try each length for it, then split the rest
    into leaves that add up to it (no leaf can exceed the total: a strong prune)."""
    results: list[tuple[str, ...]] = []
    overflow = False
    last = tokens[-1]
    for length in range(1, min(len(last), MAX_INT_DIGITS) + 1):
        total = last[-length:]
        if not validators[-1](total) or not total.isdigit():
            continue
        head = tokens[:-1] + ([last[:-length]] if length < len(last) else [])
        leaves, leaf_overflow = _split_to_sum(head, validators[:-1], int(total), limit - len(results))
        results.extend(leaf + (total,) for leaf in leaves)
        overflow = overflow or leaf_overflow
        if len(results) >= limit:
            return results, True
    return results, overflow


def _split_to_sum(tokens: list[str], validators: list[Validator], target: int,
                  limit: int) -> tuple[list[tuple[str, ...]], bool]:
    width = len(validators)
    max_len = len(str(target))
    results: list[tuple[str, ...]] = []
    cells: list[str] = []
    state = {"steps": 0, "overflow": False}
    remaining_chars = [0] * (len(tokens) + 1)
    for i in range(len(tokens) - 1, -1, -1):
        remaining_chars[i] = remaining_chars[i + 1] + len(tokens[i])

    def rec(ti: int, off: int, partial: int) -> None:
        state["steps"] += 1
        if state["overflow"] or state["steps"] > MAX_STEPS:
            state["overflow"] = True
            return
        index = len(cells)
        left = width - index
        if index == width:
            if ti == len(tokens) and partial == target:
                results.append(tuple(cells))
                state["overflow"] = len(results) >= limit
            return
        if ti == len(tokens):
            return
        chars = remaining_chars[ti] - off
        if not (len(tokens) - ti) <= left <= chars or chars > left * max_len:
            return
        if partial + _largest_sum(chars, left, max_len) < target:
            return  # the digits left cannot add up to the total
        token = tokens[ti]
        if off == 0 and _PLACEHOLDER_TOKEN.match(token):
            cells.append(token)
            rec(ti + 1, 0, partial)
            cells.pop()
            return
        for end in range(off + 1, min(len(token), off + max_len) + 1):
            piece = token[off:end]
            if not validators[index](piece):
                if piece[0] == "0":
                    break
                continue
            value = partial + int(piece)
            if value > target:
                break
            cells.append(piece)
            if end == len(token):
                rec(ti + 1, 0, value)
            else:
                rec(ti, end, value)
            cells.pop()

    if tokens:
        rec(0, 0, 0)
    return results, bool(state["overflow"])


def _largest_sum(chars: int, cells: int, max_len: int) -> int:
    """Upper bound of the sum of ``cells`` numbers printed with ``chars`` digits in all."""
    bound = 0
    for i in range(cells):
        length = min(max_len, chars - (cells - i - 1))
        bound += 10 ** length - 1
        chars -= length
    return bound


def _max_length(validator: Validator) -> int:
    if validator == _MONEY.match:
        return MAX_CELL_CHARS
    return MAX_INT_DIGITS + 1  # a sign


def _forced_sum(cells: list[str], parts: Optional[list[int]]) -> Optional[str]:
    """The digits a total cell must print, or None when it is unconstrained (blank parts)."""
    if parts is None:
        return None
    total = 0
    for i in parts:
        if not cells[i].isdigit():
            return None
        total += int(cells[i])
    return str(total)


B2_SUMS = {6: [0, 1, 2, 3, 4, 5]}
C_SUMS = {4: [0, 1, 2, 3], 9: [5, 6, 7, 8], 14: [10, 11, 12, 13]}


def row_candidates(row: FoundRow, sums: Optional[dict[int, list[int]]], identity: str,
                   warnings: list[str]) -> None:
    """Fill ``row.candidates``: splits satisfying the row identity, else any valid split.

    Spaces are trusted as boundaries first; only if no split respects them are they ignored.
    A row whose printed figures break its own identity keeps its unconstrained splits (the
    figures are reported, not corrected) with a warning.
    """
    validators = column_validators(row.spec)
    tokens = tokens_of(row.blob)
    width = len(validators)
    if sum(len(t) for t in tokens) > MAX_ROW_CHARS_PER_CELL * width + 4:
        row.note = "far too many digits for the row"
        return
    attempts: list[tuple[list[str], Optional[dict[int, list[int]]], str]] = []
    if sums:
        attempts.append((tokens, sums, ""))
        if 1 < len(tokens) < width:  # a stray space inside a cell; only trusted with the identity
            attempts.append((["".join(tokens)], sums, "spaces ignored"))
        attempts.append((tokens, None, f"{identity} fails as printed"))
    else:
        attempts.append((tokens, None, ""))
    for attempt, attempt_sums, note in attempts:
        candidates, overflow = split_blob(attempt, validators, attempt_sums)
        if candidates:
            row.candidates, row.overflow, row.note = candidates, overflow, note
            if note:
                warnings.append(f"{row.spec.key}: {note} in {row.blob!r}")
            return


# ---------------------------------------------------------------------------------------------
# Tables


def _solve_table_a(doc: PreparedText, fmt: str, start: int, end: int, result: FlatResult) -> None:
    """Table A rows may be printed in any order (sub-tables move around); each label is unique."""
    found: list[FoundRow] = []
    for spec in schema.table_a_specs(fmt):
        hit = doc.find_label(spec, start, end)
        if hit:
            found.append(FoundRow(spec, doc.text[hit[0]:hit[1]], hit[0], hit[1]))
    found.sort(key=lambda r: r.start)
    found = _drop_nested(found)
    _read_blobs(doc, found, end, extra_stops=("第二十条第",))
    for row in found:
        if row.blob:
            row_candidates(row, None, "", result.warnings)
        _emit_or_defer(row, result)


def _drop_nested(rows: list[FoundRow]) -> list[FoundRow]:
    """A label found inside another (规范性文件 inside 行政规范性文件 elsewhere) is not a row."""
    kept: list[FoundRow] = []
    for row in rows:
        if kept and row.start < kept[-1].end:
            continue
        kept.append(row)
    return kept


def _read_blobs(doc: PreparedText, rows: list[FoundRow], region_end: int,
                extra_stops: tuple[str, ...] = ()) -> None:
    """Each row's blob: the digit run between its label and the next row's label.

    Digits that start on a later line inside a pipe table belong to that table row, not to a
    label printed outside it (Markdown whose labels floated out of the table); such a label
    gets no blob. When a label is printed twice (a heading, then the table row), the later one
    with digits after it wins.
    """
    for i, row in enumerate(rows):
        stop = rows[i + 1].start if i + 1 < len(rows) else region_end
        for marker in extra_stops:
            hit = doc.find(marker, row.end, stop)
            if hit:
                stop = hit[0]
        while True:
            row.blob = _blob_after(doc, row.end, stop, len(row.spec.columns))
            if row.blob:
                break
            again = doc.find_label(row.spec, row.end, stop)
            if not again:
                break
            row.start, row.end = again
            row.label = doc.text[again[0]:again[1]]


def _blob_after(doc: PreparedText, start: int, stop: int, width: int) -> str:
    between = doc.text[start:stop]
    begin = _run_start(between)
    if begin is None:
        return ""
    if "\n" in between[:begin] and doc.in_table_row(start + begin):
        return ""  # the digits are another (unlabelled) table row
    return leading_run(between, width)


def _solve_table_b(doc: PreparedText, fmt: str, start: int, end: int, result: FlatResult) -> None:
    specs = _table_b_specs(doc, start, end)
    found: list[FoundRow] = []
    cursor = start
    for spec in specs:
        hit = doc.find_label(spec, cursor, end)
        if not hit:
            continue
        found.append(FoundRow(spec, doc.text[hit[0]:hit[1]], hit[0], hit[1]))
        cursor = hit[1]
    _read_blobs(doc, found, end)
    for row in found:
        if row.blob:
            row_candidates(row, B2_SUMS, "B2", result.warnings)
    solve_columns(found, result.warnings)
    for row in found:
        _emit_or_defer(row, result)


def _table_b_specs(doc: PreparedText, start: int, end: int) -> tuple[RowSpec, ...]:
    """Three （六） sub-rows when their labels are printed, else the single （六）其他处理 row."""
    split = any(doc.find(signal, start, end) for signal in _SPLIT_OTHER_SIGNALS)
    return schema.TABLE_B_F2021 if split else schema.TABLE_B_F2019


def _solve_table_c(doc: PreparedText, start: int, end: int, result: FlatResult) -> None:
    row = FoundRow(schema.TABLE_C, doc.text[start:start], start, start)
    row.blob = leading_run(doc.text[start:end], len(schema.TABLE_C.columns))
    if not row.blob:
        return
    row.label = "行政复议、行政诉讼"
    row_candidates(row, C_SUMS, "C1-C3", result.warnings)
    _emit_or_defer(row, result)


# ---------------------------------------------------------------------------------------------
# Joint solution of Table B's column identities (B1, B3)


def solve_columns(rows: list[FoundRow], warnings: list[str]) -> None:
    """Keep only the combinations of row splits under which B1 and B3 hold in every column.

    Rows with one split are constants; the rows with several are assigned one at a time and each
    column identity is checked as soon as all its rows are assigned, so the search stays small.
    When no combination satisfies the identities (the document's own figures do not add up),
    nothing is pruned and the rows keep their per-row candidates.
    """
    by_key = {row.spec.key.removeprefix("applications."): row for row in rows if row.candidates}
    constraints = _column_constraints(by_key)
    open_rows = [row for row in by_key.values() if len(row.candidates) > 1]
    if not open_rows or not constraints:
        return
    space = 1
    for row in open_rows:
        space *= len(row.candidates)
    if space > MAX_COMBINATIONS or any(row.overflow for row in open_rows):
        warnings.append(f"Table B: {space} split combinations, too many to check jointly")
        return
    survivors = _search(by_key, open_rows, constraints)
    if not survivors:
        warnings.append("Table B: no split satisfies B1/B3 (the printed figures do not add up); "
                        "rows keep their per-row splits")
        return
    for position, row in enumerate(open_rows):
        kept = sorted({combo[position] for combo in survivors}, key=row.candidates.index)
        if len(kept) < len(row.candidates):
            row.note = (row.note + "; " if row.note else "") + "chosen by B1/B3"
        row.candidates = kept


Constraint = tuple[list[tuple[str, int]], int]  # [(row key, coefficient)], column index


def _column_constraints(by_key: dict[str, FoundRow]) -> list[Constraint]:
    """B1: new + carried_over − results.total − carried_forward = 0; B3: leaves − total = 0."""
    constraints: list[Constraint] = []
    b1 = [("new", 1), ("carried_over", 1), ("results.total", -1), ("carried_forward", -1)]
    leaves = [key for key in by_key if key.startswith("results.") and key != "results.total"
              and not (key == "results.other.total" and "results.other.other" in by_key)]
    expected_leaves = _expected_leaf_count(by_key)
    b3 = [(key, 1) for key in leaves] + [("results.total", -1)]
    for column in range(len(schema.APPLICANT_KEYS)):
        if all(key in by_key for key, _ in b1):
            constraints.append((b1, column))
        if "results.total" in by_key and len(leaves) == expected_leaves:
            constraints.append((b3, column))
    return constraints


def _expected_leaf_count(by_key: dict[str, FoundRow]) -> int:
    split = any(key.startswith("results.other.") and key != "results.other.total" for key in by_key)
    specs = schema.TABLE_B_F2021 if split else schema.TABLE_B_F2019
    return sum(1 for s in specs if s.key.startswith("applications.results.") and s.key != "applications.results.total")


def _search(by_key: dict[str, FoundRow], open_rows: list[FoundRow],
            constraints: list[Constraint]) -> list[tuple[tuple[str, ...], ...]]:
    order = {row.spec.key.removeprefix("applications."): i for i, row in enumerate(open_rows)}
    # a constraint is checked once its last open row is assigned
    due: dict[int, list[Constraint]] = {}
    for constraint in constraints:
        terms, _ = constraint
        last = max((order[key] for key, _ in terms if key in order), default=-1)
        due.setdefault(last, []).append(constraint)
    survivors: list[tuple[tuple[str, ...], ...]] = []
    chosen: list[tuple[str, ...]] = []

    def cell(key: str, column: int) -> Optional[int]:
        if key in order:
            text = chosen[order[key]][column]
        else:
            text = by_key[key].candidates[0][column]
        return int(text) if text.isdigit() else None

    def holds(constraint: Constraint) -> bool:
        terms, column = constraint
        values = [cell(key, column) for key, _ in terms]
        if any(v is None for v in values):
            return True  # a blank cell: the identity cannot be checked, so it cannot prune
        return sum(v * coef for v, (_, coef) in zip(values, terms)) == 0  # type: ignore[operator]

    if not all(holds(c) for c in due.get(-1, [])):
        return []

    def rec(position: int) -> None:
        if position == len(open_rows):
            survivors.append(tuple(chosen))
            return
        for candidate in open_rows[position].candidates:
            chosen.append(candidate)
            if all(holds(c) for c in due.get(position, [])):
                rec(position + 1)
            chosen.pop()

    rec(0)
    return survivors


# ---------------------------------------------------------------------------------------------
# Narrative hints (recorded, never used to choose)

_NARRATIVE_DOCS = {
    "in_force": re.compile(r"现行有效(?:的)?(?:行政)?规范性文件(?:共)?(\d+)件"),
    "issued": re.compile(r"(?:制发|印发)(?:的)?(?:行政)?规范性文件(?:共)?(\d+)件"),
    "repealed": re.compile(r"废止(?:的)?(?:行政)?规范性文件(?:共)?(\d+)件"),
}


def _add_narrative_hints(narrative: str, result: FlatResult) -> None:
    """For an ambiguous F2021 规范性文件 row, note which splits the narrative's counts agree with.

    ``集中公开现行有效行政规范性文件698件`` often pins the split, but the narrative counts
    may cover a different scope than the table, so the hint is reported, not applied.
    """
    narrative = re.sub(r"\s+", "", narrative)
    hints = {col: int(m.group(1)) for col, rx in _NARRATIVE_DOCS.items() if (m := rx.search(narrative))}
    if not hints:
        return
    for entry in result.ambiguous:
        if entry["key"] != "active_disclosure.normative_documents" or not entry["candidates"]:
            continue
        columns = schema.TABLE_A_F2021[1].columns
        supported = [c for c in entry["candidates"]
                     if all(col not in hints or (col in columns and c[columns.index(col)] == str(v))
                            for col, v in hints.items())]
        if len(columns) == len(entry["candidates"][0]) and supported:
            entry["narrative_supports"] = supported
            result.warnings.append(
                f"{entry['key']}: the narrative ({', '.join(f'{k} {v}' for k, v in hints.items())}) agrees "
                f"with {len(supported)} of {entry['candidate_count']} splits; left ambiguous, not applied")


# ---------------------------------------------------------------------------------------------
# Output


def _emit_or_defer(row: FoundRow, result: FlatResult) -> None:
    spec = row.spec
    if len(row.candidates) == 1 and not row.overflow:
        cells = row.candidates[0]
        for column, column_label, raw in zip(spec.columns, _column_labels(spec), cells):
            key = f"{spec.key}.{column}"
            parsed = parse_number(raw, decimal=column in MONEY_COLUMNS, signed=column in spec.signed_columns)
            value: Value = parsed.value
            if column in MONEY_COLUMNS and isinstance(value, int):
                value = Decimal(value)
            result.values[key] = value
            result.cells[key] = Cell(raw=raw, row_label=row.label.strip(), col_label=column_label,
                                     source="text")
        return
    if not row.blob:
        result.warnings.append(f"{spec.key}: label {row.label.strip()!r} found but no digits after it")
        reason = "no digits after the label"
    elif not row.candidates:
        reason = f"no split of the digits into {len(spec.columns)} valid cells"
    elif row.overflow:
        reason = f"more than {MAX_CANDIDATES} possible splits"
    else:
        reason = f"{len(row.candidates)} possible splits"
    result.ambiguous.append({
        "key": spec.key,
        "table": spec.table,
        "label": row.label.strip(),
        "blob": row.blob,
        "candidates": [list(c) for c in row.candidates[:MAX_LISTED]],
        "candidate_count": len(row.candidates),
        "reason": reason + (f" ({row.note})" if row.note else ""),
    })


def _column_labels(spec: RowSpec) -> tuple[str, ...]:
    if len(spec.column_labels) == len(spec.columns):
        return spec.column_labels
    return spec.columns
