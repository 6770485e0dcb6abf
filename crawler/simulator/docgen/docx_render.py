"""DOCX files: the REAL blank F2021 template filled in, or tables built with merged cells.

Why the template: agencies fill the official WPS/Word template, so its merged cells, borders and
odd styles are exactly what parsers meet. F2019, PRE2019 and letters have no template here, so their
tables are built with python-docx merges that follow the same grids.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Optional

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from .layout import Grid
from .spec import ReportSpec, cell_text, document_blocks, signature_date_text

TEMPLATE_NAME = "template_f2021_blank.docx"
TEMPLATE_PATHS = (Path(__file__).resolve().parent / "templates" / TEMPLATE_NAME,
                  Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "corpus" / "documents" / TEMPLATE_NAME)
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
TABLE_WIDTH_PT = 450.0


def template_path() -> Optional[Path]:
    return next((p for p in TEMPLATE_PATHS if p.exists()), None)


def deterministic_zip(data: bytes, modified: Optional[dt.datetime] = None) -> bytes:
    """Rewrite a ZIP (docx/xlsx) with fixed entry times, so output depends only on the spec.

    ``modified`` also pins docProps/core.xml's dcterms:modified, which openpyxl stamps at save.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            payload = source.read(info.filename)
            if modified is not None and info.filename == "docProps/core.xml":
                stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + stamp + rb"\g<2>", payload)
            target.writestr(fixed, payload)
    return out.getvalue()


def _set_cell_text(cell, text: str, *, align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER) -> None:
    """Replace a cell's text, keeping the first run's formatting (template fonts and sizes)."""
    paragraph = cell.paragraphs[0]
    for extra in cell.paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    runs = paragraph.runs
    for run in runs[1:]:
        run._r.getparent().remove(run._r)
    if runs:
        runs[0].text = text
    else:
        run = paragraph.add_run(text)
        run.font.size = Pt(10.5)
    paragraph.alignment = align


def _set_east_asian_font(run, name: str) -> None:
    run.font.name = name
    rpr = run._r.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), name)


def _styled_paragraph_before(anchor, text: str, *, bold_head: bool = False, align=None, indent: bool = True):
    """Insert a body paragraph before ``anchor`` in the 仿宋 三号 style of official documents."""
    paragraph = anchor.insert_paragraph_before()
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)
    if align is not None:
        paragraph.alignment = align
    if bold_head and "。" in text:
        head, _, rest = text.partition("。")
        run = paragraph.add_run(head + "。")
        run.bold = True
        _set_east_asian_font(run, "楷体_GB2312")
        run.font.size = Pt(16)
        text = rest
    run = paragraph.add_run(text)
    _set_east_asian_font(run, "仿宋_GB2312")
    run.font.size = Pt(16)
    return paragraph


def _cell_matrix(table) -> list[list]:
    """All cells by (row, col) in one pass: python-docx's table.cell() rescans the table per call."""
    cells = table._cells
    n_cols = len(table.columns)
    return [cells[i:i + n_cols] for i in range(0, len(cells), n_cols)]


def _fill_template_table(spec: ReportSpec, table, grid: Grid) -> None:
    matrix = _cell_matrix(table)
    for cell in grid.cells:
        if cell.key is not None:
            _set_cell_text(matrix[cell.row][cell.col], cell_text(spec, cell))


def _collapse_other_rows(table) -> None:
    """Turn the template's three （六）其他处理 sub-rows into the single row some reports print."""
    rows = table.rows
    first = next(i for i, row in enumerate(rows) if row.cells[2].text.startswith("1.申请人无正当理由"))
    for row in (rows[first + 2], rows[first + 1]):
        row._tr.getparent().remove(row._tr)
    merged = table.cell(first, 1).merge(table.cell(first, 2))
    vmerge = merged._tc.tcPr.find(qn("w:vMerge"))
    if vmerge is not None:
        merged._tc.tcPr.remove(vmerge)
    _set_cell_text(merged, "（六）其他处理", align=WD_ALIGN_PARAGRAPH.LEFT)


def _replace_placeholder(paragraph, texts: list[str], *, bold_heads: bool = False) -> None:
    for text in texts:
        _styled_paragraph_before(paragraph, text, bold_head=bold_heads and text.startswith("（"))
    paragraph._p.getparent().remove(paragraph._p)


def _render_from_template(spec: ReportSpec, path: Path) -> docx.document.Document:
    from .layout import report_grids
    document = docx.Document(str(path))
    narrative = spec.narrative or {}
    paragraphs = document.paragraphs
    title = paragraphs[1]
    for run in title.runs[1:]:
        run._r.getparent().remove(run._r)
    if title.runs:
        title.runs[0].text = spec.title or ""
    else:
        title.add_run(spec.title or "")
    anchor = paragraphs[2]
    for text in narrative.get("preamble", []):
        _styled_paragraph_before(anchor, text)
    placeholders = [p for p in paragraphs if p.text.startswith("（文字描述")]
    for paragraph, section in zip(placeholders, ("overview", "problems", "other")):
        _replace_placeholder(paragraph, narrative.get(section, []), bold_heads=section == "overview")
    grids = report_grids("F2021", bool(spec.single_other_row))
    if spec.single_other_row:
        _collapse_other_rows(document.tables[1])
    for table, grid in zip(document.tables, grids):
        _fill_template_table(spec, table, grid)
    return document


def _add_grid_table(document, spec: ReportSpec, grid: Grid, anchor=None):
    """Build a grid as a Word table with merged cells (python-docx merge = gridSpan/vMerge)."""
    table = document.add_table(rows=grid.n_rows, cols=grid.n_cols)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    matrix = _cell_matrix(table)  # corner cells stay valid: merges only drop cells inside their own span
    table.autofit = False
    total = sum(grid.col_widths)
    widths = [Pt(TABLE_WIDTH_PT * w / total) for w in grid.col_widths]
    for col, grid_col in enumerate(table._tbl.tblGrid.gridCol_lst):
        grid_col.w = widths[col]
    for row in matrix:
        for col, cell in enumerate(row):
            cell.width = widths[col]
    for cell in grid.cells:
        target = matrix[cell.row][cell.col]
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(matrix[cell.row + cell.rowspan - 1][cell.col + cell.colspan - 1])
        text = cell_text(spec, cell)
        if cell.vertical:
            text = "\n".join(text)
        align = WD_ALIGN_PARAGRAPH.LEFT if cell.kind == "label" and not cell.vertical else WD_ALIGN_PARAGRAPH.CENTER
        _set_cell_text(target, text, align=align)
        for run in target.paragraphs[0].runs:
            run.font.size = Pt(10.5)
            _set_east_asian_font(run, "宋体")
    if anchor is not None:
        anchor._p.addprevious(table._tbl)
    return table


def _render_from_scratch(spec: ReportSpec) -> docx.document.Document:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Pt(595.3), Pt(841.9)
    section.top_margin, section.bottom_margin = Pt(104.9), Pt(99.2)
    section.left_margin, section.right_margin = Pt(79.4), Pt(73.7)
    for block in document_blocks(spec):
        if block.kind == "title":
            paragraph = document.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = paragraph.add_run(block.text)
            run.font.size = Pt(22)
            _set_east_asian_font(run, "方正小标宋简体")
        elif block.kind == "heading":
            paragraph = document.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Pt(32)
            run = paragraph.add_run(block.text)
            run.font.size = Pt(16)
            _set_east_asian_font(run, "黑体")
        elif block.kind == "table" and block.grid is not None:
            _add_grid_table(document, spec, block.grid)
        elif block.kind == "signature":
            for line in block.lines:
                paragraph = document.add_paragraph()
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                run = paragraph.add_run(line)
                run.font.size = Pt(16)
                _set_east_asian_font(run, "仿宋_GB2312")
        else:
            end = document.add_paragraph()
            _styled_paragraph_before(end, block.text, bold_head=block.kind == "subheading")
            end._p.getparent().remove(end._p)
    return document


def build_document(spec: ReportSpec) -> docx.document.Document:
    """The python-docx Document of a spec (template for F2021 when the template is present)."""
    path = template_path()
    if spec.fmt == "F2021" and path is not None:
        document = _render_from_template(spec, path)
        if spec.include_signature and spec.signature_date:
            for line in (spec.agency, signature_date_text(spec.signature_date)):
                paragraph = document.add_paragraph()
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                run = paragraph.add_run(line)
                run.font.size = Pt(16)
                _set_east_asian_font(run, "仿宋_GB2312")
    else:
        document = _render_from_scratch(spec)
    stamp = dt.datetime.combine(spec.signature_date or dt.date(spec.year + 1, 1, 15), dt.time(9, 0))
    props = document.core_properties
    props.title, props.author, props.last_modified_by = spec.title or "", "Administrator", "Administrator"
    props.created, props.modified, props.revision = stamp, stamp, 1
    return document


def render_docx(spec: ReportSpec) -> bytes:
    buffer = io.BytesIO()
    build_document(spec).save(buffer)
    return deterministic_zip(buffer.getvalue())
