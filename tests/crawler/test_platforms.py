"""Platform adapters as pure functions of saved responses: real list pages and simulator pages."""

from __future__ import annotations

import json

import pytest

from scrapy.http import HtmlResponse, Request, TextResponse

from crawler import platforms
from crawler.platforms import generic, gkmlpt, hanweb, postapi, trs
from crawler.platforms.detail import parse_detail, viewer_target
from crawler.platforms.encoding import decode_body, page_text
from crawler.titles import classify_title
from tests.conftest import DOCUMENTS


def html(url: str, body: bytes | str, headers: dict | None = None, meta: dict | None = None) -> HtmlResponse:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return HtmlResponse(url=url, body=data, headers=headers or {}, request=Request(url, meta=meta or {}))


# ------------------------------------------------------------------------------- real list pages
def test_trs_real_list_page_ordos_items_pager_and_mixed_news() -> None:
    url = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index.html"
    response = html(url, (DOCUMENTS / "ordos-engebei_listpage.html").read_bytes())
    assert platforms.detect(response) == "trs"
    listing = trs.parse_listing(response)
    assert len(listing.items) == 10
    assert listing.items[0].url == "http://www.ordos.gov.cn/egb/xxgk/xxgknb/202009/t20200903_2748784.html"
    assert listing.items[0].date == "2020-09-03"
    kept = [item.title for item in listing.items if classify_title(item.title).is_report]
    assert kept == ["鄂尔多斯市2019年政府信息公开工作年度报告", "鄂尔多斯市人民政府办公室2019年政府信息公开工作年度报告",
                    "鄂尔多斯市2018年政府信息公开年度报告", "内蒙古自治区2018年政府信息公开工作年度报告"]
    # countPage = 2: index_1 (and one past the end, for 1-based pagers)
    assert [r.url for r in listing.requests][:1] == ["http://www.ordos.gov.cn/egb/xxgk/xxgknb/index_1.html"]
    assert all(r.meta["role"] == "listing" for r in listing.requests)


def test_trs_real_list_page_pingtan_relative_links_all_reports() -> None:
    url = "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"
    response = html(url, (DOCUMENTS / "pingtan_listpage.html").read_bytes())
    listing = platforms.adapter_for(response).parse_listing(response)
    years = sorted(classify_title(item.title).year for item in listing.items)
    assert years == list(range(2016, 2026))
    assert "https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202503/t20250310_97791.htm" in {
        item.url for item in listing.items}


def test_trs_pager_is_generated_only_on_the_first_page() -> None:
    script = '<script>createPageHTML(4, 0, "index", "shtml");</script>'
    assert trs.next_page_urls("http://a/col/index.shtml", script) == [
        f"http://a/col/index_{k}.shtml" for k in range(1, 5)]
    assert trs.next_page_urls("http://a/col/index_2.shtml", script.replace("4, 0", "4, 2")) == []


def test_trs_stub_page_stops_the_listing() -> None:
    listing = trs.parse_listing(html("http://a/col/index_9.html", "<html><body>stub</body></html>"))
    assert not listing.items and not listing.requests


# ------------------------------------------------------------------------------- hanweb
HANWEB_COLUMN = """<html><body><div id="423656"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=3&path=/&columnid=282&unitid=423656&webname=%E6%9F%90&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2024/1/11/art_282_123.html" title="某市2023年政府信息公开工作年度报告">某市…</a><span class="time">
2024-01-11</span></li>]]></record>
<record><![CDATA[<!-- <li><a href="/art/2024/1/2/art_282_1.html">某市召开会议</a></li> -->]]></record>
<record><![CDATA[<li style=<br><a href='/art/2023/1/5/art_282_99.html'>某市2022年政府信息公开工作年度报告</a><i>2023-01-05</i></li>]]></record>
</recordset></datastore></script></div>
<script>$('#423656').jpage({ dataStore: dataStore, perPage: 2, totalRecord: 7, proxyUrl: '/module/web/jpage/dataproxy.jsp', openCookies: false });</script>
</body></html>"""


def test_hanweb_datastore_records_and_dataproxy_requests_with_referer() -> None:
    url = "http://h.example/col/col282/index.html"
    response = html(url, HANWEB_COLUMN)
    assert platforms.detect(response) == "hanweb"
    listing = hanweb.parse_listing(response)
    assert [i.url for i in listing.items] == ["http://h.example/art/2024/1/11/art_282_123.html",
                                               "http://h.example/art/2023/1/5/art_282_99.html"]
    assert listing.items[0].date == "2024-01-11"
    pages = [r for r in listing.requests]
    assert len(pages) == 3  # pages 2..4 of 2 records each (7 records)
    first = pages[0]
    assert first.method == "POST" and first.headers[b"Referer"] == url.encode()
    assert b"columnid=282" in first.body and b"unitid=423656" in first.body
    assert "startrecord=3" in first.url and "page=2" in first.url and "perpage=2" in first.url


def test_hanweb_api_reply_records() -> None:
    xml = ('<?xml version="1.0"?><datastore><totalrecord>7</totalrecord><recordset>'
           '<record><![CDATA[<li><a href="/art/2022/1/5/art_282_7.html" title="某市2021年政府信息公开工作年度报告">x</a></li>]]></record>'
           '</recordset></datastore>')
    meta = {"hanweb": {"referer": "http://h.example/col/col282/index.html"}}
    response = TextResponse(url="http://h.example/module/web/jpage/dataproxy.jsp?page=2", body=xml.encode(),
                            request=Request("http://h.example/x", meta=meta))
    listing = hanweb.parse_listing(response)
    assert [i.url for i in listing.items] == ["http://h.example/art/2022/1/5/art_282_7.html"]
    assert listing.requests == []


HANWEB_XXGK_MODULE = """<html><body><div class="position">当前位置：首页 &gt; 信息公开 &gt; 年报</div>
<div id="div1229498488"></div>
<script>function loadList(page) { $.ajax({ type: 'post', url: '/module/xxgk/search.jsp?standardXxgk=1&amp;currpage=&amp;sortfield=,createdatetime:0,orderid:0&amp;infotypeId=A0212&amp;jdid=3096&amp;area=002482429&amp;divid=div1229498488', data: {currpage: page} }); } loadList(1);</script>
</body></html>"""

HANWEB_XXGK_REPLY = """<table class="tb_main">
<tr class="tr_main_value_odd"><td>1</td><td><a href="http://h.example/art/2024/1/20/art_1229498488_9.html" title="某县2023年政府信息公开工作年度报告">某县…</a></td><td>2024-01-20</td></tr>
<tr class="tr_main_value_even"><td>2</td><td><a href="http://h.example/art/2024/1/9/art_1229498499_4.html" title="某县商务局2023年政府信息公开工作年度报告">x</a></td><td>2024-01-09</td></tr>
<tr class="tr_main_value_odd"><td>3</td><td><a href="/art/2023/1/6/art_1229498488_2.html">某县2022年政府信息公开工作年度报告</a></td><td>2023-01-06</td></tr>
</table><div class="page">共3页 当前第1页 共41条</div>"""


def test_hanweb_xxgk_module_lists_through_search_jsp_with_the_pages_fields() -> None:
    url = "http://h.example/col/col1229498488/index.html"
    response = html(url, HANWEB_XXGK_MODULE)
    assert platforms.detect(response) == "hanweb"
    listing = hanweb.parse_listing(response)
    assert listing.items == [] and len(listing.requests) == 1
    first = listing.requests[0]
    assert first.method == "POST" and first.url.startswith("http://h.example/module/xxgk/search.jsp?")
    assert "currpage=1" in first.url and b"currpage=1" in first.body  # servers read either
    assert b"area=002482429" in first.body and b"jdid=3096" in first.body and b"infotypeId=A0212" in first.body
    assert first.headers[b"Referer"] == url.encode()
    assert first.meta["hanweb_xxgk"]["colid"] == "1229498488"


def test_hanweb_xxgk_reply_keeps_only_the_columns_rows_and_asks_for_every_page() -> None:
    column = "http://h.example/col/col1229498488/index.html"
    first = hanweb.parse_listing(html(column, HANWEB_XXGK_MODULE)).requests[0]
    reply = html(first.url, HANWEB_XXGK_REPLY, meta=first.meta)
    listing = hanweb.parse_listing(reply)
    assert [(i.url, i.date) for i in listing.items] == [
        ("http://h.example/art/2024/1/20/art_1229498488_9.html", "2024-01-20"),
        ("http://h.example/art/2023/1/6/art_1229498488_2.html", "2023-01-06")]  # not column 1229498499's
    assert ["currpage=2" in r.url and "currpage=3" not in r.url for r in listing.requests] == [True, False]
    assert "currpage=3" in listing.requests[1].url
    later = hanweb.parse_listing(html(listing.requests[0].url, HANWEB_XXGK_REPLY, meta=listing.requests[0].meta))
    assert later.requests == []  # only the first reply fans out


# ------------------------------------------------------------------------------- gkmlpt
def test_gkmlpt_shell_then_api_pages_start_at_one() -> None:
    shell = ('<html><body><a href="/">首页</a><script>window._CONFIG = {"SID": "755041", "TREE": [{"id": 710, '
             '"name": "政府信息公开", "children": [{"id": 721, "name": "政府信息公开年报", "children": []}]}]};'
             '</script></body></html>')
    listing = gkmlpt.parse_listing(html("http://g.example/gkmlpt/index", shell))
    assert [r.url for r in listing.requests] == ["http://g.example/gkmlpt/api/all/721?page=1&sid=755041"]
    reply = {"classify": {"post_count": 5}, "total": 5, "articles": [
        {"title": "%u67D0%u533A2023%u5E74%u653F%u5E9C%u4FE1%u606F%u516C%u5F00%u5DE5%u4F5C%u5E74%u5EA6%u62A5%u544A",
         "url": "http://g.example/gkmlpt/content/0/1/post_1.html", "date": "2024-01-02",
         "attachment": [{"url": "/attachment/0/1/1/1.pdf", "name": "a.pdf"}]},
        {"title": "某区2022年政府信息公开工作年度报告", "url": "", "attachment": [{"url": "/attachment/0/1/1/2.pdf"}]}]}
    api = TextResponse(url="http://g.example/gkmlpt/api/all/721?page=1&sid=755041",
                       body=json.dumps(reply).encode(), request=Request("http://g.example/x"))
    listing = gkmlpt.parse_listing(api)
    assert listing.items[0].title == "某区2023年政府信息公开工作年度报告"  # %u escapes decoded
    assert listing.items[0].attachments == ["http://g.example/attachment/0/1/1/1.pdf"]
    assert listing.items[1].url == "http://g.example/attachment/0/1/1/2.pdf"  # attachment-only article
    assert [r.url for r in listing.requests] == [
        f"http://g.example/gkmlpt/api/all/721?page={n}&sid=755041" for n in (2, 3)]
    assert all("page=0" not in r.url for r in listing.requests)


# ------------------------------------------------------------------------------- POST APIs
def test_intertid_form_post_and_pages() -> None:
    shell = ('<html><body><a href="/">首页</a><script>var siteId = 181; var channelIds = "38939,38940";'
             '</script></body></html>')
    listing = postapi.parse_listing(html("http://w.example/col/zfxxgknb/index.shtml", shell))
    request = listing.requests[0]
    assert request.method == "POST" and request.url == "http://w.example/info_open/search"
    assert request.headers[b"X-Requested-With"] == b"XMLHttpRequest"
    assert b"channelIds=38939%2C38940" in request.body and b"pageIndex=1" in request.body
    reply = {"status": 0, "data": {"totalPages": 3, "data": [
        {"title": "无锡市2023年政府信息公开工作年度报告", "url": "http://w.example/doc/2024/01/02/1.shtml",
         "writeTime": "2024-01-02"}, {"title": "空链接", "url": ""}]}}
    response = TextResponse(url=request.url, body=json.dumps(reply).encode(), request=request)
    listing = postapi.parse_listing(response)
    assert [i.url for i in listing.items] == ["http://w.example/doc/2024/01/02/1.shtml"]
    assert len(listing.requests) == 2


def test_token_api_refreshes_an_expired_code() -> None:
    shell = "<html><body><a href='/'>x</a><script>var athena = '/athena/forward/abc';</script></body></html>"
    token_request = postapi.parse_listing(html("http://t.example/zhengce/xxgk/index.htm", shell)).requests[0]
    assert token_request.url == "http://t.example/athena/token"
    token_reply = TextResponse(url=token_request.url, request=token_request,
                               body=b'{"resultCode":200,"result":{"data":{"code":"c1"}}}')
    list_request = postapi.parse_listing(token_reply).requests[0]
    assert json.loads(list_request.body)["code"] == "c1" and list_request.method == "POST"
    expired = TextResponse(url=list_request.url, request=list_request,
                           body='{"resultCode":401,"resultMsg":"code已过期"}'.encode())
    retry = postapi.parse_listing(expired).requests[0]
    assert retry.url == "http://t.example/athena/token" and retry.meta["postapi"]["page"] == 1


# ------------------------------------------------------------------------------- generic
def test_generic_shells_iframes_subcolumns_and_soft_404() -> None:
    shell = html("http://c.example/zfxxgk/zfxxgknb/2024n/xzjd/",
                 "<html><script>location.replace('./list.shtml')</script></html>",
                 meta={"column_url": "http://c.example/zfxxgk/zfxxgknb/"})
    assert [r.url for r in generic.parse_listing(shell).requests] == [
        "http://c.example/zfxxgk/zfxxgknb/2024n/xzjd/list.shtml"]
    frame = html("http://c.example/bm/gknb/index.html", '<html><body><a href="/">首页</a>'
                 '<iframe src="./list.html"></iframe></body></html>')
    assert "http://c.example/bm/gknb/list.html" in [r.url for r in generic.parse_listing(frame).requests]
    years = html("http://c.example/zfxxgk/zfxxgknb/", '<html><body><a href="./2024n/">2024年度政府信息公开工作年度报告</a>'
                 '<a href="/other/">其他栏目</a><a href="./2024n/202501/t20250101_1.shtml">某县2024年政府信息公开工作年度报告</a>'
                 '</body></html>')
    listing = generic.parse_listing(years)
    assert [r.url for r in listing.requests] == ["http://c.example/zfxxgk/zfxxgknb/2024n/"]
    assert [i.url for i in listing.items] == ["http://c.example/zfxxgk/zfxxgknb/2024n/202501/t20250101_1.shtml"]
    soft = html("http://c.example/zfxxgk/x/", "<html><body>页面不存在</body></html>")
    assert generic.parse_listing(soft).note == "soft 404"


def test_empty_anti_bot_shell_is_recognised_but_redirect_shells_are_not() -> None:
    shell = html("http://s.example/", '<!DOCTYPE html><html><head><script src="/waf/check.js"></script></head>'
                 '<body><div id="app"></div><noscript>您的浏览器不支持JavaScript</noscript></body></html>')
    assert generic.is_empty_shell(shell, shell.text)
    redirect = html("http://s.example/", "<html><script>location.replace('./list.shtml')</script></html>")
    assert not generic.is_empty_shell(redirect, redirect.text)


# ------------------------------------------------------------------------------- details, encodings
def test_detail_attachments_viewer_applinkstr_and_report_body() -> None:
    body = ('<html><body><div class="TRS_Editor"><p>附件：<a href="./P020240101123456.pdf" '
            'OLDSRC="/protect/P0202401/P020240101/P020240101123456.pdf">报告.pdf</a></p>'
            '<a href="/module/download/downfile.jsp?classid=0&amp;filename=abc.pdf">下载</a>'
            '<iframe src="/pdfjs/web/viewer.html?file=%2Fattach%2F2024%2Fx.pdf"></iframe>'
            "<script>var appLinkStr='./P0202401019.xlsx|统计表';</script></div></body></html>")
    detail = parse_detail(html("http://d.example/col/202401/t20240101_1.html", body))
    urls = [a.url for a in detail.attachments]
    assert urls == ["http://d.example/col/202401/P020240101123456.pdf",
                    "http://d.example/module/download/downfile.jsp?classid=0&filename=abc.pdf",
                    "http://d.example/attach/2024/x.pdf", "http://d.example/col/202401/P0202401019.xlsx"]
    assert not detail.is_report_body
    assert viewer_target("http://x/pdfjs/web/viewer.html?file=%2Fa%2Fb.pdf") == "/a/b.pdf"


def test_real_report_detail_page_is_a_report_body() -> None:
    detail = parse_detail(html("https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202503/t20250310_97791.htm",
                               (DOCUMENTS / "pingtan_2024.html").read_bytes()))
    assert detail.is_report_body


def test_encodings_header_vs_meta_vs_content() -> None:
    text = "<html><head><meta charset=gb2312></head><body>政府信息公开工作年度报告 鎔</body></html>"
    gbk = text.encode("gb18030")
    # header says UTF-8 over a GBK body: repaired from the meta charset (gb2312 read as gb18030)
    wrong = html("http://e.example/", gbk, headers={"Content-Type": "text/html; charset=UTF-8"})
    assert "政府信息公开工作年度报告 鎔" in page_text(wrong)
    # no header charset: the meta decides
    plain = html("http://e.example/", gbk, headers={"Content-Type": "text/html"})
    assert "政府信息公开工作年度报告" in page_text(plain)
    assert decode_body("报告".encode("utf-8")) == "报告"


# ------------------------------------------------------------------------------- hostile pages
HOSTILE_PAGES = {
    "unclosed meta tags": "<meta " * 100_000,
    "a meta refresh padded with blanks": "<meta http-equiv=refresh content=" + " " * 200_000,
    "unclosed divs with ids": "<div id=1 " * 50_000,
    "unclosed links": "<a href=x " * 50_000,
    "unclosed scripts on an EWB page": "EWB-FRONT" + "<script " * 100_000,
}


@pytest.mark.parametrize("name", list(HOSTILE_PAGES))
@pytest.mark.parametrize("platform", list(platforms.ADAPTERS))
def test_every_adapter_reads_hostile_pages_in_linear_time(platform: str, name: str) -> None:
    # quadratic patterns take minutes on these (~0.5 MB); a hang here is the regression
    response = html("http://h.example/zfxxgknb/index.html", f"<html><body>{HOSTILE_PAGES[name]}</body></html>",
                    meta={"column_url": "http://h.example/zfxxgknb/"})
    platforms.detect(response)
    listing = platforms.ADAPTERS[platform].parse_listing(response)
    assert listing.items == []
