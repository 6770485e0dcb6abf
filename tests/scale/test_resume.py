"""A single-machine crawl stopped midway (SIGINT, then SIGKILL at several points) and resumed
with the same --jobdir completes: every report exactly once, none missing, archive and database
consistent (``xxgk verify``). Also: a finished crawl leaves the next scheduled run to crawl
afresh, and two runs never share one JOBDIR."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from crawler import jobdir
from crawler.crawl import EXIT_JOBDIR_BUSY, LOCAL_SIMULATOR_SETTINGS, run_crawl, start_crawl
from crawler.simulator.simulator import Simulator
from crawler.work import run_workers
from tests.scale.services import check_every_report_once, check_verify_clean, slow_settings, small_world

KILL_SEEDS = (1, 2, 3)


def wait_for_requests(sim: Simulator, count: int, process, limit: float = 120) -> None:
    """Until the simulator has served ``count`` requests (or the crawl ended by itself)."""
    deadline = time.monotonic() + limit
    while len(sim.requests()) < count and process.popen.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def stop_and_resume(tmp_path: Path, signum: int, stop_after: int) -> None:
    db_url, archive, job = f"sqlite:///{tmp_path / 'xxgk.sqlite'}", tmp_path / "archive", tmp_path / "job"
    with Simulator(seed=5, sites=small_world()) as sim:
        options = dict(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive, jobdir=job,
                       settings=slow_settings())
        first = start_crawl(**options)
        wait_for_requests(sim, stop_after, first)
        stopped_at = len(sim.requests())
        first.send_signal(signum)
        stopped = first.wait(120)
        resumed = run_crawl(**options, timeout=300)
        assert resumed.ok, resumed.log[-3000:]
        total = len(sim.requests())
        expected = sim.expected_reports()
    if stopped.finish_reason != "finished":  # it was stopped midway
        wanted = "resume" if signum == signal.SIGINT else "recovered"
        assert resumed.jobdir_start == wanted, (stopped.finish_reason, resumed.jobdir_start)
    if signum == signal.SIGINT:
        assert stopped.finish_reason == "shutdown", stopped.log[-2000:]
        assert total - stopped_at < total, "the resumed crawl started over"
    assert not (job / jobdir.RUNNING_MARKER).exists() and not (job / "requests.seen").exists()
    run_workers(2, db_url, archive, timeout=120)
    check_every_report_once(db_url, expected)
    check_verify_clean(db_url, archive)


def test_crawl_stopped_with_sigint_resumes_where_it_stopped(tmp_path: Path) -> None:
    stop_and_resume(tmp_path, signal.SIGINT, stop_after=30)


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_crawl_killed_with_sigkill_completes_on_restart(tmp_path: Path, seed: int) -> None:
    stop_and_resume(tmp_path, signal.SIGKILL, stop_after=random.Random(seed).randint(5, 70))


def test_killed_run_is_recorded_and_a_finished_crawl_runs_again(tmp_path: Path) -> None:
    """Scheduled runs: after a finished crawl the same --jobdir crawls again (nothing "seen"),
    finds nothing new, and stores nothing twice; a run that was killed says so in its record."""
    import sqlite3

    db_file = tmp_path / "xxgk.sqlite"
    db_url, archive, job = f"sqlite:///{db_file}", tmp_path / "archive", tmp_path / "job"
    with Simulator(seed=6, sites=small_world(docs=8)) as sim:
        options = dict(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive, jobdir=job,
                       settings=slow_settings())
        killed = start_crawl(**options)
        wait_for_requests(sim, 10, killed)
        killed.send_signal(signal.SIGKILL)
        killed.wait(60)
        first = run_crawl(**options, timeout=300)
        served = len(sim.requests())
        second = run_crawl(**options, timeout=300)
        assert first.ok and second.ok, second.log[-2000:]
        assert second.jobdir_start == "fresh"
        assert len(sim.requests()) - served >= 10, "the second scheduled run crawled nothing"
    db = sqlite3.connect(db_file)
    outcomes = [row[0] for row in db.execute("select outcome from crawl_runs order by id")]
    assert outcomes == ["killed", "finished", "finished"]
    new_in_second = db.execute("select sum(new_documents) from source_health where run_id = ?",
                               (second.run_id,)).fetchone()[0]
    assert new_in_second == 0
    assert db.execute("select count(*) from source_health where run_id = ?", (second.run_id,)).fetchone()[0] == 2


def test_two_crawls_never_share_a_jobdir(tmp_path: Path) -> None:
    with jobdir.locked(tmp_path / "job"):
        result = run_crawl(start_url="http://127.0.0.1:9/", db_url=f"sqlite:///{tmp_path / 'x.sqlite'}",
                           jobdir=tmp_path / "job", settings=dict(LOCAL_SIMULATOR_SETTINGS), timeout=120)
    assert result.returncode == EXIT_JOBDIR_BUSY and result.busy
