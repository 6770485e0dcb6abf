"""Parser sandboxing: a hostile document can hang or kill its parser, never the crawl or the
other documents. The documents are served by the simulator and really crawled and archived; the
parse workers (crawler/work.py) run each parse in a child interpreter with a timeout.

* hang: a real PDF that needs minutes to parse, under a short parse timeout;
* crash: the parser's child process is killed (SIGKILL) while it parses that PDF;
* decompression bomb: a DOCX inflating 1000:1 is refused by the parser's limits.

In every case the failure is stored with the document (parse_status 'failed', parse_error), the
document stays archived (``xxgk verify`` clean) and the other documents are parsed.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.crawl import run_crawl
from crawler.simulator.simulator import Simulator
from crawler.work import run_workers

from .faultcrawl import FAST_SETTINGS, SITE, SITES, copy_database, verify
from .hostile import docx_bomb, slow_pdf


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One crawl (no parse) where one PDF attachment is the slow PDF and another is a DOCX bomb."""
    folder = tmp_path_factory.mktemp("sandbox")
    with Simulator(seed=3, sites=SITES) as sim:
        pdfs = [e["urls"][0] for e in sim.expected_reports() if e["site"] == SITE and e["format"] == "pdf"]
        assert len(pdfs) >= 2, "the simulated site needs two PDF attachments"
        slow, bomb = pdfs[0], pdfs[1]
        sim.add_fault(SITE, urlsplit(slow).path, "body", body=slow_pdf(), content_type="application/pdf")
        sim.add_fault(SITE, urlsplit(bomb).path, "body", body=docx_bomb(), content_type="application/pdf")
        registry = [e for e in sim.registry_entries() if e["site"] == SITE]
        result = run_crawl(registry=registry, db_url=f"sqlite:///{folder / 'xxgk.sqlite'}",
                           archive_dir=folder / "archive", settings=dict(FAST_SETTINGS), timeout=300)
        assert result.ok, result.log[-2000:]
    return {"folder": folder, "slow": slow, "bomb": bomb}


def workspace(crawled: dict[str, Any], tmp_path: Path) -> tuple[str, Path, sqlite3.Connection]:
    copy_database(crawled["folder"] / "xxgk.sqlite", tmp_path / "xxgk.sqlite")
    shutil.copytree(crawled["folder"] / "archive", tmp_path / "archive")
    return f"sqlite:///{tmp_path / 'xxgk.sqlite'}", tmp_path / "archive", sqlite3.connect(tmp_path / "xxgk.sqlite")


def document_of(db: sqlite3.Connection, url: str) -> int:
    return db.execute("select d.id from documents d join captures c on c.sha256 = d.sha256 "
                      "where c.url = ? limit 1", (url,)).fetchone()[0]


def states(db: sqlite3.Connection) -> dict[int, tuple[str, str]]:
    return {row[0]: (row[1], row[2]) for row in db.execute("select id, parse_status, parse_error from documents")}


def assert_others_parsed(db: sqlite3.Connection, hostile: set[int]) -> None:
    others = {k: v for k, v in states(db).items() if k not in hostile}
    assert others and all(status == "done" for status, _ in others.values()), others
    stored = db.execute("select count(*) from reports where document_id not in (%s)"
                        % ",".join("?" * len(hostile)), tuple(hostile)).fetchone()[0]
    assert stored == len(others)


def test_a_hanging_parse_is_killed_and_recorded(crawled: dict[str, Any], tmp_path: Path) -> None:
    db_url, archive, db = workspace(crawled, tmp_path)
    slow, bomb = document_of(db, crawled["slow"]), document_of(db, crawled["bomb"])
    summary = run_workers(2, db_url, archive, timeout=20)  # the slow PDF needs minutes
    assert summary.timeouts == 1, summary
    status, error = states(db)[slow]
    assert status == "failed" and "timed out" in error
    status, error = states(db)[bomb]  # the decompression bomb: refused by the limits, one line
    assert status == "failed" and "zip bomb" in error and "\n" not in error
    assert_others_parsed(db, {slow, bomb})
    assert verify(db_url, archive)["ok"]  # both stay archived, intact


def _parser_children() -> list[int]:
    """PIDs of this process's parser children (``python -m crawler.work --child``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"crawler.work" in cmdline and b"--child" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_a_crashing_parser_is_replaced_and_recorded(crawled: dict[str, Any], tmp_path: Path) -> None:
    db_url, archive, db = workspace(crawled, tmp_path)
    slow, bomb = document_of(db, crawled["slow"]), document_of(db, crawled["bomb"])
    outcome: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: outcome.update(summary=run_workers(1, db_url, archive, timeout=900)))
    worker.start()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and states(db)[slow][0] != "parsing":
        time.sleep(0.2)
    assert states(db)[slow][0] == "parsing"
    time.sleep(1.0)  # the child has the slow PDF in hand (it needs minutes)
    children = _parser_children()
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)  # what a segfault or the OOM killer would do
    worker.join(600)
    assert not worker.is_alive()
    status, error = states(db)[slow]
    assert status == "failed" and "died" in error, error
    assert_others_parsed(db, {slow, bomb})
    assert outcome["summary"].failed == 2
    assert verify(db_url, archive)["ok"]
