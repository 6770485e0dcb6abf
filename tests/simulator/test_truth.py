"""Ground truth, determinism, the request log, faults, mutations, virtual hosts and scale."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

from xxgk_testing import ROOT, fetch_url
from crawler.simulator import Simulator

GUARDED = {"waf-412", "waf-521", "waf-shell", "waf-ct6t", "waf-ratelimit", "waf-robots"}


def test_registry_start_urls_answer(sim):
    entries = sim.registry_entries()
    assert len(entries) >= 20
    levels = {e["level"] for e in entries}
    assert {"national", "province", "city", "county", "town", "department"} <= levels
    for entry in entries:
        assert entry["start_url"].startswith("http://127.0.0.1:")
        assert urlsplit(entry["start_url"]).netloc in entry["scope_hosts"]
        if entry["site"] not in GUARDED:
            assert fetch_url(entry["start_url"]).status == 200, entry


def test_every_expected_report_is_served(sim):
    truth = sim.expected_reports()
    assert len({t["item_id"] for t in truth}) == len(truth)
    rendered_kinds: set[tuple[str, str]] = set()
    for report in truth:
        assert report["agency"] and report["urls"] and report["year"]
        if report["site"] in GUARDED:
            continue
        kind = (report["site"], report["format"])
        if report["format"] != "html" and kind in rendered_kinds:
            continue  # one binary document per site and kind keeps the test fast
        rendered_kinds.add(kind)
        reply = fetch_url(report["urls"][-1])
        assert reply.status == 200 and len(reply.body) > 1000, report
        if report["format"] == "pdf":
            assert reply.body.startswith(b"%PDF")
        if report["values"] is not None and not report["corpus_file"] and report["report_format"] == "F2021":
            assert "applications.new.total" in report["values"]
    non_report_urls = {n["detail_url"] for n in sim.non_reports()}
    assert not non_report_urls & {t["detail_url"] for t in truth}
    assert sim.scope()["hanweb-a"] == [sim.site("hanweb-a").host, sim.site("hanweb-oss").host]


def test_same_seed_same_world_other_seed_other_world():
    def snapshot(seed):
        with Simulator(seed=seed, profile="small") as sim:
            truth = [(t["site"], t["title"], t["year"], urlsplit(t["urls"][0]).path, t["values"] == t["values"])
                     for t in sim.expected_reports()]
            report = next(t for t in sim.expected_reports() if t["site"] == "trs-a" and t["format"] == "html")
            page = fetch_url(report["urls"][0]).body
            values = report["values"]
        return truth, page, values
    first, second, other = snapshot(11), snapshot(11), snapshot(12)
    assert first == second
    assert first[0] != other[0]


def test_request_log_records_what_was_asked(sim, get):
    sim.clear_requests()
    get("trs-a", "/zfxxgk/zfxxgknb/index.html", headers={"User-Agent": "probe/1.0"})
    get("trs-a", "/nothing-here.html")
    records = sim.requests(site="trs-a")
    assert [r.status for r in records] == [200, 404]
    assert records[0].headers["user-agent"] == "probe/1.0" and records[0].method == "GET"
    assert sim.requests(site="trs-a", path="/zfxxgk/*")[0].path == "/zfxxgk/zfxxgknb/index.html"


def test_virtual_host_by_host_header(sim):
    conn = http.client.HTTPConnection("127.0.0.1", sim.site("trs-a").port, timeout=10)
    conn.request("GET", "/zfxxgk/zfxxgknb/", headers={"Host": "county.sim.test"})
    response = conn.getresponse()
    assert response.status == 200 and "2024n/" in response.read().decode("utf-8")
    assert sim.requests(site="county")[-1].port == sim.site("county").port


def test_faults(sim, get):
    path = "/zfxxgk/zfxxgknb/index_1.html"
    sim.add_fault("trs-a", path, "status", status=503, times=1)
    assert get("trs-a", path).status == 503
    assert get("trs-a", path).status == 200
    sim.add_fault("trs-a", path, "reset", times=1)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        get("trs-a", path)
    sim.add_fault("trs-a", path, "truncate", times=1)
    with pytest.raises(http.client.IncompleteRead):
        get("trs-a", path)
    sim.add_fault("trs-a", path, "content_type", content_type=None, times=1)
    reply = get("trs-a", path)
    assert reply.status == 200 and reply.header("Content-Type") is None
    sim.add_fault("trs-a", path, "redirect_loop", times=2)
    first = get("trs-a", path)
    assert first.status == 302 and get("trs-a", urlsplit(first.header("Location")).path + "?loop=1").status == 302
    sim.add_fault("trs-a", path, "redirect_offsite", times=1)
    assert ".invalid" in get("trs-a", path).header("Location")
    sim.add_fault("trs-a", path, "error_shell", times=1)
    assert "系统繁忙" in get("trs-a", path).text
    sim.add_fault("trs-a", path, "huge", size=3_000_000, times=1)
    assert len(get("trs-a", path).body) == 3_000_000
    sim.add_fault("trs-a", "/endless/*", "endless")
    assert 'page=1' in get("trs-a", "/endless/list.html").text
    sim.add_fault("trs-a", path, "timeout", seconds=5, times=1)
    with pytest.raises(TimeoutError):
        get("trs-a", path, timeout=0.5)
    assert get("trs-a", path).status == 200
    with pytest.raises(ValueError):
        sim.add_fault("trs-a", path, "explode")
    sim.faults.clear()


def test_update_report_makes_a_new_version(sim):
    report = next(t for t in sim.expected_reports() if t["site"] == "trs-a" and t["format"] == "html"
                  and not t["corpus_file"])
    before = fetch_url(report["urls"][0])
    item = sim.update_report(report["urls"][0], values={"applications.new.natural_person": 987654})
    after = fetch_url(report["urls"][0])
    assert item.version == 2 and after.body != before.body
    assert after.header("ETag") != before.header("ETag")
    assert fetch_url(report["urls"][0], headers={"If-None-Match": before.header("ETag")}).status == 200
    updated = next(t for t in sim.expected_reports() if t["item_id"] == report["item_id"])
    assert updated["values"]["applications.new.natural_person"] == 987654 and updated["version"] == 2
    assert "987654" in re.sub(r"<[^>]+>", "", after.text)


def test_office_formats_are_served():
    kinds = [("attachment", "docx", 1.0), ("attachment", "xlsx", 1.0)]
    with Simulator(seed=2, sites=[{"name": "trs-a", "docs": 6, "kinds": kinds}]) as sim:
        for report in sim.expected_reports():
            if report["corpus_file"]:
                continue
            body = fetch_url(report["urls"][0]).body
            assert body.startswith(b"PK"), report["format"]


def test_ten_thousand_documents_start_lazily():
    with Simulator(seed=1, profile="bench", docs=10_000) as sim:
        site = sim.site("trs-bench")
        assert len(site.all_items()) >= 10_000
        assert len(sim.content.cache) == 0  # nothing rendered before it is asked for
        assert fetch_url(site.url("/zfxxgk/zfxxgknb/index.html")).status == 200
        last = site.page_count - 1
        assert fetch_url(site.url(f"/zfxxgk/zfxxgknb/index_{last}.html")).status == 200
        item = site.columns[0].items[-1]
        assert fetch_url(site.detail_url(item)).status == 200
        assert len(sim.content.cache) <= 3


def test_latency_delays_every_reply_without_changing_it() -> None:
    """``Simulator(latency=…)``: a remote portal's answer time (used by ``bench/crawl.py --latency``)."""
    with Simulator(seed=5, sites=[{"name": "trs-a", "docs": 4}], latency=0.3) as sim:
        url = sim.registry_entries()[0]["start_url"]
        started = time.monotonic()
        late = fetch_url(url)
        assert time.monotonic() - started >= 0.3  # a lower bound: the reply waited, asleep
        sim.latency = 0.0
        assert late.status == 200 and late.body == fetch_url(url).body


def test_xxgk_simulate_serves_until_terminated_with_the_latency_asked(tmp_path) -> None:
    """The command line: ``xxgk simulate --site … --latency MS --registry-out FILE``, stopped by SIGTERM."""
    registry = tmp_path / "registry.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "crawler.cli", "simulate", "--profile", "small", "--site", "trs-a",
                               "--latency", "200", "--registry-out", str(registry)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [server.stdout.readline() for _ in range(3)]  # the site, the summary, the registry note
        assert "trs-a" in lines[0] and "reports expected" in lines[1], lines
        entry = json.loads(registry.read_text(encoding="utf-8"))[0]
        started = time.monotonic()
        assert fetch_url(entry["start_url"]).status == 200
        assert time.monotonic() - started >= 0.2
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
