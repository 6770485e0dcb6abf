"""``xxgk status``: the last runs, and the sources that need attention — blocked, zero results
where there were results before, parse failures rising — read from the per-run health rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawler import store
from crawler.db.models import SourceHealth
from crawler.db.session import open_database, transaction
from crawler.monitoring import sources_needing_attention
from xxgk_testing import ROOT


def add_run(factory: Any, outcome: str, health: dict[str, dict[str, Any]]) -> int:
    with transaction(factory) as session:
        run = store.start_run(session, {"spider": "reports"})
        for name, counters in health.items():
            source = store.get_or_create_source(session, name, f"https://{name}.gov.cn/xxgknb/")
            session.add(SourceHealth(run_id=run.id, source_id=source.id, details={},
                                     **{"outcome": "ok", "listing_pages": 3, "reports_found": 5, "documents": 5,
                                        "new_documents": 0, "changed_reports": 0, "errors": 0, "blocked": 0,
                                        "parse_failures": 0, **counters}))
        store.finish_run(session, run, outcome=outcome, stats={})
        return run.id


def status_json(db_url: str) -> tuple[int, dict[str, Any]]:
    # --no-refresh: the parse failures above are made up (no documents behind them to recount)
    done = subprocess.run([sys.executable, "-m", "crawler.cli", "status", "--json", "--no-refresh", "--db", db_url],
                          cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


def test_status_names_the_sources_that_need_attention(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'xxgk.sqlite'}"
    factory = open_database(db_url)
    add_run(factory, "finished", {"steady": {}, "dried-up": {}, "flaky-parse": {"parse_failures": 1},
                                  "walled": {}})
    last = add_run(factory, "finished", {
        "steady": {},
        "dried-up": {"reports_found": 0, "documents": 0, "outcome": "empty"},
        "flaky-parse": {"parse_failures": 3},
        "walled": {"outcome": "blocked", "blocked": 1, "listing_pages": 0, "reports_found": 0}})
    with factory() as session:
        attention = {a.source: a for a in sources_needing_attention(session)}
    assert set(attention) == {"dried-up", "flaky-parse", "walled"}
    assert all(a.run_id == last for a in attention.values())
    assert any("zero reports found" in r for r in attention["dried-up"].reasons)
    assert any("parse failures rising: 1 → 3" in r for r in attention["flaky-parse"].reasons)
    assert attention["walled"].reasons[0].startswith("blocked")

    code, data = status_json(db_url)
    assert code == 1
    assert [run["id"] for run in data["runs"]] == [last, last - 1]
    assert {a["source"] for a in data["attention"]} == set(attention)


def test_status_is_quiet_when_all_is_well(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'xxgk.sqlite'}"
    factory = open_database(db_url)
    add_run(factory, "finished", {"steady": {}})
    add_run(factory, "finished", {"steady": {}, "elsewhere": {"outcome": "not_seen", "listing_pages": 0,
                                                              "reports_found": 0}})
    code, data = status_json(db_url)
    assert code == 0 and data["attention"] == []
    assert data["runs"][0]["sources"] == {"not_seen": 1, "ok": 1}
