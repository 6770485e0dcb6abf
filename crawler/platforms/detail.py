"""A report's detail page: is the report in the page itself, and which files does it link?

Real detail pages carry the report in four ways: as the HTML body (Word-exported tables), as an
attachment (``./P0….pdf`` with ``OLDSRC``, Hanweb ``downfile.jsp``, gkmlpt ``/attachment/``), as a
pdf.js viewer (``viewer.html?file=%2F…pdf``) or as scanned images (「图片版」). This module finds
all of them; it is shared by every platform (their detail pages differ less than their lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

from scrapy.http import Response

from crawler.platforms.base import (absolute, anchor_title, is_document_url, is_image_url,
                                    selector)
from crawler.platforms.encoding import page_text

_BODY_CONTAINERS = (".TRS_Editor", ".trs_editor_view", ".TRS_UEDITOR", "#zoom", "#Zoom",
                    "#UCAP-CONTENT", "#ivs_content", ".Custom_UnionStyle", ".article-content",
                    ".xxgk_content", ".main-txt", ".artile_zw", "article", ".content", "#content")
_SECTION_MARKERS = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
                    "行政复议", "存在的主要问题", "其他需要报告的事项", "本年新收", "依申请公开",
                    "主动公开", "概述", "政府信息公开情况统计表")
_APP_LINKS = re.compile(r"""appLinkStr\s*=\s*['"]([^'"]+)['"]""")
_DOWNFILE = re.compile(r"downfile\.jsp|/attach(?:ment)?/|download\.(?:jsp|do|aspx?)|filedownload|getfile", re.I)
_VIEWER = re.compile(r"viewer\.html?\?", re.I)
_CHROME_IMAGE = re.compile(r"logo|icon|ico_|banner|btn|button|share|qrcode|erweima|wzbs|jiucuo|"
                           r"conac|beian|gongan|blue\.png|red\.png|/images?/(?:public|common)|spacer",
                           re.I)
MIN_REPORT_CHARS = 300


@dataclass
class Attachment:
    url: str
    title: str = ""
    kind: str = "file"  # file | viewer | image


@dataclass
class Detail:
    """What a detail page offers: its own body as a report, and the files it links."""

    is_report_body: bool
    attachments: list[Attachment] = field(default_factory=list)
    title: Optional[str] = None  # ArticleTitle meta or <title>


def viewer_target(url: str) -> Optional[str]:
    """The document behind a pdf.js ``viewer.html?file=…`` link."""
    if not _VIEWER.search(url):
        return None
    files = parse_qs(urlsplit(url).query).get("file")
    return unquote(files[0]) if files else None


def looks_like_report_text(text: str) -> bool:
    """Positive evidence that a page's own text is a report (not a wrapper or an anti-bot shell)."""
    if len(text) < MIN_REPORT_CHARS:
        return False
    return sum(1 for marker in _SECTION_MARKERS if marker in text) >= 3


def parse_detail(response: Response) -> Detail:
    sel = selector(response)
    body = None
    for css in _BODY_CONTAINERS:
        found = sel.css(css)
        if found:
            body = found[0]
            break
    scope = body if body is not None else sel
    # joined without spaces: Word exports split words over <span>s (主动公开政府信</span><span>息情况)
    text = "".join("".join(scope.xpath(".//text()[not(ancestor::script) and not(ancestor::style)]")
                           .getall()).split())
    title = (sel.css("meta[name=ArticleTitle]::attr(content)").get()
             or sel.css("title::text").get() or "").strip() or None
    detail = Detail(is_report_body=looks_like_report_text(text), title=title)
    seen: set[str] = set()

    def add(url: Optional[str], label: str, kind: str) -> None:
        if url and url not in seen and url != response.url:
            seen.add(url)
            detail.attachments.append(Attachment(url=url, title=label, kind=kind))

    for anchor in sel.css("a[href], a[oldsrc], a[OLDSRC]"):
        # the href is what a browser follows; OLDSRC (the server-side path) only when href is empty
        href = anchor.attrib.get("href") or anchor.attrib.get("oldsrc") or anchor.attrib.get("OLDSRC")
        url = absolute(response.url, href)
        if not url:
            continue
        label = anchor_title(anchor) or anchor.attrib.get("download", "")
        target = viewer_target(url)
        if target:
            add(absolute(response.url, target), label, "file")
        elif is_document_url(url) or (_DOWNFILE.search(url) and not is_image_url(url)):
            add(url, label, "file")
    for frame in sel.css("iframe[src], embed[src], object[data]"):
        src = frame.attrib.get("src") or frame.attrib.get("data")
        url = absolute(response.url, src)
        if not url:
            continue
        target = viewer_target(url)
        if target:
            add(absolute(response.url, target), "", "file")
        elif is_document_url(url):
            add(url, "", "file")
    for script in _APP_LINKS.findall(page_text(response)):
        for part in script.split("|"):
            url = absolute(response.url, part.strip())
            if url and is_document_url(url):
                add(url, "", "file")
    if not detail.is_report_body and not any(a.kind == "file" for a in detail.attachments):
        for img in scope.css("img[src]"):
            url = absolute(response.url, img.attrib.get("src"))
            if url and is_image_url(url) and not _CHROME_IMAGE.search(url):
                add(url, img.attrib.get("alt", ""), "image")
    return detail
