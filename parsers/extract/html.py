"""HTML detail pages → Extraction: the article's text, its tables as grids, the page's metadata.

Real pages are Word/WPS pastes inside CMS chrome: MsoNormal paragraphs, ``<o:p>``, spans that
split numbers and years (``20</span><span>23``), header cells split over several ``<p>``,
rowspan/colspan grids, GBK pages, and charsets declared wrongly. Inline elements are joined
without separators, block elements end a line, and the grid is rebuilt from the spans.
"""

from __future__ import annotations

import re
from typing import Optional

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table

BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "section", "article", "blockquote", "dd", "dt", "dl", "pre", "center", "hr", "form",
              "header", "footer", "ucapcontent", "ucaptitle", "publishtime"}
SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head", "select",
             "button", "input", "textarea"}
ARTICLE_SELECTORS = (".TRS_Editor", "#zoom", "ucapcontent", "#UCAP-CONTENT", ".trs_editor_view",
                     ".article-content", ".article_content", "#Zoom", ".zoom", ".TRS_UEDITOR", "#content",
                     ".content", "article")
META_NAMES = ("ArticleTitle", "ContentSource", "PubDate", "ColumnName", "Url", "SiteName", "Author",
              "Description", "Keywords", "KeyWords", "firstpublishedtime", "lastmodifiedtime")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
_LABELLED = re.compile(r"(发布机构|发文机关|来源|信息来源|发布日期|发布时间|成文日期|公开日期|索引号|主题分类|文号|单位)[：:]\s*([^\s：:]{1,60})")


def decode_html(data: bytes) -> tuple[str, str]:
    """Bytes → (text, encoding). The bytes win over a wrong declaration; gb2312/gbk read as gb18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    declared = _CHARSET.search(data[:4096])
    name = declared.group(1).decode("ascii", "ignore").lower() if declared else ""
    candidates = ["utf-8", "gb18030"] if name in ("", "utf-8", "utf8") else ["gb18030", "utf-8"]
    if name and name not in ("utf-8", "utf8", "gb2312", "gbk", "gb18030"):
        candidates.insert(0, name)
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("gb18030", errors="replace"), "gb18030"


def extract_html(data: bytes, limits: Limits) -> Extraction:
    if not data.strip():
        raise ParseError("empty document")
    text, encoding = decode_html(data)
    if "<" not in text[:200000]:
        raise ParseError("not an HTML document")
    soup = BeautifulSoup(text, "lxml")
    for node in soup.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    meta = page_meta(soup)
    article = find_article(soup)
    tables = [t for t in article.find_all("table") if not t.find("table")]
    grids = [Table(rows=table_grid(t), index=i) for i, t in enumerate(tables)]
    if sum(len(r) for g in grids for r in g.rows) > limits.max_table_cells:
        raise ParseError("too many table cells")
    body_text = block_text(article, skip_tables=True)
    if len(body_text) > limits.max_text_chars:
        raise ParseError("text too large")
    extraction = Extraction(media_type="text/html", text=body_text, tables=grids, meta=meta)
    if encoding != "utf-8":
        extraction.meta["encoding"] = encoding
    return extraction


def page_meta(soup: BeautifulSoup) -> dict[str, str]:
    """Page metadata: <meta name=ArticleTitle/ContentSource/PubDate…>, <title>, labelled chrome."""
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name = tag.get("name") or tag.get("property")
        content = (tag.get("content") or "").strip()
        if name and content and name in META_NAMES:
            meta[name] = content
    if soup.title and soup.title.string:
        meta["html_title"] = " ".join(soup.title.string.split())
    for tag_name, key in (("ucaptitle", "ArticleTitle"), ("publishtime", "PubDate")):
        node = soup.find(tag_name)
        if node and node.get_text(strip=True) and key not in meta:
            meta[key] = node.get_text(" ", strip=True)
    for heading in soup.find_all(["h1", "h2"]):
        words = heading.get_text("", strip=True)
        if "报告" in words or "年报" in words:
            meta.setdefault("heading", words)
            break
    chrome = soup.get_text(" ", strip=True)[:20000]
    for label, value in _LABELLED.findall(chrome):
        meta.setdefault(label, value)
    return meta


def cjk_count(node: Tag) -> int:
    return len(_CJK.findall(node.get_text("", strip=True)))


def find_article(soup: BeautifulSoup) -> Tag:
    """The element that holds the report: a known CMS container, else the tightest dense block."""
    body = soup.body or soup
    for tag in body.find_all(SKIP_TAGS):
        tag.decompose()
    total = max(cjk_count(body), 1)
    for selector in ARTICLE_SELECTORS:
        found = body.select(selector)
        best = max(found, key=cjk_count, default=None)
        if best is not None and (cjk_count(best) >= 0.3 * total or best.find("table")):
            return best
    node = body
    while True:
        own = max(cjk_count(node), 1)
        child = max((c for c in node.children if isinstance(c, Tag)), key=cjk_count, default=None)
        if child is None or cjk_count(child) < 0.85 * own:
            return node
        node = child


def block_text(node: Tag, skip_tables: bool = False) -> str:
    """Text with a newline at every block boundary and none inside inline runs."""
    parts: list[str] = []

    def walk(element: Tag) -> None:
        for child in element.children:
            if isinstance(child, NavigableString):
                parts.append(str(child))
                continue
            if not isinstance(child, Tag) or child.name in SKIP_TAGS:
                continue
            if skip_tables and child.name == "table":
                parts.append("\n")
                continue
            block = child.name in BLOCK_TAGS or child.name in ("td", "th")
            if block:
                parts.append("\n")
            walk(child)
            if block:
                parts.append("\n" if child.name not in ("td", "th") else "\t")

    walk(node)
    lines = []
    for line in "".join(parts).replace("\xa0", " ").replace("\u3000", " ").split("\n"):
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


def cell_text(cell: Tag) -> str:
    """A cell's text: paragraphs and spans joined without separators (商业</p><p>企业 → 商业企业)."""
    text = "".join(cell.strings) if not cell.find(SKIP_TAGS) else block_text(cell)
    return " ".join(text.replace("\xa0", " ").replace("\u3000", " ").split())


def table_grid(table: Tag) -> list[list[Optional[str]]]:
    """Rebuild the dense grid of a table from rowspan/colspan; covered positions are None."""
    grid: dict[tuple[int, int], Optional[str]] = {}
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in grid:
                c += 1
            rowspan = _span(cell.get("rowspan"))
            colspan = _span(cell.get("colspan"))
            grid[(r, c)] = cell_text(cell)
            for dr in range(rowspan):
                for dc in range(colspan):
                    if dr or dc:
                        grid.setdefault((r + dr, c + dc), None)
            c += colspan
            width = max(width, c)
    height = len(rows)
    dense = [[grid.get((r, c), "") for c in range(width)] for r in range(height)]
    return [row for row in dense if any(cell for cell in row)]


def _span(value: object) -> int:
    try:
        return max(1, min(int(str(value).strip() or 1), 200))
    except (TypeError, ValueError):
        return 1
