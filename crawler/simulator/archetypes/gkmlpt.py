"""Archetype C, ``gkmlpt-json``: Guangdong's 政府信息公开目录管理平台, SPA shell + JSON GET (§2.3, §7 C).

URL shapes:

  /gkmlpt/index                       the SPA shell; no list in the HTML, but an inline
        ``window._CONFIG = {SID: '<sid>', TREE: [{id, name, children, jump_url}], …}`` whose tree has
        a 「政府信息公开年报」 node (id = the column's category) among other categories
  /gkmlpt/index#<cat>                 (the hash is client-side; same shell)
  /gkmlpt/api/all/<cat>?page=<n>&sid=<sid>   JSON ``{classify:{id,name,post_count}, total,
        articles:[{id,title,document_number,publisher,identifier,date,created_at,
        display_publish_time,url,post_url,attachment:[{id,name,type,mime,size,url}],…}]}``;
        ``per_page`` articles per page (100 on real sites); page 0 and page 1 return the SAME
        articles; pages past the end return ``articles: []``; wrong sid → 404
  /gkmlpt/content/<a>/<b>/post_<id>.html   detail page: metadata table (索引号, 分类, 发布机构, 成文日期,
        名称, 文号, 发布日期, 主题词) and ``window._CONFIG.DETAIL`` JSON duplicating the body
  /attachment/0/<x>/<y>/<id>.<ext>    attachments (absolute URLs in the API)

Attachment-only articles have an empty ``content`` and a non-empty ``attachment[]``.
Variants: ``single_page`` (page ≥ 2 → 404, like 肇庆); ``percent_u`` (titles in the JSON carry
``%uXXXX`` escapes, like some sites do).
"""

from __future__ import annotations

import calendar
import json
import math
import re
from typing import Any, Optional

from .. import pages
from ..content import extension, media_type
from ..http import Reply, SimRequest
from ..model import Column, Item
from .base import Site

_API = re.compile(r"^/gkmlpt/api/all/(\d+)$")
_DETAIL = re.compile(r"^/gkmlpt/content/(\d+)/(\d+)/post_(\d+)\.html$")
_ATTACH = re.compile(r"^/attachment/0/(\d+)/(\d+)/(\d+)\.(\w+)$")


class GkmlptSite(Site):
    archetype = "gkmlpt-json"
    platform = "gkmlpt"

    def populate(self) -> None:
        extra = self.options.extra
        self.sid = str(extra.get("sid", "755041"))
        self.cat = int(extra.get("cat", 721))
        self.single_page = bool(extra.get("single_page"))
        self.percent_u = bool(extra.get("percent_u"))
        owner = self.owner()
        self.site_name = owner.name
        rng = self.world.rng(self.name)
        column = self.add_column(Column(key=str(self.cat), name="政府信息公开年报", agency=owner,
                                        start_path="/gkmlpt/index"))
        count = self.options.docs
        agencies = [owner] + self.world.departments(owner, max(0, math.ceil(count / 6) - 1), rng) \
            if owner.level != "town" else [owner]
        years = range(2019, 2025) if owner.level != "town" else range(2013, 2025)
        column.items = self.world.column_items(self.name, column.key, agencies, count, rng, years=years,
                                               kinds=self.options.kinds or _DEFAULT_KINDS)

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.columns[0].items) / self.options.per_page))

    # ---- URLs ---------------------------------------------------------------------------------
    def detail_path(self, item: Item) -> str:
        return f"/gkmlpt/content/{item.item_id // 1000000}/{item.item_id // 1000}/post_{item.item_id}.html"

    def attachment_path(self, item: Item) -> str:
        return (f"/attachment/0/{item.item_id // 1000}/{item.item_id // 10}/{item.item_id}."
                f"{extension(item.file_kind or 'pdf')}")

    # ---- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: SimRequest) -> Optional[Reply]:
        path = request.path
        if path in ("/gkmlpt/index", "/gkmlpt/", "/"):
            return self.shell()
        match = _API.match(path)
        if match:
            return self.api(int(match.group(1)), request)
        match = _DETAIL.match(path)
        if match:
            item = self.item(int(match.group(3)))
            return self.detail(item) if item and path == self.detail_path(item) else None
        match = _ATTACH.match(path)
        if match:
            item = self.item(int(match.group(3)))
            if item and item.form in ("attachment", "image") and path == self.attachment_path(item):
                return self.file_reply(item)
        return None

    def shell(self) -> Reply:
        tree = [{"id": 700, "name": "机构职能", "children": [], "jump_url": ""},
                {"id": 701, "name": "政策文件", "children": [{"id": 702, "name": "规范性文件", "children": []}]},
                {"id": 710, "name": "政府信息公开", "children": [
                    {"id": self.cat, "name": "政府信息公开年报", "children": [], "jump_url": ""},
                    {"id": self.cat + 1, "name": "政府信息公开指南", "children": [], "jump_url": ""}]}]
        config = {"SID": self.sid, "TREE": tree, "SERVICE_AREA_ID": 1, "SITE_NAME": self.site_name}
        body = ('<div id="app"><noscript>请开启JavaScript</noscript></div>'
                f"<script>window._CONFIG = {json.dumps(config, ensure_ascii=False)};</script>"
                '<script src="/gkmlpt/static/js/app.2c1f3a.js"></script>')
        return Reply.html(pages.document(f"政府信息公开_{self.site_name}", body, site_name=self.site_name,
                                         agency=self.columns[0].agency))

    def api(self, cat: int, request: SimRequest) -> Reply:
        column = self.columns[0]
        if cat != self.cat and cat in (700, 701, 702, 710, self.cat + 1):
            return Reply.json_reply({"classify": {"id": cat, "post_count": 0}, "total": 0, "articles": []})
        if cat != self.cat or request.query.get("sid") != self.sid:
            return Reply.json_reply({"error": "not found"}, status=404)
        page = max(0, _int(request.query.get("page"), 1))
        page = max(page, 1)  # page 0 is page 1
        if self.single_page and page >= 2:
            return Reply.json_reply({"error": "not found"}, status=404)
        per = self.options.per_page
        chunk = column.items[(page - 1) * per: page * per]
        data = {"classify": {"id": cat, "name": column.name, "post_count": len(column.items)},
                "total": len(column.items), "page": page, "per_page": per,
                "articles": [self.article(it) for it in chunk]}
        return Reply.json_reply(data)

    def article(self, item: Item) -> dict[str, Any]:
        attachments = []
        if item.is_report and item.form in ("attachment", "image"):
            kind = item.file_kind or "pdf"
            attachments.append({"id": item.item_id, "name": self.attachment_name(item), "type": extension(kind),
                                "mime": media_type(kind), "size": 0, "url": self.url(self.attachment_path(item))})
        title = _percent_u(item.title) if self.percent_u and item.item_id % 2 == 0 else item.title
        stamp = calendar.timegm(item.published.timetuple())
        return {"id": item.item_id, "title": title, "document_number": "", "publisher": item.agency.name,
                "identifier": pages.index_number(item), "date": stamp, "created_at": stamp,
                "display_publish_time": stamp, "url": self.url(self.detail_path(item)),
                "post_url": self.url(self.detail_path(item)), "attachment": attachments,
                "classify_main_name": "政府信息公开年报", "classify_genre_name": "其他",
                "classify_theme_name": "综合政务", "is_expired": 0, "is_abolished": 0, "abstract": ""}

    def detail(self, item: Item) -> Reply:
        attachment_only = item.is_report and item.form in ("attachment", "image")
        if not item.is_report:
            content = self.content.filler_html(item)
        elif attachment_only:
            content = ""
        else:
            content = self.content.report_body_html(item)
        meta_rows = [("索引号", pages.index_number(item)), ("分类", "政府信息公开年报"), ("发布机构", item.agency.name),
                     ("成文日期", item.published.isoformat()), ("名称", item.title), ("文号", ""),
                     ("发布日期", item.published.isoformat()), ("主题词", "")]
        table = "".join(f"<tr><th>{k}：</th><td>{pages.esc(v)}</td></tr>" for k, v in meta_rows)
        links = ""
        if attachment_only:
            links = (f'<div class="attachment">附件：<a href="{self.attachment_path(item)}">'
                     f"{pages.esc(self.attachment_name(item))}</a></div>")
        detail = {"id": item.item_id, "title": item.title, "content": content,
                  "attachment": self.article(item)["attachment"]}
        detail_json = json.dumps(detail, ensure_ascii=False).replace("</", "<\\/")
        body = (f'<table class="introduce">{table}</table><h1 class="title">{pages.esc(item.title)}</h1>'
                f'<div class="article-content">{content}</div>{links}'
                f"<script>window._CONFIG = window._CONFIG || {{}}; window._CONFIG.DETAIL = "
                f"{detail_json};</script>")
        text = pages.document(f"{item.title}_{self.site_name}", body, site_name=self.site_name, agency=item.agency)
        return Reply.html(text, cacheable=True, last_modified=self.modified_at(item))


_DEFAULT_KINDS = [("body", "html", 5.0), ("attachment", "pdf", 3.0), ("attachment", "docx", 1.0),
                  ("attachment", "pdf-scanned", 0.3)]


def _percent_u(text: str) -> str:
    """Escape non-ASCII characters as %uXXXX, the way some gkmlpt JSON titles arrive."""
    return "".join(ch if ord(ch) < 128 else f"%u{ord(ch):04X}" for ch in text)


def _int(text: Optional[str], default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
