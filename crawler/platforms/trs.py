"""TRS WCM static columns: ``index.html``, ``index_1.html`` … with a script-only pager.

The pager exists only as ``createPageHTML(countPage, currentPage, "index", "html")`` or as inline
``var countPage = N`` + ``document.write`` (the raw HTML has no ``<a>`` for pages 2..N), so the
next pages are generated from the page count, on the first page only. Deep pages are sometimes a
~350-byte stub with status 200: a page under :data:`STUB_BYTES` or with no links yields nothing and
so stops the listing. One more page than announced is requested (index_N): on a site whose pages
are 1-based (index_1 → 404, page 2 = index_2) it is the last page; elsewhere it is a stub or a 404.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from scrapy.http import Response

from crawler.platforms.base import (Listing, ReportLink, anchor_date, column_prefix, dedupe,
                                    is_document_url, links, listing_request, selector)
from crawler.platforms.encoding import page_text

NAME = "trs"
STUB_BYTES = 600
MAX_PAGES = 500
_CREATE_PAGE = re.compile(
    r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*['\"]([\w\-]+)['\"]\s*,\s*['\"](\w+)['\"]")
_COUNT_PAGE = re.compile(r"\b(?:countPage|totalPage|pageCount)\s*=\s*['\"]?(\d+)")
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*['\"]?(\d+)")
_PAGE_NAME = re.compile(r"/(index|list)(?:_(\d+))?\.(s?html?)$")
_DETAIL = re.compile(r"/t\d{8}_\d+(?:_\d+)?\.s?html?$")
_WRITTEN_EXT = re.compile(r"""["'](index|list)(?:["']\s*\+\s*["'])?[._]["']?\s*\+?\s*["']?(s?html?)""")


def detect(response: Response) -> bool:
    text = page_text(response)[:200_000]
    # the pager script is the fingerprint of a TRS list; t-date links alone are not (county portals
    # link TRS-style articles from hand-made pages that also hold sub-columns)
    return bool(_CREATE_PAGE.search(text) or (_COUNT_PAGE.search(text) and "document.write" in text))


def page_count(text: str) -> tuple[int | None, int, str, str | None]:
    """(count, current page 0-based, file prefix, extension or None) from the pager script."""
    match = _CREATE_PAGE.search(text)
    if match:
        return int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
    count = _COUNT_PAGE.search(text)
    current = _CURRENT_PAGE.search(text)
    written = _WRITTEN_EXT.search(text)
    return (int(count.group(1)) if count else None, int(current.group(1)) if current else 0,
            written.group(1) if written else "index", written.group(2) if written else None)


def next_page_urls(url: str, text: str) -> list[str]:
    """index_1 … index_N for a first page announcing N pages (see module docstring)."""
    count, current, prefix, ext = page_count(text)
    if not count or current != 0:
        return []
    path = urlsplit(url).path
    named = _PAGE_NAME.search(path)
    if named and named.group(2):  # this is already index_k: not the first page
        return []
    ext = ext or (named.group(3) if named else "html")
    base = urljoin(url, column_prefix(url))
    return [f"{base}{prefix}_{k}.{ext}" for k in range(1, min(count, MAX_PAGES) + 1)]


def parse_listing(response: Response) -> Listing:
    text = page_text(response)
    listing = Listing(platform=NAME)
    if len(response.body) < STUB_BYTES:
        listing.note = "stub page"
        return listing
    sel = selector(response)
    host = urlsplit(response.url).netloc
    items = []
    for url, title, anchor in links(sel, response.url):
        parts = urlsplit(url)
        is_item = _DETAIL.search(parts.path) or is_document_url(url)
        # t-date pages of this site (a column may list other columns' pages) or files anywhere
        if is_item and title and (parts.netloc == host or is_document_url(url)):
            items.append(ReportLink(url=url, title=title, date=anchor_date(anchor)))
    listing.items = dedupe(items)
    if not listing.items:
        listing.note = "no items"
        return listing
    listing.requests = [listing_request(u, NAME) for u in next_page_urls(response.url, text)]
    return listing


# ------------------------------------------------------------------ detail pages split in parts
_DETAIL_STEM = re.compile(r"/(t\d{8}_\d+)\.(s?html?)$")
_BODY_START = re.compile(rb"<body\b[^<>]*>", re.I)


def detail_part_urls(url: str, text: str) -> list[str]:
    """The later parts of a detail page TRS split over ``t…_<id>.html``, ``t…_<id>_1.html``, …

    The first part carries ``createPageHTML(N, 0, "t…_<id>", "html")`` (its own name as the
    prefix); the others are ``t…_<id>_1`` … ``t…_<id>_{N-1}``. Anything else — a listing's pager,
    a later part, a pager naming another page — gives no parts.
    """
    at = text.find("createPageHTML")  # a substring search is several times cheaper than the pattern's
    match = _CREATE_PAGE.search(text, at) if at != -1 else None
    own = _DETAIL_STEM.search(urlsplit(url).path)
    if match is None or own is None:
        return []
    count, current, stem, ext = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
    if count < 2 or current != 0 or stem != own.group(1):
        return []
    return [urljoin(url, f"{stem}_{k}.{ext}") for k in range(1, min(count, MAX_PAGES))]


def join_detail_parts(first: bytes, rest: list[bytes]) -> bytes:
    """One page from a detail page's parts: the later parts' ``<body>`` contents appended to the
    first part's body, so a report whose tables continue on ``_1.html`` is read whole.

    Bytes in, bytes out (the parts of one page share its encoding); a part without ``<body>`` is
    appended whole.
    """
    if not rest:
        return first
    bodies = [_body_inner(part) for part in rest]
    end = first.lower().rfind(b"</body")
    at = end if end >= 0 else len(first)
    return first[:at] + b"\n".join([b"", *bodies, b""]) + first[at:]


def _body_inner(page: bytes) -> bytes:
    """What is between ``<body …>`` and the last ``</body>`` (the whole page when either is missing)."""
    start = _BODY_START.search(page)
    end = page.lower().rfind(b"</body")
    return page[start.end():end] if start is not None and end >= start.end() else page
