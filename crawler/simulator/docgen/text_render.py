"""Plain-text and Markdown extractions, as people and converters produce them from report PDFs.

TXT mimics a text copy of the PDF: hard line breaks at the printed line ends, page numbers
("— 2 —") between lines, table rows as tab-separated cells, and long row labels sometimes left on
their own line with the numbers on the next. MD mimics PDF->Markdown converters: pipe tables whose
merged cells become an empty cell after the first, multi-line headers joined with <br>.
"""

from __future__ import annotations

import random
import zlib

from .layout import Grid
from .spec import ReportSpec, cell_text, document_blocks

LINE_CHARS = 28  # a 仿宋 三号 line on A4 holds about 28 characters
LINES_PER_PAGE = 22


def _rng(spec: ReportSpec, kind: str) -> random.Random:
    return random.Random(zlib.crc32(f"{spec.agency}|{spec.year}|{spec.fmt}|{kind}".encode("utf-8")))


def _wrap(text: str, width: int, first_indent: int = 2) -> list[str]:
    lines, current, limit = [], "", width - first_indent
    for char in text:
        if len(current) >= limit and char not in "，。、；：）”》":
            lines.append(current)
            current, limit = "", width
        current += char
    if current:
        lines.append(current)
    return lines


def _grid_lines(spec: ReportSpec, grid: Grid, rng: random.Random) -> list[str]:
    lines: list[str] = []
    for cells in grid.rows():
        labels = [cell_text(spec, c).replace("\n", "") for c in cells if c.key is None and cell_text(spec, c)]
        values = [cell_text(spec, c) for c in cells if c.key is not None]
        if not values:
            if labels:
                lines.append("\t".join(labels))
            continue
        label = "\t".join(labels)
        if label and len(label) > 14 and rng.random() < 0.3:
            lines.append(label)  # the label wraps; its numbers land on the next line
            lines.append("\t".join(values))
        else:
            lines.append("\t".join(([label] if label else []) + values))
    return lines


def render_txt(spec: ReportSpec) -> bytes:
    rng = _rng(spec, "txt")
    lines: list[str] = []
    for block in document_blocks(spec):
        if block.kind == "title":
            lines += [block.text, ""]
        elif block.kind == "table" and block.grid is not None:
            lines += _grid_lines(spec, block.grid, rng)
        elif block.kind == "signature":
            lines += block.lines
        elif block.kind == "heading":
            lines.append("  " + block.text)
        else:
            lines += _wrap("  " + block.text, LINE_CHARS + 2, first_indent=0)
    out: list[str] = []
    page = 1
    for i, line in enumerate(lines, start=1):
        out.append(line)
        if i % LINES_PER_PAGE == 0 and i < len(lines):
            out.append(f"— {page} —")
            page += 1
    out.append(f"— {page} —")
    return ("\n".join(out) + "\n").encode("utf-8")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _md_table(spec: ReportSpec, grid: Grid, rng: random.Random) -> list[str]:
    matrix = [["" for _ in range(grid.n_cols)] for _ in range(grid.n_rows)]
    for cell in grid.cells:
        text = cell_text(spec, cell)
        if cell.kind == "header" and len(text) >= 4 and rng.random() < 0.4:
            text = text[: len(text) // 2] + "\n" + text[len(text) // 2:]
        matrix[cell.row][cell.col] = _md_cell(text)
    if rng.random() < 0.3:  # some converters invent a placeholder header and demote the real one
        header, body = [f"Col{i + 1}" for i in range(grid.n_cols)], matrix
    else:
        header, body = matrix[0], matrix[1:]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * grid.n_cols]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return lines


def render_md(spec: ReportSpec) -> bytes:
    rng = _rng(spec, "md")
    lines: list[str] = []
    for block in document_blocks(spec):
        if block.kind == "title":
            lines += [f"# {block.text}", ""]
        elif block.kind == "heading":
            lines += [f"## {block.text}", ""]
        elif block.kind == "table" and block.grid is not None:
            lines += _md_table(spec, block.grid, rng) + [""]
        elif block.kind == "signature":
            lines += [line + "  " for line in block.lines] + [""]
        else:
            lines += [block.text, ""]
    return ("\n".join(lines) + "\n").encode("utf-8")
