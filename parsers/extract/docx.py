"""DOCX → ``Extraction``: body paragraphs in reading order, tables as dense grids, core properties.

The WordprocessingML is read directly with lxml (hardened parser, after the ZIP-bomb checks of
:mod:`parsers.safety`) rather than through python-docx, because python-docx hides the grid:
it repeats a horizontally merged cell once per grid column and does not resolve vertical merges.
Here the grid comes from the XML itself:

* ``w:gridSpan`` (and the legacy ``w:hMerge``) — a cell covering several grid columns;
* ``w:vMerge`` (``restart`` / continue) — a cell continuing the one above;
* ``w:gridBefore`` / ``w:gridAfter`` — grid columns a row leaves out.

The top-left position of a merged region holds its text and every other covered position is
``None`` (pdfplumber's convention); a real empty cell is ``""``. Paragraphs inside one cell are
joined without a separator ('商业' + '企业' → '商业企业').

``text`` holds the paragraphs outside tables (title first, signature last). Tables used for page
layout rather than data — one column wide, or at most two rows and three columns without a
single number (a signature block set in a borderless table) — are read as text instead.
Content controls, smart tags, tracked insertions and text boxes are read; deleted and moved-from
text, field instructions and the fallback copies of ``mc:AlternateContent`` are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

from lxml import etree

from parsers import sniff
from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table
from parsers.safety import OLE_MAGIC, open_zip, read_member

TRANSITIONAL = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MARKUP_COMPAT = "http://schemas.openxmlformats.org/markup-compatibility/2006"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAX_GRID_COLUMNS = 1000  # Word itself stops at 63

_NUMBER = re.compile(r"^[\s\-+−–—]*[\d０-９][\d０-９,，.．\s]*%?$")

XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(data: bytes, part: str) -> etree._Element:
    """Parse one package part with entity expansion and network access disabled."""
    try:
        return etree.fromstring(data, XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"corrupt document: {part} is not well-formed XML ({exc})") from None


def extract_docx(data: bytes, limits: Limits) -> Extraction:
    """Read a DOCX (or DOCM/DOTX) package. OLE2 input is handed to the legacy Word reader."""
    if data.startswith(OLE_MAGIC):
        from parsers.extract.office import extract_legacy_word

        return extract_legacy_word(data, limits)
    package = open_zip(data, limits, kind="DOCX")
    names = set(package.namelist())
    main_part = _main_part(package, names, limits)
    root = parse_xml(read_member(package, main_part, limits), main_part)
    namespace = etree.QName(root).namespace or TRANSITIONAL
    body = root.find(f"{{{namespace}}}body")
    if body is None:
        raise ParseError(f"corrupt DOCX: {main_part} has no document body")
    numbering = Numbering.from_package(package, names, main_part, namespace, limits)
    reader = BodyReader(namespace, limits, numbering)
    reader.read_blocks(body)
    text = "\n".join(reader.paragraphs)
    if len(text) > limits.max_text_chars:
        raise ParseError(f"document text too long: {len(text)} characters "
                         f"(limit {limits.max_text_chars})")
    return Extraction(media_type=sniff.DOCX, text=text, tables=reader.tables,
                      meta=core_properties(package, names, limits), warnings=reader.warnings)


def _main_part(package, names: set[str], limits: Limits) -> str:
    """The officeDocument part named by ``_rels/.rels`` (usually ``word/document.xml``)."""
    if "_rels/.rels" in names:
        rels = parse_xml(read_member(package, "_rels/.rels", limits), "_rels/.rels")
        for rel in rels:
            if str(rel.get("Type", "")).endswith("/officeDocument"):
                target = str(rel.get("Target", "")).lstrip("/")
                if target in names:
                    return target
    if "word/document.xml" in names:
        return "word/document.xml"
    raise ParseError("not a Word document: the package has no word/document.xml")


def core_properties(package, names: set[str], limits: Limits) -> dict[str, str]:
    """Title, author, created and modified from ``docProps/core.xml`` (only those present)."""
    if "docProps/core.xml" not in names:
        return {}
    try:
        root = parse_xml(read_member(package, "docProps/core.xml", limits), "docProps/core.xml")
    except ParseError:
        return {}  # metadata is a nicety: a broken core.xml must not lose the document
    wanted = {"title": "title", "creator": "author", "created": "created", "modified": "modified"}
    meta: dict[str, str] = {}
    for element in root:
        if not isinstance(element.tag, str):
            continue
        key = wanted.get(etree.QName(element).localname)
        value = " ".join((element.text or "").split())
        if key and value:
            meta[key] = value
    return meta


@dataclass
class _Region:
    """A merged region's top-left corner, in the grid being built."""

    row: int
    col: int


@dataclass
class _CellSpec:
    col: int
    span: int
    continues_above: bool
    continues_left: bool
    text: str


@dataclass
class BodyReader:
    """Walks the body in document order, collecting paragraphs and tables."""

    namespace: str
    limits: Limits
    numbering: Optional[Numbering] = None
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cells_seen: int = 0

    def w(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def w_val(self, element: Optional[etree._Element]) -> Optional[str]:
        return None if element is None else element.get(self.w("val"))

    # ----------------------------------------------------------------- blocks

    def read_blocks(self, container: etree._Element) -> None:
        """Paragraphs and tables of a body, cell, text box or content control, in order."""
        for child in container:
            tag = child.tag
            if tag == self.w("p"):
                self.read_paragraph(child)
            elif tag == self.w("tbl"):
                self.read_table(child)
            elif tag == self.w("sdt"):
                content = child.find(self.w("sdtContent"))
                if content is not None:
                    self.read_blocks(content)
            elif tag in (self.w("customXml"), self.w("ins"), self.w("moveTo"), self.w("smartTag")):
                self.read_blocks(child)
            elif tag == f"{{{MARKUP_COMPAT}}}AlternateContent":
                choice = _first_choice(child)
                if choice is not None:
                    self.read_blocks(choice)

    def read_paragraph(self, paragraph: etree._Element) -> None:
        parts: list[str] = []
        boxes: list[etree._Element] = []
        self.collect_text(paragraph, parts, boxes, in_cell=False)
        for box in boxes:  # a title set in a text box reads before its anchor paragraph
            self.read_blocks(box)
        text = self.numbering_prefix(paragraph) + "".join(parts)
        text = text.strip()
        if text:
            self.paragraphs.append(text)

    def numbering_prefix(self, paragraph: etree._Element) -> str:
        if self.numbering is None:
            return ""
        return self.numbering.prefix(paragraph)

    def collect_text(self, element: etree._Element, parts: list[str],
                     boxes: list[etree._Element], in_cell: bool) -> None:
        """Visible text of a paragraph's runs; text boxes are collected apart in ``boxes``."""
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            local = tag.rsplit("}", 1)[-1]
            if tag == self.w("t"):
                parts.append(child.text or "")
            elif tag == self.w("tab"):
                parts.append(" " if in_cell else "\t")
            elif tag in (self.w("br"), self.w("cr")):
                parts.append("" if in_cell else "\n")
            elif tag == self.w("noBreakHyphen"):
                parts.append("-")
            elif tag == self.w("txbxContent"):
                boxes.append(child)
            elif tag == f"{{{MARKUP_COMPAT}}}AlternateContent":
                choice = _first_choice(child)
                if choice is not None:
                    self.collect_text(choice, parts, boxes, in_cell)
            elif local.endswith("Pr") or tag in self._skipped_tags():
                continue
            else:
                self.collect_text(child, parts, boxes, in_cell)

    def _skipped_tags(self) -> tuple[str, ...]:
        return (self.w("del"), self.w("moveFrom"), self.w("instrText"), self.w("delText"),
                self.w("delInstrText"), self.w("tabs"), self.w("footnoteReference"),
                self.w("endnoteReference"), self.w("commentReference"))

    # ----------------------------------------------------------------- tables

    def read_table(self, table: etree._Element) -> None:
        rows = list(self.iter_children(table, "tr"))
        if not rows:
            return
        if self.is_single_column(table, rows):
            for row in rows:  # a frame around text (or around the real tables)
                for cell in self.iter_children(row, "tc"):
                    self.read_blocks(cell)
            return
        slot = len(self.tables)
        self.tables.append(Table(rows=[], index=slot))  # keeps outer-before-nested order
        grid = self.build_grid(table, rows)
        if self.is_layout(grid):
            del self.tables[slot]
            self.reindex_tables()
            self.paragraphs.extend(cell for row in grid for cell in row if cell)
            return
        self.tables[slot].rows = grid

    def reindex_tables(self) -> None:
        for index, table in enumerate(self.tables):
            table.index = index

    def iter_children(self, element: etree._Element, local: str) -> Iterator[etree._Element]:
        """``w:tr`` of a table or ``w:tc`` of a row, looking through content controls."""
        for child in element:
            if child.tag == self.w(local):
                yield child
            elif child.tag == self.w("sdt"):
                content = child.find(self.w("sdtContent"))
                if content is not None:
                    yield from self.iter_children(content, local)
            elif child.tag in (self.w("customXml"), self.w("ins")):
                yield from self.iter_children(child, local)

    def is_single_column(self, table: etree._Element, rows: list[etree._Element]) -> bool:
        grid_columns = len(table.findall(f"{self.w('tblGrid')}/{self.w('gridCol')}"))
        return grid_columns <= 1 and all(len(list(self.iter_children(r, "tc"))) <= 1 for r in rows)

    @staticmethod
    def is_layout(grid: list[list[Optional[str]]]) -> bool:
        """A tiny table without numbers: a signature or letterhead set in a borderless table."""
        width = max((len(row) for row in grid), default=0)
        cells = [cell for row in grid for cell in row if cell]
        return len(grid) <= 2 and width <= 3 and not any(_NUMBER.match(cell) for cell in cells)

    def build_grid(self, table: etree._Element, rows: list[etree._Element]) -> list[list[Optional[str]]]:
        layout = [self.read_row(row) for row in rows]
        declared = len(table.findall(f"{self.w('tblGrid')}/{self.w('gridCol')}"))
        width = max([declared] + [end for _, end in layout])
        self.count_cells(len(rows) * width)
        grid: list[list[Optional[str]]] = [[None] * width for _ in rows]
        owners: list[list[Optional[_Region]]] = [[None] * width for _ in rows]
        for r, (cells, _) in enumerate(layout):
            for spec in cells:
                self.place(grid, owners, r, spec)
        return grid

    def read_row(self, row: etree._Element) -> tuple[list[_CellSpec], int]:
        properties = row.find(self.w("trPr"))
        before = _int(self.w_val(properties.find(self.w("gridBefore")))) if properties is not None else 0
        after = _int(self.w_val(properties.find(self.w("gridAfter")))) if properties is not None else 0
        col, cells = before, []
        for cell in self.iter_children(row, "tc"):
            properties = cell.find(self.w("tcPr"))
            span, above, left = 1, False, False
            if properties is not None:
                span = max(1, _int(self.w_val(properties.find(self.w("gridSpan")))) or 1)
                v_merge = properties.find(self.w("vMerge"))
                above = v_merge is not None and self.w_val(v_merge) in (None, "continue")
                h_merge = properties.find(self.w("hMerge"))
                left = h_merge is not None and self.w_val(h_merge) in (None, "continue")
            span = min(span, MAX_GRID_COLUMNS - col) if col < MAX_GRID_COLUMNS else 0
            if span <= 0:
                raise ParseError(f"table too wide: more than {MAX_GRID_COLUMNS} grid columns")
            cells.append(_CellSpec(col, span, above, left, self.cell_text(cell)))
            col += span
        return cells, min(col + after, MAX_GRID_COLUMNS)

    def cell_text(self, cell: etree._Element) -> str:
        """Paragraphs of one cell joined without separators; nested tables become tables."""
        parts: list[str] = []
        for block in self.iter_cell_blocks(cell):
            if block.tag == self.w("tbl"):
                self.read_table(block)
                continue
            boxes: list[etree._Element] = []
            self.collect_text(block, parts, boxes, in_cell=True)
            for box in boxes:
                for inner in self.iter_cell_blocks(box):
                    if inner.tag == self.w("p"):
                        self.collect_text(inner, parts, [], in_cell=True)
        return "".join(parts).strip()

    def iter_cell_blocks(self, container: etree._Element) -> Iterator[etree._Element]:
        for child in container:
            if child.tag in (self.w("p"), self.w("tbl")):
                yield child
            elif child.tag == self.w("sdt"):
                content = child.find(self.w("sdtContent"))
                if content is not None:
                    yield from self.iter_cell_blocks(content)
            elif child.tag in (self.w("customXml"), self.w("ins"), self.w("moveTo")):
                yield from self.iter_cell_blocks(child)

    @staticmethod
    def place(grid: list[list[Optional[str]]], owners: list[list[Optional[_Region]]], r: int,
              spec: _CellSpec) -> None:
        """Put one cell in the grid, joining it to the region above or to the left if it continues one."""
        columns = range(spec.col, spec.col + spec.span)
        region = None
        if spec.continues_above and r > 0:
            candidate = owners[r - 1][spec.col]
            if candidate is not None and candidate.col == spec.col:
                region = candidate
        elif spec.continues_left and spec.col > 0:
            region = owners[r][spec.col - 1]
        if region is None:
            grid[r][spec.col] = spec.text
            region = _Region(r, spec.col)
        elif spec.text:  # text typed into a continuation cell still belongs to the region
            grid[region.row][region.col] = (grid[region.row][region.col] or "") + spec.text
        for c in columns:
            owners[r][c] = region

    def count_cells(self, positions: int) -> None:
        self.cells_seen += positions
        if self.cells_seen > self.limits.max_table_cells:
            raise ParseError(f"too many table cells: more than {self.limits.max_table_cells} (limit)")


def _first_choice(alternate: etree._Element) -> Optional[etree._Element]:
    return alternate.find(f"{{{MARKUP_COMPAT}}}Choice")


def _int(value: Optional[str]) -> int:
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return 0


# --------------------------------------------------------------------------- list numbering

_CHINESE_DIGITS = "零一二三四五六七八九"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"


def chinese_number(n: int) -> str:
    """一, 十, 十一, 二十三, 一百零五... (Word's chineseCounting, below 10,000)."""
    if n <= 0 or n >= 10000:
        return str(n)
    units = ["", "十", "百", "千"]
    digits = [int(d) for d in str(n)]
    out, zero_pending = [], False
    for position, digit in enumerate(digits):
        unit = units[len(digits) - position - 1]
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_CHINESE_DIGITS[digit] + unit)
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


def _roman(n: int) -> str:
    pairs = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = []
    for value, letters in pairs:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def format_counter(n: int, number_format: str) -> str:
    if number_format in ("chineseCounting", "chineseCountingThousand", "japaneseCounting",
                         "chineseLegalSimplified", "ideographLegalTraditional", "taiwaneseCounting"):
        return chinese_number(n)
    if number_format == "ideographTraditional" and 1 <= n <= 10:
        return _HEAVENLY_STEMS[n - 1]
    if number_format in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return _CIRCLED[n - 1]
    if number_format == "decimalFullWidth":
        return str(n).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    if number_format in ("lowerLetter", "upperLetter") and n >= 1:
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter.upper() if number_format == "upperLetter" else letter
    if number_format in ("lowerRoman", "upperRoman") and n >= 1:
        roman = _roman(n)
        return roman.lower() if number_format == "lowerRoman" else roman
    return str(n)


@dataclass
class _Level:
    start: int = 1
    number_format: str = "decimal"
    text: str = ""


@dataclass
class Numbering:
    """Renders Word's automatic list numbers ("一、", "（二）", "1.") as text.

    Section headings of Chinese reports are often automatic lists: without this, "一、总体情况"
    would read as "总体情况". Bullets are dropped (they carry no meaning).
    """

    namespace: str
    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # abstractNumId → levels
    instances: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)  # numId → (abstract, overrides)
    style_numbering: dict[str, tuple[str, int]] = field(default_factory=dict)  # styleId → (numId, ilvl)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    def w(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"

    def val(self, element: Optional[etree._Element]) -> Optional[str]:
        return None if element is None else element.get(self.w("val"))

    @classmethod
    def from_package(cls, package, names: set[str], main_part: str, namespace: str,
                     limits: Limits) -> Optional["Numbering"]:
        folder = main_part.rsplit("/", 1)[0] + "/" if "/" in main_part else ""
        numbering_part, styles_part = folder + "numbering.xml", folder + "styles.xml"
        if numbering_part not in names:
            return None
        numbering = cls(namespace)
        try:
            numbering.read_definitions(parse_xml(read_member(package, numbering_part, limits),
                                                 numbering_part))
            if styles_part in names:
                numbering.read_styles(parse_xml(read_member(package, styles_part, limits),
                                                styles_part))
        except ParseError:
            return None  # list numbers are a nicety: never lose the document over them
        return numbering

    def read_definitions(self, root: etree._Element) -> None:
        for abstract in root.iter(self.w("abstractNum")):
            levels: dict[int, _Level] = {}
            for level in abstract.iter(self.w("lvl")):
                levels[_int(level.get(self.w("ilvl")))] = _Level(
                    start=_int(self.val(level.find(self.w("start")))) if level.find(self.w("start")) is not None else 1,
                    number_format=self.val(level.find(self.w("numFmt"))) or "decimal",
                    text=self.val(level.find(self.w("lvlText"))) or "")
            self.levels[abstract.get(self.w("abstractNumId"), "")] = levels
        for instance in root.iter(self.w("num")):
            abstract_id = self.val(instance.find(self.w("abstractNumId"))) or ""
            overrides = {}
            for override in instance.iter(self.w("lvlOverride")):
                start = override.find(self.w("startOverride"))
                if start is not None:
                    overrides[_int(override.get(self.w("ilvl")))] = _int(self.val(start))
            self.instances[instance.get(self.w("numId"), "")] = (abstract_id, overrides)

    def read_styles(self, root: etree._Element) -> None:
        direct: dict[str, tuple[Optional[str], Optional[int]]] = {}
        based_on: dict[str, str] = {}
        for style in root.iter(self.w("style")):
            style_id = style.get(self.w("styleId"), "")
            num_pr = style.find(f"{self.w('pPr')}/{self.w('numPr')}")
            if num_pr is not None:
                level = num_pr.find(self.w("ilvl"))
                direct[style_id] = (self.val(num_pr.find(self.w("numId"))),
                                    _int(self.val(level)) if level is not None else None)
            parent = self.val(style.find(self.w("basedOn")))
            if parent:
                based_on[style_id] = parent
        for style_id in set(direct) | set(based_on):
            num_id, level, current = None, None, style_id
            for _ in range(10):  # basedOn chains are short; cycles are cut
                own_id, own_level = direct.get(current, (None, None))
                num_id = num_id or own_id
                level = level if level is not None else own_level
                if current not in based_on:
                    break
                current = based_on[current]
            if num_id:
                self.style_numbering[style_id] = (num_id, level or 0)

    def prefix(self, paragraph: etree._Element) -> str:
        properties = paragraph.find(self.w("pPr"))
        if properties is None:
            return ""
        num_id, level = None, 0
        style = self.val(properties.find(self.w("pStyle")))
        if style in self.style_numbering:
            num_id, level = self.style_numbering[style]
        num_pr = properties.find(self.w("numPr"))
        if num_pr is not None:
            num_id = self.val(num_pr.find(self.w("numId"))) or num_id
            if num_pr.find(self.w("ilvl")) is not None:
                level = _int(self.val(num_pr.find(self.w("ilvl"))))
        if not num_id or num_id == "0" or num_id not in self.instances:
            return ""
        return self.render(num_id, level)

    def render(self, num_id: str, level: int) -> str:
        abstract_id, overrides = self.instances[num_id]
        levels = self.levels.get(abstract_id, {})
        if level not in levels:
            return ""
        key = num_id if overrides else abstract_id
        counters = self.counters.setdefault(key, {})
        start = overrides.get(level, levels[level].start)
        counters[level] = counters.get(level, start - 1) + 1
        for deeper in [l for l in counters if l > level]:
            del counters[deeper]
        definition = levels[level]
        if definition.number_format in ("bullet", "none"):
            return ""

        def substitute(match: re.Match) -> str:
            index = int(match.group(1)) - 1
            count = counters.get(index, levels.get(index, _Level()).start)
            return format_counter(count, levels.get(index, _Level()).number_format)

        return re.sub(r"%(\d)", substitute, definition.text)
