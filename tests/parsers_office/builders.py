"""Fixture builders for the office-format tests: every document is generated from known values.

* :func:`filled_template` — the real F2021 blank template with value cells filled by python-docx.
* :func:`raw_docx` — a minimal DOCX from hand-written WordprocessingML, for markup that
  python-docx cannot produce (legacy ``hMerge``, ``gridBefore``, content controls, text boxes,
  tracked changes, automatic Chinese list numbers).
* :func:`xlsx_from_grids` — an XLSX whose merged ranges mirror a DOCX table's merged cells.
* :func:`libreoffice` — conversions (DOCX → DOC, XLSX → XLS) through the code under test's own
  LibreOffice helper.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Optional

import docx
import openpyxl
import pytest

from parsers.safety import convert_with_libreoffice, find_soffice

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests" / "fixtures" / "corpus" / "documents" / "template_f2021_blank.docx"

requires_soffice = pytest.mark.skipif(find_soffice() is None,
                                      reason="LibreOffice (soffice) not installed")

TITLE = "某某县人民政府2023年政府信息公开工作年度报告"
SIGNATURE = ["某某县人民政府办公室", "2024年1月15日"]


def template_value(table: int, row: int, col: int) -> str:
    """The known value written into a value cell of the template."""
    return str(table * 1000 + row * 10 + col)


# Value cells of the F2021 template, per table: (rows, columns) in grid coordinates.
VALUE_CELLS = {
    0: [(2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3), (6, 1), (9, 1), (10, 1), (13, 1)],
    1: [(r, c) for r in range(3, 28) for c in range(3, 10)],
    2: [(3, c) for c in range(15)],
}


def filled_template(title: str = TITLE, signature: Optional[list[str]] = None) -> bytes:
    """The template with a title, every value cell filled and a signature at the end."""
    document = docx.Document(str(TEMPLATE))
    document.paragraphs[1].text = title
    for table_index, positions in VALUE_CELLS.items():
        table = document.tables[table_index]
        cells, width = table._cells, len(table.columns)  # table.cell() recomputes the grid each call
        for row, col in positions:
            cells[row * width + col].text = template_value(table_index, row, col)
    for line in signature if signature is not None else SIGNATURE:
        document.add_paragraph(line)
    document.core_properties.title = title
    document.core_properties.author = "测试"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def merged_regions(table: "docx.table.Table") -> list[tuple[int, int, int, int]]:
    """(r0, c0, r1, c1) of every cell, found by python-docx's cell identity (not by text)."""
    seen: dict[int, list[int]] = {}
    cells, width = table._cells, len(table.columns)
    for r in range(len(table.rows)):
        for c in range(width):
            key = id(cells[r * width + c])  # the same _Cell object for every merged position
            box = seen.setdefault(key, [r, c, r, c])
            box[2], box[3] = max(box[2], r), max(box[3], c)
    return [tuple(box) for box in seen.values()]  # type: ignore[misc]


def xlsx_from_template(docx_bytes: bytes) -> bytes:
    """An XLSX sheet holding the DOCX's tables (same merged regions), a title and a signature.

    The tables are separated by one empty row, so the expected grids are the DOCX's own.
    """
    document = docx.Document(io.BytesIO(docx_bytes))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "年度报告"
    sheet.cell(1, 1, TITLE)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    top = 3
    for table in document.tables:
        cells, width = table._cells, len(table.columns)
        for r0, c0, r1, c1 in merged_regions(table):
            text = cells[r0 * width + c0].text.replace("\n", "")
            value: object = int(text) if text.isdigit() else text
            sheet.cell(top + r0, 1 + c0, value)
            if (r0, c0) != (r1, c1):
                sheet.merge_cells(start_row=top + r0, start_column=1 + c0,
                                  end_row=top + r1, end_column=1 + c1)
        top += len(table.rows) + 1
    for line in SIGNATURE:
        top += 1
        sheet.cell(top, 1, line)
    workbook.properties.title = TITLE
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>"""
_CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator>
<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-15T08:00:00Z</dcterms:created>
<dcterms:modified xsi:type="dcterms:W3CDTF">2024-01-16T09:30:00Z</dcterms:modified>
</cp:coreProperties>"""


def raw_docx(body: str, numbering: Optional[str] = None, title: str = "标题",
             author: str = "作者") -> bytes:
    """A DOCX whose ``w:body`` is ``body`` (WordprocessingML with the ``w``/``mc`` prefixes)."""
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<w:document xmlns:w="{W}" '
                f'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
                f'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
                f'<w:body>{body}</w:body></w:document>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("word/document.xml", document)
        package.writestr("docProps/core.xml", _CORE.format(title=title, author=author))
        if numbering is not None:
            package.writestr("word/numbering.xml",
                             f'<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="{W}">'
                             f'{numbering}</w:numbering>')
    return buffer.getvalue()


def p(text: str, extra: str = "") -> str:
    """A paragraph with one run."""
    return f"<w:p>{extra}<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"


def tc(*paragraphs: str, props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{''.join(p(t) for t in paragraphs) or '<w:p/>'}</w:tc>"


def tbl(grid_columns: int, *rows: str) -> str:
    grid = "".join('<w:gridCol w:w="1000"/>' for _ in range(grid_columns))
    return f"<w:tbl><w:tblPr/><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"


def tr(*cells: str, props: str = "") -> str:
    return f"<w:tr><w:trPr>{props}</w:trPr>{''.join(cells)}</w:tr>"


def libreoffice(data: bytes, suffix: str, target: str) -> bytes:
    """Convert with LibreOffice (the helper under test; a 120 s bound for slow machines)."""
    return convert_with_libreoffice(data, suffix, target, 120, what=suffix)
