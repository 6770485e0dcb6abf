"""Hanweb 大汉 JCMS columns: first page embedded in ``<datastore>``, the rest from ``dataproxy.jsp``.

The column page ``/col/col{ID}/index.html`` embeds the first records as CDATA ``<record>``s and a
``jpage({... totalRecord: N, perPage: P, proxyUrl: ...})`` call. The other records come from
``POST dataproxy.jsp?startrecord=&endrecord=&perpage=`` with the column's form fields, and the
server checks the ``Referer``. Some servers honour only ``page=``, others truncate a large
``perpage``: we ask for one page of ``perPage`` (≤ :data:`MAX_PERPAGE`) per call and send both
``startrecord``/``endrecord`` and ``page``, which every variant answers the same way. Paging stops at
``totalRecord`` and at the first empty group.

The older 信息公开 module has no ``<datastore>``: its page fills an empty ``div<col>`` from
``POST /module/xxgk/search.jsp?…&currpage=N`` (the URL with its ``infotypeId``/``jdid``/``area``/
``divid`` fields stands in the page's script). The reply is an HTML table (``tr.tr_main_value_*``)
and ``共N页``, listing every column of the unit: only links to ``art_<col>_…`` are the column's.
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
XXGK_SEARCH = "/module/xxgk/search.jsp"
_XXGK_SEARCH_URL = re.compile(r"""['"]([^'"<>]*/module/xxgk/search\.jsp[^'"<>]*)['"]""")
_XXGK_PAGES = re.compile(r"共\s*(\d+)\s*页")
_XXGK_DIV = re.compile(r"^div(\d+)$")
MAX_XXGK_PAGES = 500  # 15 rows a page: 7,500 items of one unit's catalogue


def detect(response: Response) -> bool:
    text = page_text(response)[:300_000]
    return "<datastore" in text.lower() or "dataproxy.jsp" in text or "jpage(" in text or XXGK_SEARCH in text


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


# ------------------------------------------------------------------ the 信息公开 module (search.jsp)
def xxgk_search_request(text: str, column_url: str) -> FormRequest | None:
    """The first search.jsp request of a 信息公开 module page, or None when the page has none."""
    found = _XXGK_SEARCH_URL.search(text)
    if found is None:
        return None
    url = urljoin(column_url, html.unescape(found.group(1)))
    form = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    divid = _XXGK_DIV.match(form.get("divid", ""))
    column = _COLUMN_ID.search(urlsplit(column_url).path)
    colid = divid.group(1) if divid else column.group(1) if column else ""
    return _xxgk_page(urljoin(url, urlsplit(url).path), form, column_url, colid, 1)


def _xxgk_page(search_url: str, form: dict[str, str], referer: str, colid: str, page: int) -> FormRequest:
    """One page of the search: ``currpage`` in the query and the form (servers read either)."""
    fields = dict(form, currpage=str(page))
    return FormRequest(f"{search_url}?{urlencode(fields)}", formdata=fields,
                       headers={"Referer": referer, "X-Requested-With": "XMLHttpRequest"},
                       meta={"platform": NAME, "role": "listing",
                             "hanweb_xxgk": {"url": search_url, "form": form, "referer": referer,
                                             "colid": colid, "page": page}})


def xxgk_rows(text: str, base_url: str, colid: str) -> list[ReportLink]:
    """The column's items in a search.jsp table: rows linking ``art_<colid>_…`` (every row when the
    column id is unknown; the title filter still decides what is a report)."""
    items = []
    for row in Selector(text=text).css("tr[class*=tr_main_value]"):
        for anchor in row.css("a[href]"):
            url = absolute(base_url, anchor.attrib.get("href"))
            title = anchor_title(anchor)
            if url and title and (not colid or f"art_{colid}_" in url):
                items.append(ReportLink(url=url, title=title, date=anchor_date(anchor)))
    return items


def _parse_xxgk_reply(text: str, state: dict) -> Listing:
    listing = Listing(platform=NAME, items=dedupe(xxgk_rows(text, state["referer"], state["colid"])))
    if state["page"] == 1:  # the first reply says how many pages there are: ask for them all
        pages = _XXGK_PAGES.search(text)
        last = min(int(pages.group(1)), MAX_XXGK_PAGES) if pages else 1
        listing.requests = [_xxgk_page(state["url"], state["form"], state["referer"], state["colid"], page)
                            for page in range(2, last + 1)]
    if not listing.items:
        listing.note = "no rows of this column"
    return listing


def parse_listing(response: Response) -> Listing:
    text = page_text(response)
    listing = Listing(platform=NAME)
    if response.meta.get("hanweb_xxgk"):
        return _parse_xxgk_reply(text, response.meta["hanweb_xxgk"])
    state = response.meta.get("hanweb")
    listing.items = dedupe(records(text, state["referer"] if state else response.url))
    if state:  # an API reply: the page requests were all issued from the column page
        if not listing.items:
            listing.note = "empty group"
        return listing
    if not listing.items:  # not embedded: the 信息公开 module's search, or a plain list on the page
        search = xxgk_search_request(text, response.url)
        if search is not None:
            listing.requests = [search]
            return listing
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
