"""Archetype B, ``hanweb-jcms``: a Hanweb (大汉) JCMS column with the dataproxy XML API (§2.2, §7 B).

URL shapes (``<col>`` = column id such as 1229001, ``<unit>`` = unit id):

  /col/col<col>/index.html[?uid=<unit>&pageNum=N]   column page; the first ``perPage`` records are
        embedded in ``<script type="text/xml"><datastore>…`` and a ``jpage({… totalRecord: N …})``
        config; pageNum is ignored (the real pager is JavaScript)
  /module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=60&perpage=20   (GET or POST; form
        ``col=1&appid=1&webid=…&path=/&columnid=<col>&unitid=<unit>&webname=…&permissiontype=0``)
        → XML ``<datastore><totalrecord/><totalpage/><nextgroup/><recordset><record><![CDATA[<li>…]]>``
        covering at most 3 × perpage records. 403 without a Referer naming /col/col<col>/.
        perpage above 300 is silently truncated to 300. Past the end: an empty recordset.
        Variant ``only_page``: startrecord/endrecord are ignored, only ``page=N`` (one page of
        perpage records) counts. Variant ``old_path``: the API lives at /module/jpage/dataproxy.jsp.
  POST /module/xxgk/search.jsp?currpage=N     the older 信息公开 module: an HTML table
        (tr.tr_main_value_odd/even) of ALL columns of the unit, 15 rows per page, text 共N页 — keep
        only links containing art_<col>_. With the ``area`` of another unit: an empty table.
        Variant ``xxgk_module``: the report column's page is such a module page — no
        ``<datastore>``, an empty ``div<col>`` filled by a script that POSTs search.jsp with the
        page's infotypeId/jdid/area/divid (the list exists only through search.jsp).
  /art/YYYY/M/D/art_<col>_<id>.html           detail page (no zero padding), ``#zoom`` body
  /module/download/downfile.jsp?classid=0&filename=<32hex>.<ext>   302 → storage host
        http://127.0.0.1:<oss port>/jcms_files/jcms1/web<webid>/site/attach/-1/<32hex>.<ext>

Record quirks: ``title`` attribute present or not, single or double quotes, the date in
``<span class="time">`` split over lines, in ``<i>`` or ``<b>``; one record commented out (a news
item); one malformed record (``<li style=<br``) that still holds a good link.
"""

from __future__ import annotations

import math
import re
from typing import Optional

from .. import pages
from ..content import extension, hex_name
from ..http import Reply, SimRequest
from ..model import Column, Item
from .base import Site

_DETAIL = re.compile(r"^/art/(\d{4})/(\d{1,2})/(\d{1,2})/art_(\d+)_(\d+)\.html$")
_MAX_PERPAGE = 300
_SEARCH_PAGE = 15


class HanwebSite(Site):
    archetype = "hanweb-jcms"
    platform = "hanweb"

    def populate(self) -> None:
        extra = self.options.extra
        self.colid = int(extra.get("colid", 1229001))
        self.webid = int(extra.get("webid", 3095))
        self.unitid = self.colid % 1000000 + 400000
        self.only_page = bool(extra.get("only_page"))
        self.xxgk_module = bool(extra.get("xxgk_module"))
        self.area = f"{self.webid:03d}{self.colid % 1000000:06d}"[-9:]  # the module's unit code
        self.api_path = "/module/jpage/dataproxy.jsp" if extra.get("old_path") else "/module/web/jpage/dataproxy.jsp"
        self.storage_name = extra.get("storage", "hanweb-oss")
        self.related_sites = [self.storage_name]
        owner = self.owner()
        self.site_name = owner.name
        rng = self.world.rng(self.name)
        column = self.add_column(Column(key=f"col{self.colid}", name="政府信息公开年报", agency=owner,
                                        start_path=f"/col/col{self.colid}/index.html"))
        items = self.corpus_items(column, owner)
        generated = max(0, self.options.docs - len(items))
        if generated:
            agencies = [owner] + self.world.departments(owner, max(0, math.ceil(generated / 6) - 1), rng)
            items += self.world.column_items(self.name, column.key, agencies, generated, rng,
                                             kinds=self.options.kinds or _DEFAULT_KINDS)
        items.sort(key=lambda it: (it.published, it.item_id), reverse=True)
        column.items = items
        news = self.add_column(Column(key=f"col{self.colid + 1}", name="工作动态", agency=owner,
                                      start_path=f"/col/col{self.colid + 1}/index.html", in_registry=False))
        news.items = [self.world.negative(self.name, news.key, owner, 2023, rng, kind="news") for _ in range(8)]
        negatives = [it for it in items if not it.is_report]
        self.commented_item = negatives[0] if negatives else None
        reports = [it for it in items if it.is_report and not it.corpus_file]
        self.malformed_item = reports[len(reports) // 2] if reports else None

    # ---- URLs ---------------------------------------------------------------------------------
    def detail_path(self, item: Item) -> str:
        d = item.published
        col = item.column[3:]
        return f"/art/{d.year}/{d.month}/{d.day}/art_{col}_{item.item_id}.html"

    def file_hex(self, item: Item) -> str:
        return hex_name(self.name, item.item_id)

    def downfile_path(self, item: Item) -> str:
        return f"/module/download/downfile.jsp?classid=0&filename={self.file_hex(item)}.{extension(item.file_kind or 'pdf')}"

    def storage_path(self, item: Item) -> str:
        name = f"{self.file_hex(item)}.{extension(item.file_kind or 'pdf')}"
        return f"/jcms_files/jcms1/web{self.webid}/site/attach/-1/{name}"

    def storage_url(self, item: Item) -> str:
        storage = self.sim.site(self.storage_name)
        storage.publish(self.storage_path(item), self.name, item.item_id)
        return storage.url(self.storage_path(item))

    def detail_url(self, item: Item) -> Optional[str]:
        return self.url(self.detail_path(item))

    def document_urls(self, item: Item) -> list[str]:
        if item.form in ("attachment", "image"):
            return [self.url(self.downfile_path(item)), self.storage_url(item)]
        return [self.url(self.detail_path(item))]

    # ---- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: SimRequest) -> Optional[Reply]:
        path = request.path
        if path == "/":
            return Reply.html(pages.document(self.site_name, f'<a href="/col/col{self.colid}/index.html">政府信息公开年报</a>',
                                             site_name=self.site_name, agency=self.columns[0].agency))
        for column in self.columns:
            if path == column.start_path:
                return self.column_page(column)
        if path == self.api_path:
            return self.dataproxy(request)
        if path == "/module/xxgk/search.jsp":
            return self.xxgk_search(request)
        if path == "/module/download/downfile.jsp":
            return self.downfile(request)
        match = _DETAIL.match(path)
        if match:
            item = self.item(int(match.group(5)))
            if item is not None and self.detail_path(item) == path:
                return self.detail(item)
        return None

    def record_html(self, item: Item) -> str:
        """One <li> record, in one of the shapes real Hanweb templates print."""
        href = self.detail_path(item)
        title = pages.esc(item.title)
        date = item.published.isoformat()
        style = item.item_id % 5
        if item is self.malformed_item:
            return f'<li style=<br><a href="{href}" title="{title}">{title}</a><span>{date}</span></li>'
        if style == 0:
            return f"<li><a href='{href}' title='{title}'>{title}</a><span class=\"time\">\n\t\t{date}\n\t</span></li>"
        if style == 1:
            return f'<li><a href="{self.url(href)}" title="{title}"><span>{title}</span><i>{date}</i></a></li>'
        if style == 2:
            return f'<li><a href="{href}" target="_blank">{title}</a><b>{date}</b></li>'
        return f'<li><a href="{href}" title="{title}" target="_blank">{title}</a><span class="time">{date}</span></li>'

    def record(self, item: Item) -> str:
        html = self.record_html(item)
        if item is self.commented_item:
            html = f"<!--{html}-->"
        return f"<record><![CDATA[{html}]]></record>"

    def query_string(self, column: Column, page: int) -> str:
        return (f"page={page}&appid=1&webid={self.webid}&path=/&columnid={column.key[3:]}&unitid={self.unitid}"
                f"&webname={self.site_name}&permissiontype=0")

    def column_page(self, column: Column) -> Reply:
        if self.xxgk_module and column is self.columns[0]:
            return self.xxgk_module_page(column)
        per = self.options.per_page
        records = "\n".join(self.record(it) for it in column.items[:per])
        total = len(column.items)
        body = (f'<div class="position">当前位置：首页 &gt; {column.name}</div>'
                f'<div id="{self.unitid}"><script type="text/xml"><datastore>\n'
                f'<nextgroup><![CDATA[<a href="{self.api_path}?{self.query_string(column, 1)}"></a>]]></nextgroup>\n'
                f"<recordset>\n{records}\n</recordset></datastore></script></div>\n"
                f"<script>$('#{self.unitid}').jpage({{ dataStore: dataStore, perPage: {per}, totalRecord: {total},"
                f" proxyUrl: '{self.api_path}', openCookies: false, barPosition: 'bottom', ajaxParam: "
                f"{{col:1, appid:1, webid:{self.webid}, path:'/', columnid:{column.key[3:]}, sourceContentType:1,"
                f" unitid:{self.unitid}, webname:'{self.site_name}', permissiontype:0}} }});</script>")
        return self._column_document(column, body, "/module/jslib/jquery/jpage/jquery.jpage.js")

    def _column_document(self, column: Column, body: str, script: str) -> Reply:
        """A column page of this site: its template around ``body``, loading ``script``."""
        return Reply.html(pages.document(f"{column.name}_{self.site_name}", body, site_name=self.site_name,
                                         agency=column.agency, head_extra=f'<script src="{script}"></script>'))

    def _column_for(self, request: SimRequest) -> Optional[Column]:
        colid = request.param("columnid")
        return next((c for c in self.columns if c.key == f"col{colid}"), None)

    def dataproxy(self, request: SimRequest) -> Reply:
        column = self._column_for(request)
        referer = request.headers.get("referer", "")
        if column is None or f"/col/{column.key}/" not in referer:
            return Reply.html("<html><body>403 Forbidden</body></html>", status=403)
        perpage = min(_MAX_PERPAGE, max(1, _int(request.param("perpage"), self.options.per_page)))
        total = len(column.items)
        if self.only_page:
            page = max(1, _int(request.param("page"), 1))
            start, end = (page - 1) * perpage + 1, page * perpage
        else:
            start = max(1, _int(request.param("startrecord"), 1))
            end = min(_int(request.param("endrecord"), start + 3 * perpage - 1), start + 3 * perpage - 1)
        chunk = column.items[start - 1:end]
        next_page = (end // perpage) + 1
        xml = (f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{total}</totalrecord>'
               f"<totalpage>{math.ceil(total / perpage)}</totalpage>"
               f'<nextgroup><![CDATA[<a href="./dataproxy.jsp?{self.query_string(column, next_page)}"></a>]]></nextgroup>'
               f"<recordset>{''.join(self.record(it) for it in chunk)}</recordset></datastore>")
        return Reply(body=xml.encode("utf-8"), content_type="text/xml;charset=UTF-8")

    def xxgk_module_page(self, column: Column) -> Reply:
        """The 信息公开 module's catalogue page: the list is loaded by a script from search.jsp."""
        colid = column.key[3:]
        search = (f"/module/xxgk/search.jsp?standardXxgk=1&isAllList=1&texttype=0&fbtime=-1&vc_all=&vc_filenumber="
                  f"&vc_title=&vc_number=&currpage=&sortfield=,createdatetime:0,orderid:0&infotypeId=A0212"
                  f"&jdid={self.webid}&area={self.area}&divid=div{colid}")
        body = (f'<div class="position">当前位置：首页 &gt; 信息公开 &gt; {column.name}</div>'
                f'<div id="div{colid}"></div>'
                f"<script>function loadList(page) {{ $.ajax({{ type: 'post', url: '{search}', "
                f"data: {{currpage: page}}, success: function (html) {{ $('#div{colid}').html(html); }} }}); }}"
                f" loadList(1);</script>")
        return self._column_document(column, body, "/module/xxgk/js/xxgk.js")

    def xxgk_search(self, request: SimRequest) -> Reply:
        """All columns of the unit, newest first: the module does not filter by column."""
        if request.param("area") not in ("", self.area):  # another unit's catalogue: nothing of ours
            return Reply.html('<table class="tb_main"></table><div class="page">共0页 当前第1页 共0条</div>')
        merged = sorted((it for c in self.columns for it in c.items), key=lambda it: (it.published, it.item_id),
                        reverse=True)
        # currpage in the query (often present but empty in the page's URL), else in the form
        page = max(1, _int(request.query.get("currpage") or request.form().get("currpage", ""), 1))
        pages_total = max(1, math.ceil(len(merged) / _SEARCH_PAGE))
        chunk = merged[(page - 1) * _SEARCH_PAGE: page * _SEARCH_PAGE]
        rows = "".join(
            f'<tr class="tr_main_value_{"odd" if i % 2 == 0 else "even"}"><td>{i + 1}</td>'
            f'<td><a href="{self.url(self.detail_path(it))}" title="{pages.esc(it.title)}" target="_blank">'
            f"{pages.esc(it.title)}</a></td><td>{it.published.isoformat()}</td></tr>" for i, it in enumerate(chunk))
        text = (f'<table class="tb_main">{rows}</table><div class="page">共{pages_total}页 '
                f"当前第{page}页 共{len(merged)}条</div>")
        return Reply.html(text)

    def downfile(self, request: SimRequest) -> Optional[Reply]:
        name = request.query.get("filename", "")
        for item in self.all_items():
            if item.form in ("attachment", "image") and name == f"{self.file_hex(item)}.{extension(item.file_kind or 'pdf')}":
                return Reply.redirect(self.storage_url(item))
        return None

    def detail(self, item: Item) -> Reply:
        if item.corpus_file and item.form == "body":
            reply = self.file_reply(item, "html")
            reply.content_type = "text/html; charset=utf-8"
            return reply
        if not item.is_report:
            article = self.content.filler_html(item)
        elif item.form in ("attachment", "image"):
            article = pages.attachment_line(self.downfile_path(item), self.attachment_name(item))
        else:
            article = self.content.report_body_html(item)
        body = pages.detail_body(item, article, container='div id="zoom"')
        column = next(c for c in self.columns if c.key == item.column)
        text = pages.document(f"{item.title}_{self.site_name}", body, site_name=self.site_name, agency=item.agency,
                              head_extra=pages.head_meta(item, self.site_name, column.name))
        return Reply.html(text, cacheable=True, last_modified=self.modified_at(item))


_DEFAULT_KINDS = [("body", "html", 5.0), ("attachment", "pdf", 3.0), ("attachment", "docx", 1.0),
                  ("attachment", "wps", 0.5), ("attachment", "xlsx", 0.5)]


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default
