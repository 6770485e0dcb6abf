"""Archetype D (post-json-api): intertid form POST, EWB JSON POST, Athena-lite token + POST."""

from __future__ import annotations

import json
import re

from xxgk_testing import fetch_url

XRW = {"X-Requested-With": "XMLHttpRequest", "Content-Type": "application/x-www-form-urlencoded"}


def test_intertid_shell_has_no_links_and_api_needs_xrw(sim, get):
    shell = get("intertid", "/col/zfxxgknb/index.shtml").text
    assert "channelIds" in shell and "/doc/" not in shell
    body = b"siteId=181&channelIds=38939,38940&pageIndex=1&pageSize=10"
    assert get("intertid", "/info_open/search", method="POST", body=body,
               headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 403
    assert get("intertid", "/info_open/search").status == 405
    seen, pages = [], None
    page = 1
    while pages is None or page <= pages:
        data = json.loads(get("intertid", "/info_open/search", method="POST",
                              body=body.replace(b"pageIndex=1", f"pageIndex={page}".encode()), headers=XRW).body)
        pages = data["data"]["totalPages"]
        seen += data["data"]["data"]
        page += 1
    assert len(seen) == len(sim.site("intertid").columns[0].items)
    assert any(row["url"] == "" for row in seen)
    report = next(row for row in seen if row["url"] and "年度报告" in row["title"])
    assert fetch_url(report["url"]).status == 200


def test_ewb_json_body(sim, get):
    js = get("ewb", "/js/webBuilderCommon.js").text
    project, guid = re.search(r"projectName: '([^']+)', siteGuid: '([^']+)'", js).groups()
    url = f"{project}/rest/lightfrontaction/getgovinfolist"
    assert get("ewb", url, method="POST", body=b"pageIndex=0").status == 400
    body = json.dumps({"siteGuid": guid, "categorynum": "004001", "pageIndex": 0, "pageSize": 10}).encode()
    data = json.loads(get("ewb", url, method="POST", body=body, headers={"Content-Type": "application/json"}).body)
    assert data["custom"]["count"] == len(sim.site("ewb").columns[0].items)
    assert len(data["custom"]["data"]) == 10
    assert get("ewb", data["custom"]["data"][0]["infourl"]).status == 200


def test_athena_token_expires_after_k_uses(sim, get):
    site = sim.site("athena")
    code = json.loads(get("athena", "/athena/token").body)["result"]["data"]["code"]
    answers = []
    for page in range(1, site.token_uses + 2):
        body = json.dumps({"code": code, "pageNo": page, "pageSize": 10}).encode()
        answers.append(json.loads(get("athena", "/athena/list", method="POST", body=body,
                                      headers={"Content-Type": "application/json"}).body))
    assert all(a["resultCode"] == 200 for a in answers[:-1])
    assert answers[-1]["resultCode"] == 401
    pager = answers[0]["result"]["data"]["pager"]
    assert pager["total"] == len(site.columns[0].items)
    fresh = json.loads(get("athena", "/athena/token").body)["result"]["data"]["code"]
    past = json.loads(get("athena", "/athena/list", method="POST",
                          body=json.dumps({"code": fresh, "pageNo": pager["pageCount"] + 1}).encode()).body)
    assert past["result"]["data"]["list"] == []
    detail = fetch_url(answers[0]["result"]["data"]["list"][0]["pub_url"]).text
    assert 'id="UCAP-CONTENT"' in detail and "标\u3000\u3000题" in detail
