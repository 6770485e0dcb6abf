"""Plain-text and Markdown documents → ``Extraction``.

Text reaches us in three shapes: the archive crawler's ``page.txt`` (a metadata header, then the
article body with every table collapsed into running text), Markdown made by PDF converters (pipe
tables, page markers such as ``— 3 —``) and text copied out of a PDF (cells separated by tabs).
This module only decodes and lays out: pipe and tab tables become ``Table`` grids, the header
becomes ``meta``, page markers go; the numbers inside flattened text are recovered later by
``parsers.flat`` (the pipeline calls it when ``flat_text`` is set).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import Optional

from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table

TEXT_MEDIA_TYPE = "text/plain"

# page.txt header written by the archive crawler: "标题: …" lines, then a "==== 正文 ====" line.
_META_KEYS = {
    "标题": "title",
    "发布时间": "publish_date",
    "发布机构": "publisher",
    "栏目": "column",
    "原文链接": "url",
    "文号": "doc_number",
}
_META_LINE = re.compile(r"^\s*([\u4e00-\u9fff]{2,6})\s*[:：]\s*(.*?)\s*$")
_BODY_SEPARATOR = re.compile(r"^\s*=+\s*正文\s*=+\s*$")
_HEADER_MAX_LINES = 30
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")

# "— 3 —", "- 3 -", "－3－", "第 3 页", "第3页 共7页": page footers left in the text by converters
_PAGE_MARKER = re.compile(
    r"^\s*(?:[—\-–－―─]+\s*\d{1,4}\s*[—\-–－―─]+|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?)\s*$"
)
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")

# a table label glued to (or one space/pipe away from) its digits: "规章000", "行政许可 97"
_FLAT_LABELS = (
    "规章", "规范性文件", "行政许可", "行政处罚", "行政强制", "行政事业性收费",
    "本年新收政府信息公开申请数量", "上年结转政府信息公开申请数量", "予以公开", "属于国家秘密",
    "本机关不掌握相关政府信息", "重复申请", "结转下年度继续办理",
)
_FLAT_HIT = re.compile(r"(?:%s)[\s)）]{0,3}[+\-]?\d" % "|".join(_FLAT_LABELS))
_FLAT_MIN_HITS = 2


def extract_text(data: bytes, limits: Limits) -> Extraction:
    """Decode a ``.txt`` / ``.md`` document and lay out its header, tables and body text."""
    if len(data) > limits.max_bytes:
        raise ParseError(f"text document too large ({len(data)} bytes > {limits.max_bytes})")
    text, encoding_warning = decode_text(data)
    if len(text) > limits.max_text_chars:
        raise ParseError(f"text too long ({len(text)} characters > {limits.max_text_chars})")
    text = normalize_newlines(text)
    meta, body = split_header(text)
    lines, line_pages = strip_page_markers(body.split("\n"))
    lines, line_pages = _drop_converter_heading(lines, line_pages)
    tables = find_tables(lines, line_pages)
    body_text = "\n".join(lines).strip("\n")
    extraction = Extraction(
        media_type=TEXT_MEDIA_TYPE,
        text=body_text,
        tables=tables,
        meta=meta,
        flat_text=looks_flattened(lines),
    )
    if encoding_warning:
        extraction.warnings.append(encoding_warning)
    return extraction


# ---------------------------------------------------------------------------------------------
# Decoding


def decode_text(data: bytes) -> tuple[str, Optional[str]]:
    """UTF-8 (with or without BOM) first, then GB18030, then charset-normalizer's best guess.

    GB18030 is a superset of GBK and GB2312, which Chinese portals use interchangeably; trying it
    strictly before any detector avoids the detectors' habit of calling short GBK text Big5.
    Returns the text and a warning when the encoding had to be guessed.
    """
    if not data or not data.strip():
        raise ParseError("empty text document")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _checked(data.decode(codec, errors="replace")), None
    if b"\x00" in data[:4096]:
        raise ParseError("not a text document (binary content)")
    for codec in ("utf-8", "gb18030"):
        try:
            return _checked(data.decode(codec)), None
        except UnicodeDecodeError:
            continue
    for codec in ("utf-8", "gb18030"):  # a few damaged bytes in an otherwise clean text
        text = data.decode(codec, errors="replace")
        damaged = text.count("\ufffd")
        if damaged <= max(8, len(text) // 200):
            return _checked(text), f"{damaged} undecodable byte sequence(s) in {codec} text replaced by U+FFFD"
    return _checked(_guess_decode(data)), "text encoding guessed by charset-normalizer"


def _guess_decode(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ParseError("not a text document (undecodable bytes)")
    return str(best)


def _checked(text: str) -> str:
    """Reject decodings that are mostly control characters or replacement marks (binary input)."""
    sample = text[:20000]
    if not sample.strip():
        raise ParseError("empty text document")
    bad = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f"))
    if bad > max(8, len(sample) // 20):
        raise ParseError("not a text document (binary content)")
    return text


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")


# ---------------------------------------------------------------------------------------------
# Header (page.txt) and layout


def split_header(text: str) -> tuple[dict[str, str], str]:
    """Take the crawler's ``key: value`` header off the top when a ``==== 正文 ====`` line ends it."""
    lines = text.split("\n")
    separator = next((i for i, line in enumerate(lines[:_HEADER_MAX_LINES]) if _BODY_SEPARATOR.match(line)), None)
    if separator is None or not _META_LINE.match(lines[0] if lines else ""):
        return {}, text
    meta: dict[str, str] = {}
    for line in lines[:separator]:
        match = _META_LINE.match(line)
        if not match or match.group(1) not in _META_KEYS or not match.group(2):
            continue
        key = _META_KEYS[match.group(1)]
        value = match.group(2)
        if key == "publish_date":
            value = _iso_date(value) or value
        meta[key] = value
    return meta, "\n".join(lines[separator + 1:])


def _iso_date(text: str) -> Optional[str]:
    match = _DATE.search(text)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def strip_page_markers(lines: list[str]) -> tuple[list[str], list[Optional[int]]]:
    """Remove page footers ("— 3 —"); return the kept lines and each one's 1-based page.

    A marker closes its page, so lines after the n-th marker are on page n+1. Without any
    marker the pages are unknown (None).
    """
    kept: list[str] = []
    pages: list[Optional[int]] = []
    page = 1
    any_marker = any(_PAGE_MARKER.match(line) for line in lines)
    for line in lines:
        if _PAGE_MARKER.match(line):
            page += 1
            continue
        kept.append(line)
        pages.append(page if any_marker else None)
    return kept, pages


def _drop_converter_heading(lines: list[str], pages: list[Optional[int]]
                            ) -> tuple[list[str], list[Optional[int]]]:
    """PDF→Markdown tools start with a bare "正文" line; it is not the document's title."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip().strip("#").strip() == "正文":
        return lines[:first] + lines[first + 1:], pages[:first] + pages[first + 1:]
    return lines, pages


def looks_flattened(lines: list[str]) -> bool:
    """True when table labels sit right before their digits in running text (not in a table)."""
    running = "\n".join(line for line in lines if not _is_table_line(line))
    running = unicodedata.normalize("NFKC", running)
    return len(_FLAT_HIT.findall(running)) >= _FLAT_MIN_HITS


def _is_table_line(line: str) -> bool:
    return bool(_PIPE_ROW.match(line) or _PIPE_SEPARATOR.match(line) or _tab_cells(line))


# ---------------------------------------------------------------------------------------------
# Tables


def find_tables(lines: list[str], line_pages: Optional[list[Optional[int]]] = None) -> list[Table]:
    """Pipe tables and tab-separated blocks → ``Table`` grids, in document order.

    A block is a run of consecutive table lines; ``|---|`` separators inside a block (converters
    restart a table after every header-like row) are dropped. Rows whose cells are all numbers or
    placeholders get an empty first cell: their label was lost by the extraction, and the grid
    mapper must see a row with no label rather than a number in the label column.
    """
    pages = list(line_pages) if line_pages else [None] * len(lines)
    tables: list[Table] = []
    block: list[list[str]] = []
    block_pages: list[Optional[int]] = []
    for line, page in zip(lines + [""], pages + [None]):
        cells = _row_cells(line)
        if cells is None and _PIPE_SEPARATOR.match(line) and line.strip():
            continue  # separator inside (or at the start of) a block
        if cells is not None:
            block.append(cells)
            block_pages.append(page)
            continue
        if block:
            tables.append(_make_table(block, len(tables), block_pages))
            block, block_pages = [], []
    return tables


def _row_cells(line: str) -> Optional[list[str]]:
    if _PIPE_SEPARATOR.match(line):
        return None
    if _PIPE_ROW.match(line):
        inner = line.strip()[1:-1]
        return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]
    return _tab_cells(line)


def _tab_cells(line: str) -> Optional[list[str]]:
    if "\t" not in line:
        return None
    cells = [cell.strip() for cell in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    # leading empty cells stay: blank first cells (自然人 left empty) or the merged label column of
    # a sub-row; dropping them would shift every number to the left (the table mapper trims
    # surplus blanks against the row's known width)
    if len([c for c in cells if c]) < 2:
        return None
    return cells


def _make_table(block: list[list[str]], index: int, pages: list[Optional[int]]) -> Table:
    # rows are kept as printed (a row without a label simply starts with its numbers) and short
    # rows are padded with absent positions: cells never printed must not read as blank cells
    rows: list[list[Optional[str]]] = [list(cells) for cells in block]
    width = max(len(row) for row in rows)
    grid: list[list[Optional[str]]] = [row + [None] * (width - len(row)) for row in rows]
    spans_pages = len(set(pages)) > 1
    return Table(rows=grid, page=pages[0], index=index, row_pages=list(pages) if spans_pages else None)

