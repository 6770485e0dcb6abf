"""End to end: crawl the portal simulator (a real HTTP server), archive, parse, store, and check
the result against the simulator's ground truth.

For every crawl: every expected report is found exactly once with the right agency and year;
nothing outside the registry's scope is requested; blocked hosts are reported; listed items that
are not reports (news, 解读, 图解, letters) are not stored as reports. Crawls run in a child
process (crawler.crawl.run_crawl) because Twisted's reactor cannot restart in-process.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import pytest

from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, CrawlResult, run_crawl
from crawler.simulator.simulator import Simulator
from crawler.work import run_workers


def few(*names: str, docs: int = 14, per_page: int = 5) -> list[dict[str, Any]]:
    """Catalogue sites with fewer documents (parsing dominates the test time), several pages each."""
    return [{"name": name, "docs": docs, "per_page": per_page} for name in names]


SMALL_WORLD = few("trs-a", "hanweb-a", "gkmlpt-a", "intertid", "county", "waf-412", "waf-robots") + [
    {"name": "hanweb-oss"}]


def crawl_simulator(tmp_path: Path, sites: Optional[list[Any]] = None, profile: str = "small",
                    seed: int = 1) -> dict[str, Any]:
    """Crawl + parse one simulator world; return what the checks need (the simulator is stopped)."""
    db_file = tmp_path / "xxgk.sqlite"
    db_url, archive = f"sqlite:///{db_file}", tmp_path / "archive"
    with Simulator(seed=seed, sites=sites, profile=profile) as sim:
        result = run_crawl(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive,
                           settings=dict(LOCAL_SIMULATOR_SETTINGS), timeout=900)
        assert result.ok, result.log[-3000:]
        work = run_workers(2, db_url, archive, timeout=120)
        robots_sites = {name for name, why in sim.blocked_sites().items() if why.startswith("robots")}
        truth = {
            "expected": sim.expected_reports(), "non_reports": sim.non_reports(),
            "unreachable": [e for e in sim.expected_reports(include_unreachable=True) if e["unreachable"]],
            "robots_violations": [(r.site, r.path) for r in sim.requests() if r.path_only != "/robots.txt"
                                  and (r.site in robots_sites or r.path_only.startswith("/uploadfiles/"))],
            "blocked": {sim.site(name).host: why for name, why in sim.blocked_sites().items()},
            "scope": {h for hosts in sim.scope().values() for h in hosts},
            "requested": {f"127.0.0.1:{r.port}" for r in sim.requests()},
        }
    return {"result": result, "work": work, "db": db_file, **truth}


def check_crawl(outcome: dict[str, Any]) -> None:
    result: CrawlResult = outcome["result"]
    db = sqlite3.connect(outcome["db"])
    # 1. every expected report exactly once, with its agency and year
    current = Counter(db.execute(
        "select a.name, r.year from reports r join agencies a on a.id = r.agency_id "
        "where r.is_current and r.status = 'ok'").fetchall())
    # the simulator publishes one report per agency and year (its population avoids collisions)
    expected_pairs = [(e["agency"], e["year"]) for e in outcome["expected"]]
    assert len(expected_pairs) == len(set(expected_pairs)), "the simulator published an (agency, year) twice"
    expected = set(expected_pairs)
    missing = expected - set(current)
    assert not missing, f"reports not found (agency, year): {sorted(missing)}"
    assert all(n == 1 for n in current.values()), [k for k, n in current.items() if n > 1]
    # nothing the simulator calls unreachable (blocked, robots-disallowed) may be stored
    extra = set(current) - expected
    assert not extra, f"reports stored that the simulator did not publish or made unreachable: {sorted(extra)}"
    assert not outcome["robots_violations"], outcome["robots_violations"][:5]
    # 2. nothing outside the registry's scope was requested
    assert outcome["requested"] <= outcome["scope"], outcome["requested"] - outcome["scope"]
    # 3. blocked hosts are reported, and only those
    assert set(result.blocked_hosts) == set(outcome["blocked"]), (result.blocked_hosts, outcome["blocked"])
    for name, info in result.sources.items():
        if any(h in outcome["blocked"] for h in info.get("blocked_hosts", {})):
            assert info["outcome"] == "blocked"
    # 4. news, 解读, letters... are not stored as documents (hence never as reports)
    captured = {row[0]: row[1] for row in db.execute(
        "select c.url, d.id from captures c join documents d on d.sha256 = c.sha256")}
    negatives = [n for n in outcome["non_reports"] if any(u in captured for u in n["urls"])]
    assert not negatives, [n["title"] for n in negatives]
    # the archive holds a capture for every document, and no parse failed
    assert outcome["work"].failed == 0, outcome["work"].errors[:5]


@pytest.fixture(scope="module")
def across_all(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return crawl_simulator(tmp_path_factory.mktemp("all"), sites=SMALL_WORLD)


def test_across_all_archetypes(across_all: dict[str, Any]) -> None:
    check_crawl(across_all)
    assert len(across_all["expected"]) > 40


ARCHETYPES = {
    "trs-static": few("trs-gbk", "trs-shtml", "trs-pingtan"),
    "hanweb-jcms": few("hanweb-b", "hanweb-xxgk") + [{"name": "hanweb-oss"}],
    "gkmlpt-json": few("gkmlpt-b", docs=10, per_page=100),
    "post-json-api": few("ewb", "athena"),
    "county-aggregator": few("county"),
    "waf-guarded": few("waf-521", "waf-ct6t", "waf-ratelimit", "waf-robots403", "waf-uploadfiles", "waf-shell",
                       docs=8),
}


@pytest.mark.slow
@pytest.mark.parametrize("archetype", list(ARCHETYPES))
def test_one_archetype(archetype: str, tmp_path: Path) -> None:
    outcome = crawl_simulator(tmp_path, sites=ARCHETYPES[archetype])
    check_crawl(outcome)


def test_archive_first_every_response_has_a_capture(across_all: dict[str, Any]) -> None:
    db = sqlite3.connect(across_all["db"])
    rows = db.execute("select count(*), sum(sha256 is null and error is null) from captures").fetchone()
    assert rows[0] > 100 and rows[1] == 0  # every capture points at archived bytes (or says why not)
    stored = db.execute("select count(*) from documents d where not exists "
                        "(select 1 from captures c where c.sha256 = d.sha256)").fetchone()[0]
    assert stored == 0
    run = db.execute("select outcome, stats from crawl_runs order by id desc limit 1").fetchone()
    assert run[0] == "finished" and '"sources"' in run[1]


def test_a_report_split_over_two_pages_is_parsed_whole(tmp_path: Path) -> None:
    """TRS pages a long report as t…_<id>.shtml + t…_<id>_1.shtml (here its tables are all on the
    second page): both are archived, one document is stored, and it is parsed from both."""
    import json
    from decimal import Decimal

    outcome = crawl_simulator(tmp_path, sites=few("trs-shtml"))
    check_crawl(outcome)
    truth = next(t for t in outcome["expected"] if "paged_detail" in t["flags"])
    db = sqlite3.connect(outcome["db"])
    captured = {url for (url,) in db.execute("select url from captures where status = 200")}
    assert set(truth["urls"]) <= captured
    report_id, details = db.execute(
        "select r.id, r.details from reports r join agencies a on a.id = r.agency_id "
        "where a.name = ? and r.year = ? and r.is_current", (truth["agency"], truth["year"])).fetchone()
    assert json.loads(details)["parts"] == truth["urls"][1:]
    values = dict(db.execute("select key, value_text from report_values where report_id = ?", (report_id,)))
    assert {k: Decimal(v) for k, v in values.items() if v is not None} == {
        k: Decimal(str(v)) for k, v in truth["values"].items() if v is not None}


def test_a_missing_part_is_recorded_and_the_report_kept(tmp_path: Path) -> None:
    import json
    from urllib.parse import urlsplit

    db_url, archive = f"sqlite:///{tmp_path / 'xxgk.sqlite'}", tmp_path / "archive"
    with Simulator(seed=1, sites=few("trs-shtml")) as sim:
        truth = next(t for t in sim.expected_reports() if "paged_detail" in t["flags"])
        sim.add_fault("trs-shtml", urlsplit(truth["urls"][1]).path, "status", status=404)
        result = run_crawl(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive,
                           settings=dict(LOCAL_SIMULATOR_SETTINGS), timeout=900)
    assert result.finish_reason == "finished"
    assert any(f["url"] == truth["urls"][1] and f["status"] == 404 for f in result.failures), result.failures
    run_workers(1, db_url, archive, timeout=120)
    db = sqlite3.connect(tmp_path / "xxgk.sqlite")
    details = db.execute(
        "select r.details from reports r join agencies a on a.id = r.agency_id "
        "where a.name = ? and r.year = ? and r.is_current", (truth["agency"], truth["year"])).fetchone()[0]
    warnings = json.loads(details)["warnings"]
    assert any("1 of 2 pages of this report were not archived" in w and truth["urls"][1] in w for w in warnings)
