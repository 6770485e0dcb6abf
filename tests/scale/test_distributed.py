"""Distributed mode on the real Redis and PostgreSQL of this machine: several crawler processes
share one frontier (scrapy-redis scheduler + duplicate filter, with leases), parse workers claim
documents from the database (FOR UPDATE SKIP LOCKED) while the crawl runs. Every report is
stored exactly once and nothing is lost, also when a crawler is killed (SIGKILL) midway and
restarted."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from crawler.crawl import start_crawl
from crawler.simulator.simulator import Simulator
from tests.scale.services import (REDIS_URL, check_every_report_once, check_verify_clean, postgres_schema,
                                  redis_frontier, slow_settings, small_world, start_xxgk)


def start_workers(db_url: str, archive: Path, count: int = 2) -> list:
    """``xxgk work --forever`` processes: they parse while the crawlers crawl."""
    return [start_xxgk("work", "--workers", "1", "--forever", "--poll", "0.5", "--parse-timeout", "120",
                       "--db", db_url, "--archive", str(archive)) for _ in range(count)]


def stop_workers_when_queue_empty(db_url: str, workers: list, limit: float = 180) -> None:
    engine = create_engine(db_url)
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                left = conn.execute(text("select count(*) from documents "
                                         "where parse_status in ('pending', 'parsing')")).scalar()
            if left == 0:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            output, _ = worker.communicate(timeout=120)
            assert worker.returncode == 0, output[-2000:]


def crawl_options(sim: Simulator, db_url: str, archive: Path, prefix: str) -> dict[str, Any]:
    return dict(registry=sim.registry_entries(), db_url=db_url, archive_dir=archive, settings=slow_settings(),
                redis_url=REDIS_URL, redis_prefix=prefix)


def captures_per_run(db_url: str) -> dict[int, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("select run_id, count(*) from captures group by run_id")).all())
    finally:
        engine.dispose()


def test_two_crawlers_and_two_parse_workers_store_every_report_once(tmp_path: Path) -> None:
    archive = tmp_path / "shared-archive"
    with postgres_schema() as db_url, redis_frontier() as prefix, \
            Simulator(seed=11, sites=small_world(docs=20)) as sim:
        # detail pages answer slowly, so the crawl lasts longer than a crawler's start-up: one fast
        # process could otherwise drain the whole frontier before the other has joined
        for pattern in ("*/t20*", "*/post_*"):
            sim.add_fault("*", pattern, "slow", seconds=0.4)
        options = crawl_options(sim, db_url, archive, prefix)
        crawlers = [start_crawl(**options), start_crawl(**options)]
        workers = start_workers(db_url, archive)
        results = [crawler.wait(300) for crawler in crawlers]
        stop_workers_when_queue_empty(db_url, workers)
        expected = sim.expected_reports()
        for result in results:
            assert result.ok, result.log[-3000:]
            assert not result.needs_attention, (result.sources, result.monitors)
        assert all(count > 0 for count in captures_per_run(db_url).values())
        assert len(captures_per_run(db_url)) == 2
        check_every_report_once(db_url, expected)
        check_verify_clean(db_url, archive)


def test_a_killed_crawler_restarted_completes_the_crawl(tmp_path: Path) -> None:
    archive = tmp_path / "shared-archive"
    with postgres_schema() as db_url, redis_frontier() as prefix, \
            Simulator(seed=12, sites=small_world(docs=20)) as sim:
        options = crawl_options(sim, db_url, archive, prefix)
        victim, survivor = start_crawl(**options), start_crawl(**options)
        workers = start_workers(db_url, archive)
        # midway: both crawls have opened their runs (the store process is up) and pages are fetched
        while (len(sim.requests()) < 25 or _runs(db_url) < 2) and victim.popen.poll() is None:
            time.sleep(0.01)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(60).returncode == -signal.SIGKILL
        restarted = start_crawl(**options).wait(300)
        survived = survivor.wait(300)
        stop_workers_when_queue_empty(db_url, workers)
        expected = sim.expected_reports()
        assert restarted.ok and survived.ok, restarted.log[-2000:] + survived.log[-2000:]
        check_every_report_once(db_url, expected)
        check_verify_clean(db_url, archive)
        engine = create_engine(db_url)
        with engine.connect() as conn:
            outcomes = sorted(row[0] for row in conn.execute(text("select outcome from crawl_runs")))
        engine.dispose()
        assert outcomes == ["finished", "finished", "killed"]


def _runs(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("select count(*) from crawl_runs")).scalar() or 0
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return 0
    finally:
        engine.dispose()
