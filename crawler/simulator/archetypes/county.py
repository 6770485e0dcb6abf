"""Archetype E, ``county-aggregator``: a messy county portal, the long tail (§2, §4, §7 E).

URL shapes (Y = report year, ``<slug>`` = department slug, ``<town>`` = 19-digit id):

  /zfxxgk/zfxxgknb/                       aggregate column: links to year directories ``./<Y>n/``,
        plus an old column ``/old/gknb/`` (301 → ``/``), a dead subdomain
        ``http://xzjd-old.<site>.invalid/…``, a closed local port, and ``./2018n/`` (soft-404)
  /zfxxgk/zfxxgknb/<Y>n/                  the year's list: the county's own reports, reports
        posted by OTHER agencies (the city's report, a city department's), duplicate listings of
        department reports (different URLs, identical bytes), 解读/图解/news, and ``./xzjd/``
  /zfxxgk/zfxxgknb/<Y>n/xzjd/             a 160-byte JS shell: location.replace('./list.shtml')
  /zfxxgk/zfxxgknb/<Y>n/xzjd/list.shtml   links to each township ``./<town>/``
  /zfxxgk/zfxxgknb/<Y>n/xzjd/<town>/      a <meta http-equiv=refresh> shell → ./index.shtml
  /zfxxgk/zfxxgknb/<Y>n/xzjd/<town>/index.shtml   the township's list for Y
  /bmxxgk/<slug>/gknb/index.html          a department column: shell with a same-origin
        <iframe src="./list.html">; the list is in list.html
  …/<YYYYMM>/t<YYYYMMDD>_<id>.shtml       detail pages under each column directory
  /attach/<YYYY>/<32hex>.<ext>            attachments; Content-Disposition with a percent-encoded
        Chinese file name; one attachment is a hard 404
  /pdfjs/web/viewer.html?file=%2Fattach%2F…pdf   a pdf.js viewer page (the PDF is in ``file=``)

Detail forms: HTML body with the tables; attachment only (pdf, docx, doc, wps); image-only
「（图片版）」 (png); a pdf.js iframe; a list entry that links the PDF itself. Pages are UTF-8 with a
<meta> charset and NO charset in the Content-Type header. Unknown paths under /zfxxgk/ are a
soft-404 (status 200, 「页面不存在」).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Optional
from urllib.parse import quote

from .. import pages
from ..content import extension, hex_name
from ..http import Reply, SimRequest
from ..model import Agency, Column, Item
from .base import Site

ROOT = "/zfxxgk/zfxxgknb/"
_KINDS = [("body", "html", 3.0), ("attachment", "pdf", 3.0), ("attachment", "docx", 1.0),
          ("attachment", "doc", 0.5), ("attachment", "wps", 0.5), ("image", "png", 0.5),
          ("pdfjs", "pdf", 0.5), ("direct", "pdf", 0.5)]
_FILE_FORMS = ("attachment", "image", "pdfjs", "direct")


class CountySite(Site):
    archetype = "county-aggregator"
    platform = "static"

    def populate(self) -> None:
        owner = self.owner()
        self.site_name = owner.name
        rng = self.world.rng(self.name)
        self.paths: dict[int, str] = {}  # item id -> detail path
        self.by_path: dict[str, Item] = {}  # detail or attachment path -> item
        self.column_dirs: dict[str, str] = {}  # column key -> directory of its detail pages
        self.towns: dict[str, tuple[Agency, str]] = {}  # town id -> (agency, column key)
        count = max(12, self.options.docs)
        kinds = self.options.kinds or _KINDS
        aggregate = self.add_column(Column(key="aggregate", name="政府信息公开年报", agency=owner, start_path=ROOT))
        years = list(range(2019, 2025))
        own = [it for it in self.corpus_entries(aggregate, owner)]
        corpus_years = {it.year for it in own if it.is_report and it.agency == owner}
        own += [self.world.report(self.name, aggregate.key, owner, y, rng, form=f, file_kind=k)
                for y in years if y not in corpus_years for f, k in [_pick(rng, kinds)]]
        city = self.world.agency(owner.parent or "上级人民政府", "city", owner.division_code[:4] + "00")
        city_dept = self.world.agency(f"{owner.parent[:-4] if owner.parent else '上级'}统计局", "department",
                                      city.division_code, city.name)
        own.append(self.world.report(self.name, aggregate.key, city_dept, 2023, rng, form="attachment", file_kind="pdf"))
        n_towns = max(1, count // 12)
        n_depts = max(1, math.ceil((count - len(own) - 2 * n_towns) * 0.8 / 6))
        depts = self.world.departments(owner, n_depts, rng)
        dept_items: list[Item] = []
        for index, dept in enumerate(depts):
            column = self.add_column(Column(key=f"bm{index:03d}", name=f"{dept.name}政府信息公开年报", agency=dept,
                                            start_path=f"/bmxxgk/bm{index:03d}/gknb/index.html"))
            self.column_dirs[column.key] = f"/bmxxgk/bm{index:03d}/gknb/"
            column.items = [self.world.report(self.name, column.key, dept, y, rng, form=f, file_kind=k)
                            for y in years for f, k in [_pick(rng, kinds)]]
            dept_items += column.items
        for town in self.world.towns(owner, n_towns, rng):
            town_id = str(10 ** 18 + rng.randrange(9 * 10 ** 18))
            column = self.add_column(Column(key=f"xz{town_id}", name=f"{town.name}政府信息公开年报", agency=town,
                                            start_path=f"{ROOT}2024n/xzjd/{town_id}/index.shtml", in_registry=False))
            self.towns[town_id] = (town, column.key)
            column.items = [self.world.report(self.name, column.key, town, y, rng, form=f, file_kind=k)
                            for y in (2023, 2024) for f, k in [_pick(rng, kinds)]]
        negatives = [self.world.negative(self.name, aggregate.key, owner, rng.choice(years), rng)
                     for _ in range(max(3, count // 8))]
        duplicates = self.duplicate_listings(aggregate, dept_items, rng)
        aggregate.items = sorted(own + negatives + duplicates, key=lambda it: (it.published, it.item_id), reverse=True)
        attachments = [it for it in dept_items if it.form == "attachment" and it.duplicate_of is None]
        attachments = [it for it in attachments if not any(d.duplicate_of == it.item_id for d in duplicates)]
        self.missing_attachment = attachments[0] if attachments else None
        if self.missing_attachment:
            self.missing_attachment.flags.add("attachment_404")
        for column in self.columns:
            for item in column.items:
                self.register(column, item)

    def corpus_entries(self, column: Column, owner: Agency) -> list[Item]:
        """The real documents: the district's PDFs, the city's PDF posted here, a blank template."""
        items = [self.world.corpus(self.name, column.key, owner, "hongzequ_2023.pdf", 2023,
                                   title="洪泽区2023年政府信息公开工作年度报告", form="attachment", file_kind="pdf"),
                 self.world.corpus(self.name, column.key, owner, "hongzequ_2024.pdf", 2024,
                                   title="淮安市洪泽区人民政府2024年政府信息公开工作年度报告", form="attachment",
                                   file_kind="pdf")]
        city = self.world.agency("淮安市人民政府", "city", "320800")
        items.append(self.world.corpus(self.name, column.key, city, "huaianshi_2024.pdf", 2024,
                                       title="淮安市人民政府2024年政府信息公开工作年度报告", form="attachment",
                                       file_kind="pdf"))
        items.append(self.world.corpus(self.name, column.key, owner, "template_f2021_blank.docx", None,
                                       title="政府信息公开工作年度报告模板（2021版）", kind="template",
                                       form="attachment", file_kind="docx", published=date(2022, 1, 10)))
        return items

    def duplicate_listings(self, aggregate: Column, dept_items: list[Item], rng) -> list[Item]:
        """Some department reports listed again in the aggregate column: new URLs, same bytes."""
        chosen = [it for it in dept_items if it.form == "attachment"][:: max(1, len(dept_items) // 4)][:4]
        copies = []
        for original in chosen:
            copy = Item(item_id=self.world.next_id(), site=self.name, column=aggregate.key, title=original.title,
                        agency=original.agency, kind="report", year=original.year, published=original.published,
                        fmt=original.fmt, form=original.form, file_kind=original.file_kind, duplicate_of=original.item_id)
            self.world.items[copy.item_id] = copy
            copies.append(copy)
        return copies

    # ---- URLs ---------------------------------------------------------------------------------
    def register(self, column: Column, item: Item) -> None:
        directory = self.item_dir(column, item)
        path = f"{directory}{item.published:%Y%m}/t{item.published:%Y%m%d}_{item.item_id}.shtml"
        if item.form == "direct":
            path = self.attachment_path(item)
        self.paths[item.item_id] = path
        self.by_path[path] = item
        if item.is_report and item.form in _FILE_FORMS or item.kind == "template":
            self.by_path[self.attachment_path(item)] = item

    def item_dir(self, column: Column, item: Item) -> str:
        if column.key in self.column_dirs:
            return self.column_dirs[column.key]
        year = listing_year(item)
        if column.key.startswith("xz"):
            return f"{ROOT}{year}n/xzjd/{column.key[2:]}/"
        return f"{ROOT}{year}n/"

    def attachment_path(self, item: Item) -> str:
        return f"/attach/{item.published:%Y}/{hex_name(self.name, item.item_id)}.{extension(item.file_kind or 'pdf')}"

    def detail_url(self, item: Item) -> Optional[str]:
        return self.url(self.paths[item.item_id])

    def document_urls(self, item: Item) -> list[str]:
        if item.form in _FILE_FORMS:
            return [self.url(self.attachment_path(item))]
        return [self.url(self.paths[item.item_id])]

    def unreachable_reason(self, item: Item) -> Optional[str]:
        if "attachment_404" in item.flags:
            return "the attachment link is a hard 404"
        return super().unreachable_reason(item)

    # ---- HTTP ---------------------------------------------------------------------------------
    def page(self, title: str, body: str, **kwargs) -> Reply:
        text = pages.document(title, body, site_name=self.site_name, agency=self.columns[0].agency,
                              head_extra=kwargs.pop("head_extra", ""))
        return Reply.html(text, charset=None, **kwargs)

    def handle(self, request: SimRequest) -> Optional[Reply]:
        path = request.path
        if path == "/":
            return self.page(self.site_name, f'<a href="{ROOT}">政府信息公开年报</a>')
        if path in ("/old/gknb/", "/old/gknb/index.html"):
            return Reply.redirect("/", status=301)
        if path == "/pdfjs/web/viewer.html":
            return Reply.html("<html><head><title>PDF.js viewer</title></head><body><div id=\"viewerContainer\">"
                              "</div><script src=\"pdf.js\"></script><script src=\"viewer.js\"></script></body></html>")
        item = self.by_path.get(path)
        if item is not None:
            return self.serve_item(item, path)
        for prefix, handler in ((ROOT, self.aggregate_paths), ("/bmxxgk/", self.department_paths)):
            if path.startswith(prefix):
                reply = handler(path)
                if reply is not None:
                    return reply
                return self.page("页面不存在", '<div class="error"><h2>对不起，您访问的页面不存在！</h2></div>')
        return None

    def aggregate_paths(self, path: str) -> Optional[Reply]:
        if path in (ROOT, ROOT + "index.shtml"):
            return self.aggregate_index()
        rest = path[len(ROOT):]
        year_part, _, tail = rest.partition("/")
        if not (year_part.endswith("n") and year_part[:-1].isdigit()):
            return None
        year = int(year_part[:-1])
        if year not in self.years():
            return None
        if tail in ("", "index.shtml"):
            return self.year_list(year)
        if tail == "xzjd/":
            return Reply.html("<html><head><script>location.replace('./list.shtml');</script></head><body></body></html>",
                              charset=None)
        if tail == "xzjd/list.shtml":
            links = "".join(f'<li><a href="./{tid}/">{pages.esc(agency.name)}</a></li>' for tid, (agency, _) in self.towns.items())
            return self.page(f"{year}年乡镇（街道）年报", f"<ul class=\"list\">{links}</ul>")
        parts = tail.split("/")
        if len(parts) >= 2 and parts[0] == "xzjd" and parts[1] in self.towns:
            if len(parts) == 3 and parts[2] == "":
                return Reply.html('<html><head><meta http-equiv="refresh" content="0;url=./index.shtml"></head>'
                                  "<body></body></html>", charset=None)
            if len(parts) == 3 and parts[2] == "index.shtml":
                agency, key = self.towns[parts[1]]
                column = next(c for c in self.columns if c.key == key)
                return self.list_page(f"{agency.name}{year}年政府信息公开年报",
                                      [it for it in column.items if listing_year(it) == year])
        return None

    def department_paths(self, path: str) -> Optional[Reply]:
        for column in self.columns:
            directory = self.column_dirs.get(column.key)
            if directory is None:
                continue
            if path in (directory, directory + "index.html"):
                return self.page(column.name, '<iframe src="./list.html" width="100%" height="800" frameborder="0"'
                                 ' scrolling="no" id="listFrame"></iframe>')
            if path == directory + "list.html":
                return self.list_page(column.name, column.items)
        return None

    def years(self) -> list[int]:
        return sorted({listing_year(it) for it in self.columns[0].items}, reverse=True)

    def aggregate_index(self) -> Reply:
        links = "".join(f'<li><a href="./{y}n/">{y}年度政府信息公开工作年度报告</a></li>' for y in self.years())
        depts = "".join(f'<li><a href="{c.start_path}">{pages.esc(c.agency.name)}</a></li>'
                        for c in self.columns if c.key in self.column_dirs)
        dead = (f'<li><a href="./2018n/">2018年度</a></li><li><a href="/old/gknb/">历史年报（旧版）</a></li>'
                f'<li><a href="http://xzjd-old.{self.name}.invalid/zfxxgk/gknb/">乡镇年报（旧站）</a></li>'
                f'<li><a href="{self.sim.dead_url("/gknb/index.html")}">年报归档</a></li>')
        return self.page(f"政府信息公开年报_{self.site_name}",
                         f'<ul class="years">{links}{dead}</ul><h3>部门年报</h3><ul class="depts">{depts}</ul>')

    def year_list(self, year: int) -> Reply:
        items = [it for it in self.columns[0].items if listing_year(it) == year]
        return self.list_page(f"{year}年度政府信息公开工作年度报告", items,
                              extra=f'<p><a href="./xzjd/">乡镇（街道）{year}年度报告</a></p>')

    def list_page(self, title: str, items: list[Item], extra: str = "") -> Reply:
        rows = "".join(f'<li><a href="{self.paths[it.item_id]}" target="_blank">{pages.esc(it.title)}</a>'
                       f"<span>{it.published.isoformat()}</span></li>" for it in items)
        return self.page(title, f'<ul class="list">{rows}</ul>{extra}')

    def serve_item(self, item: Item, path: str) -> Optional[Reply]:
        if path == self.attachment_path(item) and (item.form in _FILE_FORMS or item.kind == "template"):
            if "attachment_404" in item.flags:
                return Reply.not_found()
            reply = self.file_reply(item)
            name = quote(self.attachment_name(item))
            reply.headers["Content-Disposition"] = (f'attachment; filename="{name}"' if item.item_id % 2
                                                    else f"attachment; filename*=UTF-8''{name}")
            return reply
        return self.detail(item)

    def detail(self, item: Item) -> Reply:
        href = self.attachment_path(item)
        if item.kind == "template":
            article = pages.attachment_line(href, self.attachment_name(item))
        elif not item.is_report:
            article = self.content.filler_html(item)
        elif item.corpus_file and item.form == "body":
            return self.file_reply(item, "html")
        elif item.form == "attachment":
            article = pages.attachment_line(href, self.attachment_name(item))
        elif item.form == "image":
            article = pages.image_body([href])
        elif item.form == "pdfjs":
            article = (f'<iframe src="/pdfjs/web/viewer.html?file={quote(href, safe="")}" width="100%" '
                       'height="900"></iframe>')
        else:
            article = self.content.report_body_html(self.primary(item))
        body = pages.detail_body(item, article, container='div class="xxgk_content"')
        return self.page(item.title, body, head_extra=pages.head_meta(item, self.site_name, "政府信息公开年报"),
                         cacheable=True, last_modified=self.modified_at(item))


def listing_year(item: Item) -> int:
    return item.year if item.year is not None else item.published.year - 1


def _pick(rng, kinds):
    from ..population import _weighted
    return _weighted(rng, kinds)
