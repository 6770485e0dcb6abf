"""Archetype A (trs-static): script-only pager, index_N pages, stubs, relative links, GBK, 304."""

from __future__ import annotations

import re

from xxgk_testing import fetch_url


def test_list_pager_is_script_only_and_stub_past_the_end(sim, get):
    site = sim.site("trs-a")
    first = get("trs-a", "/zfxxgk/zfxxgknb/index.html")
    assert first.status == 200
    count = int(re.search(r"var countPage = (\d+)", first.text).group(1))
    assert count == site.page_count >= 3
    assert 'createPageHTML(countPage, currentPage, "index", "html")' in first.text
    assert "index_1.html" not in first.text  # no <a> pager links
    for k in range(1, count):
        assert get("trs-a", f"/zfxxgk/zfxxgknb/index_{k}.html").status == 200
    stub = get("trs-a", f"/zfxxgk/zfxxgknb/index_{count}.html")
    assert stub.status == 200 and len(stub.body) < 600
    assert get("trs-a", f"/zfxxgk/zfxxgknb/index_{count + 1}.html").status == 404


def test_links_are_relative_in_several_styles_and_pinned_item_repeats(get):
    pages = [get("trs-a", p).text for p in ("/zfxxgk/zfxxgknb/index.html", "/zfxxgk/zfxxgknb/index_1.html",
                                            "/zfxxgk/zfxxgknb/index_2.html")]
    hrefs = [h for page in pages for h in re.findall(r'href="([^"]+/t\d{8}_\d+\.html)"', page)]
    assert any(h.startswith("./") for h in hrefs)
    assert any(h.startswith("../zfxxgknb/") for h in hrefs)
    assert any(h.startswith("//127.0.0.1:") for h in hrefs)
    assert all("【置顶】" in page for page in pages)


def test_detail_page_anatomy_and_attachment_paths(sim, get):
    truth = [t for t in sim.expected_reports() if t["site"] == "trs-a"]
    body_report = next(t for t in truth if t["format"] == "html" and not t["corpus_file"])
    page = fetch_url(body_report["detail_url"])
    assert page.status == 200
    for marker in ('name="ArticleTitle"', 'name="PubDate"', 'name="ContentSource"', 'class="xxgk_table"',
                   "索 引 号", 'class="TRS_Editor"', 'class="MsoNormalTable"', "rowspan="):
        assert marker in page.text
    pdf_report = next(t for t in truth if t["format"] == "pdf")
    detail = fetch_url(pdf_report["detail_url"]).text
    attachment = fetch_url(pdf_report["urls"][0])
    assert attachment.status == 200 and attachment.body.startswith(b"%PDF")
    oldsrc = re.search(r'OLDSRC="([^"]+)"', detail) or re.search(r"appLinkStr='([^|']+)", detail)
    assert oldsrc is not None
    if oldsrc.group(1).startswith("/protect/"):
        assert fetch_url(sim.url("trs-a", oldsrc.group(1))).body == attachment.body


def test_gbk_site_meta_charset_only_and_mislabelled_page(sim, get):
    page = get("trs-gbk", "/zwgk/zfxxgknb/index.htm")
    assert page.header("Content-Type") == "text/html"
    assert 'charset=gb2312' in page.body.decode("gb18030")
    site = sim.site("trs-gbk")
    mislabelled = fetch_url(site.detail_url(site.mislabelled_item))
    assert mislabelled.header("Content-Type").lower().endswith("charset=utf-8")
    text = mislabelled.body.decode("gb18030")
    assert site.mislabelled_item.title in text
    try:
        mislabelled.body.decode("utf-8")
        decodes_as_utf8 = True
    except UnicodeDecodeError:
        decodes_as_utf8 = False
    assert not decodes_as_utf8


def test_shtml_variant_index_1_missing_and_two_page_detail(sim, get):
    column = "/gongkai/zfxxgkpt/zfxxgknb/"
    assert get("trs-shtml", column + "index_1.shtml").status == 404
    assert get("trs-shtml", column + "index_2.shtml").status == 200
    site = sim.site("trs-shtml")
    truth = next(t for t in sim.expected_reports() if "paged_detail" in t["flags"])
    assert len(truth["urls"]) == 2 and truth["urls"][1].endswith("_1.shtml")
    first, second = (fetch_url(u) for u in truth["urls"])
    assert first.status == second.status == 200
    assert "createPageHTML(2, 0" in first.text and "createPageHTML(2, 1" in second.text
    assert site.paged_item.item_id == truth["item_id"]


def test_corpus_pages_are_served_byte_for_byte(sim):
    from crawler.simulator.content import CORPUS_DOCUMENTS
    truth = [t for t in sim.expected_reports() if t["site"] == "trs-pingtan" and t["corpus_file"]]
    assert len(truth) == 15
    sample = truth[0]
    assert fetch_url(sample["urls"][0]).body == (CORPUS_DOCUMENTS / sample["corpus_file"]).read_bytes()
    labelled = next(t for t in truth if t["corpus_file"] == "pingtan_2022.html")
    assert labelled["values"]["applications.new.total"] == 74


def test_conditional_requests_answer_304(sim):
    truth = next(t for t in sim.expected_reports() if t["site"] == "trs-a" and t["format"] == "html")
    first = fetch_url(truth["urls"][0])
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and modified
    assert fetch_url(truth["urls"][0], headers={"If-None-Match": etag}).status == 304
    assert fetch_url(truth["urls"][0], headers={"If-Modified-Since": modified}).status == 304
    assert fetch_url(truth["urls"][0], headers={"If-None-Match": '"other"'}).status == 200
