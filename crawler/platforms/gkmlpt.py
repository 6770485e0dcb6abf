"""Guangdong gkmlpt (政府信息公开目录管理平台): a Vue shell plus a JSON list API.

The shell ``/gkmlpt/index`` carries ``window._CONFIG = {SID: '…', TREE: [...]}``, which gives the
site id and the category tree without running JS. The report category is the start URL's
fragment (``/gkmlpt/index#721``) when given, else the tree node named like 年报/年度报告. Lists
come from ``/gkmlpt/api/all/{cat}?page={n}&sid={SID}``; ``page=0`` repeats ``page=1`` (we start
at 1), pages past the end are empty or 404. Attachments named by the API are kept with each item
(preferred over scraping the detail page; some articles are attachment-only).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Optional
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from scrapy.http import Response

from crawler.platforms.base import Listing, ReportLink, absolute, dedupe, iso_date, listing_request
from crawler.platforms.encoding import page_text

NAME = "gkmlpt"
MAX_PAGES = 200
_SID = re.compile(r"""\bSID['"]?\s*[:=]\s*['"]?(\w+)""")
_TREE_NODE = re.compile(r"""\{\s*['"]?id['"]?\s*:\s*['"]?(\d+)['"]?\s*,\s*['"]?name['"]?\s*:\s*['"]([^'"]+)['"]""")
_REPORT_NODE = re.compile(r"年报|年度报告")
_PERCENT_U = re.compile(r"%u([0-9a-fA-F]{4})")


def detect(response: Response) -> bool:
    if "/gkmlpt/" in response.url:
        return True
    head = page_text(response)[:100_000]
    return "gkmlpt" in head and "_CONFIG" in head


def unescape_title(title: str) -> str:
    """JSON titles on some sites carry JavaScript ``%uXXXX`` escapes."""
    title = _PERCENT_U.sub(lambda m: chr(int(m.group(1), 16)), title or "")
    return unquote(title) if re.search(r"%[0-9A-Fa-f]{2}", title) else title


def category_from(text: str, fragment: str = "") -> Optional[str]:
    if fragment.strip("#").isdigit():
        return fragment.strip("#")
    for cat_id, name in _TREE_NODE.findall(text):
        if _REPORT_NODE.search(name):
            return cat_id
    return None


def api_url(base: str, category: str, page: int, sid: str) -> str:
    return urljoin(base, f"/gkmlpt/api/all/{category}?page={page}&sid={sid}")


def parse_listing(response: Response) -> Listing:
    listing = Listing(platform=NAME)
    if "/gkmlpt/api/" in response.url or response.body[:1].strip() in (b"{", b"["):
        return _parse_api(response, listing)
    text = page_text(response)
    sid = _SID.search(text)
    category = category_from(text, response.meta.get("fragment", ""))
    if not sid or not category:
        listing.note = "gkmlpt shell without SID or report category"
        return listing
    listing.requests = [listing_request(api_url(response.url, category, 1, sid.group(1)), NAME,
                                        meta={"gkmlpt": {"sid": sid.group(1), "cat": category}})]
    return listing


def _parse_api(response: Response, listing: Listing) -> Listing:
    try:
        data = json.loads(page_text(response) or "{}")
    except ValueError:
        listing.note = "gkmlpt API reply is not JSON"
        return listing
    articles = data.get("articles") or []
    listing.items = dedupe(_items(response.url, articles))
    query = parse_qs(urlsplit(response.url).query)
    page = int((query.get("page") or ["1"])[0] or 1)
    if page <= 1 and articles:
        total = _total(data)
        per_page = len(articles)
        pages = min(-(-total // per_page), MAX_PAGES) if total else 1
        state = response.meta.get("gkmlpt") or {}
        category = state.get("cat") or urlsplit(response.url).path.rstrip("/").rsplit("/", 1)[-1]
        sid = state.get("sid") or (query.get("sid") or [""])[0]
        listing.requests = [listing_request(api_url(response.url, category, n, sid), NAME,
                                            meta={"gkmlpt": {"sid": sid, "cat": category}})
                            for n in range(2, pages + 1)]
    return listing


def _total(data: dict[str, Any]) -> int:
    classify = data.get("classify") or {}
    for value in (data.get("total"), classify.get("post_count") if isinstance(classify, dict) else None):
        try:
            if value is not None:
                return int(value)
        except (TypeError, ValueError):
            continue
    return 0


def _items(base: str, articles: Iterable[dict[str, Any]]) -> Iterable[ReportLink]:
    for article in articles:
        if not isinstance(article, dict):
            continue
        url = absolute(base, article.get("url") or article.get("post_url"))
        attachments = [absolute(base, a.get("url")) for a in article.get("attachment") or []
                       if isinstance(a, dict)]
        attachments = [a for a in attachments if a]
        if not url and attachments:
            url = attachments[0]
        title = unescape_title(str(article.get("title") or ""))
        if url and title:
            date = iso_date(str(article.get("date") or article.get("display_publish_time")
                                or article.get("created_at") or ""))
            yield ReportLink(url=url, title=title, date=date, attachments=attachments)
