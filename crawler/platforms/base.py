"""What every platform adapter returns, and the link helpers they share.

An adapter is a page object in web-poet's sense: a pure function of a response. It never does
I/O and never decides what is a report (that is :mod:`crawler.titles`); it only says which links on
a listing are items (with their titles and dates) and which further requests (next pages, API
calls) continue the listing. The spider turns those into Scrapy requests.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
import threading
from typing import Iterable, Optional, Union
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree
from parsel import Selector
from scrapy import Request
from scrapy.http import Response

from crawler.platforms.encoding import page_text

DATE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
# attachment file types we fetch (reports are published in all of them)
DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".et", ".ofd", ".rtf")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "#", "data:")
_TEXT_NODES = etree.XPath("descendant-or-self::text()", smart_strings=False)
_PARSERS = threading.local()


@dataclass
class ReportLink:
    """One listed item: where it is, its title as listed, and what the listing knows about it."""

    url: str
    title: str
    date: Optional[str] = None  # ISO date as listed (publish date, not the report year)
    attachments: list[str] = field(default_factory=list)  # files the listing API names directly


@dataclass
class Listing:
    """What one listing response yields: items and the requests that continue the listing."""

    platform: str
    items: list[ReportLink] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    note: str = ""  # e.g. "stub page", "js shell" — for logs and stats


def html_root(text: str, base_url: str) -> etree._Element:
    """An lxml tree of a decoded page, parsed exactly as parsel's ``Selector(text=...)`` does.

    For hot paths (every detail page): plain lxml with compiled XPath is several times cheaper
    than parsel's wrappers, and lxml parses without holding the GIL.
    """
    body = text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    try:
        root = etree.fromstring(body, parser=_html_parser(), base_url=base_url)
    except etree.XMLSyntaxError:  # nothing an HTML parser in recovery mode could use
        root = None
    return root if root is not None else etree.fromstring(b"<html/>", parser=_html_parser())


def _html_parser() -> etree.HTMLParser:
    parser = getattr(_PARSERS, "html", None)
    if parser is None:  # lxml parsers are not thread-safe: one per thread
        parser = _PARSERS.html = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    return parser


def selector(response: Response) -> Selector:
    """A parsel selector over the correctly decoded page text."""
    return Selector(text=page_text(response) or "<html></html>", base_url=response.url)


def absolute(base: str, href: Optional[str]) -> Optional[str]:
    """Resolve ``./``, ``../``, ``//host`` and entity-escaped hrefs; None for non-links."""
    if not href:
        return None
    href = html.unescape(href.strip().strip("'\""))
    if not href or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url = urljoin(base, href)
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url.split("#", 1)[0]


def iso_date(text: str) -> Optional[str]:
    match = DATE.search(text or "")
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def anchor_title(anchor: Union[Selector, etree._Element]) -> str:
    """The human title of a link: its title attribute, else its text (whitespace collapsed)."""
    element = anchor.root if isinstance(anchor, Selector) else anchor
    title = element.get("title") or ""
    text = " ".join(" ".join(_TEXT_NODES(element)).split())
    # a title attribute can be truncated or generic; the longer of the two is the better one
    best = title if len(title.strip()) >= len(text) else text
    return " ".join(html.unescape(best).split())


def anchor_date(anchor: Selector) -> Optional[str]:
    """A date printed next to a link: inside it, or in its enclosing row/list item."""
    inside = iso_date(" ".join(anchor.css("::text").getall()))
    if inside:
        return inside
    for ancestor in ("ancestor::li[1]", "ancestor::tr[1]", "ancestor::dl[1]", "parent::*"):
        node = anchor.xpath(ancestor)
        if node:
            found = iso_date(" ".join(node.xpath(".//text()").getall()))
            if found:
                return found
    return None


def links(sel: Selector, base_url: str, css: str = "a[href]") -> Iterable[tuple[str, str, Selector]]:
    """(absolute url, title, anchor) for every real link matched by ``css``."""
    for anchor in sel.css(css):
        url = absolute(base_url, anchor.attrib.get("href"))
        if url:
            yield url, anchor_title(anchor), anchor


def is_document_url(url: str) -> bool:
    path = unquote(urlsplit(url).path).lower()
    return path.endswith(DOCUMENT_SUFFIXES)


def is_image_url(url: str) -> bool:
    return unquote(urlsplit(url).path).lower().endswith(IMAGE_SUFFIXES)


def column_prefix(url: str) -> str:
    """The directory of a column page (``/a/b/index.html`` → ``/a/b/``)."""
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def dedupe(items: Iterable[ReportLink]) -> list[ReportLink]:
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.url not in seen:
            seen.add(item.url)
            kept.append(item)
    return kept


def listing_request(url: str, platform: str, **kwargs) -> Request:
    """A request continuing a listing; the spider sets the callback and the source."""
    meta = kwargs.pop("meta", {})
    meta.setdefault("platform", platform)
    meta["role"] = "listing"
    return Request(url, meta=meta, **kwargs)
