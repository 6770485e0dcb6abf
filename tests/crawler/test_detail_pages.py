"""Detail pages: the quick (source text) path and the tree (lxml) path must agree.

The quick path only ever answers "a report body that links no file"; every other page goes to the
tree path. These tests pin both halves of that promise on real corpus pages and on the tricky
shapes the quick path must leave alone.
"""

from __future__ import annotations

import html
from dataclasses import asdict

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.platforms.detail import _parse_detail_tree, parse_detail, quick_report_body
from crawler.platforms.encoding import page_text
from tests.conftest import DOCUMENTS

URL = "http://d.example/col/202401/t20240101_1.html"
SECTIONS = ("一、总体情况" + "本机关认真贯彻落实条例要求。" * 12 + "二、主动公开政府信息情况" + "主动公开文件若干。" * 10
            + "三、收到和处理政府信息公开申请情况" + "本年新收申请若干件。" * 10 + "四、政府信息公开行政复议、行政诉讼情况"
            + "五、存在的主要问题及改进情况" + "六、其他需要报告的事项")


def page(body: str) -> HtmlResponse:
    return HtmlResponse(url=URL, body=body.encode("utf-8"), request=Request(URL))


def word_export(inner: str) -> str:
    """A report body split over <span>s the way Word exports are."""
    spans = "".join(f'<span style="font-family:仿宋_GB2312">{SECTIONS[i:i + 7]}</span>' for i in range(0, len(SECTIONS), 7))
    return f'<div class="WordSection1"><p class="MsoNormal">{spans}</p>{inner}</div>'


def both_paths(response: HtmlResponse) -> tuple[bool, dict]:
    text = page_text(response)
    return quick_report_body(text, response.url), asdict(_parse_detail_tree(response, text))


CORPUS_PAGES = sorted(path.name for path in DOCUMENTS.glob("*.htm*"))


@pytest.mark.parametrize("name", CORPUS_PAGES)
def test_quick_path_agrees_with_the_tree_on_real_pages(name: str) -> None:
    response = HtmlResponse(url="https://www.example.gov.cn/zfxxgknb/202401/t20240101_1.html",
                            body=(DOCUMENTS / name).read_bytes())
    quick, tree = both_paths(response)
    if quick:  # the quick path may decline a report body; it may never claim a non-report
        assert tree == {"is_report_body": True, "attachments": [], "parts": []}
    assert asdict(parse_detail(response)) == tree


def test_a_real_report_body_is_recognised_without_a_tree() -> None:
    response = HtmlResponse(url="https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/202503/t20250310_97791.htm",
                            body=(DOCUMENTS / "pingtan_2024.html").read_bytes())
    assert quick_report_body(page_text(response), response.url)


def test_word_export_in_a_container_is_a_quick_report_body() -> None:
    body = f'<html><body><div class="nav">首页</div><div class="TRS_Editor">{word_export("")}</div></body></html>'
    assert both_paths(page(body)) == (True, {"is_report_body": True, "attachments": [], "parts": []})


@pytest.mark.parametrize("link", [
    '<a href="./P020240101123456.pdf">附件</a>',
    '<a href="" OLDSRC="/protect/P0202401/P020240101123456.docx">附件</a>',
    '<a href="/module/download/downfile.jsp?classid=0&amp;filename=abc">下载</a>',
    '<iframe src="/pdfjs/web/viewer.html?file=%2Fattach%2F2024%2Fx.pdf"></iframe>',
    "<script>var appLinkStr='./P0202401019.xlsx|统计表';</script>",
])
def test_a_page_that_may_link_a_file_goes_to_the_tree(link: str) -> None:
    body = f'<html><body><div class="TRS_Editor">{word_export(link)}</div></body></html>'
    quick, tree = both_paths(page(body))
    assert not quick
    assert tree["is_report_body"] and tree["attachments"]  # the tree finds the file: a copy to keep
    assert asdict(parse_detail(page(body))) == tree


def test_the_container_decides_not_the_whole_page() -> None:
    # the report text sits outside the container (a navigation menu, say): neither path takes it
    body = f'<html><body><div class="side">{word_export("")}</div><div class="TRS_Editor"><p>详见附件</p></div></body></html>'
    assert both_paths(page(body)) == (False, {"is_report_body": False, "attachments": [], "parts": []})


def test_text_in_comments_and_scripts_is_not_report_text() -> None:
    body = (f'<html><body><div class="TRS_Editor"><!-- {SECTIONS} --><script>var t="{SECTIONS}";</script>'
            "<p>详见附件</p></div></body></html>")
    assert both_paths(page(body)) == (False, {"is_report_body": False, "attachments": [], "parts": []})


def test_an_unclosed_container_is_left_to_the_tree() -> None:
    body = f'<html><body><div class="TRS_Editor"><div>{word_export("")}</body></html>'
    quick, tree = both_paths(page(body))
    assert not quick  # where the container ends is not plain in the source
    assert tree["is_report_body"]


@pytest.mark.parametrize("scope", [
    # section markers only inside attributes: not text
    "".join(f'<p title="{marker}">x</p>' for marker in ("总体情况", "主动公开", "行政复议", "依申请公开")) + "<p>" + "字" * 400 + "</p>",
    # markers in the text, but the text short once tags and entities are gone
    "<p>总体情况 主动公开 行政复议</p>" + '<span class="' + "x" * 400 + '"></span>' + "&nbsp;" * 400,
    # entities cut by tags (read whole once the tags are stripped): far fewer characters than the source
    "<p>总体情况主动公开行政复议</p>" + "&am<b>p;" * 200,
    # a marker split by a tag is text, but not where the source shows it
    "<p>总体<b>情况</b>主动<b>公开</b>行政<b>复议</b>" + "字" * 400 + "</p>",
])
def test_the_marker_shortcut_never_claims_more_than_the_full_test(scope: str) -> None:
    from crawler.platforms.detail import _TAG, _plainly_report_text, looks_like_report_text

    full = looks_like_report_text("".join(html.unescape(_TAG.sub("", scope)).split()))
    assert not _plainly_report_text(scope) or full


def test_the_marker_shortcut_reads_a_long_page_from_its_first_tags() -> None:
    from crawler.platforms.detail import _plainly_report_text

    assert _plainly_report_text(f"<p>{SECTIONS}</p>" + "<p>字</p>" * 100_000)
    assert _plainly_report_text("<p>总体情况主动公开行政复议</p>" + "&amp;" * 300)  # 300 "&": 312 characters
    assert not _plainly_report_text("<p>总体情况主动公开行政复议</p>" + "&amp;" * 200)


# ------------------------------------------------------------------ detail pages split in parts
def test_the_parts_of_a_split_trs_detail_page() -> None:
    from crawler.platforms.trs import detail_part_urls

    first = "http://t.example/zfxxgknb/202403/t20240311_100.shtml"
    pager = '<script>createPageHTML(3, 0, "t20240311_100", "shtml");</script>'
    assert detail_part_urls(first, pager) == ["http://t.example/zfxxgknb/202403/t20240311_100_1.shtml",
                                              "http://t.example/zfxxgknb/202403/t20240311_100_2.shtml"]
    # a later part, a listing's pager, a pager naming another page, a single page: no parts
    assert detail_part_urls(first.replace("_100.", "_100_1."), pager.replace(", 0,", ", 1,")) == []
    assert detail_part_urls("http://t.example/zfxxgknb/index.shtml", 'createPageHTML(5, 0, "index", "shtml")') == []
    assert detail_part_urls(first, pager.replace("_100", "_999")) == []
    assert detail_part_urls(first, pager.replace("(3,", "(1,")) == []
    # the detail page object says so, on both paths (a Word export, and a page linking a file)
    for inner in ("", '<a href="./P020240311.pdf">附件</a>'):
        response = HtmlResponse(url=first, body=f"<html><body><div class='TRS_Editor'>{word_export(inner)}</div>"
                                                f"{pager}</body></html>".encode("utf-8"), request=Request(first))
        assert parse_detail(response).parts == detail_part_urls(first, pager)


def test_split_parts_are_joined_into_one_body() -> None:
    from crawler.platforms.trs import join_detail_parts

    first = b"<html><head><title>t</title></head><body><div class='TRS_Editor'><p>one</p></div></body></html>"
    second = b"<html><body><div class='TRS_Editor'><table><tr><td>two</td></tr></table></div></body></html>"
    joined = join_detail_parts(first, [second, b"<p>three</p>"])
    assert joined.count(b"<body>") == 1 and joined.endswith(b"</body></html>")
    assert joined.index(b"one") < joined.index(b"<table>") < joined.index(b"three") < joined.index(b"</body>")
    assert join_detail_parts(first, []) == first


@pytest.mark.parametrize("hostile", [
    "<a " * 200_000,  # unclosed tags: each pattern stops at the next "<"
    '<div class="TRS_Editor">' + "<div " * 200_000,
    '<p class="' + "x " * 200_000,
    "<!--" * 100_000 + "<script>" * 100_000,
])
def test_hostile_pages_cost_linear_time(hostile: str) -> None:
    # quadratic patterns would take minutes on these (~0.5 MB); linear ones take milliseconds
    response = page(f"<html><body>{hostile}</body></html>")
    assert not quick_report_body(page_text(response), URL)
    assert not parse_detail(response).is_report_body
