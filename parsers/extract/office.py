"""Legacy Word (DOC, WPS) and spreadsheets (XLSX, XLS) → ``Extraction``.

* DOC / WPS / RTF: converted to DOCX by LibreOffice headless (:func:`parsers.safety.
  convert_with_libreoffice`: private temp dir and profile, timeout, process group killed), then
  read by :func:`parsers.extract.docx.extract_docx`. Encrypted files are refused beforehand.
* XLSX: openpyxl in read-only mode (streams rows, never builds the whole sheet in memory: safe on
  huge files). Read-only mode does not expose merged cells, so the ``<mergeCell>`` ranges are read
  from the sheet part itself with a streaming lxml parser.
* XLS: xlrd with ``formatting_info`` (merged ranges, number formats); when xlrd cannot read the
  file (e.g. a WPS ``.et`` variant), LibreOffice converts it to XLSX.

A sheet becomes one table per block of rows separated by fully empty rows (a block needs a row
with two filled cells to be a table). Rows holding a single non-numeric text (a title, a section
heading, prose, a signature) go into ``text`` in sheet order — all rows of text blocks, and the
rows above or below a table's first/last multi-cell row — so the title and the signature are
found there; headings inside a table stay in the table only.
Merged regions follow pdfplumber's convention: text in the top-left cell, ``None`` elsewhere.
``Table.page`` is the 1-based sheet number.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Optional

from lxml import etree

from parsers import sniff
from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table
from parsers.safety import (ENCRYPTED_MESSAGE, OLE_MAGIC, check_size, convert_with_libreoffice,
                            inspect_ole, open_zip, read_member)

# Positions inside a merged region other than its top-left corner: covered from the left (the
# region starts in this row) or from above (it starts in an earlier row: this row is a table row).
_COVERED_LEFT = object()
_COVERED_ABOVE = object()
_COVERED = (_COVERED_LEFT, _COVERED_ABOVE)
_NUMBER = re.compile(r"^[\s\-+−–—]*[\d０-９][\d０-９,，.．\s]*%?$")
_STREAMED_POSITIONS_FACTOR = 10  # positions read (incl. padding) per allowed table cell

# --------------------------------------------------------------------------- legacy Word


def extract_legacy_word(data: bytes, limits: Limits) -> Extraction:
    """DOC and WPS (and RTF named .doc): LibreOffice → DOCX → :func:`extract_docx`."""
    from parsers.extract.docx import extract_docx

    check_size(data, limits)
    if data.startswith(b"PK\x03\x04"):
        return extract_docx(data, limits)  # a DOCX with a .doc name
    suffix, media_type = _legacy_word_kind(data, limits)
    if suffix is None:
        return extract_xls(data, limits)  # an OLE2 spreadsheet with a Word name
    converted = convert_with_libreoffice(data, suffix, "docx", limits.convert_timeout_s,
                                         what=".doc/.wps")
    extraction = extract_docx(converted, limits)
    extraction.media_type = media_type
    return extraction


def _legacy_word_kind(data: bytes, limits: Limits) -> tuple[Optional[str], str]:
    """The input suffix LibreOffice should see, and the media type; (None, ...) for a spreadsheet."""
    if data.startswith(OLE_MAGIC):
        streams = inspect_ole(data)  # raises for encrypted documents
        if "worddocument" in streams:
            return ".doc", sniff.DOC
        if "workbook" in streams or "book" in streams:
            return None, sniff.XLS
        return ".wps", sniff.WPS  # Microsoft Works and old Kingsoft files: LibreOffice decides
    head = data[:512].lstrip()
    if head.startswith(b"{\\rtf"):
        return ".rtf", sniff.DOC
    if head.startswith(b"<?xml") and b"wordDocument" in data[:4096]:
        return ".xml", sniff.DOC  # Word 2003 XML
    raise ParseError("not a Word document: neither OLE2 (.doc/.wps), RTF nor DOCX")


# --------------------------------------------------------------------------- sheets → extraction


@dataclass
class Sheet:
    """A sheet read sparsely: non-empty cell texts, bordered positions, merged ranges (0-based,
    inclusive)."""

    name: str
    cells: dict[tuple[int, int], str] = field(default_factory=dict)
    bordered: set[tuple[int, int]] = field(default_factory=set)  # positions with a ruled edge
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1


def sheets_to_extraction(sheets: list[Sheet], media_type: str, meta: dict[str, str],
                         limits: Limits, warnings: list[str]) -> Extraction:
    paragraphs: list[str] = []
    tables: list[Table] = []
    budget = _CellBudget(limits.max_table_cells)
    for number, sheet in enumerate(sheets, start=1):
        grid = _sheet_grid(sheet, budget)
        bordered = _bordered_rows(sheet)
        for block in _blocks(grid):
            first, last = _table_span(block, bordered)
            paragraphs.extend(_single_text(grid[r]) or "" for r in block[:first])
            table = [grid[r] for r in block[first:last + 1]]
            paragraphs.extend(_prose_rows(table))
            if any(_content_count(row) >= 2 for row in table):
                rows = [[None if cell in _COVERED else cell for cell in row]
                        for row in _trim_columns(table)]
                tables.append(Table(rows=rows, page=number, index=len(tables)))
            paragraphs.extend(_single_text(grid[r]) or "" for r in block[last + 1:])
    text = "\n".join(p for p in paragraphs if p)
    if len(text) > limits.max_text_chars:
        raise ParseError(f"document text too long: {len(text)} characters "
                         f"(limit {limits.max_text_chars})")
    return Extraction(media_type=media_type, text=text, tables=tables, meta=meta,
                      warnings=warnings)


def _bordered_rows(sheet: Sheet) -> set[int]:
    """Rows with a bordered cell; a merged region counts as bordered on all its rows."""
    rows = {r for r, _ in sheet.bordered}
    for r0, c0, r1, c1 in sheet.merges:
        if any((r, c) in sheet.bordered for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)):
            rows.update(range(r0, r1 + 1))
    return rows


def _table_span(block: list[int], bordered: set[int]) -> tuple[int, int]:
    """Positions (in ``block``) of the first and last table row: the ruled rows when the sheet
    draws borders (a heading typed right above a ruled table is not part of it), else all."""
    ruled = [i for i, r in enumerate(block) if r in bordered]
    if ruled:
        return ruled[0], ruled[-1]
    return 0, len(block) - 1


class _CellBudget:
    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def spend(self, positions: int) -> None:
        self.used += positions
        if self.used > self.limit:
            raise ParseError(f"too many table cells: more than {self.limit} (limit)")


def _sheet_grid(sheet: Sheet, budget: _CellBudget) -> list[list[Any]]:
    """Dense grid of the used range: texts, "" for empty cells, _COVERED_* inside merges."""
    if not sheet.cells:
        return []
    rows = 1 + max(r for r, _ in sheet.cells)
    cols = 1 + max(c for _, c in sheet.cells)
    for r0, c0, r1, c1 in sheet.merges:
        if (r0, c0) in sheet.cells:  # a merge over nothing does not widen the used range
            rows, cols = max(rows, r1 + 1), max(cols, c1 + 1)
    budget.spend(rows * cols)
    grid: list[list[Any]] = [[""] * cols for _ in range(rows)]
    for (r, c), text in sheet.cells.items():
        grid[r][c] = text
    for r0, c0, r1, c1 in sheet.merges:
        for r in range(r0, min(r1, rows - 1) + 1):
            for c in range(c0, min(c1, cols - 1) + 1):
                if (r, c) != (r0, c0):
                    grid[r][c] = _COVERED_LEFT if r == r0 else _COVERED_ABOVE
    return grid


def _blocks(grid: list[list[Any]]) -> Iterator[list[int]]:
    """Row indices of the runs of rows between fully empty rows."""
    block: list[int] = []
    for r, row in enumerate(grid + [[]]):
        if any(cell in _COVERED or cell for cell in row):
            block.append(r)
            continue
        if block:
            yield block
        block = []


def _trim_columns(block: list[list[Any]]) -> list[list[Any]]:
    used = [c for row in block for c, cell in enumerate(row) if cell in _COVERED or cell]
    first, last = min(used), max(used)
    return [row[first:last + 1] for row in block]


def _prose_rows(block: list[list[Any]]) -> Iterator[str]:
    """Rows holding one non-numeric text: all of a text block, only the edges of a table.

    A heading row inside a table (e.g. 第二十条第（五）项) stays in the table alone; a title or
    signature typed right above or below a table, without an empty row between, reaches the text.
    """
    singles = [_single_text(row) for row in block]
    multi = [i for i, row in enumerate(block) if _content_count(row) >= 2]
    for i, text in enumerate(singles):
        if text is not None and (not multi or i < multi[0] or i > multi[-1]):
            yield text


def _content_count(row: list[Any]) -> int:
    """Filled cells, counting cells continued from the row above (the row is a table row)."""
    return sum(1 for cell in row if (isinstance(cell, str) and cell) or cell is _COVERED_ABOVE)


def _single_text(row: list[Any]) -> Optional[str]:
    texts = [cell for cell in row if isinstance(cell, str) and cell]
    if len(texts) == 1 and _COVERED_ABOVE not in row and not _NUMBER.match(texts[0]):
        return texts[0]
    return None


def cell_text(value: Any, number_format: str = "General") -> str:
    """The text a spreadsheet shows for a value: integers without ".0", percents, dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.datetime, dt.date)):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, (int, float, Decimal)):
        section = (number_format or "General").split(";")[0]
        places = _decimal_places(section)
        sign = "+" if section.lstrip('"\\').startswith("+") and value > 0 else ""
        if "%" in section:
            return sign + _number_text(Decimal(repr(value)) * 100, places) + "%"
        return sign + _number_text(value, places)
    return "".join(line.strip() for line in str(value).splitlines()).strip()


def _decimal_places(number_format: str) -> Optional[int]:
    """Fixed decimals of a format such as ``0.00`` or ``#,##0.0%``; None for General."""
    match = re.search(r"[0#]\.([0#]+)", re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format))
    return len(match.group(1)) if match else None


def _number_text(value: Any, places: Optional[int] = None) -> str:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        value = Decimal(format(value, ".15g"))
    number = Decimal(value)
    if places is not None:
        try:
            return format(number.quantize(Decimal(1).scaleb(-places)), "f")
        except InvalidOperation:  # beyond Decimal's precision: print it unrounded
            pass
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


# --------------------------------------------------------------------------- XLSX


def extract_xlsx(data: bytes, limits: Limits) -> Extraction:
    """Read an XLSX workbook (streaming, read-only), merged ranges from the sheet XML."""
    import openpyxl

    if data.startswith(OLE_MAGIC):
        return extract_xls(data, limits)  # an .xls (or an encrypted .xlsx: refused there)
    package = open_zip(data, limits, kind="XLSX")
    sheet_parts = _sheet_parts(package, limits)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ParseError:
        raise
    except Exception as exc:  # openpyxl raises KeyError, ValueError, TypeError... on damage
        raise ParseError(f"corrupt XLSX workbook ({type(exc).__name__}: {_short(exc)})") from None
    try:
        budget = _CellBudget(limits.max_table_cells * _STREAMED_POSITIONS_FACTOR)
        sheets = []
        for worksheet in workbook.worksheets:
            if not hasattr(worksheet, "iter_rows"):
                continue  # a chart sheet
            sheet = _read_xlsx_sheet(worksheet, budget)
            part = sheet_parts.get(worksheet.title)
            if part:
                sheet.merges = _xlsx_merges(package, part, limits)
            sheets.append(sheet)
        meta = _xlsx_meta(workbook)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"corrupt XLSX workbook ({type(exc).__name__}: {_short(exc)})") from None
    finally:
        workbook.close()
    return sheets_to_extraction(sheets, sniff.XLSX, meta, limits, [])


def _read_xlsx_sheet(worksheet: Any, budget: _CellBudget) -> Sheet:
    sheet = Sheet(worksheet.title)
    ruled_styles: dict[int, bool] = {}
    worksheet.reset_dimensions()  # declared dimensions lie (A1:XFD1048576): follow the cells
    for r, row in enumerate(worksheet.iter_rows()):
        budget.spend(len(row) + 1)
        for c, cell in enumerate(row):
            if _xlsx_is_ruled(cell, ruled_styles):
                sheet.bordered.add((r, c))
            value = getattr(cell, "value", None)
            if value is None:
                continue
            text = cell_text(value, getattr(cell, "number_format", "General"))
            if text:
                sheet.cells[(r, c)] = text
    return sheet


def _xlsx_is_ruled(cell: Any, cache: dict[int, bool]) -> bool:
    """Whether a cell draws any border (cached per border style: sheets share a few)."""
    style = getattr(cell, "style_array", None)
    if style is None or not style.borderId:
        return False
    if style.borderId not in cache:
        try:
            border = cell.border
            cache[style.borderId] = any(getattr(getattr(border, side), "style", None)
                                        for side in ("left", "right", "top", "bottom"))
        except (IndexError, AttributeError):
            cache[style.borderId] = False
    return cache[style.borderId]


def _sheet_parts(package: Any, limits: Limits) -> dict[str, str]:
    """Sheet name → part path, from xl/workbook.xml and its relationships."""
    from parsers.extract.docx import parse_xml

    names = set(package.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return {}
    workbook = parse_xml(read_member(package, "xl/workbook.xml", limits), "xl/workbook.xml")
    rels = parse_xml(read_member(package, "xl/_rels/workbook.xml.rels", limits),
                     "xl/_rels/workbook.xml.rels")
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in workbook.iter("{*}sheet"):
        rel_id = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rel_id, "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            parts[sheet.get("name", "")] = path
    return parts


def _xlsx_merges(package: Any, part: str, limits: Limits) -> list[tuple[int, int, int, int]]:
    """``<mergeCell ref="A1:C2">`` ranges of one sheet, parsed as a stream (sheets can be big)."""
    from openpyxl.utils.cell import range_boundaries

    if part not in package.namelist():
        return []
    merges = []
    try:
        stream = package.open(part)  # zipfile never yields more than the (checked) declared size
        for _, element in etree.iterparse(stream, events=("end",), tag="{*}mergeCell",
                                          resolve_entities=False, no_network=True,
                                          load_dtd=False, huge_tree=False):
            ref = element.get("ref", "")
            element.clear()
            try:
                c0, r0, c1, r1 = range_boundaries(ref)
            except (ValueError, TypeError):
                continue
            if None not in (c0, r0, c1, r1):
                merges.append((r0 - 1, c0 - 1, r1 - 1, c1 - 1))
    except (etree.XMLSyntaxError, OSError, EOFError, ValueError) as exc:
        raise ParseError(f"corrupt XLSX sheet {part} ({_short(exc)})") from None
    finally:
        if "stream" in locals():
            stream.close()
    return merges


def _xlsx_meta(workbook: Any) -> dict[str, str]:
    properties = workbook.properties
    found = {"title": properties.title, "author": properties.creator,
             "created": properties.created, "modified": properties.modified}
    meta = {}
    for key, value in found.items():
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        if value:
            meta[key] = " ".join(str(value).split())
    return meta


# --------------------------------------------------------------------------- XLS


def extract_xls(data: bytes, limits: Limits) -> Extraction:
    """Read a BIFF .xls with xlrd; fall back to LibreOffice → XLSX when xlrd cannot."""
    import xlrd

    check_size(data, limits)
    if data.startswith(b"PK\x03\x04"):
        return extract_xlsx(data, limits)  # an .xlsx with an .xls name
    if data.startswith(OLE_MAGIC):
        inspect_ole(data)  # raises for encrypted OOXML
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise ParseError(ENCRYPTED_MESSAGE) from None
        return _xls_by_libreoffice(data, limits, f"xlrd: {_short(exc)}")
    except Exception as exc:  # xlrd raises struct.error, IndexError, AssertionError on damage
        return _xls_by_libreoffice(data, limits, f"xlrd: {type(exc).__name__}: {_short(exc)}")
    try:
        sheets = [_read_xls_sheet(book, index, limits) for index in range(book.nsheets)]
        meta = {"author": book.user_name} if getattr(book, "user_name", "") else {}
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"corrupt XLS workbook ({type(exc).__name__}: {_short(exc)})") from None
    finally:
        book.release_resources()
    return sheets_to_extraction(sheets, sniff.XLS, meta, limits, [])


def _read_xls_sheet(book: Any, index: int, limits: Limits) -> Sheet:
    import xlrd

    worksheet = book.sheet_by_index(index)
    if worksheet.nrows * worksheet.ncols > limits.max_table_cells * _STREAMED_POSITIONS_FACTOR:
        raise ParseError(f"too many table cells: more than {limits.max_table_cells} (limit)")
    sheet = Sheet(worksheet.name)
    for r in range(worksheet.nrows):
        for c, cell in enumerate(worksheet.row(r)):
            if cell.ctype != xlrd.XL_CELL_EMPTY and _xls_is_ruled(book, cell):
                sheet.bordered.add((r, c))
            if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                continue
            text = _xls_cell_text(book, worksheet, r, c, cell)
            if text:
                sheet.cells[(r, c)] = text
    sheet.merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in worksheet.merged_cells
                    if r1 > r0 and c1 > c0]
    book.unload_sheet(index)
    return sheet


def _xls_cell_text(book: Any, worksheet: Any, r: int, c: int, cell: Any) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return cell_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell_text(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return cell_text(bool(cell.value))
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return cell_text(cell.value, _xls_number_format(book, worksheet, r, c))
    return cell_text(cell.value)


def _xls_is_ruled(book: Any, cell: Any) -> bool:
    try:
        border = book.xf_list[cell.xf_index].border
    except (IndexError, AttributeError, TypeError):
        return False
    return any(getattr(border, f"{side}_line_style", 0) for side in ("left", "right", "top", "bottom"))


def _xls_number_format(book: Any, worksheet: Any, r: int, c: int) -> str:
    try:
        xf = book.xf_list[worksheet.cell_xf_index(r, c)]
        return book.format_map[xf.format_key].format_str
    except (IndexError, KeyError, AttributeError):
        return "General"


def _xls_by_libreoffice(data: bytes, limits: Limits, reason: str) -> Extraction:
    if not data.startswith(OLE_MAGIC):
        raise ParseError(f"not an Excel workbook ({reason})")
    try:
        converted = convert_with_libreoffice(data, ".xls", "xlsx", limits.convert_timeout_s,
                                             what=".xls/.et")
    except ParseError as exc:
        raise ParseError(f"unreadable XLS workbook ({reason}; {exc})") from None
    extraction = extract_xlsx(converted, limits)
    extraction.media_type = sniff.XLS
    extraction.warnings.append(f"read with LibreOffice after {reason}")
    return extraction


def _short(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]
