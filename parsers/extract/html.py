"""HTML detail pages → Extraction: the article's text, its tables as grids, the page's metadata.

Real pages are Word/WPS pastes inside CMS chrome: MsoNormal paragraphs, ``<o:p>``, spans that
split numbers and years (``20</span><span>23``), header cells split over several ``<p>``,
rowspan/colspan grids, GBK pages, and charsets declared wrongly. Inline elements are joined
without separators, block elements end a line, and the grid is rebuilt from the spans.

Built on lxml directly (not BeautifulSoup): report pages are 100–400 KB of Word markup and the
target is over 100 pages per second per core.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from lxml import etree

from parsers.errors import ParseError
from parsers.limits import Limits
from parsers.model import Extraction, Table

BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "section", "article", "blockquote", "dd", "dt", "dl", "pre", "center", "hr", "form",
              "header", "footer", "ucapcontent", "ucaptitle", "publishtime", "tbody", "thead"}
SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head", "select",
             "button", "input", "textarea", "title"}
# Known CMS article containers, best first: (attribute, value) pairs or a tag name.
ARTICLE_MARKERS: tuple[tuple[str, str], ...] = (
    ("class", "TRS_Editor"), ("id", "zoom"), ("id", "Zoom"), ("id", "UCAP-CONTENT"), ("tag", "ucapcontent"),
    ("class", "trs_editor_view"), ("class", "article-content"), ("class", "article_content"),
    ("class", "zoom"), ("class", "TRS_UEDITOR"), ("id", "content"), ("class", "content"), ("tag", "article"),
)
META_NAMES = ("ArticleTitle", "ContentSource", "PubDate", "ColumnName", "Url", "SiteName", "Author",
              "Description", "Keywords", "KeyWords", "firstpublishedtime", "lastmodifiedtime")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_HTML_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=False)
_LABELLED = re.compile(r"(发布机构|发文机关|信息来源|来源|发布日期|发布时间|成文日期|公开日期)[：:]\s*([^\s：:]{1,60})")


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
    try:
        root = etree.fromstring(_XML_DECL.sub("", text, count=1) or "<html></html>", _HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ParseError(f"unreadable HTML ({exc})") from exc
    if root is None:
        raise ParseError("not an HTML document")
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, *(SKIP_TAGS - {"head", "title"}),
                         with_tail=False)
    meta = page_meta(root)
    etree.strip_elements(root, "head", "title", with_tail=False)
    article = find_article(root)
    tables = [t for t in article.iter("table") if not _has_descendant(t, "table")]
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


def _tag(element: etree._Element) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def _has_descendant(element: etree._Element, tag: str) -> bool:
    return next(element.iterdescendants(tag), None) is not None


def _text_of(element: etree._Element) -> str:
    return " ".join("".join(_strings(element)).split())


def page_meta(root: etree._Element) -> dict[str, str]:
    """Page metadata: <meta name=ArticleTitle/ContentSource/PubDate…>, <title>, labelled chrome."""
    meta: dict[str, str] = {}
    for tag in root.iter("meta"):
        name = tag.get("name") or tag.get("property")
        content = (tag.get("content") or "").strip()
        if name and content and name in META_NAMES:
            meta[name] = content
    title = next(root.iter("title"), None)
    if title is not None and (title.text or "").strip():
        meta["html_title"] = " ".join(title.text.split())
    for tag_name, key in (("ucaptitle", "ArticleTitle"), ("publishtime", "PubDate")):
        node = next(root.iter(tag_name), None)
        if node is not None and key not in meta and _text_of(node):
            meta[key] = _text_of(node)
    for heading in root.iter("h1", "h2"):
        words = "".join(_text_of(heading).split())
        if "报告" in words or "年报" in words:
            meta.setdefault("heading", words)
            break
    chrome = " ".join(_first_chars(root.itertext(), 20000).split())
    for label, value in _LABELLED.findall(chrome):
        meta.setdefault(label, value)
    return meta


def _marked_elements(body: etree._Element) -> dict[tuple[str, str], list[etree._Element]]:
    """One pass over the tree: the elements carrying each known article marker."""
    wanted = set(ARTICLE_MARKERS)
    found: dict[tuple[str, str], list[etree._Element]] = {}
    for element in body.iter():
        tag = _tag(element)
        if not tag:
            continue
        keys = [("tag", tag)]
        if element.get("id"):
            keys.append(("id", element.get("id")))
        keys += [("class", c) for c in (element.get("class") or "").split()]
        for key in keys:
            if key in wanted:
                found.setdefault(key, []).append(element)
    return found


def _first_chars(strings: Iterator[str], limit: int) -> str:
    parts, size = [], 0
    for piece in strings:
        parts.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return "".join(parts)[:limit]


def find_article(root: etree._Element) -> etree._Element:
    """The element that holds the report: a known CMS container, else the tightest dense block."""
    counts: dict[etree._Element, int] = {}

    def cjk_count(element: etree._Element) -> int:
        if element not in counts:
            counts[element] = len(_CJK.findall("".join(element.itertext())))
        return counts[element]

    body = next(root.iter("body"), None)
    body = root if body is None else body
    candidates = _marked_elements(body)
    for marker in ARTICLE_MARKERS:
        found = candidates.get(marker, [])
        if len(found) == 1 and _has_descendant(found[0], "table"):
            return found[0]
        best = max(found, key=cjk_count, default=None)
        if best is not None and (_has_descendant(best, "table") or cjk_count(best) >= 0.3 * max(cjk_count(body), 1)):
            return best
    node = body
    while True:
        own = max(cjk_count(node), 1)
        children = [c for c in node if _tag(c) and _tag(c) not in SKIP_TAGS]
        child = max(children, key=cjk_count, default=None)
        if child is None or cjk_count(child) < 0.85 * own:
            return node
        node = child


def _strings(element: etree._Element) -> Iterator[str]:
    """Every text node below ``element`` (scripts, styles and comments were stripped on load)."""
    return element.itertext()


def block_text(element: etree._Element, skip_tables: bool = False) -> str:
    """Text with a newline at every block boundary and none inside inline runs."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            tag = _tag(child)
            if tag and tag not in SKIP_TAGS:
                if skip_tables and tag == "table":
                    parts.append("\n")
                else:
                    block = tag in BLOCK_TAGS or tag in ("td", "th")
                    if block:
                        parts.append("\n")
                    walk(child)
                    if block:
                        parts.append("\t" if tag in ("td", "th") else "\n")
            if child.tail:
                parts.append(child.tail)

    walk(element)
    lines = []
    for line in "".join(parts).replace("\xa0", " ").replace("\u3000", " ").split("\n"):
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


def cell_text(cell: etree._Element) -> str:
    """A cell's text: paragraphs and spans joined without separators (商业</p><p>企业 → 商业企业)."""
    return " ".join("".join(_strings(cell)).replace("\xa0", " ").replace("\u3000", " ").split())


def _rows_of(table: etree._Element) -> list[etree._Element]:
    rows = []
    for tr in table.iter("tr"):
        parent = tr.getparent()
        while parent is not None and _tag(parent) != "table":
            parent = parent.getparent()
        if parent is table:
            rows.append(tr)
    return rows


def table_grid(table: etree._Element) -> list[list[Optional[str]]]:
    """Rebuild the dense grid of a table from rowspan/colspan; covered positions are None."""
    grid: dict[tuple[int, int], Optional[str]] = {}
    rows = _rows_of(table)
    width = 0
    for r, tr in enumerate(rows):
        c = 0
        for cell in tr:
            if _tag(cell) not in ("td", "th"):
                continue
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
    dense = [[grid.get((r, c), "") for c in range(width)] for r in range(len(rows))]
    return [row for row in dense if any(cell for cell in row)]


def _span(value: object) -> int:
    try:
        return max(1, min(int(str(value).strip() or 1), 200))
    except (TypeError, ValueError):
        return 1
