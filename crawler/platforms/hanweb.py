"""Hanweb 大汉 JCMS columns: first page embedded in ``<datastore>``, the rest from ``dataproxy.jsp``.

The column page ``/col/col{ID}/index.html`` embeds the first records as CDATA ``<record>``s and a
``jpage({... totalRecord: N, perPage: P, proxyUrl: ...})`` call. The other records come from
``POST dataproxy.jsp?startrecord=&endrecord=&perpage=`` with the column's form fields, and the
server checks the ``Referer``. Some servers honour only ``page=``, others truncate a large
``perpage``: we ask for one page of ``perPage`` (≤ :data:`MAX_PERPAGE`) per call and send both
``startrecord``/``endrecord`` and ``page``, which every variant answers the same way. Paging stops at
``totalRecord`` and at the first empty group.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy import FormRequest
from scrapy.http import Response

from crawler.platforms.base import (Listing, ReportLink, absolute, anchor_date, anchor_title,
                                    dedupe)
from crawler.platforms.encoding import page_text

NAME = "hanweb"
MAX_PERPAGE = 100
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
_RECORD = re.compile(r"<record>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</nextgroup>", re.S | re.I)
_TOTAL_RECORD = re.compile(r"totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_TOTAL_TAG = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_PERPAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
_PROXY = re.compile(r"proxyUrl\s*[:=]\s*['\"]([^'\"]+)['\"]", re.I)
_UNIT_DIV = re.compile(r"<div\b[^<>]*?\bid=['\"]?(\d+)['\"]?[^<>]*>\s*<script\b[^<>]*text/xml", re.I)
_COLUMN_ID = re.compile(r"/col/col(\d+)/")
FORM_FIELDS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid",
               "webname", "permissiontype")


def detect(response: Response) -> bool:
    text = page_text(response)[:300_000]
    return "<datastore" in text.lower() or "dataproxy.jsp" in text or "jpage(" in text


def records(text: str, base_url: str) -> list[ReportLink]:
    """The items in ``<record>`` CDATA blocks (embedded or from the API)."""
    items = []
    for fragment in _RECORD.findall(text):
        sel = Selector(text=f"<div>{fragment}</div>")
        for anchor in sel.css("a[href]"):
            url = absolute(base_url, anchor.attrib.get("href"))
            title = anchor_title(anchor)
            if url and title:
                date = anchor_date(anchor) or _date_in(fragment)
                items.append(ReportLink(url=url, title=title, date=date))
    return items


def _date_in(fragment: str) -> str | None:
    from crawler.platforms.base import iso_date

    return iso_date(re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", fragment)))


def proxy_form(text: str, column_url: str) -> tuple[str, dict[str, str]]:
    """The dataproxy URL and form fields of a column page (from ``<nextgroup>`` and jpage)."""
    proxy = _PROXY.search(text)
    proxy_url = urljoin(column_url, html.unescape(proxy.group(1)) if proxy else DEFAULT_PROXY)
    form: dict[str, str] = {}
    nextgroup = _NEXTGROUP.search(text)
    if nextgroup:
        href = re.search(r"href=['\"]([^'\"]+)['\"]", nextgroup.group(1))
        if href:
            query = urlsplit(html.unescape(href.group(1))).query
            form.update({k: v for k, v in parse_qsl(query, keep_blank_values=True) if k in FORM_FIELDS})
            if not proxy:
                proxy_url = urljoin(column_url, urlsplit(html.unescape(href.group(1))).path)
    column = _COLUMN_ID.search(urlsplit(column_url).path)
    if column:
        form.setdefault("columnid", column.group(1))
    unit = _UNIT_DIV.search(text)
    if unit:
        form.setdefault("unitid", unit.group(1))
    form.setdefault("col", "1")
    form.setdefault("appid", "1")
    form.setdefault("path", "/")
    form.setdefault("sourceContentType", "1")
    form.setdefault("permissiontype", "0")
    return proxy_url, form


def proxy_request(proxy_url: str, form: dict[str, str], referer: str, page: int, perpage: int,
                  total: int) -> FormRequest:
    start = (page - 1) * perpage + 1
    query = urlencode({"startrecord": start, "endrecord": start + perpage - 1, "perpage": perpage,
                       "page": page})
    return FormRequest(
        f"{proxy_url}?{query}", formdata=form,
        headers={"Referer": referer, "X-Requested-With": "XMLHttpRequest"},
        meta={"platform": NAME, "role": "listing",
              "hanweb": {"proxy": proxy_url, "form": form, "referer": referer, "page": page,
                         "perpage": perpage, "total": total}},
    )


def parse_listing(response: Response) -> Listing:
    text = page_text(response)
    listing = Listing(platform=NAME)
    state = response.meta.get("hanweb")
    listing.items = dedupe(records(text, state["referer"] if state else response.url))
    if state:  # an API reply: the page requests were all issued from the column page
        if not listing.items:
            listing.note = "empty group"
        return listing
    if not listing.items:  # not embedded: maybe a plain list on the column page
        from crawler.platforms import generic

        return generic.parse_listing(response)
    total_match = _TOTAL_RECORD.search(text) or _TOTAL_TAG.search(text)
    total = int(total_match.group(1)) if total_match else 0
    perpage_match = _PERPAGE.search(text)
    perpage = min(int(perpage_match.group(1)) if perpage_match else 20, MAX_PERPAGE)
    embedded = len(listing.items)
    if total > embedded:
        proxy_url, form = proxy_form(text, response.url)
        first_page = 2 if embedded >= perpage else 1
        last_page = -(-total // perpage)
        listing.requests = [proxy_request(proxy_url, form, response.url, page, perpage, total)
                            for page in range(first_page, last_page + 1)]
    return listing
