"""Shared machinery of the reliability suite: one small simulated portal, a clean baseline crawl,
and a faulty recrawl on a copy of the baseline's database and archive.

Why a copy: every fault test must show that what an earlier crawl archived and stored survives a
crawl that goes wrong, and the tests must not depend on each other's faults.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, CrawlResult, run_crawl
from crawler.simulator.simulator import Simulator
from crawler.work import WorkSummary, run_workers

ROOT = Path(__file__).resolve().parents[2]
SITE = "trs-a"
# tiny and fast: 8 items (HTML bodies and PDF attachments), 3 per listing page
SITES = [{"name": SITE, "docs": 8, "per_page": 3, "kinds": [("body", "html", 2.0), ("attachment", "pdf", 1.0)]},
         {"name": "trs-gbk", "docs": 3}]  # a second site that is NOT in the crawl's registry
# short timeouts and the default bounded retries, so that the suite stays fast
FAST_SETTINGS = {**LOCAL_SIMULATOR_SETTINGS, "DOWNLOAD_TIMEOUT": 3, "RETRY_TIMES": 2,
                 "XXGK_RETRY_AFTER_MAX": 5, "CONCURRENT_REQUESTS_PER_DOMAIN": 4}


@dataclass
class Baseline:
    """The state a clean crawl (and parse) left, to be copied for each faulty recrawl."""

    folder: Path
    sim: Simulator
    registry: list[dict[str, Any]]
    expected: list[dict[str, Any]]
    result: CrawlResult
    work: WorkSummary

    @property
    def db_file(self) -> Path:
        return self.folder / "xxgk.sqlite"

    @property
    def archive(self) -> Path:
        return self.folder / "archive"

    def report(self, kind: str) -> dict[str, Any]:
        """One expected report whose file kind is ``kind`` (html / pdf)."""
        return next(e for e in self.expected if e["format"] == kind)


@dataclass
class Recrawl:
    """A faulty recrawl on a copy of the baseline."""

    db_file: Path
    archive: Path
    result: CrawlResult
    before: dict[str, set]
    requests: list[Any]
    work: Optional[WorkSummary] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_file}"

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_file)

    def captures(self, url: str) -> list[tuple]:
        """(status, error, sha256) of the recrawl's captures of ``url`` (the last run only)."""
        with self.db() as db:
            return db.execute("select status, error, sha256 from captures where url = ? and run_id = "
                              "(select max(id) from crawl_runs)", (url,)).fetchall()

    def hits(self, path: str) -> int:
        """How many times the simulator was asked for ``path`` (query ignored) during the recrawl."""
        return sum(1 for r in self.requests if r.site == SITE and r.path_only == path)

    def source(self) -> dict[str, Any]:
        return next(iter(self.result.sources.values()))

    def failures_for(self, url: str) -> list[dict[str, Any]]:
        return [f for f in self.result.failures if f["url"].split("?")[0] == url.split("?")[0]]


def make_baseline(folder: Path) -> Baseline:
    sim = Simulator(seed=3, sites=SITES).start()
    registry = [e for e in sim.registry_entries() if e["site"] == SITE]
    db_url = f"sqlite:///{folder / 'xxgk.sqlite'}"
    result = run_crawl(registry=registry, db_url=db_url, archive_dir=folder / "archive",
                       settings=dict(FAST_SETTINGS), timeout=300)
    assert result.ok and not result.failures, result.log[-3000:]
    work = run_workers(2, db_url, folder / "archive", timeout=120)
    expected = [e for e in sim.expected_reports() if e["site"] == SITE]
    return Baseline(folder=folder, sim=sim, registry=registry, expected=expected, result=result, work=work)


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database (its WAL included), through SQLite's backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def snapshot(db_file: Path) -> dict[str, set]:
    """Rows that must survive any later crawl: captures, documents, current reports, values."""
    with sqlite3.connect(db_file) as db:
        return {
            "captures": set(db.execute("select id, url, sha256, status from captures")),
            "documents": set(db.execute("select id, sha256, parse_status from documents")),
            "reports": set(db.execute("select id, agency_id, year, document_id from reports where is_current")),
            "values": set(db.execute("select report_id, key, value_text from report_values")),
        }


def recrawl(base: Baseline, tmp: Path, *, settings: Optional[dict[str, Any]] = None,
            parse: bool = True, timeout: float = 300) -> Recrawl:
    """Copy the baseline, crawl it again with the simulator's current faults, parse what is new."""
    db_file, archive = tmp / "xxgk.sqlite", tmp / "archive"
    copy_database(base.db_file, db_file)
    shutil.copytree(base.archive, archive)
    before = snapshot(db_file)
    base.sim.clear_requests()
    result = run_crawl(registry=base.registry, db_url=f"sqlite:///{db_file}", archive_dir=archive,
                       settings={**FAST_SETTINGS, **(settings or {})}, timeout=timeout)
    requests = base.sim.requests()
    base.sim.faults.clear()
    outcome = Recrawl(db_file=db_file, archive=archive, result=result, before=before, requests=requests)
    if parse:
        outcome.work = run_workers(1, outcome.db_url, archive, timeout=120)
    return outcome


def verify(db_url: str, archive: Path) -> dict[str, Any]:
    """``xxgk verify --json`` on the database and archive (a real CLI run)."""
    completed = subprocess.run([sys.executable, "-m", "crawler.cli", "verify", "--json", "--db", db_url,
                                "--archive", str(archive)], cwd=ROOT, capture_output=True, text=True,
                               timeout=300)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert lines, completed.stdout + completed.stderr
    return json.loads(lines[-1])


def assert_nothing_lost(outcome: Recrawl) -> None:
    """Every row of the baseline is still there, unchanged, and the archive verifies clean."""
    after = snapshot(outcome.db_file)
    for table in ("captures", "documents", "values"):
        lost = outcome.before[table] - after[table]
        assert not lost, f"{table} lost or changed by the faulty recrawl: {sorted(lost)[:5]}"
    lost_reports = outcome.before["reports"] - after["reports"]
    assert not lost_reports, f"current reports superseded by the faulty recrawl: {sorted(lost_reports)[:5]}"
    checked = verify(outcome.db_url, outcome.archive)
    assert checked["ok"], checked


def assert_finished(outcome: Recrawl) -> None:
    """The crawl ran to its end and recorded its run."""
    assert outcome.result.finish_reason == "finished", outcome.result.log[-3000:]
    with outcome.db() as db:
        run = db.execute("select outcome, stats from crawl_runs order by id desc limit 1").fetchone()
    assert run[0] == "finished" and '"sources"' in run[1], run
