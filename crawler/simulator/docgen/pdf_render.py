"""PDFs that look like WPS/Word output: A4, 宋体/仿宋-like body, ruled tables with merged cells.

Why a small layout engine instead of platypus tables: real reports split Table B inside the
22-row 三、本年度办理结果 span, with no repeated header, the span's borders open at the page edge and
its label printed vertically one character per line. Platypus cannot split inside a row span, so
rows are placed and ruled here by hand. The text layer (embedded TrueType subsets) stays readable
by pdfplumber; page numbers "— N —" sit at the bottom like official documents.
"""

from __future__ import annotations

import io
import random
import zlib
from dataclasses import dataclass
from typing import Optional

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

from .fonts import FontSet, register_fonts
from .layout import Grid, GridCell
from .spec import Block, ReportSpec, cell_text, document_blocks

PAGE_W, PAGE_H = A4
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 96.0, 88.0, 79.0, 74.0
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT
BODY_SIZE, BODY_LEADING = 16.0, 28.6
CLOSING_PUNCT = "，。、；：）》”’！？"
CAPTION_FILL = Color(0.86, 0.90, 0.96)

Run = tuple[str, str, float, bool]  # text, font, size, fake bold


def _char_width(char: str, font: str, size: float) -> float:
    return stringWidth(char, font, size)


def break_runs(runs: list[Run], first_width: float, width: float) -> list[list[Run]]:
    """Break styled runs into lines char by char (CJK wraps anywhere; closing punctuation hangs)."""
    lines: list[list[Run]] = [[]]
    used, limit = 0.0, first_width
    for text, font, size, bold in runs:
        for char in text:
            w = _char_width(char, font, size)
            if used + w > limit + 0.01 and used > 0 and char not in CLOSING_PUNCT:
                lines.append([])
                used, limit = 0.0, width
            line = lines[-1]
            if line and line[-1][1:] == (font, size, bold):
                line[-1] = (line[-1][0] + char, font, size, bold)
            else:
                line.append((char, font, size, bold))
            used += w
    return [line for line in lines if line]


def _runs_width(line: list[Run]) -> float:
    return sum(stringWidth(text, font, size) for text, font, size, _ in line)


@dataclass
class TablePlan:
    """Where each row of a table lands: page offset from the table's first page and top y."""

    row_heights: list[float]
    positions: list[tuple[int, float]]
    end_y: float
    pages: int


class PdfWriter:
    """Draws blocks onto pages, tracking the cursor and numbering pages as it goes."""

    def __init__(self, spec: ReportSpec, fonts: FontSet) -> None:
        self.spec = spec
        self.fonts = fonts
        self.rng = random.Random(zlib.crc32(f"{spec.agency}|{spec.year}|{spec.fmt}|pdf".encode("utf-8")))
        self.buffer = io.BytesIO()
        self.canvas = rl_canvas.Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1)
        self.canvas.setTitle(spec.title or "")
        self.canvas.setAuthor("Administrator")
        self.canvas.setCreator("WPS 文字")
        self.page = 1
        self.y = PAGE_H - MARGIN_TOP
        self.caption_fill = self.rng.random() < 0.5
        self.table_pages: set[int] = set()  # 1-based pages holding any table rows

    # ---- pages ----------------------------------------------------------------------------------
    def _page_number(self) -> None:
        label = f"— {self.page} —"
        self.canvas.setFont(self.fonts.song, 14)
        self.canvas.setFillColor(black)
        self.canvas.drawCentredString(PAGE_W / 2, 46, label)

    def new_page(self) -> None:
        self._page_number()
        self.canvas.showPage()
        self.page += 1
        self.y = PAGE_H - MARGIN_TOP

    def ensure(self, height: float) -> None:
        if self.y - height < MARGIN_BOTTOM and self.y < PAGE_H - MARGIN_TOP - 1:
            self.new_page()

    def finish(self) -> bytes:
        self._page_number()
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()

    # ---- text -----------------------------------------------------------------------------------
    def draw_line(self, x: float, y: float, line: list[Run], *, justify_to: Optional[float] = None) -> None:
        chars = sum(len(text) for text, *_ in line)
        spacing = 0.0
        if justify_to is not None and chars > 1:
            spacing = min(max((justify_to - _runs_width(line)) / (chars - 1), 0.0), 2.0)
        self.canvas.saveState()  # the text render mode (fake bold) is graphics state: keep it local
        self.canvas.setLineWidth(0.35)
        text_object = self.canvas.beginText(x, y)
        text_object.setCharSpace(spacing)
        for text, font, size, bold in line:
            text_object.setFont(font, size)
            text_object.setTextRenderMode(2 if bold else 0)
            text_object.textOut(text)
        self.canvas.drawText(text_object)
        self.canvas.restoreState()

    def paragraph(self, runs: list[Run], *, indent: float = 32.0, leading: float = BODY_LEADING,
                  align: str = "justify") -> None:
        lines = break_runs(runs, TEXT_W - indent, TEXT_W)
        for i, line in enumerate(lines):
            self.ensure(leading)
            baseline = self.y - leading * 0.72
            last = i == len(lines) - 1
            if align == "center":
                x = MARGIN_LEFT + (TEXT_W - _runs_width(line)) / 2
                self.draw_line(x, baseline, line)
            elif align == "right":
                x = MARGIN_LEFT + TEXT_W - 40 - _runs_width(line)
                self.draw_line(x, baseline, line)
            else:
                x = MARGIN_LEFT + (indent if i == 0 else 0)
                width = TEXT_W - (indent if i == 0 else 0)
                self.draw_line(x, baseline, line, justify_to=None if last else width)
            self.y -= leading

    def body(self, text: str, *, bold_head: bool = False) -> None:
        song = self.fonts.song
        if bold_head and "。" in text:
            head, _, rest = text.partition("。")
            runs: list[Run] = [(head + "。", song, BODY_SIZE, True), (rest, song, BODY_SIZE, False)]
        else:
            runs = [(text, song, BODY_SIZE, False)]
        self.paragraph(runs)

    def title(self, text: str) -> None:
        agency = self.spec.agency
        parts = [agency, text[len(agency):]] if text.startswith(agency) and len(text) > 20 else [text]
        self.y -= 8
        for part in parts:
            self.paragraph([(part, self.fonts.song, 22.0, True)], indent=0, leading=36.0, align="center")
        self.y -= 14

    def heading(self, text: str, keep_with: float = 0.0) -> None:
        self.ensure(BODY_LEADING + keep_with)
        self.paragraph([(text, self.fonts.hei, BODY_SIZE, False)])

    # ---- tables ---------------------------------------------------------------------------------
    def _cell_style(self, grid: Grid, cell: GridCell) -> tuple[str, float, bool]:
        song, hei = self.fonts.song, self.fonts.hei
        if cell.key is not None:
            return song, 12.0, False
        if cell.kind == "caption":
            return song, 12.0, False
        if cell.kind == "header":
            return (hei, 10.5, False) if grid.name == "active_disclosure" else (song, 10.5, False)
        if cell.kind == "label" and cell.text[:2] in ("一、", "二、", "四、"):
            return song, 10.5, True
        return song, 10.5, False

    def _cell_lines(self, spec: ReportSpec, grid: Grid, cell: GridCell, width: float) -> list[list[Run]]:
        text = cell_text(spec, cell)
        font, size, bold = self._cell_style(grid, cell)
        if not text:
            return []
        if cell.vertical:
            return [[(char, font, size, bold)] for char in text]
        return break_runs([(text, font, size, bold)], width, width)

    def _plan_table(self, heights: list[float], keep_rows: int) -> TablePlan:
        y, page = self.y, 0
        top = PAGE_H - MARGIN_TOP
        first_block = sum(heights[:keep_rows])
        if y - first_block < MARGIN_BOTTOM and y < top - 1:
            y, page = top, 1
        positions = []
        for r, h in enumerate(heights):
            if r >= keep_rows and y - h < MARGIN_BOTTOM:
                y, page = top, page + 1
            positions.append((page, y))
            y -= h
        return TablePlan(heights, positions, y, page + 1)

    def table(self, spec: ReportSpec, grid: Grid) -> None:
        width = TEXT_W + (24 if grid.n_cols > 4 else 0)
        x0 = MARGIN_LEFT + (TEXT_W - width) / 2
        total = sum(grid.col_widths)
        col_x = [x0]
        for w in grid.col_widths:
            col_x.append(col_x[-1] + width * w / total)
        pad_x, pad_y = 3.0, 3.0
        content = {}
        heights = [22.0 if grid.name != "active_disclosure" else 26.0] * grid.n_rows
        for cell in grid.cells:
            inner = col_x[cell.col + cell.colspan] - col_x[cell.col] - 2 * pad_x
            lines = self._cell_lines(spec, grid, cell, inner)
            size = self._cell_style(grid, cell)[1]
            leading = size * 1.3
            need = len(lines) * leading + 2 * pad_y + (10 if cell.kind == "caption" else 0)
            content[id(cell)] = (lines, leading)
            if cell.rowspan == 1:
                heights[cell.row] = max(heights[cell.row], need)
        for cell in grid.cells:
            if cell.rowspan > 1:
                lines, leading = content[id(cell)]
                need = len(lines) * leading + 2 * pad_y
                span = sum(heights[cell.row:cell.row + cell.rowspan])
                if need > span:
                    heights[cell.row + cell.rowspan - 1] += need - span
        plan = self._plan_table(heights, grid.header_rows + 1)
        for page in range(plan.pages):
            if page > 0:
                self.new_page()
            if any(p == page for p, _ in plan.positions):
                self.table_pages.add(self.page)
            for cell in grid.cells:
                self._draw_cell_fragments(grid, cell, plan, page, col_x, content[id(cell)], pad_x)
        self.y = plan.end_y - 10

    def _draw_cell_fragments(self, grid: Grid, cell: GridCell, plan: TablePlan, page: int, col_x: list[float],
                             content: tuple[list[list[Run]], float], pad_x: float) -> None:
        rows = [r for r in range(cell.row, cell.row + cell.rowspan) if plan.positions[r][0] == page]
        if not rows:
            return
        top = plan.positions[rows[0]][1]
        bottom = plan.positions[rows[-1]][1] - plan.row_heights[rows[-1]]
        left, right = col_x[cell.col], col_x[cell.col + cell.colspan]
        c = self.canvas
        if cell.kind == "caption" and self.caption_fill:
            c.setFillColor(CAPTION_FILL)
            c.rect(left, bottom, right - left, top - bottom, stroke=0, fill=1)
            c.setFillColor(black)
        c.setStrokeColor(black)
        c.setLineWidth(0.5)
        c.line(left, top, left, bottom)
        c.line(right, top, right, bottom)
        if rows[0] == cell.row:
            c.line(left, top, right, top)
        if rows[-1] == cell.row + cell.rowspan - 1:
            c.line(left, bottom, right, bottom)
        lines, leading = content
        if not lines or not self._is_text_fragment(cell, plan, page):
            return
        block = len(lines) * leading
        y = (top + bottom) / 2 + block / 2
        for line in lines:
            size = line[0][2]
            baseline = y - leading + (leading - size) / 2 + size * 0.18
            line_width = _runs_width(line)
            if cell.kind == "label" and not cell.vertical and cell.rowspan == 1:
                x = left + pad_x
            else:
                x = (left + right - line_width) / 2
            self.draw_line(x, baseline, line)
            y -= leading

    @staticmethod
    def _is_text_fragment(cell: GridCell, plan: TablePlan, page: int) -> bool:
        """A split cell prints its text once, on the page holding most of its height."""
        per_page: dict[int, float] = {}
        for r in range(cell.row, cell.row + cell.rowspan):
            p = plan.positions[r][0]
            per_page[p] = per_page.get(p, 0.0) + plan.row_heights[r]
        return max(per_page, key=lambda p: (per_page[p], -p)) == page

    def table_first_block(self, grid: Grid) -> float:
        return 26.0 * (grid.header_rows + 1) + 20

    # ---- document -------------------------------------------------------------------------------
    def signature(self, lines: list[str]) -> None:
        self.y -= BODY_LEADING
        self.ensure(BODY_LEADING * len(lines))
        for line in lines:
            self.paragraph([(line, self.fonts.song, BODY_SIZE, False)], indent=0, align="right")

    def write(self, blocks: list[Block]) -> bytes:
        for i, block in enumerate(blocks):
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            if block.kind == "title":
                self.title(block.text)
            elif block.kind == "heading":
                keep = self.table_first_block(following.grid) if following and following.grid else BODY_LEADING
                self.heading(block.text, keep)
            elif block.kind == "subheading":
                self.body(block.text, bold_head=True)
            elif block.kind == "table" and block.grid is not None:
                self.table(self.spec, block.grid)
            elif block.kind == "signature":
                self.signature(block.lines)
            else:
                self.body(block.text)
        return self.finish()


def render_pdf_with_table_pages(spec: ReportSpec) -> tuple[bytes, list[int]]:
    """The PDF bytes and the 1-based numbers of the pages that hold table rows."""
    writer = PdfWriter(spec, register_fonts())
    data = writer.write(document_blocks(spec))
    return data, sorted(writer.table_pages)


def render_pdf(spec: ReportSpec) -> bytes:
    return render_pdf_with_table_pages(spec)[0]
