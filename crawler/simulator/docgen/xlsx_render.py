"""XLSX workbooks as agencies export them: the three tables with merged cells.

Two real-world shapes, chosen per spec: all tables stacked on one sheet under their section
headings, or one sheet per table (表一/表二/表三). Numbers are stored as numbers, blanks as empty.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zlib
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from .docx_render import deterministic_zip
from .layout import Grid
from .spec import ReportSpec, cell_text, document_blocks

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _write_grid(sheet, spec: ReportSpec, grid: Grid, top: int) -> int:
    """Write a grid starting at row ``top`` (1-based); return the next free row."""
    for cell in grid.cells:
        row, col = top + cell.row, 1 + cell.col
        for r in range(row, row + cell.rowspan):
            for c in range(col, col + cell.colspan):
                sheet.cell(r, c).border = BORDER
        target = sheet.cell(row, col)
        if cell.key is not None:
            value = spec.values.get(cell.key)
            if isinstance(value, Decimal):
                target.value = float(value)
                target.number_format = "0.00"
            else:
                target.value = value
        else:
            target.value = cell_text(spec, cell) or None
        vertical = cell.vertical
        target.alignment = Alignment(horizontal="left" if cell.kind == "label" and not vertical else "center",
                                     vertical="center", wrap_text=True, text_rotation=255 if vertical else 0)
        target.font = Font(name="宋体", size=10, bold=cell.kind in ("header", "caption"))
        if cell.rowspan > 1 or cell.colspan > 1:
            sheet.merge_cells(start_row=row, start_column=col, end_row=row + cell.rowspan - 1,
                              end_column=col + cell.colspan - 1)
    return top + grid.n_rows


def render_xlsx(spec: ReportSpec) -> bytes:
    rng = random.Random(zlib.crc32(f"{spec.agency}|{spec.year}|xlsx".encode("utf-8")))
    workbook = Workbook()
    blocks = document_blocks(spec)
    tables = [(prev.text, b.grid) for prev, b in zip(blocks, blocks[1:]) if b.kind == "table" and b.grid]
    stamp = dt.datetime.combine(spec.signature_date or dt.date(spec.year + 1, 1, 15), dt.time(9, 0))
    workbook.properties.created = workbook.properties.modified = stamp
    workbook.properties.creator = "Administrator"
    workbook.properties.title = spec.title
    one_sheet = rng.random() < 0.5 or not tables
    sheet = workbook.active
    sheet.title = "Sheet1" if one_sheet else "表一"
    row = 1
    if one_sheet:
        sheet.cell(1, 1, spec.title).font = Font(name="方正小标宋简体", size=16)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=15)
        row = 3
        for heading, grid in tables:
            sheet.cell(row, 1, heading).font = Font(name="黑体", size=12)
            row = _write_grid(sheet, spec, grid, row + 1) + 1
    else:
        for i, (heading, grid) in enumerate(tables):
            if i:
                sheet = workbook.create_sheet(f"表{'一二三四'[i]}")
            sheet.cell(1, 1, heading).font = Font(name="黑体", size=12)
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=grid.n_cols)
            _write_grid(sheet, spec, grid, 2)
    for ws in workbook.worksheets:
        for c in range(1, 16):
            ws.column_dimensions[get_column_letter(c)].width = 9 if c > 3 else 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return deterministic_zip(buffer.getvalue(), modified=stamp)
