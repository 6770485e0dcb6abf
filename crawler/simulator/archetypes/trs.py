"""Archetype A, ``trs-static``: a TRS WCM static column (portals.md §2.1, §7 A).

URL shapes (``<col>`` is the column path, default ``/zfxxgk/zfxxgknb/``; ``<ext>`` is html, shtml
or htm per site):

  <col>index.<ext>                    page 0 of the list
  <col>index_<k>.<ext>                page k (0-based), k = 1 .. countPage-1
  <col>index_<countPage>.<ext>        one past the end: a ~350-byte stub with status 200
  <col>YYYYMM/tYYYYMMDD_<id>.<ext>    detail page; the 2-page report also has ..._<id>_1.<ext>
  <col>YYYYMM/P0YYYYMMDD<id>.<fx>     attachment in the article's month directory (href="./P0…")
  /protect/P0YYYYMM/P0YYYYMMDD/P0YYYYMMDD<id>.<fx>   the same attachment at its OLDSRC path
  <col>YYYYMM/W0YYYYMMDD<id>.png      images of an image-only 「（图片版）」 report

The pager is only ``var countPage = N; createPageHTML(countPage, k, "index", "<ext>")`` (no <a>
links to pages 2..N). List links are relative ``./YYYYMM/…``, sometimes ``../<slug>/YYYYMM/…``,
root-relative ``/…`` or protocol-relative ``//127.0.0.1:<port>/…``. A pinned (置顶) news item is
repeated on every page. Detail pages carry ArticleTitle/PubDate/ContentSource meta, the
``table.xxgk_table`` with letter-spaced labels, and a ``div.TRS_Editor`` body; some attachments are
listed only in a script variable ``appLinkStr='./P0….xlsx|…'``.

Site variants (``SiteOptions.extra``): ``ext``; ``charset="gbk"`` (GBK bytes, <meta charset=gb2312>,
no charset in the header, and one detail page whose header says UTF-8 while the body is GBK);
``index1_404`` (the intertid quirk: index_1 is 404 and page 1 lives at index_2, page k at
index_<k+1>); ``paged_detail`` (one report split over ``t…_<id>.<ext>`` and ``t…_<id>_1.<ext>``
with ``createPageHTML(2, 0, "t…_<id>", "<ext>")``).
"""

from __future__ import annotations

import math
import re
from typing import Optional

from .. import pages
from ..content import extension
from ..http import Reply, SimRequest
from ..model import Column, Item
from .base import Site

_DETAIL = re.compile(r"^(?P<col>/.*/)(?P<ym>\d{6})/t(?P<ymd>\d{8})_(?P<id>\d+)(?P<part>_1)?\.(?P<ext>s?html?)$")
_FILE = re.compile(r"^(?P<col>/.*/)?(?P<ym>\d{6})/(?P<prefix>P0|W0)(?P<ymd>\d{8})(?P<id>\d{6})\.(?P<fx>\w+)$")
_PROTECT = re.compile(r"^/protect/P0\d{6}/P0\d{8}/P0(?P<ymd>\d{8})(?P<id>\d{6})\.(?P<fx>\w+)$")
_INDEX = re.compile(r"^(?P<col>/.*/)(?:index(?:_(?P<k>\d+))?\.(?P<ext>s?html?))?$")


class TrsSite(Site):
    archetype = "trs-static"
    platform = "trs"

    # ---- population ---------------------------------------------------------------------------
    def populate(self) -> None:
        extra = self.options.extra
        self.ext = extra.get("ext", "html")
        self.charset = extra.get("charset", "utf-8")
        self.index1_404 = bool(extra.get("index1_404", False))
        self.column_path = extra.get("column_path", "/zfxxgk/zfxxgknb/")
        rng = self.world.rng(self.name)
        owner = self.owner()
        self.site_name = owner.name
        column = self.add_column(Column(key="zfxxgknb", name="政府信息公开年报", agency=owner,
                                        start_path=self.column_path + f"index.{self.ext}"))
        count = self.options.docs
        items = self.corpus_items(column, owner)
        generated = max(0, count - len(items))
        if generated:
            n_depts = max(0, math.ceil(generated / 6) - 1)
            agencies = [owner] + self.world.departments(owner, n_depts, rng)
            items += self.world.column_items(self.name, column.key, agencies, generated, rng,
                                             kinds=self.options.kinds or _DEFAULT_KINDS)
        items.sort(key=lambda it: (it.published, it.item_id), reverse=True)
        column.items = items
        self.pinned = self.world.negative(self.name, column.key, owner, 2023, rng, kind="news")
        self.pinned.title = f"【置顶】{owner.name}政府信息公开指南"
        self.pinned.flags.add("pinned")
        body_reports = [it for it in items if it.is_report and it.form == "body" and not it.corpus_file]
        self.paged_item: Optional[Item] = body_reports[0] if extra.get("paged_detail") and body_reports else None
        if self.paged_item:
            self.paged_item.flags.add("paged_detail")
        self.mislabelled_item: Optional[Item] = None
        if self.charset != "utf-8" and len(body_reports) > 1:
            self.mislabelled_item = body_reports[1]
            self.mislabelled_item.flags.add("header_says_utf8_body_gbk")
        for index, item in enumerate(it for it in items if it.form == "attachment"):
            if index % 4 == 3:
                item.flags.add("applinkstr")

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self.columns[0].items) / self.options.per_page))

    # ---- URLs ---------------------------------------------------------------------------------
    def _month_dir(self, item: Item) -> str:
        return f"{self.column_path}{item.published:%Y%m}/"

    def detail_path(self, item: Item, part: int = 0) -> str:
        suffix = "_1" if part else ""
        return f"{self._month_dir(item)}t{item.published:%Y%m%d}_{item.item_id}{suffix}.{self.ext}"

    def file_name(self, item: Item, prefix: str = "P0") -> str:
        kind = "png" if prefix == "W0" else (item.file_kind or "pdf")
        return f"{prefix}{item.published:%Y%m%d}{item.item_id:06d}.{extension(kind)}"

    def protect_path(self, item: Item) -> str:
        d = item.published
        return f"/protect/P0{d:%Y%m}/P0{d:%Y%m%d}/{self.file_name(item)}"

    def attachment_path(self, item: Item) -> str:
        """Where the attachment is served (variants move it, e.g. under /uploadfiles/)."""
        return self._month_dir(item) + self.file_name(item)

    def attachment_href(self, item: Item) -> str:
        """How the detail page links the attachment (relative to the article's directory)."""
        return "./" + self.file_name(item)

    def detail_url(self, item: Item) -> Optional[str]:
        return self.url(self.detail_path(item))

    def document_urls(self, item: Item) -> list[str]:
        if item.form == "attachment":
            return [self.url(self.attachment_path(item))]
        if item.form == "image":
            return [self.url(self._month_dir(item) + self.file_name(item, "W0"))]
        urls = [self.url(self.detail_path(item))]
        if item is self.paged_item:
            urls.append(self.url(self.detail_path(item, 1)))
        return urls

    def list_href(self, item: Item) -> str:
        """How the list links an item: mostly ./, sometimes ../slug/, /abs or //host/ forms."""
        rel = f"./{item.published:%Y%m}/t{item.published:%Y%m%d}_{item.item_id}.{self.ext}"
        style = item.item_id % 7
        if style == 3:
            slug = self.column_path.rstrip("/").rsplit("/", 1)[-1]
            return f"../{slug}/{rel[2:]}"
        if style == 5:
            return self.detail_path(item)
        if style == 6:
            return "//" + self.host + self.detail_path(item)
        return rel

    def page_path(self, k: int) -> str:
        if k == 0:
            return f"{self.column_path}index.{self.ext}"
        return f"{self.column_path}index_{k + 1 if self.index1_404 else k}.{self.ext}"

    # ---- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: SimRequest) -> Optional[Reply]:
        path = request.path
        if path == "/":
            return self.page_reply(pages.document(self.site_name, f'<a href="{self.column_path}">政府信息公开年报</a>',
                                                  charset=self._meta_charset(), site_name=self.site_name,
                                                  agency=self.columns[0].agency))
        match = _INDEX.match(path)
        if match and match.group("col") == self.column_path:
            if match.group("ext") not in (None, self.ext):
                return None
            return self.list_reply(int(match.group("k") or 0), explicit=match.group("k") is not None)
        match = _DETAIL.match(path)
        if match and match.group("ext") == self.ext:
            item = self.item(int(match.group("id")))
            if item is None or path != self.detail_path(item, 1 if match.group("part") else 0):
                return None
            return self.detail_reply(item, part=1 if match.group("part") else 0)
        match = _FILE.match(path) or _PROTECT.match(path)
        if match:
            item = self.item(int(match.group("id")))
            if item is None:
                return None
            if match.re is _FILE and match.groupdict().get("prefix") == "W0":
                return self.file_reply(item, "png") if path == self._month_dir(item) + self.file_name(item, "W0") else None
            if path in (self.attachment_path(item), self.protect_path(item)):
                return self.file_reply(item)
        return None

    def _meta_charset(self) -> str:
        return "gb2312" if self.charset != "utf-8" else "utf-8"

    def page_reply(self, text: str, *, header_charset: Optional[str] = "default", **kwargs) -> Reply:
        """Encode a page as this site does: GBK sites send no header charset."""
        if self.charset == "utf-8":
            return Reply.html(text, **kwargs)
        header = None if header_charset == "default" else header_charset
        return Reply.html(text, charset=header, encoding="gb18030", **kwargs)

    def list_reply(self, k_in_path: int, explicit: bool) -> Optional[Reply]:
        if self.index1_404 and explicit and k_in_path == 1:
            return None
        k = k_in_path - 1 if (self.index1_404 and k_in_path >= 2) else k_in_path
        count = self.page_count
        if k == count:
            return Reply.html(pages.STUB_PAGE, cacheable=True)
        if k > count:
            return None
        per = self.options.per_page
        column = self.columns[0]
        chunk = [self.pinned] + column.items[k * per:(k + 1) * per]
        rows = "".join(
            f'<li><a href="{self.list_href(it)}" target="_blank" title="{pages.esc(it.title)}">'
            f"{pages.esc(it.title)}</a><span>{it.published.isoformat()}</span></li>" for it in chunk)
        pager = (f'<div class="page"><script language="JavaScript">var countPage = {count}//共多少页\n'
                 f"var currentPage = {k};\ncreatePageHTML(countPage, currentPage, \"index\", \"{self.ext}\");"
                 "</script></div>")
        body = (f'<div class="position">当前位置：<a href="/">首页</a> &gt; 政府信息公开 &gt; {column.name}</div>'
                f'<div class="list"><ul>{rows}</ul></div>{pager}')
        text = pages.document(f"{column.name}_{self.site_name}", body, charset=self._meta_charset(),
                              site_name=self.site_name, agency=column.agency,
                              head_extra='<script src="/js/createPageHTML.js"></script>')
        return self.page_reply(text, cacheable=True)

    def detail_reply(self, item: Item, part: int) -> Reply:
        if item.corpus_file and item.form == "body":
            reply = self.file_reply(item, "html")
            reply.content_type = "text/html; charset=utf-8"
            return reply
        article, extra = self.article(item, part)
        body = pages.detail_body(item, article, extra=extra)
        text = pages.document(f"{item.title}_{self.site_name}", body, charset=self._meta_charset(),
                              site_name=self.site_name, agency=item.agency,
                              head_extra=pages.head_meta(item, self.site_name, self.columns[0].name))
        header = "UTF-8" if item is self.mislabelled_item else "default"
        return self.page_reply(text, header_charset=header, cacheable=True, last_modified=self.modified_at(item))

    def article(self, item: Item, part: int) -> tuple[str, str]:
        """The article HTML (and anything after the body container) for a detail page."""
        if not item.is_report:
            return self.content.filler_html(item), ""
        if item.form == "attachment":
            name = self.attachment_name(item)
            href = self.attachment_href(item)
            if "applinkstr" in item.flags:
                script = f"<script>var appLinkStr='{href}|{pages.esc(name)}';</script>"
                return "<p>详见附件。</p>", script
            return pages.attachment_line(href, name, oldsrc=self.protect_path(item)), ""
        if item.form == "image":
            return pages.image_body(["./" + self.file_name(item, "W0")]), ""
        html = self.content.report_body_html(item)
        if item is not self.paged_item:
            return html, ""
        first, second = split_report_html(html)
        pager = (f'<script>createPageHTML(2, {part}, "t{item.published:%Y%m%d}_{item.item_id}", '
                 f'"{self.ext}");</script>')
        return (second if part else first), pager


_DEFAULT_KINDS = [("body", "html", 6.0), ("attachment", "pdf", 2.0), ("attachment", "docx", 1.0),
                  ("attachment", "xlsx", 0.5), ("attachment", "doc", 0.5), ("image", "png", 0.3)]


def split_report_html(html: str) -> tuple[str, str]:
    """Split a report body in two between top-level blocks (one per line), as TRS paged details do."""
    inner_start = html.find(">") + 1 if html.startswith('<div class="WordSection1"') else 0
    lines = html[inner_start:].split("\n")
    if len(lines) < 2:
        middle = len(html) // 2
        return html[:middle], html[middle:]
    half = len(lines) // 2
    first = html[:inner_start] + "\n".join(lines[:half]) + ("</div>" if inner_start else "")
    second = (html[:inner_start] if inner_start else "") + "\n".join(lines[half:])
    return first, second
