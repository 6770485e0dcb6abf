"""Helpers of the scale tests: real PostgreSQL and Redis (skipped when absent), a small simulated
world, and the "every report exactly once" check against the simulator's ground truth."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, text

from xxgk_testing import ROOT, postgres_schema, skip_or_fail  # noqa: F401  (postgres_schema re-exported)

REDIS_URL = os.environ.get("XXGK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

HTML_ONLY = [("body", "html", 1.0)]  # fast to parse: the tests are about crawling, not parsing


def small_world(docs: int = 16, per_page: int = 4) -> list[dict[str, Any]]:
    """Two portals on different platforms, several listing pages each, HTML reports only."""
    return [{"name": "trs-a", "docs": docs, "per_page": per_page, "kinds": HTML_ONLY},
            {"name": "gkmlpt-a", "docs": docs, "per_page": per_page, "kinds": HTML_ONLY}]


def slow_settings() -> dict[str, Any]:
    """Simulator settings with few requests in flight, so that a crawl can be stopped midway."""
    from crawler.crawl import LOCAL_SIMULATOR_SETTINGS

    return dict(LOCAL_SIMULATOR_SETTINGS, CONCURRENT_REQUESTS=4, CONCURRENT_REQUESTS_PER_DOMAIN=2)


@contextmanager
def redis_frontier() -> Iterator[str]:
    """A unique frontier name (Redis key prefix) on the real Redis; its keys deleted afterwards."""
    import redis

    from crawler import frontier

    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except Exception as exc:  # noqa: BLE001
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {type(exc).__name__}")
    prefix = f"xxgk-test-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        frontier.clear(server, prefix)


def xxgk(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``xxgk`` command line in a child process."""
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=_env())


def start_xxgk(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def check_every_report_once(db_url: str, expected: list[dict[str, Any]]) -> None:
    """Every expected report stored exactly once (current, ok), nothing else, no document twice,
    nothing left unparsed."""
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            current = Counter(tuple(row) for row in conn.execute(text(
                "select a.name, r.year from reports r join agencies a on a.id = r.agency_id "
                "where r.is_current and r.status = 'ok'")))
            documents, distinct_documents = conn.execute(text(
                "select count(*), count(distinct sha256) from documents")).one()
            unfinished = conn.execute(text(
                "select count(*) from documents where parse_status in ('pending', 'parsing')")).scalar()
            parses = conn.execute(text(
                "select count(*), count(distinct document_id) from reports")).one()
    finally:
        engine.dispose()
    wanted = {(e["agency"], e["year"]) for e in expected}
    missing = sorted(wanted - set(current))
    assert not missing, f"missing reports: {missing}\n" + _what_became_of(
        engine, [e for e in expected if (e["agency"], e["year"]) in missing])
    assert not set(current) - wanted, f"reports the simulator did not publish: {sorted(set(current) - wanted)}"
    assert all(n == 1 for n in current.values()), [k for k, n in current.items() if n > 1]
    assert documents == distinct_documents
    assert parses[0] == parses[1], "a document was parsed into two reports"
    assert unfinished == 0


def _what_became_of(engine: Any, entries: list[dict[str, Any]]) -> str:
    """For a failure message: every capture of a missing report's URLs, with its document and run,
    so that a rare loss can be diagnosed from one failed run."""
    lines = []
    with engine.connect() as conn:
        for entry in entries:
            urls = [entry["detail_url"], *entry["urls"]]
            lines.append(f"{entry['agency']} {entry['year']}: detail {entry['detail_url']} bytes at {entry['urls']}")
            rows = conn.execute(text(
                "select c.id, c.url, c.status, c.run_id, r.outcome, c.sha256, c.is_revisit, c.error, "
                "d.id, d.parse_status, d.parse_error from captures c left join crawl_runs r on r.id = c.run_id "
                "left join documents d on d.sha256 = c.sha256 where c.url = any(:urls) or c.final_url = any(:urls) "
                "order by c.id"), {"urls": urls}).all()
            lines.extend(f"  capture {tuple(row)}" for row in rows)
            if not rows:
                lines.append("  never captured")
    return "\n".join(lines)


def check_verify_clean(db_url: str, archive: Path) -> None:
    """``xxgk verify``: every payload re-hashed, every WARC re-read, archive and database agree."""
    result = xxgk("verify", "--db", db_url, "--archive", str(archive))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
