"""A report's detail page: is the report in the page itself, and which files does it link?

Real detail pages carry the report in four ways: as the HTML body (Word-exported tables), as an
attachment (``./P0….pdf`` with ``OLDSRC``, Hanweb ``downfile.jsp``, gkmlpt ``/attachment/``), as a
pdf.js viewer (``viewer.html?file=%2F…pdf``) or as scanned images (「图片版」). This module finds
all of them; it is shared by every platform (their detail pages differ less than their lists).
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree
from parsel.csstranslator import HTMLTranslator
from scrapy.http import Response

from crawler.platforms import trs
from crawler.platforms.base import absolute, anchor_title, html_root, is_document_url, is_image_url
from crawler.platforms.encoding import page_text

_BODY_CONTAINERS = (".TRS_Editor", ".trs_editor_view", ".TRS_UEDITOR", "#zoom", "#Zoom",
                    "#UCAP-CONTENT", "#ivs_content", ".Custom_UnionStyle", ".article-content",
                    ".xxgk_content", ".main-txt", ".artile_zw", "article", ".content", "#content")
_SECTION_MARKERS = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
                    "行政复议", "存在的主要问题", "其他需要报告的事项", "本年新收", "依申请公开",
                    "主动公开", "概述", "政府信息公开情况统计表")
_APP_LINKS = re.compile(r"""appLinkStr\s*=\s*['"]([^'"]+)['"]""")
_DOWNFILE = re.compile(r"downfile\.jsp|/attach(?:ment)?/|download\.(?:jsp|do|aspx?)|filedownload|getfile", re.I)
_VIEWER = re.compile(r"viewer\.html?\?", re.I)
_CHROME_IMAGE = re.compile(r"logo|icon|ico_|banner|btn|button|share|qrcode|erweima|wzbs|jiucuo|"
                           r"conac|beian|gongan|blue\.png|red\.png|/images?/(?:public|common)|spacer",
                           re.I)
MIN_REPORT_CHARS = 300


def _container_test(css: str) -> tuple[Optional[str], etree.XPath]:
    """A body container selector compiled once (parsel's CSS translation), with the literal its
    class or id needs in the page source: when that is absent, the XPath pass is skipped."""
    literal = css[1:] if css[0] in ".#" else None
    return literal, etree.XPath(HTMLTranslator().css_to_xpath(css), smart_strings=False)


_BODY_TESTS = [_container_test(css) for css in _BODY_CONTAINERS]
_FRAME_SOURCES = {"iframe": "src", "embed": "src", "object": "data"}


@dataclass
class Attachment:
    url: str
    title: str = ""
    kind: str = "file"  # file | viewer | image


@dataclass
class Detail:
    """What a detail page offers: its own body as a report, and the files it links."""

    is_report_body: bool
    attachments: list[Attachment] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)  # later pages of a split page (TRS t…_<id>_1.html)


def viewer_target(url: str) -> Optional[str]:
    """The document behind a pdf.js ``viewer.html?file=…`` link."""
    if not _VIEWER.search(url):
        return None
    files = parse_qs(urlsplit(url).query).get("file")
    return unquote(files[0]) if files else None


def looks_like_report_text(text: str) -> bool:
    """Positive evidence that a page's own text is a report (not a wrapper or an anti-bot shell)."""
    if len(text) < MIN_REPORT_CHARS:
        return False
    return sum(1 for marker in _SECTION_MARKERS if marker in text) >= 3


# ------------------------------------------------------------------ the quick path (source text)
# Every pattern here is linear in the page: a tag is matched only up to the next "<" or ">" (a
# hostile page of unclosed "<a <a <a …" must not cost quadratic time on the reactor).
# comments, scripts and styles: never shown, never containers (the tree path drops them too)
_INVISIBLE = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I)
_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")
# the start tags the tree path reads links from, and their link attributes (a superset of what it
# follows: any file-like link here sends the page to the tree path, which decides)
_LINK_TAG = re.compile(r"<(?:a|iframe|embed|object)\s[^<>]*>", re.I)
_LINK_ATTR = re.compile(r"""\s(?:href|oldsrc|src|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_AMBIGUOUS = object()


def _quick_container(css: str) -> tuple[tuple[str, ...], re.Pattern]:
    """A start-tag pattern for one of ``_BODY_CONTAINERS``, and the literals one of which the
    source must hold for it to match (a substring test is far cheaper than the pattern)."""
    if css[0] == ".":  # a class token, case-sensitive as in CSS
        name = re.escape(css[1:])
        attribute = rf"""(?i:class)\s*=\s*(?:"(?:[^"]*\s)?{name}(?=[\s"])|'(?:[^']*\s)?{name}(?=[\s'])|{name}(?=[\s/>]))"""
    elif css[0] == "#":  # an id, exact
        name = re.escape(css[1:])
        attribute = rf"""(?i:id)\s*=\s*(?:"{name}"|'{name}'|{name}(?=[\s/>]))"""
    else:  # a tag name
        return (css.lower(), css.upper()), re.compile(rf"<({css})(?=[\s/>])[^<>]*>", re.I)
    return (css[1:],), re.compile(rf"<([A-Za-z][A-Za-z0-9]*)(?=[\s/])[^<>]*?\s{attribute}[^<>]*>")


_QUICK_CONTAINERS = [_quick_container(css) for css in _BODY_CONTAINERS]


def _element_end(source: str, start: int, tag: str) -> Optional[int]:
    """Where the element opened just before ``start`` closes, by counting its nested namesakes;
    None when that is not plain (never closed, or a self-closing namesake the parser may read
    either way)."""
    depth = 1
    for match in re.compile(rf"<(/?){tag}(?=[\s/>])[^<>]*>", re.I).finditer(source, start):
        if match.group(1):
            depth -= 1
            if depth == 0:
                return match.start()
        elif match.group(0).endswith("/>"):
            return None
        else:
            depth += 1
    return None


def _quick_scope(visible: str) -> object:
    """The source of the report container (as the tree path picks it), the whole page when there
    is none, or ``_AMBIGUOUS`` when the source alone cannot say where it ends."""
    for literals, pattern in _QUICK_CONTAINERS:
        if not any(literal in visible for literal in literals):
            continue
        match = pattern.search(visible)
        if match is None:
            continue
        end = _element_end(visible, match.end(), match.group(1).lower())
        return visible[match.end():end] if end is not None else _AMBIGUOUS
    return visible


def _may_link_a_file(visible: str, base_url: str) -> bool:
    for tag in _LINK_TAG.finditer(visible):
        for attribute in _LINK_ATTR.finditer(tag.group(0)):
            url = absolute(base_url, next(value for value in attribute.groups() if value is not None))
            if url and (is_document_url(url) or _DOWNFILE.search(url) or _VIEWER.search(url)):
                return True
    return False


def quick_report_body(text: str, base_url: str) -> bool:
    """True when a page's source alone shows it is a report body that links no file.

    False means "not shown this way" (the tree path decides), never "not a report". The text is
    what the tree path reads — the container's text, tags, comments, scripts and styles removed,
    entities decoded — so both agree; a page with any hint of a file link, or whose container's
    end is not plain in the source, is left to the tree path.
    """
    if len(text) < MIN_REPORT_CHARS or ("appLinkStr" in text and _APP_LINKS.search(text)):
        return False
    visible = _INVISIBLE.sub("", text)
    if _may_link_a_file(visible, base_url):
        return False
    scope = _quick_scope(visible)
    if scope is _AMBIGUOUS:
        return False
    if _plainly_report_text(scope):
        return True
    shown = _TAG.sub("", scope)
    if "&" in shown:
        shown = html.unescape(shown)
    return looks_like_report_text("".join(shown.split()))


def _plainly_report_text(scope: str) -> bool:
    """:func:`looks_like_report_text` of the scope's text, proven without stripping every tag.

    Stripping a 130 KB Word export's tags is most of the quick path's cost. Instead: three section
    markers standing in the source outside any tag (so also in the stripped text), and the text
    of the scope's first tags already long enough. True only when the full test would say True;
    False sends the page to the full test.
    """
    found = 0
    for marker in _SECTION_MARKERS:
        found += _in_text(scope, marker)
        if found >= 3:
            return _text_at_least(scope, MIN_REPORT_CHARS)
    return False


def _in_text(source: str, marker: str) -> bool:
    """Whether ``marker`` occurs in ``source`` outside a tag: no "<" since the last ">" before it."""
    at = source.find(marker)
    while at != -1:
        if source.rfind("<", 0, at) <= source.rfind(">", 0, at):
            return True
        at = source.find(marker, at + 1)
    return False


_ENTITY_SLACK = 40  # an entity cut at the end of a prefix reads longer than it will (at most ~33)


def _text_at_least(scope: str, chars: int) -> bool:
    """Whether the scope's visible text (tags stripped, entities decoded, no whitespace) has at
    least ``chars`` characters, reading only as many tags as it takes to show it."""
    pieces: list[str] = []
    raw, check_at, last = 0, chars + _ENTITY_SLACK, 0
    for tag in itertools.chain(_TAG.finditer(scope), (None,)):
        piece = scope[last:tag.start()] if tag is not None else scope[last:]
        pieces.append(piece)
        raw += len(piece)
        if raw >= check_at or tag is None:  # raw length bounds the text's length from above
            prefix = "".join(pieces)
            shown = len("".join((html.unescape(prefix) if "&" in prefix else prefix).split()))
            if shown >= chars + (_ENTITY_SLACK if tag is not None else 0):
                return True
            check_at = 2 * raw  # doubling: the prefix is joined O(log n) times
        if tag is None:
            return False
        last = tag.end()
    return False


# ------------------------------------------------------------------ the tree path (lxml)
def _body_container(root: etree._Element, source: str) -> Optional[etree._Element]:
    """The report's container: the first element matching the first of ``_BODY_CONTAINERS``
    that matches anything (one XPath pass per selector whose class or id is in the source)."""
    for literal, xpath in _BODY_TESTS:
        if literal is not None and literal not in source:
            continue
        found = xpath(root)
        if found:
            return found[0]
    return None


def parse_detail(response: Response) -> Detail:
    """The report body and the files of a detail page.

    Most report pages are large Word exports that link no file: those are recognised from their
    source text (:func:`quick_report_body`, several times cheaper than a tree). Every other page —
    a page that may link a file, or whose text does not plainly read as a report — is read as a
    tree with lxml (compiled XPath and C-level traversals: this runs for every detail page).
    """
    text = page_text(response)
    detail = Detail(is_report_body=True) if quick_report_body(text, response.url) else \
        _parse_detail_tree(response, text)
    detail.parts = trs.detail_part_urls(response.url, text)
    return detail


def _parse_detail_tree(response: Response, text: str) -> Detail:
    root = html_root(text, response.url)
    # never shown, never a container: gone before reading text (appLinkStr is read from the source)
    etree.strip_elements(root, "script", "style", with_tail=False)
    body = _body_container(root, text)
    scope = body if body is not None else root
    # joined without spaces: Word exports split words over <span>s (主动公开政府信</span><span>息情况)
    body_text = "".join("".join(scope.itertext()).split())
    detail = Detail(is_report_body=looks_like_report_text(body_text))
    seen: set[str] = set()

    def add(url: Optional[str], label: str, kind: str) -> None:
        if url and url not in seen and url != response.url:
            seen.add(url)
            detail.attachments.append(Attachment(url=url, title=label, kind=kind))

    for anchor in root.iter("a"):
        # the href is what a browser follows; OLDSRC (the server-side path) only when href is empty
        # (the HTML parser lower-cases attribute names)
        href, oldsrc = anchor.get("href"), anchor.get("oldsrc")
        if href is None and oldsrc is None:
            continue
        url = absolute(response.url, href or oldsrc)
        if not url:
            continue
        label = anchor_title(anchor) or anchor.get("download", "")
        target = viewer_target(url)
        if target:
            add(absolute(response.url, target), label, "file")
        elif is_document_url(url) or (_DOWNFILE.search(url) and not is_image_url(url)):
            add(url, label, "file")
    for frame in root.iter(*_FRAME_SOURCES):
        src = frame.get(_FRAME_SOURCES[frame.tag])
        url = absolute(response.url, src) if src is not None else None
        if not url:
            continue
        target = viewer_target(url)
        if target:
            add(absolute(response.url, target), "", "file")
        elif is_document_url(url):
            add(url, "", "file")
    for script in _APP_LINKS.findall(text):
        for part in script.split("|"):
            url = absolute(response.url, part.strip())
            if url and is_document_url(url):
                add(url, "", "file")
    if not detail.is_report_body and not any(a.kind == "file" for a in detail.attachments):
        for img in scope.iter("img"):
            src = img.get("src")
            url = absolute(response.url, src) if src is not None else None
            if url and is_image_url(url) and not _CHROME_IMAGE.search(url):
                add(url, img.get("alt", ""), "image")
    return detail
