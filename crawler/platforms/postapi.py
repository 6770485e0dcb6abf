"""Column pages whose list comes from a POST API (the page itself lists nothing).

Three families, recognised from the column page's inline script:

* **intertid** (无锡 and its districts): ``POST /info_open/search`` form ``siteId, channelIds,
  pageIndex, pageSize`` with ``X-Requested-With``; reply ``{data: {totalPages, data: [{title, url,
  writeTime}]}}`` — rows with an empty ``url`` are skipped.
* **EWB** (Epoint 新点): ``POST {project}/rest/lightfrontaction/getgovinfolist`` JSON ``{siteGuid,
  categorynum, pageIndex, pageSize}``; reply ``custom.data[] {infourl, realtitle, infodate}``.
* **token APIs** (gov.cn's Athena, simplified): ``GET {token url}`` → ``{code}``, then ``POST {list
  url}`` JSON ``{code, pageNo, pageSize}``; reply ``result.data.list[]`` and ``pager.pageCount``. A
  code expires; an "expired" reply (HTTP 401/403 or a status field saying so) makes us fetch a new
  code and repeat the same page, at most :data:`MAX_TOKEN_REFRESH` times per page.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Optional
from urllib.parse import urljoin

from scrapy import FormRequest, Request
from scrapy.http import JsonRequest, Response

from crawler.platforms.base import Listing, ReportLink, absolute, dedupe, iso_date
from crawler.platforms.encoding import page_text

NAME = "postapi"
PAGE_SIZE = 20
MAX_PAGES = 500
MAX_TOKEN_REFRESH = 3
_INTERTID_CHANNELS = re.compile(r"""channelIds['"]?\s*[:=]\s*['"]([\d,\s]+)['"]""")
_INTERTID_SITE = re.compile(r"""siteId['"]?\s*[:=]\s*['"]?(\d+)""")
_INTERTID_URL = re.compile(r"""['"]([^'"]*info_open/search[^'"]*)['"]""")
_EWB_GUID = re.compile(r"""siteGuid['"]?\s*[:=]\s*['"]([\w\-]+)['"]""")
_EWB_PROJECT = re.compile(r"""projectName['"]?\s*[:=]\s*['"]([\w\-/]*)['"]""")
_EWB_CATEGORY = re.compile(r"""categorynum['"]?\s*[:=]\s*['"]([\w\-]+)['"]""")
_EWB_URL = re.compile(r"""['"]([^'"]*getgovinfolist[^'"]*)['"]""")
_ATHENA = re.compile(r"""var\s+athena\s*=\s*['"]([^'"]*/athena/)[^'"]*['"]""")
_EWB_SCRIPT = re.compile(r"""<script\b[^<>]{0,500}?\bsrc=['"]([^'"<>]*webBuilderCommon\.js)['"]""", re.I)
_TOKEN_URL = re.compile(r"""tokenUrl['"]?\s*[:=]\s*['"]([^'"]+)['"]""")
_LIST_URL = re.compile(r"""listUrl['"]?\s*[:=]\s*['"]([^'"]+)['"]""")
_EXPIRED = re.compile(r"expire|invalid.?(code|token)|token.?(invalid|expired)|过期|失效", re.I)


def detect(response: Response) -> bool:
    text = page_text(response)[:200_000]
    return bool(_INTERTID_CHANNELS.search(text) or "info_open/search" in text
                or "EWB-FRONT" in text or "getgovinfolist" in text
                or (_TOKEN_URL.search(text) and _LIST_URL.search(text)) or bool(_ATHENA.search(text)))


def parse_listing(response: Response) -> Listing:
    state = response.meta.get("postapi")
    if state:
        return _parse_reply(response, state)
    text = page_text(response)
    if text.lstrip()[:1] in ("{", "["):  # an archived API reply read back without its request
        return _parse_reply(response, {"family": _guess_family(_json(response)), "page": 0,
                                       "refreshes": MAX_TOKEN_REFRESH})
    listing = Listing(platform=NAME)
    first = _first_request(response.url, text)
    if first is None:
        listing.note = "no list API found on the page"
    else:
        listing.requests = [first]
    return listing


# ----------------------------------------------------------------------------- first requests
def _first_request(page_url: str, text: str) -> Optional[Request]:
    if _INTERTID_CHANNELS.search(text) or "info_open/search" in text:
        channels = _INTERTID_CHANNELS.search(text)
        site = _INTERTID_SITE.search(text)
        api = _INTERTID_URL.search(text)
        state = {"family": "intertid", "referer": page_url,
                 "api": urljoin(page_url, api.group(1) if api else "/info_open/search"),
                 "form": {"siteId": site.group(1) if site else "",
                          "channelIds": re.sub(r"\s+", "", channels.group(1)) if channels else ""}}
        return _intertid_request(state, 1)
    if "EWB-FRONT" in text and not _EWB_GUID.search(text) and _EWB_SCRIPT.search(text):
        # siteGuid and projectName live in /js/webBuilderCommon.js: fetch it first
        category = _EWB_CATEGORY.search(text)
        state = {"family": "ewb", "step": "siteinfo", "referer": page_url, "page": 0,
                 "category": category.group(1) if category else ""}
        return Request(urljoin(page_url, _EWB_SCRIPT.search(text).group(1)), meta=_meta(state),
                       headers={"Referer": page_url})
    if "getgovinfolist" in text or _EWB_GUID.search(text):
        guid = _EWB_GUID.search(text)
        project = _EWB_PROJECT.search(text)
        category = _EWB_CATEGORY.search(text)
        api = _EWB_URL.search(text)
        default_api = f"{(project.group(1) if project else '').rstrip('/')}/rest/lightfrontaction/getgovinfolist"
        state = {"family": "ewb", "referer": page_url,
                 "api": urljoin(page_url, api.group(1) if api else default_api or "/"),
                 "body": {"siteGuid": guid.group(1) if guid else "",
                          "categorynum": category.group(1) if category else ""}}
        return _ewb_request(state, 1)
    token, list_url = _TOKEN_URL.search(text), _LIST_URL.search(text)
    athena = _ATHENA.search(text)
    if athena and not (token and list_url):
        # Athena-lite: the gateway base named on the page serves GET <base>token and POST <base>list
        base = urljoin(page_url, athena.group(1))
        state = {"family": "token", "referer": page_url, "token_url": base + "token",
                 "api": base + "list", "page": 1, "refreshes": 0}
        return _token_request(state)
    if token and list_url:
        state = {"family": "token", "referer": page_url, "token_url": urljoin(page_url, token.group(1)),
                 "api": urljoin(page_url, list_url.group(1)), "page": 1, "refreshes": 0}
        return _token_request(state)
    return None


def _meta(state: dict[str, Any]) -> dict[str, Any]:
    return {"platform": NAME, "role": "listing", "postapi": state,
            "handle_httpstatus_list": [401, 403]}


def _intertid_request(state: dict[str, Any], page: int) -> Request:
    form = dict(state["form"], pageIndex=str(page), pageSize=str(PAGE_SIZE))
    return FormRequest(state["api"], formdata=form, meta=_meta(dict(state, page=page)),
                       headers={"X-Requested-With": "XMLHttpRequest", "Referer": state["referer"]})


def _ewb_request(state: dict[str, Any], page: int) -> Request:
    body = dict(state["body"], pageIndex=page - 1, pageSize=PAGE_SIZE)
    return JsonRequest(state["api"], data=body, meta=_meta(dict(state, page=page)),
                       headers={"X-Requested-With": "XMLHttpRequest", "Referer": state["referer"]})


def _token_request(state: dict[str, Any]) -> Request:
    """Fetch a fresh code; the reply continues with the list page in ``state['page']``."""
    return Request(state["token_url"], meta=_meta(dict(state, step="token")),
                   headers={"Referer": state["referer"]}, dont_filter=True)


def _token_list_request(state: dict[str, Any], code: str) -> Request:
    body = {"code": code, "pageNo": state["page"], "pageSize": PAGE_SIZE}
    return JsonRequest(state["api"], data=body, meta=_meta(dict(state, step="list", code=code)),
                       headers={"Referer": state["referer"]}, dont_filter=True)


# ----------------------------------------------------------------------------- replies
def _json(response: Response) -> Any:
    try:
        return json.loads(page_text(response) or "null")
    except ValueError:
        return None


def _parse_reply(response: Response, state: dict[str, Any]) -> Listing:
    listing = Listing(platform=NAME)
    data = _json(response)
    family = state["family"]
    if family == "token":
        return _parse_token_reply(response, state, data, listing)
    if family == "ewb" and state.get("step") == "siteinfo":
        text = page_text(response)
        guid, project = _EWB_GUID.search(text), _EWB_PROJECT.search(text)
        if not guid:
            listing.note = "EWB site info without siteGuid"
            return listing
        api = f"{(project.group(1) if project else '').rstrip('/')}/rest/lightfrontaction/getgovinfolist"
        first = {"family": "ewb", "referer": state["referer"], "api": urljoin(state["referer"], api),
                 "body": {"siteGuid": guid.group(1), "categorynum": state.get("category", "")}}
        listing.requests = [_ewb_request(first, 1)]
        return listing
    if response.status >= 400 or not isinstance(data, dict):
        listing.note = f"API reply {response.status} not usable"
        return listing
    if family == "intertid":
        block = data.get("data") or {}
        rows = block.get("data") or [] if isinstance(block, dict) else []
        listing.items = dedupe(_rows(response.url, rows, "title", "url", ("writeTime", "openTime")))
        pages = _int(block.get("totalPages")) if isinstance(block, dict) else 0
        make = _intertid_request
    else:
        custom = data.get("custom") or {}
        rows = custom.get("data") or [] if isinstance(custom, dict) else []
        listing.items = dedupe(_rows(response.url, rows, "realtitle", "infourl", ("infodate",)))
        total = _int(custom.get("total") or custom.get("count")) if isinstance(custom, dict) else 0
        pages = -(-total // PAGE_SIZE) if total else 0
        make = _ewb_request
    if state["page"] == 1 and rows:
        listing.requests = [make(state, n) for n in range(2, min(pages, MAX_PAGES) + 1)]
    return listing


def _parse_token_reply(response: Response, state: dict[str, Any], data: Any, listing: Listing) -> Listing:
    if state.get("step") == "token" and state.get("page"):
        code = _find(data, "code", "token") if isinstance(data, dict) else None
        if not code:
            listing.note = "token endpoint gave no code"
            return listing
        listing.requests = [_token_list_request(state, str(code))]
        return listing
    if _expired(response, data):
        if state["refreshes"] >= MAX_TOKEN_REFRESH:
            listing.note = "token keeps expiring; page abandoned"
            return listing
        listing.requests = [_token_request(dict(state, refreshes=state["refreshes"] + 1))]
        listing.note = "token expired; refreshing"
        return listing
    result = data.get("result", data) if isinstance(data, dict) else {}
    block = result.get("data", result) if isinstance(result, dict) else {}
    rows = block.get("list") or [] if isinstance(block, dict) else []
    listing.items = dedupe(_rows(response.url, rows, "maintitle", "pub_url", ("publish_time", "cwrq"),
                                 alt_title="title", alt_url="url"))
    pager = block.get("pager") or {} if isinstance(block, dict) else {}
    page_count = _int(pager.get("pageCount")) if isinstance(pager, dict) else 0
    if rows and state.get("code") and state["page"] < min(page_count, MAX_PAGES):
        # sequential: each page needs a live code, and the code may have expired meanwhile
        listing.requests = [_token_list_request(dict(state, page=state["page"] + 1, refreshes=0),
                                                state["code"])]
    return listing


def _guess_family(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("custom"), dict):
        return "ewb"
    if isinstance(data, dict) and isinstance(data.get("data"), dict) and "data" in data["data"]:
        return "intertid"
    return "token"


def _expired(response: Response, data: Any) -> bool:
    if response.status in (401, 403):
        return True
    if isinstance(data, dict):
        if str(data.get("resultCode", "")) in ("401", "403"):
            return True
        for key in ("status", "message", "msg", "error", "code_status", "resultMsg"):
            value = data.get(key)
            if isinstance(value, str) and _EXPIRED.search(value):
                return True
        result = data.get("result")
        if isinstance(result, dict) and isinstance(result.get("message"), str) \
                and _EXPIRED.search(result["message"]):
            return True
    return False


def _find(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key):
            return data[key]
    for value in data.values():
        if isinstance(value, dict):
            found = _find(value, *keys)
            if found:
                return found
    return None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _rows(base: str, rows: Iterable[Any], title_key: str, url_key: str, date_keys: tuple[str, ...],
          alt_title: str = "title", alt_url: str = "url") -> Iterable[ReportLink]:
    for row in rows:
        if not isinstance(row, dict):
            continue
        url = absolute(base, str(row.get(url_key) or row.get(alt_url) or ""))
        title = " ".join(str(row.get(title_key) or row.get(alt_title) or "").split())
        if url and title:
            date = next((iso_date(str(row[k])) for k in date_keys if row.get(k)), None)
            yield ReportLink(url=url, title=title, date=date)
