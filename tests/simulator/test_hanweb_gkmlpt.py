"""Archetypes B (hanweb-jcms) and C (gkmlpt-json)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from xxgk_testing import fetch_url

API = "/module/web/jpage/dataproxy.jsp"


def _dataproxy(sim, site_name, query, referer=True, api=API):
    site = sim.site(site_name)
    form = urlencode({"col": 1, "appid": 1, "webid": site.webid, "path": "/", "columnid": site.colid,
                      "unitid": site.unitid, "webname": site.site_name, "permissiontype": 0}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "X-Requested-With": "XMLHttpRequest"}
    if referer:
        headers["Referer"] = site.url(f"/col/col{site.colid}/index.html")
    return fetch_url(site.url(f"{api}?{urlencode(query)}"), method="POST", body=form, headers=headers)


def test_column_page_embeds_first_page_in_datastore(sim, get):
    site = sim.site("hanweb-a")
    page = get("hanweb-a", f"/col/col{site.colid}/index.html").text
    assert '<script type="text/xml"><datastore>' in page
    assert re.search(r"totalRecord: (\d+)", page).group(1) == str(len(site.columns[0].items))
    assert page.count("<record>") == site.options.per_page


def test_dataproxy_needs_referer_groups_three_pages_and_caps_perpage(sim):
    assert _dataproxy(sim, "hanweb-a", {"startrecord": 1, "endrecord": 60, "perpage": 20}, referer=False).status == 403
    group = _dataproxy(sim, "hanweb-a", {"startrecord": 1, "endrecord": 60, "perpage": 20})
    assert group.status == 200 and group.text.count("<record>") == 60
    assert "<totalrecord>" in group.text
    rest = _dataproxy(sim, "hanweb-a", {"startrecord": 61, "endrecord": 120, "perpage": 20})
    total = len(sim.site("hanweb-a").columns[0].items)
    assert rest.text.count("<record>") == total - 60
    big = _dataproxy(sim, "hanweb-a", {"startrecord": 1, "endrecord": 2000, "perpage": 1000})
    assert big.text.count("<record>") == total  # capped at 300 per page, 900 per group > total
    past = _dataproxy(sim, "hanweb-a", {"startrecord": 1000, "endrecord": 1060, "perpage": 20})
    assert past.status == 200 and "<record>" not in past.text


def test_only_page_variant_and_old_api_path(sim):
    site = sim.site("hanweb-b")
    first = _dataproxy(sim, "hanweb-b", {"startrecord": 11, "endrecord": 40, "perpage": 10}, api="/module/jpage/dataproxy.jsp")
    page2 = _dataproxy(sim, "hanweb-b", {"page": 2, "perpage": 10}, api="/module/jpage/dataproxy.jsp")
    assert first.text.count("<record>") == 10  # startrecord ignored: page 1
    assert first.text != page2.text and page2.text.count("<record>") == 10
    assert site.columns[0].items[10].title.replace('"', "&quot;") in page2.text or \
        str(site.columns[0].items[10].item_id) in page2.text


def test_downfile_redirects_to_storage_host(sim):
    truth = next(t for t in sim.expected_reports() if t["site"] == "hanweb-a" and t["format"] == "pdf")
    link, final = truth["urls"]
    redirect = fetch_url(link)
    assert redirect.status == 302 and redirect.header("Location") == final
    assert sim.site("hanweb-oss").host in final
    stored = fetch_url(final)
    assert stored.status == 200 and stored.body.startswith(b"%PDF")
    entry = next(e for e in sim.registry_entries() if e["site"] == "hanweb-a")
    assert sim.site("hanweb-oss").host in entry["scope_hosts"]


def test_xxgk_search_is_not_column_filtered(sim):
    site = sim.site("hanweb-a")
    page = fetch_url(site.url("/module/xxgk/search.jsp?currpage=1"), method="POST", body=b"infotypeId=A0212&currpage=1",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}).text
    assert "tr_main_value_odd" in page and "共" in page
    merged = fetch_url(site.url("/module/xxgk/search.jsp?currpage=2"), method="POST", body=b"").text + page
    cols = set(re.findall(r"art_(\d+)_\d+\.html", merged))
    assert len(cols) >= 1
    all_cols = set()
    for n in range(1, 10):
        all_cols |= set(re.findall(r"art_(\d+)_\d+\.html", fetch_url(site.url(f"/module/xxgk/search.jsp?currpage={n}"),
                                                                        method="POST", body=b"").text))
    assert {str(site.colid), str(site.colid + 1)} <= all_cols


def test_xxgk_module_variant_lists_only_through_search_jsp() -> None:
    from crawler.simulator.simulator import Simulator

    with Simulator(seed=3, sites=[{"name": "hanweb-xxgk", "docs": 20}]) as world:
        site = world.site("hanweb-xxgk")
        page = fetch_url(site.url(f"/col/col{site.colid}/index.html")).text
        assert "<datastore>" not in page and "/module/xxgk/search.jsp?" in page and f"area={site.area}" in page
        search = site.url("/module/xxgk/search.jsp")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        ours = fetch_url(f"{search}?area={site.area}&currpage=2", method="POST", body=b"", headers=form).text
        assert "当前第2页" in ours and "tr_main_value_odd" in ours
        in_form = fetch_url(f"{search}?area={site.area}&currpage=", method="POST", body=b"currpage=2", headers=form).text
        assert in_form == ours
        other = fetch_url(f"{search}?area=999999999&currpage=1", method="POST", body=b"", headers=form).text
        assert "tr_main_value" not in other and "共0页" in other


def test_gkmlpt_shell_config_and_page_zero_equals_page_one(sim, get):
    site = sim.site("gkmlpt-a")
    shell = get("gkmlpt-a", "/gkmlpt/index").text
    config = json.loads(re.search(r"window\._CONFIG = (\{.*?\});</script>", shell).group(1))
    assert config["SID"] == site.sid
    assert "政府信息公开年报" in json.dumps(config["TREE"], ensure_ascii=False)
    api = f"/gkmlpt/api/all/{site.cat}?sid={site.sid}&page="
    page0, page1, page2 = (json.loads(get("gkmlpt-a", api + str(n)).body) for n in (0, 1, 2))
    assert page0["articles"] == page1["articles"] and page1["classify"]["post_count"] == len(site.columns[0].items)
    assert page2["articles"] and page2["articles"] != page1["articles"]
    past = json.loads(get("gkmlpt-a", api + "99").body)
    assert past["articles"] == []
    attachment_only = next(a for a in page1["articles"] + page2["articles"] + json.loads(get("gkmlpt-a", api + "3").body)["articles"]
                           if a["attachment"])
    detail = fetch_url(attachment_only["url"]).text
    assert '<div class="article-content"></div>' in detail and "_CONFIG.DETAIL" in detail
    assert fetch_url(attachment_only["attachment"][0]["url"]).status == 200


def test_gkmlpt_single_page_variant_and_percent_u_titles(sim, get):
    site = sim.site("gkmlpt-b")
    api = f"/gkmlpt/api/all/{site.cat}?sid={site.sid}&page="
    first = json.loads(get("gkmlpt-b", api + "1").body)
    assert any("%u" in a["title"] for a in first["articles"])
    assert get("gkmlpt-b", api + "2").status == 404
