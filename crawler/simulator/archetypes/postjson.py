"""Archetype D, ``post-json-api``: list pages that are empty shells over POST APIs (§2.4, §2.5, §7 D).

The column pages hold no links: a crawler that does not call the API finds nothing.

intertid (无锡 family), site ``intertid``:
  /col/zfxxgknb/index.shtml     shell; inline ``var siteId = 181; var channelIds = "38939,38940";``
  POST /info_open/search        form ``siteId, channelIds, pageIndex (1-based), pageSize[, title]``;
        403 without ``X-Requested-With: XMLHttpRequest``; 405 for GET →
        ``{"status":0,"data":{"totalElements","totalPages","page","data":[{title,writeTime,openTime,
        indexId,url,effectStatus,organization}]}}``; some rows have ``url: ""`` (skip them);
        ``title`` filters by substring, other fields are ignored
  /doc/YYYY/MM/DD/<id>.shtml    detail;  /uploadfile/YYYY/MMDD/<id>.<ext>  attachments

EWB (新点 Epoint), site ``ewb``:
  /xxgk/zfxxgknb/index.html     shell with ``EWB-FRONT`` and ``data-categorynum="004001"``
  /js/webBuilderCommon.js       ``var siteInfo = {projectName: '/haimen', siteGuid: '<guid>'};``
  POST /haimen/rest/lightfrontaction/getgovinfolist   JSON body ``{siteGuid, categorynum,
        pageIndex (0-based), pageSize, deptcode}`` (or the same under ``"params"``); a body that
        is not JSON → 400 → ``{"custom":{"count":N,"data":[{infourl,realtitle,infodate}]}}``
  /haimen/zfxxgk/004001/YYYYMMDD/<id>.html   detail

Athena-lite (models www.gov.cn), site ``athena``:
  /zhengce/xxgk/index.htm       static shell (no list)
  GET  /athena/token            → ``{"resultCode":200,"result":{"data":{"code":"<token>"}}}``
  POST /athena/list             JSON ``{code, pageNo (1-based), pageSize, searchFields, sorts…}``
        → ``{"resultCode":200,"result":{"data":{"list":[{pub_url,maintitle,fwzh,cwrq,
        publish_time}],"pager":{"pageNo","pageSize","total","pageCount"}}}}``; the token expires
        after ``token_uses`` calls or ``token_seconds`` seconds: then HTTP 200 with
        ``{"resultCode":401,"resultMsg":"code已过期"}`` (get a new token and retry);
        pageNo > pageCount → empty list
  /zhengce/content/YYYYMM/content_<id>.htm   detail, ``#UCAP-CONTENT`` body, labels with
        full-width spaces (标\u3000\u3000题)
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from typing import Optional

from .. import pages
from ..content import extension
from ..http import Reply, SimRequest
from ..model import Column, Item
from .base import Site

_DEFAULT_KINDS = [("body", "html", 5.0), ("attachment", "pdf", 2.0), ("attachment", "docx", 1.0)]


class PostApiSite(Site):
    """Shared population and detail rendering; subclasses define the shell, API and URL shapes."""

    platform = "post-json"
    archetype = "post-json-api"
    start_path = "/"
    body_container = 'div class="article-content"'

    def populate(self) -> None:
        owner = self.owner()
        self.site_name = owner.name
        rng = self.world.rng(self.name)
        column = self.add_column(Column(key="zfxxgknb", name="政府信息公开年报", agency=owner,
                                        start_path=self.start_path))
        count = self.options.docs
        agencies = [owner] + self.world.departments(owner, max(0, math.ceil(count / 6) - 1), rng)
        column.items = self.world.column_items(self.name, column.key, agencies, count, rng,
                                               kinds=self.options.kinds or _DEFAULT_KINDS)

    @property
    def items(self) -> list[Item]:
        return self.columns[0].items

    def detail_path(self, item: Item) -> str:
        raise NotImplementedError

    def attachment_path(self, item: Item) -> str:
        d = item.published
        return f"/uploadfile/{d:%Y}/{d:%m%d}/{item.item_id}.{extension(item.file_kind or 'pdf')}"

    def handle(self, request: SimRequest) -> Optional[Reply]:
        path = request.path
        if path in ("/", self.start_path):
            return self.shell()
        reply = self.api(request)
        if reply is not None:
            return reply
        for item in self.items:  # few items per API site; a dict is not worth it
            if path == self.detail_path(item):
                return self.detail(item)
            if item.form in ("attachment", "image") and path == self.attachment_path(item):
                return self.file_reply(item)
        return None

    def shell(self) -> Reply:
        raise NotImplementedError

    def api(self, request: SimRequest) -> Optional[Reply]:
        raise NotImplementedError

    def detail(self, item: Item) -> Reply:
        if not item.is_report:
            article = self.content.filler_html(item)
        elif item.form in ("attachment", "image"):
            article = pages.attachment_line(self.attachment_path(item), self.attachment_name(item))
        else:
            article = self.content.report_body_html(item)
        body = pages.detail_body(item, article, container=self.body_container)
        text = pages.document(f"{item.title}_{self.site_name}", body, site_name=self.site_name, agency=item.agency,
                              head_extra=pages.head_meta(item, self.site_name, "政府信息公开年报"))
        return Reply.html(text, cacheable=True, last_modified=self.modified_at(item))


class IntertidSite(PostApiSite):
    platform = "intertid"
    start_path = "/col/zfxxgknb/index.shtml"

    def populate(self) -> None:
        super().populate()
        self.site_id = int(self.options.extra.get("site_id", 181))
        negatives = [it for it in self.items if not it.is_report]
        self.empty_url_item = negatives[0] if negatives else None

    def detail_path(self, item: Item) -> str:
        d = item.published
        return f"/doc/{d:%Y}/{d:%m}/{d:%d}/{item.item_id}.shtml"

    def shell(self) -> Reply:
        body = ('<div class="list" id="infoList"></div><div id="pager"></div>'
                f'<script>var siteId = {self.site_id}; var channelIds = "38939,38940";\n'
                "$.post('/info_open/search', {siteId: siteId, channelIds: channelIds, pageIndex: 1, pageSize: 10},"
                " render);</script>")
        return Reply.html(pages.document(f"政府信息公开年报_{self.site_name}", body, site_name=self.site_name,
                                         agency=self.columns[0].agency))

    def api(self, request: SimRequest) -> Optional[Reply]:
        if request.path != "/info_open/search":
            return None
        if request.method != "POST":
            return Reply.json_reply({"status": 1, "message": "Request method not supported"}, status=405)
        if request.headers.get("x-requested-with", "").lower() != "xmlhttprequest":
            return Reply.json_reply({"status": 403, "message": "forbidden"}, status=403)
        form = request.form()
        if form.get("siteId") != str(self.site_id):
            return Reply.json_reply({"status": 0, "data": {"totalElements": 0, "totalPages": 0, "page": 1, "data": []}})
        items = [it for it in self.items if form.get("title", "") in it.title]
        size = max(1, min(100, _int(form.get("pageSize"), 10)))
        page = max(1, _int(form.get("pageIndex"), 1))
        chunk = items[(page - 1) * size: page * size]
        rows = [{"title": it.title, "writeTime": it.published.isoformat(), "openTime": it.published.isoformat() + " 10:00:00",
                 "indexId": pages.index_number(it),
                 "url": "" if it is self.empty_url_item else self.url(self.detail_path(it)),
                 "effectStatus": "有效", "organization": it.agency.name} for it in chunk]
        return Reply.json_reply({"status": 0, "data": {"totalElements": len(items), "totalPages": math.ceil(len(items) / size),
                                                       "page": page, "data": rows}})


class EwbSite(PostApiSite):
    platform = "ewb"
    start_path = "/xxgk/zfxxgknb/index.html"
    project = "/haimen"
    categorynum = "004001"

    def populate(self) -> None:
        super().populate()
        self.site_guid = str(uuid.UUID(int=self.world.rng(self.name, "guid").getrandbits(128)))

    def detail_path(self, item: Item) -> str:
        return f"{self.project}/zfxxgk/{self.categorynum}/{item.published:%Y%m%d}/{item.item_id}.html"

    def shell(self) -> Reply:
        body = (f'<div class="EWB-FRONT ewb-info-list" data-categorynum="{self.categorynum}" id="infolist"></div>'
                '<script src="/js/webBuilderCommon.js"></script><script src="/js/govinfolist.js"></script>')
        return Reply.html(pages.document(f"政府信息公开年报_{self.site_name}", body, site_name=self.site_name,
                                         agency=self.columns[0].agency))

    def api(self, request: SimRequest) -> Optional[Reply]:
        if request.path == "/js/webBuilderCommon.js":
            js = f"var siteInfo = {{projectName: '{self.project}', siteGuid: '{self.site_guid}'}};\n"
            return Reply(body=js.encode(), content_type="application/javascript")
        if request.path != f"{self.project}/rest/lightfrontaction/getgovinfolist":
            return None
        data = request.json()
        if request.method != "POST" or not isinstance(data, dict):
            return Reply.json_reply({"status": {"code": 400, "text": "参数错误"}}, status=400)
        params = data.get("params", data) if isinstance(data.get("params", data), dict) else data
        if params.get("siteGuid") != self.site_guid or params.get("categorynum") != self.categorynum:
            return Reply.json_reply({"custom": {"count": 0, "data": []}})
        size = max(1, min(100, _int(params.get("pageSize"), 10)))
        page = max(0, _int(params.get("pageIndex"), 0))
        chunk = self.items[page * size:(page + 1) * size]
        rows = [{"infourl": self.detail_path(it), "realtitle": it.title, "title": it.title[:20],
                 "infodate": it.published.isoformat()} for it in chunk]
        return Reply.json_reply({"custom": {"count": len(self.items), "data": rows}, "status": {"code": 200}})


class AthenaSite(PostApiSite):
    platform = "athena"
    start_path = "/zhengce/xxgk/index.htm"
    body_container = 'div id="UCAP-CONTENT"'

    def populate(self) -> None:
        super().populate()
        self.token_uses = int(self.options.extra.get("token_uses", 3))
        self.token_seconds = float(self.options.extra.get("token_seconds", 300))
        self._tokens: dict[str, list[float]] = {}  # code -> [issued_at, uses]
        self._lock = threading.Lock()
        self._token_counter = 0

    def detail_path(self, item: Item) -> str:
        return f"/zhengce/content/{item.published:%Y%m}/content_{item.item_id}.htm"

    def shell(self) -> Reply:
        body = ('<div class="zfxxgk_list" id="list"></div>'
                "<script>var athena = '/athena/forward/6f1b9c0e2d4a8b7c';</script>"
                '<script src="/zhengce/xxgk/js/list.js"></script>')
        return Reply.html(pages.document(f"政府信息公开_{self.site_name}", body, site_name=self.site_name,
                                         agency=self.columns[0].agency))

    def api(self, request: SimRequest) -> Optional[Reply]:
        if request.path == "/athena/token":
            with self._lock:
                self._token_counter += 1
                code = f"{uuid.UUID(int=self.world.rng(self.name, self._token_counter).getrandbits(128)).hex}"
                self._tokens[code] = [time.time(), 0]
            return Reply.json_reply({"resultCode": 200, "result": {"data": {"code": code}}})
        if request.path != "/athena/list":
            return None
        data = request.json()
        if request.method != "POST" or not isinstance(data, dict):
            return Reply.json_reply({"resultCode": 400, "resultMsg": "请求参数错误"}, status=400)
        if not self._use_token(str(data.get("code", ""))):
            return Reply.json_reply({"resultCode": 401, "resultMsg": "code已过期"})
        size = max(1, min(100, _int(data.get("pageSize"), 10)))
        page = max(1, _int(data.get("pageNo"), 1))
        count = math.ceil(len(self.items) / size)
        chunk = self.items[(page - 1) * size: page * size] if page <= count else []
        rows = [{"pub_url": self.url(self.detail_path(it)), "maintitle": it.title, "fwzh": "",
                 "cwrq": it.published.isoformat(), "publish_time": it.published.isoformat() + " 10:00:00"}
                for it in chunk]
        return Reply.json_reply({"resultCode": 200, "result": {"data": {
            "list": rows, "pager": {"pageNo": page, "pageSize": size, "total": len(self.items), "pageCount": count}}}})

    def _use_token(self, code: str) -> bool:
        with self._lock:
            state = self._tokens.get(code)
            if state is None or state[1] >= self.token_uses or time.time() - state[0] > self.token_seconds:
                return False
            state[1] += 1
            return True

    def detail(self, item: Item) -> Reply:
        reply = super().detail(item)
        text = reply.body.decode("utf-8").replace('<table class="xxgk_table">', '<table class="xxgk_table" data-ucap="1">')
        text = re.sub(r"<b>索 引 号：</b>", "<b>索\u3000引\u3000号：</b>", text)
        text = text.replace("<h1 class=\"title\">", "<div><b>标\u3000\u3000题：</b></div><h1 class=\"title\">", 1)
        reply.body = text.encode("utf-8")
        return reply


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
