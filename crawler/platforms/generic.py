"""Any HTML list page: the long tail of county and township portals.

What it finds on a page:

* items: links whose title speaks of a report (the spider's title filter decides what is kept);
* continuations: JS (``location.replace``/``location.href``) and ``<meta refresh>`` shells, same-site
  ``<iframe>`` lists, pager links (下一页/尾页/page numbers, and TRS pager scripts), and sub-columns
  below the column (year folders ``2024n/``, township trees ``xzjd/``) reached from the column page;
* nothing from a soft-404 (a small 200 page saying 页面不存在/找不到).

Sub-column and pager links are followed only below the column's own directory, so a county
portal's navigation never turns the crawl into a whole-site crawl.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapy.http import Response

from crawler.platforms import trs
from crawler.platforms.base import (Listing, ReportLink, absolute, anchor_date, column_prefix, dedupe,
                                    is_document_url, links, listing_request, selector)
from crawler.platforms.encoding import page_text

NAME = "generic"
SOFT_404_BYTES = 3000
_SOFT_404 = re.compile(r"页面不存在|页面未找到|找不到(该|您|页面)|404\s*Not\s*Found|您访问的页面", re.I)
_JS_REDIRECT = re.compile(
    r"""(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*(?:=|\.replace\(|\.assign\()\s*['"]([^'"]+)['"]""")
# meta refresh: the tag first, then its attributes (each pattern linear in the page, also on hostile
# input such as thousands of unclosed "<meta " tags)
_META_TAG = re.compile(r"<meta\b[^<>]*>", re.I)
_REFRESH_EQUIV = re.compile(r"""http-equiv\s*=\s*['"]?refresh\b""", re.I)
_REFRESH_URL = re.compile(r"""content\s*=\s*['"]?[\d\s;]*url\s*=\s*([^'">\s]+)""", re.I)
_ITEM_TITLE = re.compile(r"报告|年报|公开")
_PAGER_TEXT = re.compile(r"^(下一?页|尾页|末页|后页|>|»|\d{1,3})$")
_SUBCOLUMN_TEXT = re.compile(r"(19|20)\d{2}\s*年?度?|乡镇|街道|部门|单位|区县|县区|年报|年度报告|政府|镇|乡")
_SUBCOLUMN_PATH = re.compile(r"(?:/|/(?:index|list|default)(?:_\d+)?\.s?html?)$")
_VIEWER = re.compile(r"viewer\.html", re.I)


def detect(response: Response) -> bool:  # the fallback: any HTML page is a generic list
    return True


def is_soft_404(response: Response, text: str) -> bool:
    return len(response.body) < SOFT_404_BYTES and bool(_SOFT_404.search(text))


def is_empty_shell(response: Response, text: str) -> bool:
    """A 200 page with nothing in it: no links, no frames, no redirect, (almost) no visible text.

    Anti-bot shells look like this (a script that would build the page in a real browser); a
    success is judged positively, so such a page is never taken for an empty column.
    """
    if response.status != 200 or len(response.body) > 8192:
        return False
    head = response.body[:2048].lower()
    if b"<html" not in head and b"<body" not in head:
        return False  # JSON replies, scripts and text files are not pages
    if meta_refresh_targets(text) or _JS_REDIRECT.search(text):
        return False
    sel = selector(response)
    if sel.css("a[href], iframe[src], frame[src]"):
        return False
    visible = "".join(sel.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)"
                                " and not(ancestor::noscript)]").getall())
    return len("".join(visible.split())) < 20


def meta_refresh_targets(text: str) -> list[str]:
    """The ``url=`` of every ``<meta http-equiv="refresh" content="0;url=…">``, as written."""
    targets = []
    for tag in _META_TAG.finditer(text):
        if _REFRESH_EQUIV.search(tag.group(0)):
            found = _REFRESH_URL.search(tag.group(0))
            if found:
                targets.append(found.group(1))
    return targets


def shell_targets(response: Response, text: str) -> list[str]:
    """Where a JS or meta-refresh shell sends the browser."""
    targets = []
    written = meta_refresh_targets(text) + [m.group(1) for m in _JS_REDIRECT.finditer(text[:20_000])]
    for target in written:
        url = absolute(response.url, target)
        if url and url != response.url:
            targets.append(url)
    return list(dict.fromkeys(targets))


def parse_listing(response: Response) -> Listing:
    text = page_text(response)
    listing = Listing(platform=NAME)
    if is_soft_404(response, text):
        listing.note = "soft 404"
        return listing
    sel = selector(response)
    host = urlsplit(response.url).netloc
    prefix = column_prefix(response.meta.get("column_url") or response.url)
    follow: list[str] = []
    items: list[ReportLink] = []
    is_shell = len(sel.css("a[href]")) == 0 and len(response.body) < 4000
    if is_shell or meta_refresh_targets(text):
        follow += shell_targets(response, text)
    for frame in sel.css("iframe[src], frame[src]"):
        url = absolute(response.url, frame.attrib.get("src"))
        if url and urlsplit(url).netloc == host and not _VIEWER.search(url):
            follow.append(url)
    for url, title, anchor in links(sel, response.url):
        parts = urlsplit(url)
        if title and _ITEM_TITLE.search(title) and not _is_listing_like(parts.path, prefix, title):
            items.append(ReportLink(url=url, title=title, date=anchor_date(anchor)))
        elif parts.netloc == host and parts.path.startswith(prefix) and url != response.url:
            if _PAGER_TEXT.match(title or "") or _is_listing_like(parts.path, prefix, title):
                follow.append(url)
    follow += trs.next_page_urls(response.url, text)
    listing.items = dedupe(items)
    listing.requests = [listing_request(u, NAME) for u in dict.fromkeys(follow) if u != response.url]
    if not listing.items and not listing.requests:
        listing.note = "nothing found"
    return listing


def _is_listing_like(path: str, prefix: str, title: str) -> bool:
    """A sub-column of the report column (year folder, township tree), not an article."""
    if not path.startswith(prefix) or path == prefix or is_document_url(path):
        return False
    if re.search(r"/t\d{8}_\d+|/art_|/content_|/post_|\d{6,}\.s?html?$", path):
        return False
    return bool(_SUBCOLUMN_PATH.search(path)) and (not title or bool(_SUBCOLUMN_TEXT.search(title))
                                                   or path.endswith("/"))
