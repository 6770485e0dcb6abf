"""HTML building blocks shared by the archetypes: page chrome, the 信息公开 metadata table, stubs.

Real portal pages are mostly chrome (nav, footer, 网站标识码, 找错 widget) around a small article;
the crawler must pick the article, so the chrome is here on every page.
"""

from __future__ import annotations

import html
from typing import Optional

from .model import Agency, Item


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def site_code(agency: Agency) -> str:
    """网站标识码: 6-digit division code + 4-digit sequence (ministries use bm + digits)."""
    if agency.level == "national":
        return "bm" + agency.division_code[-8:].rjust(8, "0")
    return agency.division_code[:6] + "0001"


def document(title: str, body: str, *, charset: str = "utf-8", head_extra: str = "",
             site_name: str = "", agency: Optional[Agency] = None) -> str:
    """A complete page: <head> with charset meta, nav chrome, the body, and the footer."""
    meta_charset = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    code = site_code(agency) if agency else "0000000000"
    return (
        f"<!DOCTYPE html>\n<html>\n<head>\n{meta_charset}\n<title>{esc(title)}</title>\n{head_extra}\n"
        f'<link rel="stylesheet" href="/images/common.css">\n</head>\n<body>\n'
        f'<div class="header"><div class="logo">{esc(site_name)}</div>'
        '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>'
        '<li><a href="/hdjl/">互动交流</a></li><li><a href="/zwfw/">政务服务</a></li></ul></div>\n'
        f'<div class="main">\n{body}\n</div>\n'
        f'<div class="footer"><p>主办：{esc(site_name)}</p><p>网站标识码：{code}</p>'
        '<script src="https://pucha.kaipuyun.cn/exposure/jiucuo.js"></script></div>\n'
        "</body>\n</html>\n"
    )


def head_meta(item: Item, site_name: str, column_name: str) -> str:
    """TRS/Hanweb <meta> tags a detail page carries (ArticleTitle, PubDate, ContentSource...)."""
    pub = item.published.strftime("%Y-%m-%d") + " 09:30:00"
    return (f'<meta name="SiteName" content="{esc(site_name)}">\n'
            f'<meta name="ColumnName" content="{esc(column_name)}">\n'
            f'<meta name="ArticleTitle" content="{esc(item.title)}">\n'
            f'<meta name="PubDate" content="{pub}">\n'
            f'<meta name="ContentSource" content="{esc(item.agency.name)}">\n'
            f'<meta name="Keywords" content="政府信息公开年报">')


def index_number(item: Item) -> str:
    """索引号 in its two common styles: 9-digit org code or 18-char credit code, then year-seq."""
    if item.item_id % 2:
        prefix = f"{item.agency.division_code}{item.item_id % 1000:03d}"
    else:
        prefix = f"11{item.agency.division_code}MB{item.item_id % 100000:05d}"[:18]
    return f"{prefix}/{item.published.year}-{item.item_id % 100000:05d}"


def xxgk_table(item: Item, *, spaced_labels: bool = True) -> str:
    """The 信息公开 metadata block with letter-spaced labels (索 引 号) as printed by TRS/Hanweb."""
    def label(text: str) -> str:
        return " ".join(text) if spaced_labels and len(text) == 3 else text
    rows = [(label("索引号"), index_number(item)), ("组配分类", "政府信息公开年报"),
            (label("发布机构"), item.agency.name), ("生成日期", item.published.isoformat()),
            (label("文号"), ""), (label("有效性"), "有效")]
    cells = "".join(f"<tr><td class=\"label\"><b>{esc(k)}：</b></td><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="xxgk_table">{cells}</table>'


def detail_body(item: Item, article_html: str, *, container: str = 'div class="TRS_Editor"',
                metadata: bool = True, extra: str = "") -> str:
    """A detail page's main block: metadata table, title, info line, body container, extras."""
    close_tag = container.split()[0]
    info = (f'<div class="info">发布时间：{item.published.isoformat()}　来源：{esc(item.agency.name)}'
            '　浏览次数：<span id="views"></span></div>')
    meta = xxgk_table(item) if metadata else ""
    return (f"{meta}<h1 class=\"title\">{esc(item.title)}</h1>{info}"
            f"<{container}>{article_html}</{close_tag}>{extra}")


def attachment_line(href: str, name: str, *, oldsrc: Optional[str] = None) -> str:
    """The one-line body of an attachment-only report (附件：xxx.pdf)."""
    old = f' OLDSRC="{esc(oldsrc)}"' if oldsrc else ""
    return (f'<p class="insertfileTag">附件：<a href="{esc(href)}"{old} download="{esc(name)}">'
            f"{esc(name)}</a></p>")


def image_body(src_list: list[str]) -> str:
    return "".join(f'<p style="text-align:center"><img src="{esc(src)}" border="0"></p>' for src in src_list)


STUB_PAGE = ("<html><head><meta charset=\"utf-8\"></head><body><script>"
             "var countPage = 0; var currentPage = 0;</script><div class=\"list\"></div>"
             "<!-- trs publish stub --></body></html>")


def soft_404(site_name: str) -> str:
    return document("页面不存在", '<div class="error"><h2>对不起，您访问的页面不存在或已被删除！</h2>'
                    '<p><a href="/">返回首页</a></p></div>', site_name=site_name)
