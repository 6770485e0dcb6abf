"""The batched write path: same rows as one-by-one, archive before rows, nothing lost on close,
exit or kill -9. Behaviour only: no timings are asserted here (bench/crawl.py measures them)."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from crawler import store
from crawler.archive import Archive
from crawler.db.models import Capture, Document
from crawler.db.session import open_database, transaction
from crawler.writer import BatchWriter
from crawler.store import CaptureInput
from tests.conftest import ROOT

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _inputs() -> list[CaptureInput]:
    return [CaptureInput(url=f"http://x.gov.cn/{i}.html", status=200, headers=HTML,
                         body=f"<html>report {i % 3}</html>".encode(), is_document=True,
                         request_headers={"User-Agent": "t"}) for i in range(6)]


def test_a_batch_writes_what_one_by_one_writes(tmp_path: Path) -> None:
    factory = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    archive = Archive(tmp_path / "archive")
    with transaction(factory) as session:
        results = store.capture_responses(session, archive, _inputs())
    archive.close()

    assert [r.is_revisit for r in results] == [False, False, False, True, True, True]
    assert len({r.document_id for r in results}) == 3 and all(r.document_id for r in results)
    with factory() as session:
        captures = list(session.scalars(select(Capture).order_by(Capture.id)))
        assert len(captures) == 6 and session.scalar(select(func.count()).select_from(Document)) == 3
        for capture, item in zip(captures, _inputs()):
            assert capture.sha256 == hashlib.sha256(item.body).hexdigest()
            assert capture.media_type == "text/html" and capture.url == item.url
            headers, payload = archive.read_record((capture.warc_file, capture.warc_offset))
            expected_type = "revisit" if capture.is_revisit else "response"
            assert headers["WARC-Type"] == expected_type
            if not capture.is_revisit:
                assert payload == item.body
    references = {captures[0].warc_file: max(c.warc_offset + c.warc_length for c in captures)}
    assert archive.verify({c.sha256 for c in captures}, references).ok


def test_writer_commits_queued_writes_on_close(tmp_path: Path) -> None:
    factory = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    archive = Archive(tmp_path / "archive")
    writer = BatchWriter(factory, archive, batch_size=4)
    futures = [writer.submit("capture", item) for item in _inputs()]
    failed = writer.submit("failure", {"url": "http://x.gov.cn/dead", "error": "connection refused"})
    writer.close()
    summaries = [f.result(timeout=0) for f in futures]
    assert failed.done() and failed.exception() is None
    assert len({s["id"] for s in summaries}) == 6
    document = writer.submit("document", {"capture_id": summaries[0]["id"]})
    assert document.exception() is not None  # a stopped writer refuses work instead of hanging
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 7
    assert writer.batches >= 2  # batch_size 4 split the 7 writes


def test_document_rows_follow_their_captures(tmp_path: Path) -> None:
    factory = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    writer = BatchWriter(factory, Archive(tmp_path / "archive"))
    summaries = [writer.submit("capture", item).result(timeout=60) for item in _inputs()[:2]]
    ids = [writer.submit("document", {"capture_id": s["id"], "media_type": "text/html"}).result(timeout=60)
           for s in summaries]
    again = writer.submit("document", {"capture_id": summaries[0]["id"]}).result(timeout=60)
    writer.close()
    assert ids[0] != ids[1] and again == ids[0]  # idempotent: one document per payload


_EXIT_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from crawler.archive import Archive
    from crawler.db.session import open_database
    from crawler.writer import BatchWriter
    from crawler.store import CaptureInput
    writer = BatchWriter(open_database({db!r}), Archive({archive!r}))
    for i in range(50):
        writer.submit("capture", CaptureInput(url=f"http://x.gov.cn/{{i}}", status=200, headers={{}},
                                              body=b"page %d" % i))
    # no close(): the interpreter's exit must still commit what was queued
""")


def test_queued_writes_are_committed_at_interpreter_exit(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    script = _EXIT_SCRIPT.format(root=str(ROOT), db=f"sqlite:///{db}", archive=str(tmp_path / "archive"))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert sqlite3.connect(db).execute("select count(*) from captures").fetchone()[0] == 50


_KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from crawler.archive import Archive
    from crawler.db.session import open_database
    from crawler.writer import BatchWriter
    from crawler.store import CaptureInput
    writer = BatchWriter(open_database({db!r}), Archive({archive!r}), batch_size=20)
    i = 0
    while True:
        futures = [writer.submit("capture", CaptureInput(
            url=f"http://x.gov.cn/{{i + k}}", status=200, headers={{}}, body=os.urandom(20000 + k)))
            for k in range(40)]
        futures[-1].result()
        i += 40
        if i == 200:
            print("committed", flush=True)
""")


def test_kill_9_leaves_every_committed_row_backed_by_durable_bytes(tmp_path: Path) -> None:
    db, archive_dir = tmp_path / "db.sqlite", tmp_path / "archive"
    script = _KILL_SCRIPT.format(root=str(ROOT), db=f"sqlite:///{db}", archive=str(archive_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "committed"
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of later batches
    proc.wait()

    rows = sqlite3.connect(db).execute(
        "select sha256, warc_file, warc_offset, warc_length from captures").fetchall()
    assert len(rows) >= 200
    archive = Archive(archive_dir)
    for sha, warc_file, offset, _length in rows:  # every row's bytes are there, whole
        assert hashlib.sha256(archive.read_blob(sha)).hexdigest() == sha
        assert archive.read_record((warc_file, offset))[1] == archive.read_blob(sha)
    extents: dict[str, int] = {}
    for _sha, warc_file, offset, length in rows:
        extents[warc_file] = max(extents.get(warc_file, 0), offset + length)
    report = archive.verify({r[0] for r in rows}, extents)
    assert report.ok, report.details  # blobs without rows are fine, rows without bytes are not


# ------------------------------------------------------------------ the store process
def test_store_process_writes_what_the_thread_writes(tmp_path: Path) -> None:
    from crawler.writer import StoreProcess

    db = tmp_path / "db.sqlite"
    writer = StoreProcess(f"sqlite:///{db}", tmp_path / "archive", batch_size=4)
    summaries = [writer.submit("capture", item).result(timeout=60) for item in _inputs()]
    document = writer.submit("document", {"capture_id": summaries[0]["id"], "media_type": "text/html"}).result(60)
    run_id, sources = writer.submit("call", (store.open_crawl_run, ({"spider": "t"}, []), {})).result(timeout=60)
    writer.close()
    assert len({s["id"] for s in summaries}) == 6 and isinstance(document, int) and run_id and sources == {}
    assert writer.jobs == 7 and writer.child_stats["cpu_seconds"] > 0  # data writes; the child's own figures
    with open_database(f"sqlite:///{db}")() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == 6
    refused = writer.submit("document", {"capture_id": summaries[0]["id"]})
    assert isinstance(refused.exception(timeout=5), RuntimeError)  # a closed store refuses work at once


def test_a_write_that_cannot_cross_fails_alone(tmp_path: Path) -> None:
    from crawler.writer import StoreProcess, StoreProcessError

    writer = StoreProcess(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "archive")
    bad = _inputs()[0]
    bad.headers = (h for h in [(b"X", [b"y"])])  # a generator does not pickle
    failed = writer.submit("capture", bad)
    good = writer.submit("capture", _inputs()[1])
    error = failed.exception(timeout=60)
    assert isinstance(error, StoreProcessError) and "cannot hand this write" in str(error)
    assert good.result(timeout=60)["sha256"]
    raising = writer.submit("call", (store.close_crawl_run, (None, "finished", {}), {"no_such_argument": 1}))
    assert "TypeError" in str(raising.exception(timeout=60))  # an error in the store names its type
    writer.close()


def test_a_dead_store_process_fails_its_writes_instead_of_hanging(tmp_path: Path) -> None:
    from crawler.writer import StoreProcess, StoreProcessError

    writer = StoreProcess(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "archive")
    writer.submit("capture", _inputs()[0]).result(timeout=60)
    os.kill(writer.pid, signal.SIGKILL)
    late = writer.submit("capture", _inputs()[1])
    error = late.exception(timeout=60)
    assert isinstance(error, StoreProcessError) and "stopped" in str(error)
    writer.close(timeout=10)


def test_the_store_process_ignores_ctrl_c_and_commits_when_told(tmp_path: Path) -> None:
    from crawler.writer import StoreProcess

    db = tmp_path / "db.sqlite"
    writer = StoreProcess(f"sqlite:///{db}", tmp_path / "archive")
    writer.submit("capture", _inputs()[0]).result(timeout=60)
    os.kill(writer.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    futures = [writer.submit("capture", item) for item in _inputs()[1:]]
    assert all(f.result(timeout=60)["id"] for f in futures)
    writer.close()
    assert sqlite3.connect(db).execute("select count(*) from captures").fetchone()[0] == 6


_ORPHAN_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from crawler.store import CaptureInput
    from crawler.writer import StoreProcess
    from crawler.store import open_crawl_run
    writer = StoreProcess({db!r}, {archive!r}, batch_size=5)
    writer.submit("call", (open_crawl_run, ({{"spider": "t"}}, []), {{}})).result()
    futures = [writer.submit("capture", CaptureInput(url=f"http://x.gov.cn/{{i}}", status=200, headers={{}},
                                                     body=os.urandom(50000))) for i in range(60)]
    futures[9].result()
    print(writer.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the crawl dies with writes in flight
""")


def test_the_store_process_commits_and_exits_when_the_crawl_is_killed(tmp_path: Path) -> None:
    import time

    db, archive_dir = tmp_path / "db.sqlite", tmp_path / "archive"
    script = _ORPHAN_SCRIPT.format(root=str(ROOT), db=f"sqlite:///{db}", archive=str(archive_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    proc.wait()
    deadline = time.monotonic() + 60
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "the store process outlived its crawl"
    rows = sqlite3.connect(db).execute("select sha256 from captures").fetchall()
    assert len(rows) >= 10  # what was answered before the kill, and whatever reached the store after
    archive = Archive(archive_dir)
    assert all(hashlib.sha256(archive.read_blob(sha)).hexdigest() == sha for (sha,) in rows)
    # the run it opened says what happened to its crawl (a crawl killed while starting told nobody)
    assert sqlite3.connect(db).execute("select outcome from crawl_runs").fetchall() == [("killed",)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_closing_a_store_process_that_died_unnoticed_returns(tmp_path: Path) -> None:
    import time

    from crawler.writer import StoreProcess

    writer = StoreProcess(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "archive")
    writer.submit("capture", _inputs()[0]).result(timeout=60)
    os.kill(writer.pid, signal.SIGKILL)
    time.sleep(0.5)  # nothing is submitted after the death: the sender is still waiting for work
    writer.close(timeout=30)
    assert not writer._sender.is_alive() and not writer._receiver.is_alive()


def test_a_crawl_with_the_writer_in_a_thread_stores_the_same(tmp_path: Path) -> None:
    from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, run_crawl
    from crawler.simulator.simulator import Simulator

    outcomes = {}
    with Simulator(seed=3, sites=[{"name": "trs-a", "docs": 6, "per_page": 3}]) as sim:
        for in_process in (True, False):
            db = tmp_path / f"{in_process}.sqlite"
            result = run_crawl(registry=sim.registry_entries(), db_url=f"sqlite:///{db}",
                               archive_dir=tmp_path / f"archive-{in_process}", timeout=300,
                               settings=dict(LOCAL_SIMULATOR_SETTINGS, XXGK_STORE_PROCESS=in_process))
            assert result.ok, result.log[-2000:]
            assert result.stats["xxgk/store/process"] is in_process
            outcomes[in_process] = sorted(sqlite3.connect(db).execute("select sha256 from documents").fetchall())
    assert outcomes[True] == outcomes[False] and outcomes[True]
