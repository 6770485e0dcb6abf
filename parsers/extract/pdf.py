"""PDF → ``Extraction``: text in reading order, ruled tables as grids, metadata.

One pass over the document with pdfplumber: the PDF is opened once, and each page gets exactly one
``find_tables`` and one ``extract_text`` (both read the page's cached chars and edges), then the page
is closed so that memory stays bounded by one page. Everything else is cheap string clean-up.

Pages without a usable text layer (scans, fonts without a ToUnicode map) are handed to the OCR
module (``parsers.extract.ocr``), up to ``limits.ocr_max_pages`` pages.

Bad input raises :class:`ParseError` with a one-line reason, before any page is parsed when the
catalog already tells (encryption, page count).
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any, Iterator, Optional

from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table
from parsers.sniff import PDF

# Gaps narrower than this fraction of the font size are not word breaks. WPS/Word put a small
# gap between CJK and Latin runs ("2023 年") and justify lines by widening every gap; table
# columns are much wider apart, so their cells stay separated by spaces in the text.
X_TOLERANCE_RATIO = 0.5

TABLE_SETTINGS: dict[str, Any] = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "text_x_tolerance_ratio": X_TOLERANCE_RATIO,
}

META_KEYS = ("Title", "Author", "Subject", "Keywords", "Creator", "Producer", "CreationDate", "ModDate")

# A page whose text layer has fewer characters than this, or is mostly "(cid:N)" glyphs, is OCR'd.
MIN_TEXT_CHARS = 20

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018-\u201d"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000\u00a0]+(?=[{_CJK}])")
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000\u00a0]+|[ \t\u3000\u00a0]+(?=[{_CJK}])")
# digits and the CJK words that belong to them: dates, counts, ordinals ("2023 年 1 月", "第 711 号")
_SPACE_BEFORE_UNIT = re.compile(r"(?<=\d)[ \t\u3000\u00a0]+(?=(?:年度|年|月|日|号|件|条|个|项|次|人|家|份|篇|元|万元|亿元|%|％))")
_SPACE_AFTER_PREFIX = re.compile(r"(?<=[年月第共约计为至自])[ \t\u3000\u00a0]+(?=\d)")

_DASHES = "-—–－‒―~～_"
_PAGE_NUMBER_LINES = (
    re.compile(rf"^[{_DASHES}\s]*[{_DASHES}]\s*\d{{1,4}}\s*[{_DASHES}][{_DASHES}\s]*$"),  # - 3 -, — 3 —
    re.compile(r"^第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$"),  # 第3页, 第 3 页 共 5 页
    re.compile(r"^共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页$"),
    re.compile(r"^(?:page\s*)?\d{1,4}\s*(?:/|of)\s*\d{1,4}$", re.IGNORECASE),  # 3/5, Page 3 of 5
)


def extract_pdf(data: bytes, limits: Limits) -> Extraction:
    """Extract text, tables and metadata from a PDF, OCR'ing pages that have no text layer."""
    _check_bytes(data, limits)
    pdf = _open(data)
    try:
        page_count = _declared_page_count(pdf)
        if page_count is not None and page_count > limits.max_pages:
            raise ParseError(f"PDF has {page_count} pages, more than the limit of {limits.max_pages}")
        extraction = Extraction(media_type=PDF, text="", meta=_metadata(pdf))
        page_texts: list[str] = []
        pages_to_ocr: dict[int, str] = {}  # page number → "page" (replace everything) | "tables"
        for page in _iter_pages(pdf, limits.max_pages):
            try:
                text, tables = _read_page(page, len(extraction.tables))
                mode = _ocr_mode(text, tables, page)
            except ParseError:
                raise
            except Exception as error:  # pdfminer raises many types on damaged content streams
                raise ParseError(f"corrupt PDF: page {page.page_number} unreadable ({_describe(error)})") from None
            finally:
                page.close()
            extraction.pages += 1
            if mode:
                pages_to_ocr[page.page_number] = mode
            page_texts.append(text)
            extraction.tables.extend(tables)
            _check_size(page_texts, extraction.tables, limits)
        if extraction.pages == 0:
            raise ParseError("PDF has no pages")
    finally:
        pdf.stream.close()  # not pdf.close(): it would build every page object to close them
    if pages_to_ocr:
        _ocr_pages(data, pages_to_ocr, page_texts, extraction, limits)
    extraction.text = "\n".join(t for t in page_texts if t)
    return extraction


# ---------------------------------------------------------------------------------------------
# Opening and limits


def _check_bytes(data: bytes, limits: Limits) -> None:
    if not data:
        raise ParseError("empty file")
    if len(data) > limits.max_bytes:
        raise ParseError(f"file is {len(data)} bytes, more than the limit of {limits.max_bytes}")
    if b"%PDF-" not in data[:1024]:
        raise ParseError("not a PDF (no %PDF- header)")


def _open(data: bytes) -> Any:
    """Open with pdfplumber; encryption and unreadable structure become one-line errors."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as error:
        cause = error.args[0] if error.args and isinstance(error.args[0], Exception) else error
        if isinstance(cause, PDFPasswordIncorrect):
            raise ParseError("encrypted PDF (password required)") from None
        if isinstance(cause, PDFEncryptionError):
            raise ParseError(f"encrypted PDF (unsupported encryption: {_describe(cause)})") from None
        raise ParseError(f"corrupt PDF ({_describe(cause)})") from None


def _declared_page_count(pdf: Any) -> Optional[int]:
    """/Count of the page tree root, read from the catalog without walking the pages."""
    from pdfminer.pdftypes import resolve1

    try:
        pages_root = resolve1(pdf.doc.catalog.get("Pages"))
        count = resolve1(pages_root.get("Count")) if isinstance(pages_root, dict) else None
    except Exception:
        return None
    return count if isinstance(count, int) and count >= 0 else None


def _iter_pages(pdf: Any, max_pages: int) -> Iterator[Any]:
    """pdfplumber pages, created lazily, refusing more than ``max_pages`` (the /Count may lie)."""
    from pdfminer.pdfpage import PDFPage
    from pdfplumber.page import Page

    doctop = 0.0
    source = PDFPage.create_pages(pdf.doc)
    for number in range(1, max_pages + 2):
        try:
            page_object = next(source, None)
        except Exception as error:
            raise ParseError(f"corrupt PDF: page tree unreadable ({_describe(error)})") from None
        if page_object is None:
            return
        if number > max_pages:
            raise ParseError(f"PDF has more than {max_pages} pages (the limit)")
        page = Page(pdf, page_object, page_number=number, initial_doctop=doctop)
        doctop += page.height
        yield page


def _check_size(page_texts: list[str], tables: list[Table], limits: Limits) -> None:
    if sum(len(t) for t in page_texts) > limits.max_text_chars:
        raise ParseError(f"PDF text exceeds the limit of {limits.max_text_chars} characters")
    if sum(len(row) for table in tables for row in table.rows) > limits.max_table_cells:
        raise ParseError(f"PDF tables exceed the limit of {limits.max_table_cells} cells")


def _describe(error: BaseException) -> str:
    message = " ".join(str(error).split())[:160]
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


# ---------------------------------------------------------------------------------------------
# Metadata


def _metadata(pdf: Any) -> dict[str, str]:
    """Document info strings, decoded from their raw bytes (WPS writes UTF-16LE with a BOM)."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.psparser import PSLiteral

    meta: dict[str, str] = {}
    for info in pdf.doc.info:
        for key, raw in info.items():
            if key not in META_KEYS:
                continue
            try:
                value = resolve1(raw)
            except Exception:
                continue
            if isinstance(value, PSLiteral):
                value = value.name
            if isinstance(value, bytes):
                value = decode_pdf_string(value)
            if isinstance(value, str) and value.strip():
                meta[key] = " ".join(value.replace("\x00", "").split())
    return meta


def decode_pdf_string(raw: bytes) -> str:
    """Decode a PDF text string: UTF-16 with either BOM, UTF-8, GB18030, else PDFDocEncoding."""
    from pdfminer.utils import decode_text

    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    if raw.startswith(b"\xff\xfe"):
        return raw[2:].decode("utf-16-le", errors="replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or re.search(r"[\u4e00-\u9fff]", text):
            return text
    return decode_text(raw)


# ---------------------------------------------------------------------------------------------
# One page


def _read_page(page: Any, first_index: int) -> tuple[str, list[Table]]:
    """The page's cleaned text and its tables (one find_tables and one extract_text per page)."""
    tables: list[Table] = []
    for found in page.find_tables(TABLE_SETTINGS):
        rows = found.extract(x_tolerance_ratio=X_TOLERANCE_RATIO)
        _recover_orphan_cells(page, found, rows)
        grid = clean_table_rows(rows)
        if grid:
            tables.append(Table(rows=grid, page=page.page_number, index=first_index + len(tables)))
    text = page.extract_text(x_tolerance_ratio=X_TOLERANCE_RATIO) or ""
    return clean_page_text(text, page.page_number), tables


def _ocr_mode(text: str, tables: list[Table], page: Any) -> Optional[str]:
    """Whether OCR is needed: "page" when the text layer is unreadable glyph ids or absent on a page
    that shows images (a scan); "tables" when a page with text has no ruled table but a large
    picture (a table pasted as a screenshot, common in WPS exports); None otherwise."""
    visible = re.sub(r"\s+", "", text)
    cid_glyphs = len(re.findall(r"\(cid:\d+\)", text))
    if cid_glyphs * 7 > len(visible) * 0.3:  # mostly glyph ids: fonts without a ToUnicode map
        return "page"
    if len(visible) >= MIN_TEXT_CHARS and tables:
        return None
    try:
        images = page.images
    except Exception:
        return None
    if len(visible) < MIN_TEXT_CHARS:
        return "page" if images else None
    page_area = max(float(page.width * page.height), 1.0)
    large = [im for im in images if (im["x1"] - im["x0"]) * (im["bottom"] - im["top"]) >= 0.2 * page_area]
    return "tables" if large else None


def _recover_orphan_cells(page: Any, table: Any, rows: list[list[Optional[str]]]) -> None:
    """Fill positions pdfplumber left None although no detected cell covers them.

    This happens where a rule is missing at a page break: a table continuing from the previous
    page lacks its top rule (the first label, e.g. 信息内容, is not detected), and a merged cell
    still open at the bottom of the page lacks its closing rule. A position is really merged only
    if some detected cell covers it. Uncovered positions stacked in one column form one cell: its
    text (read from the chars inside) goes to the top position and the rest stay None.
    """
    cells = table.cells
    column_starts = sorted({cell[0] for cell in cells})
    edges = sorted({cell[0] for cell in cells} | {cell[2] for cell in cells})
    row_spans: list[Optional[tuple[float, float]]] = []
    for row in table.rows[: len(rows)]:
        present = [c for c in row.cells if c is not None]
        row_spans.append((min(c[1] for c in present), max(c[3] for c in present)) if present else None)
    for c, left in enumerate(column_starts):
        right = min((x for x in edges if x > left), default=None)
        if right is None:
            continue
        run: list[int] = []
        for r, span in enumerate(row_spans + [None]):
            orphan = (span is not None and c < len(rows[r]) and rows[r][c] is None
                      and not _covered(cells, (left + right) / 2, (span[0] + span[1]) / 2))
            if orphan:
                run.append(r)
                continue
            if run:
                top, bottom = row_spans[run[0]][0], row_spans[run[-1]][1]  # type: ignore[index]
                rows[run[0]][c] = _text_in(page, (left, top, right, bottom))
                run = []


def _covered(cells: list[tuple[float, float, float, float]], x: float, y: float) -> bool:
    return any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in cells)


def _text_in(page: Any, bbox: tuple[float, float, float, float]) -> str:
    from pdfplumber.utils import extract_text as chars_to_text

    left, top, right, bottom = bbox
    chars = [ch for ch in page.chars
             if left <= (ch["x0"] + ch["x1"]) / 2 < right and top <= (ch["top"] + ch["bottom"]) / 2 < bottom]
    return chars_to_text(chars, x_tolerance_ratio=X_TOLERANCE_RATIO) if chars else ""


# ---------------------------------------------------------------------------------------------
# Clean-up shared with OCR


def clean_page_text(text: str, page_number: Optional[int] = None) -> str:
    """Drop page-number lines and the spaces extraction inserts inside CJK text."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not is_page_number_line(line)]
    if page_number is not None:
        for edge in (0, -1):  # a bare page number as first or last line
            if lines and lines[edge].isdigit() and int(lines[edge]) == page_number:
                lines.pop(edge)
    return "\n".join(collapse_cjk_spaces(line) for line in lines)


def is_page_number_line(line: str) -> bool:
    normalized = unicodedata.normalize("NFKC", line).strip()
    return any(pattern.match(normalized) for pattern in _PAGE_NUMBER_LINES)


def collapse_cjk_spaces(text: str) -> str:
    """'2023 年 1 月 11 日' → '2023年1月11日'; '总 计' → '总计'; '21 0 0' is left alone."""
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _SPACE_BEFORE_UNIT.sub("", text)
    return _SPACE_AFTER_PREFIX.sub("", text)


def clean_cell(text: Optional[str]) -> Optional[str]:
    """One label per cell: inner line breaks joined, spaces next to CJK removed, digits kept.

    '商业\\n企业' → '商业企业'; '三\\n、\\n本\\n年' → '三、本年'; '5.要求行政机关确认或重 新出具\\n已获取信息'
    → '5.要求行政机关确认或重新出具已获取信息'. Latin words broken over lines keep a space.
    """
    if text is None:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined = ""
    for line in lines:
        if joined and joined[-1].isascii() and joined[-1].isalpha() and line[0].isascii() and line[0].isalpha():
            joined += " "
        joined += line
    return _SPACE_NEXT_TO_CJK.sub("", joined).strip()


def clean_table_rows(rows: list[list[Optional[str]]]) -> list[list[Optional[str]]]:
    """Cleaned cells; prose lines caught inside a page-wide frame are dropped (their text stays in
    ``Extraction.text``). A table left with a single column holds no data and is dropped whole."""
    grid = [[clean_cell(cell) for cell in row] for row in rows]
    grid = [row for row in grid if not _is_prose_row(row)]
    if not grid or max(sum(1 for cell in row if cell) for row in grid) <= 1:
        return []
    return grid


_SENTENCE_PUNCTUATION = re.compile(r"[，。；！？]")


def _is_prose_row(row: list[Optional[str]]) -> bool:
    """A row whose only text is one line of running prose (boxed narrative, not a table row)."""
    filled = [cell for cell in row if cell]
    if len(filled) != 1:
        return False
    text = filled[0]
    if any(ch.isdigit() for ch in text) and len(text) < 12:
        return False
    return len(text) > 30 or bool(_SENTENCE_PUNCTUATION.search(text))


# ---------------------------------------------------------------------------------------------
# OCR of pages without a text layer


def _ocr_pages(data: bytes, modes: dict[int, str], page_texts: list[str], extraction: Extraction,
               limits: Limits) -> None:
    """Render the listed pages and OCR them: scans get their text and tables from OCR, text pages
    showing a large picture get the tables found in it."""
    from parsers.extract import ocr

    numbers = sorted(modes)
    if len(numbers) > limits.ocr_max_pages:
        extraction.warnings.append(
            f"{len(numbers)} pages need OCR; only the first {limits.ocr_max_pages} were read")
        numbers = numbers[: limits.ocr_max_pages]
    confidences: list[float] = []
    ocr_tables: list[Table] = []
    for number, image in ocr.render_pdf_pages(data, numbers, limits):
        result = ocr.ocr_image(image, page=number)
        if modes[number] == "page":
            page_texts[number - 1] = clean_page_text(result.text, number)
        if modes[number] == "page" or result.tables:
            confidences.append(result.confidence)
        ocr_tables.extend(result.tables)
    if not confidences:
        return
    tables = sorted(extraction.tables + ocr_tables, key=lambda t: t.page or 0)  # stable: keeps order
    for index, table in enumerate(tables):
        table.index = index
    extraction.tables = tables
    extraction.confidence = min(confidences)
    extraction.warnings.append(f"OCR used on {len(confidences)} page(s): no usable text layer or tables as pictures")
