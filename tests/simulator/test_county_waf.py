"""Archetypes E (county-aggregator) and F (waf-guarded)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from xxgk_testing import fetch_url


def test_county_index_links_and_dead_ends(sim, get):
    index = get("county", "/zfxxgk/zfxxgknb/")
    assert index.status == 200 and index.header("Content-Type") == "text/html"
    assert ".invalid/" in index.text and sim.dead_url("/gknb/index.html") in index.text
    assert get("county", "/old/gknb/").status == 301
    soft = get("county", "/zfxxgk/zfxxgknb/2018n/")
    assert soft.status == 200 and "不存在" in soft.text and len(soft.body) < 4096
    with pytest.raises(ConnectionRefusedError):
        fetch_url(sim.dead_url("/gknb/index.html"), timeout=5)


def test_county_shells_and_iframe_lists(sim, get):
    year = get("county", "/zfxxgk/zfxxgknb/2024n/").text
    assert "./xzjd/" in year
    shell = get("county", "/zfxxgk/zfxxgknb/2024n/xzjd/")
    assert "location.replace('./list.shtml')" in shell.text and len(shell.body) < 200
    towns = re.findall(r'href="\./(\d{19})/"', get("county", "/zfxxgk/zfxxgknb/2024n/xzjd/list.shtml").text)
    assert towns
    refresh = get("county", f"/zfxxgk/zfxxgknb/2024n/xzjd/{towns[0]}/").text
    assert 'http-equiv="refresh"' in refresh
    town_list = get("county", f"/zfxxgk/zfxxgknb/2024n/xzjd/{towns[0]}/index.shtml").text
    assert "2024" in town_list and "t20" in town_list
    dept = next(c for c in sim.site("county").columns if c.key.startswith("bm"))
    frame = get("county", dept.start_path).text
    assert '<iframe src="./list.html"' in frame and "/gknb/" not in frame.split("<iframe")[0].split('class="main"')[-1]
    assert dept.items[0].title in get("county", dept.start_path.replace("index.html", "list.html")).text


def test_county_duplicates_other_agencies_and_negatives(sim):
    truth = [t for t in sim.expected_reports(include_unreachable=True) if t["site"] == "county"]
    dup = next(t for t in truth if t["duplicates"])
    assert fetch_url(dup["duplicates"][0]).body == fetch_url(dup["urls"][0]).body
    assert dup["duplicates"][0] != dup["urls"][0]
    agencies = {t["agency"] for t in truth}
    assert "淮安市人民政府" in agencies and "淮安市洪泽区人民政府" in agencies
    missing = next(t for t in truth if t["unreachable"])
    assert fetch_url(missing["urls"][0]).status == 404
    kinds = {n["kind"] for n in sim.non_reports() if n["site"] == "county"}
    assert {"template"} <= kinds and kinds & {"jiedu", "tujie", "news", "letter"}
    corpus = next(t for t in truth if t["corpus_file"] == "hongzequ_2023.pdf")
    attachment = fetch_url(corpus["urls"][0])
    assert attachment.body.startswith(b"%PDF")
    disposition = attachment.header("Content-Disposition")
    assert "%E6" in disposition or "%E5" in disposition
    assert "政府信息公开" in unquote(disposition)


def test_county_viewer_and_image_forms(sim):
    truth = [t for t in sim.expected_reports() if t["site"] == "county"]
    site = sim.site("county")
    viewer = [t for t in truth if site.world.items[t["item_id"]].form == "pdfjs"]
    if viewer:
        page = fetch_url(viewer[0]["detail_url"]).text
        assert "/pdfjs/web/viewer.html?file=%2Fattach%2F" in page
    images = [t for t in truth if t["format"] == "png"]
    if images:
        assert fetch_url(images[0]["urls"][0]).body.startswith(b"\x89PNG")


def test_waf_412_everywhere(sim, get):
    for path in ("/", "/robots.txt", "/zfxxgk/zfxxgknb/index.html"):
        reply = get("waf-412", path)
        assert reply.status == 412 and "$_ts" in reply.text
    assert "waf-412" in sim.blocked_sites()
    assert not [t for t in sim.expected_reports() if t["site"] == "waf-412"]


def test_waf_521_cookie_challenge(sim, get):
    first = get("waf-521", "/zfxxgk/zfxxgknb/index.html")
    assert first.status == 521 and "__jsl_clearance_s" in first.text
    cookie = re.search(r"__jsl_clearance_s=([0-9a-f]+)", first.text).group(1)
    again = get("waf-521", "/zfxxgk/zfxxgknb/index.html", headers={"Cookie": f"__jsl_clearance_s={cookie}"})
    assert again.status == 200
    assert "waf-521" in sim.blocked_sites()


def test_ct6t_redirect_sets_cookie_and_is_not_blocked(sim, get):
    first = get("waf-ct6t", "/zfxxgk/zfxxgknb/index.html")
    assert first.status == 302 and first.header("Location") == "/zfxxgk/zfxxgknb/index.html"
    cookie = first.header("Set-Cookie").split(";")[0]
    assert get("waf-ct6t", "/zfxxgk/zfxxgknb/index.html", headers={"Cookie": cookie}).status == 200
    assert "waf-ct6t" not in sim.blocked_sites()


def test_rate_limit_429_with_retry_after(sim, get):
    site = sim.site("waf-ratelimit")
    statuses = []
    for _ in range(site.rate_limit + 5):
        statuses.append(get("waf-ratelimit", "/zfxxgk/zfxxgknb/index.html").status)
    assert statuses[0] == 200 and statuses[-1] == 429
    limited = get("waf-ratelimit", "/zfxxgk/zfxxgknb/index.html")
    assert limited.header("Retry-After") == str(site.retry_after)
    site._recent.clear()  # let later tests through


def test_robots_variants(sim, get):
    assert "Disallow: /\n" in get("waf-robots", "/robots.txt").text
    assert "waf-robots" in sim.blocked_sites()
    assert get("waf-robots403", "/robots.txt").status == 403
    assert "Disallow: /uploadfiles/" in get("waf-uploadfiles", "/robots.txt").text
    unreachable = [t for t in sim.expected_reports(include_unreachable=True)
                   if t["site"] == "waf-uploadfiles" and t["unreachable"]]
    for truth in unreachable:
        assert "/uploadfiles/" in truth["urls"][0]
    shell = get("waf-shell", "/zfxxgk/zfxxgknb/index.html")
    assert shell.status == 200 and len(shell.body) < 1500 and "waf-shell" in sim.blocked_sites()
