"""TRS-like detail pages whose article body is Word/WPS-exported markup.

Why so messy: real pages carry MsoNormal paragraphs, <o:p> tags, numbers and years split over
several <span>s, header cells split over several <p>, rowspan/colspan grids and page chrome around
the article (pingtan_2024.html, shuyang-fgj_2023.html). A parser tested on clean HTML learns nothing.
"""

from __future__ import annotations

import html
import random
import re
import zlib

from .layout import Grid, GridCell
from .spec import Block, ReportSpec, cell_text, document_blocks

SPAN_STYLE = "font-family:仿宋_GB2312;font-size:16.0pt"
TD_BORDER = "border:solid windowtext 1.0pt;mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt"


def _rng(spec: ReportSpec, kind: str) -> random.Random:
    return random.Random(zlib.crc32(f"{spec.agency}|{spec.year}|{spec.fmt}|{kind}".encode("utf-8")))


def _split_runs(text: str, rng: random.Random) -> list[str]:
    """Cut text into runs the way Word does: around digits, and at random points inside digits."""
    pieces = [p for p in re.split(r"(\d+)", text) if p]
    runs: list[str] = []
    for piece in pieces:
        if piece.isdigit() and len(piece) >= 2 and rng.random() < 0.35:
            cut = rng.randint(1, len(piece) - 1)  # "20</span><span>23"
            runs += [piece[:cut], piece[cut:]]
        elif not piece.isdigit() and len(piece) > 8 and rng.random() < 0.3:
            cut = rng.randint(1, len(piece) - 1)
            runs += [piece[:cut], piece[cut:]]
        else:
            runs.append(piece)
    return runs


def _spans(text: str, rng: random.Random, style: str = SPAN_STYLE) -> str:
    out = []
    for run in _split_runs(text, rng):
        lang = ' lang="EN-US"' if run.isdigit() else ""
        out.append(f'<span{lang} style="{style}">{html.escape(run, quote=False)}</span>')
    return "".join(out)


def _paragraph(text: str, rng: random.Random, *, indent: bool = True, align: str = "justify",
               style: str = SPAN_STYLE) -> str:
    indent_css = "text-indent:32.0pt;" if indent else ""
    return (f'<p class="MsoNormal" align="{align}" style="{indent_css}text-align:{align};line-height:28.0pt;'
            f'mso-line-height-rule:exactly">{_spans(text, rng, style)}'
            f'<span lang="EN-US" style="{style}"><o:p></o:p></span></p>')


def _cell_paragraphs(text: str, cell: GridCell, rng: random.Random) -> str:
    """A cell's content: one <p>, or (for headers/vertical labels) several <p> pieces."""
    style = "font-family:宋体;font-size:10.5pt"
    align = "left" if cell.kind == "label" and not cell.vertical else "center"
    if not text:
        return f'<p class="MsoNormal" align="center" style="text-align:center"><span lang="EN-US" style="{style}"><o:p>&nbsp;</o:p></span></p>'
    if cell.vertical:
        pieces = list(text) if rng.random() < 0.5 else [text[i:i + 2] for i in range(0, len(text), 2)]
    elif cell.kind == "header" and len(text) >= 4 and rng.random() < 0.6:
        size = 2 if len(text) <= 6 else 3
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
    else:
        pieces = [text]
    return "".join(
        f'<p class="MsoNormal" align="{align}" style="text-align:{align}">{_spans(p, rng, style)}'
        f'<span lang="EN-US" style="{style}"><o:p></o:p></span></p>' for p in pieces)


def _table(spec: ReportSpec, grid: Grid, rng: random.Random) -> str:
    total = sum(grid.col_widths)
    widths = [round(560 * w / total) for w in grid.col_widths]
    rows_html = []
    for r, cells in enumerate(grid.rows()):
        tds = []
        for cell in cells:
            attrs = []
            if cell.rowspan > 1:
                attrs.append(f'rowspan="{cell.rowspan}"')
            if cell.colspan > 1:
                attrs.append(f'colspan="{cell.colspan}"')
            width = sum(widths[cell.col:cell.col + cell.colspan])
            attrs.append(f'width="{width}" valign="center" style="width:{width * 0.75:.1f}pt;{TD_BORDER}"')
            if cell.kind == "caption":
                attrs.append('class="xl65"')
            tds.append(f"<td {' '.join(attrs)}>{_cell_paragraphs(cell_text(spec, cell), cell, rng)}</td>")
        rows_html.append(f'<tr style="mso-yfti-irow:{r};height:19.85pt">{"".join(tds)}</tr>')
    return ('<div align="center"><table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0" '
            'style="border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;'
            'mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt">'
            f'<tbody>{"".join(rows_html)}</tbody></table></div>')


def _block_html(spec: ReportSpec, block: Block, rng: random.Random) -> str:
    if block.kind == "title":
        return _paragraph(block.text, rng, indent=False, align="center",
                          style="font-family:方正小标宋简体;font-size:22.0pt")
    if block.kind == "heading":
        return _paragraph(block.text, rng, style="font-family:黑体;font-size:16.0pt")
    if block.kind == "subheading":
        head, _, rest = block.text.partition("。")
        return (f'<p class="MsoNormal" style="text-indent:32.0pt;line-height:28.0pt">'
                f'<b>{_spans(head + "。", rng, "font-family:楷体_GB2312;font-size:16.0pt")}</b>'
                f'{_spans(rest, rng)}<span lang="EN-US" style="{SPAN_STYLE}"><o:p></o:p></span></p>')
    if block.kind == "table" and block.grid is not None:
        return _table(spec, block.grid, rng)
    if block.kind == "signature":
        return "".join(_paragraph(line, rng, indent=False, align="right") for line in block.lines)
    return _paragraph(block.text, rng)


def article_html(spec: ReportSpec, rng: random.Random) -> str:
    """The TRS_Editor article body alone (what a site template wraps in its chrome)."""
    parts = [_block_html(spec, block, rng) for block in document_blocks(spec)]
    return '<div class="TRS_Editor"><div class="WordSection1" style="layout-grid:15.6pt">' + "\n".join(parts) + "</div></div>"


def render_html(spec: ReportSpec, *, charset: str = "utf-8") -> str:
    """A whole detail page: <head> metadata, site chrome, breadcrumb, article, footer."""
    rng = _rng(spec, "html")
    title = html.escape(spec.title or "")
    pub = spec.signature_date.isoformat() if spec.signature_date else f"{spec.year + 1}-01-20"
    agency = html.escape(spec.agency)
    meta_charset = ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
                    if charset != "utf-8" else '<meta charset="utf-8">')
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head>
{meta_charset}
<meta name="SiteName" content="{agency}门户网站">
<meta name="ColumnName" content="政府信息公开年报">
<meta name="ColumnType" content="政府信息公开年报">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{pub} 09:30">
<meta name="ContentSource" content="{agency}">
<title>{title}_政府信息公开年报_{agency}</title>
<link rel="stylesheet" type="text/css" href="/images/trt_ui_v2.css">
<script type="text/javascript" src="/images/jquery.min.js"></script>
</head>
<body>
<div class="header"><div class="logo"><a href="/">{agency}</a></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul>
<form action="/search" method="get"><input name="q" type="text" value="请输入关键词"><input type="submit" value="搜索"></form></div>
<div class="breadcrumb"><span>当前位置：</span><a href="../../../">首页</a> &gt; <a href="../../">政府信息公开</a> &gt; <a href="../">政府信息公开年报</a></div>
<div class="main"><div class="article_component">
<div class="article_title text_align_center">{title}</div>
<div class="article_extend"><span class="article_source">来源：{agency}</span> <span class="article_time">时间：{pub} 09:30</span> <span>【字体：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>】</span></div>
<div class="article_content">
{article_html(spec, rng)}
</div>
<div class="article_print"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
</div></div>
<div class="footer"><p>主办单位：{agency} 网站标识码：3300000000 ICP备05000000号</p><p>版权所有 技术支持：拓尔思信息技术股份有限公司</p></div>
</body>
</html>
"""


def render_html_bytes(spec: ReportSpec) -> bytes:
    return render_html(spec).encode("utf-8")


def render_html_gbk_bytes(spec: ReportSpec) -> bytes:
    """The same page declared gb2312 and encoded GB18030 (as GBK-era TRS sites serve it)."""
    return render_html(spec, charset="gb2312").encode("gb18030")
