"""The store's writer: archive first, rows second, in batches — in a thread or in its own process.

:class:`BatchWriter` is one thread that turns queued writes into batches ("group commit"): it
takes every write queued since its last commit (up to ``batch_size``, default 100), archives them
as one batch — payloads fsynced in parallel, renamed, directories and the WARC file fsynced once —
and only then inserts their rows in one transaction. A committed row therefore never points at
bytes that are not durable; a crash (``kill -9``) loses at most the batch being written, whose
bytes may stay in the archive without rows (harmless: ``xxgk verify`` only needs every row's
bytes). It never waits to fill a batch: the callers hold download slots while they await their
row, so a timer would cap the crawl at (concurrency / delay) responses per second; under load the
batches fill by themselves, and ``batch_seconds`` (default 0.2) bounds how long one batch keeps
taking new writes. Everything queued is committed on close and at interpreter exit.

:class:`StoreProcess` runs a BatchWriter in a child process and offers the same ``submit`` /
``close``. Why a process: hashing, gzip, SQLAlchemy and SQLite cost about as much CPU as fetching
itself, and in a thread they hold the GIL the reactor needs (measured: the writer thread took a
fifth of the crawl process's GIL time). Over a pipe they run on another core; the reactor only
pickles the response. Jobs and results cross two one-way pipes, each with one thread on either
end, so a slow disk never blocks the reactor. The child ignores SIGINT/SIGTERM (a terminal's
Ctrl-C reaches the whole process group): it stops when told to or when its parent's end of the
pipe closes — after ``kill -9`` of the crawl too — and commits whatever it was given first.

Writes are ``(kind, payload)``: ``capture`` (a :class:`crawler.store.CaptureInput`), ``failure``
(the fields of :func:`crawler.store.record_capture`), ``document`` (``capture_id``, ``media_type``)
or ``call`` (``(fn, args, kwargs)``: ``fn(session, *args, **kwargs)`` in its own transaction, in
queue order; with a process, ``fn`` must be a module-level function so that it pickles).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import queue
import signal
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

logger = logging.getLogger(__name__)


def _capture_summary(capture: Any) -> dict[str, Any]:
    """What the crawl needs back of a capture (plain values: they cross a pipe, wait in meta)."""
    return {"id": capture.id, "sha256": capture.sha256, "size": capture.size,
            "media_type": capture.media_type, "status": capture.status}


@dataclass
class _Job:
    """One write for the writer thread: a capture, a failed fetch, a document, or a function."""

    kind: str  # capture | failure | document | call (payload: fn, args, kwargs; fn(session, *args, **kwargs))
    future: Future
    payload: Any = None
    archived: Any = None  # set once the capture's bytes are in the archive
    result: Any = field(default=None)


class BatchWriter:
    """One thread that turns queued writes into batches: archive first, then one transaction."""

    def __init__(self, factory: Any, archive: Any, *, batch_size: int = 100, batch_seconds: float = 0.2,
                 owns_archive: bool = False) -> None:
        self.factory = factory
        self.archive = archive
        self.owns_archive = owns_archive  # close the archive (its open WARC file) on close()
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.batches = 0
        self.jobs = 0
        self.busy_seconds = 0.0  # wall time spent writing (archive, fsyncs, rows): near the run's
        # length, the writer is what the crawl waits for
        self._queue: "queue.Queue[Optional[_Job]]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="xxgk-store", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # a crawl that never reaches spider_closed still commits

    def submit(self, kind: str, payload: Any) -> Future:
        future: Future = Future()
        if not self._thread.is_alive():
            future.set_exception(RuntimeError("the store's writer has stopped"))
            return future
        self._queue.put(_Job(kind, future, payload))
        return future

    def close(self, timeout: Optional[float] = None) -> None:
        """Commit everything queued, then stop the thread (idempotent)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
            if self.owns_archive:
                self.archive.close()
        atexit.unregister(self.close)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        stopping = False
        while not stopping:
            job = self._queue.get()
            if job is None:
                break
            jobs = [job]
            deadline = time.monotonic() + self.batch_seconds
            while len(jobs) < self.batch_size and time.monotonic() < deadline:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break  # group commit: never wait for a batch to fill
                if more is None:
                    stopping = True
                    break
                jobs.append(more)
            started = time.monotonic()
            self._process(jobs)
            self.busy_seconds += time.monotonic() - started

    def _process(self, jobs: list[_Job]) -> None:
        """Consecutive data jobs form one batch; a function job runs alone, in queue order."""
        group: list[_Job] = []
        for job in jobs:
            if job.kind == "call":
                self._write_batch(group)
                group = []
                self._run_call(job)
            else:
                group.append(job)
        self._write_batch(group)

    def _run_call(self, job: _Job) -> None:
        from crawler.db.session import transaction

        if not job.future.set_running_or_notify_cancel():
            return
        try:
            with transaction(self.factory) as session:
                fn, args, kwargs = job.payload
                job.future.set_result(fn(session, *args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            job.future.set_exception(exc)

    def _write_batch(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        jobs = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        self.batches += 1
        self.jobs += len(jobs)
        try:
            self._archive_and_commit(jobs)
        except Exception as exc:  # noqa: BLE001 - one bad row must not fail the others
            logger.warning("store batch of %d failed (%s); writing its rows one by one", len(jobs), exc)
            for job in jobs:
                try:
                    self._archive_and_commit([job])
                except Exception as one:  # noqa: BLE001 - handed to the caller
                    job.future.set_exception(one)
            jobs = [job for job in jobs if not job.future.done()]
        for job in jobs:
            job.future.set_result(job.result)

    def _archive_and_commit(self, jobs: list[_Job]) -> None:
        from crawler import store
        from crawler.db.session import transaction

        with transaction(self.factory) as session:
            captures = [job for job in jobs if job.kind == "capture"]
            fresh = [job for job in captures if job.archived is None]
            if fresh:  # durable when this returns: archive first, rows second
                for job, archived in zip(fresh, store.archive_captures(session, self.archive,
                                                                        [j.payload for j in fresh])):
                    job.archived = archived
            if captures:
                results = store.record_archived_captures(session, [j.payload for j in captures],
                                                         [j.archived for j in captures],
                                                         just_archived=len(fresh) == len(captures))
                for job, result in zip(captures, results):
                    job.result = result
            for job in jobs:
                if job.kind == "failure":
                    job.result = store.record_capture(session, **job.payload)
            documents = [job for job in jobs if job.kind == "document"]
            if documents:
                self._documents(session, documents)
            session.flush()
            for job in captures:
                job.result = _capture_summary(job.result)
            for job in jobs:
                if job.kind == "failure":
                    job.result = None

    @staticmethod
    def _documents(session: Any, jobs: list[_Job]) -> None:
        from sqlalchemy import select

        from crawler import store
        from crawler.db.models import Capture

        ids = {job.payload["capture_id"] for job in jobs}
        # the columns needed, not whole rows (a capture row carries both header maps as JSON)
        captures = {c.id: c for c in session.execute(
            select(Capture.id, Capture.sha256, Capture.size, Capture.media_type, Capture.fetched_at)
            .where(Capture.id.in_(ids)))}
        wanted = []
        for job in jobs:
            capture = captures.get(job.payload["capture_id"])
            if capture is not None and capture.sha256:
                wanted.append((capture.sha256, capture.size or 0,
                               job.payload.get("media_type") or capture.media_type, capture.fetched_at))
        documents = store.ensure_document_ids(session, wanted)
        for job in jobs:
            capture = captures.get(job.payload["capture_id"])
            job.result = documents.get(capture.sha256) if capture is not None and capture.sha256 else None


def open_writer(db_url: str, archive_dir: Union[str, Path], *, durable: bool = True,
                gzip_level: Optional[int] = None, batch_size: int = 100, batch_seconds: float = 0.2) -> BatchWriter:
    """A :class:`BatchWriter` on its own database session factory and archive (closed with it)."""
    from crawler.archive import DEFAULT_WARC_GZIP_LEVEL, Archive
    from crawler.db.session import open_database

    level = gzip_level if gzip_level is not None else DEFAULT_WARC_GZIP_LEVEL
    archive = Archive(archive_dir, durable=durable, gzip_level=level)
    return BatchWriter(open_database(db_url), archive, batch_size=batch_size, batch_seconds=batch_seconds,
                       owns_archive=True)


# ---------------------------------------------------------------------------- the store process
class StoreProcessError(RuntimeError):
    """A write failed in the store process (the message names the original exception)."""


class StoreProcess:
    """A :class:`BatchWriter` in a child process: ``submit(kind, payload) -> Future``, ``close()``."""

    def __init__(self, db_url: str, archive_dir: Union[str, Path], *, durable: bool = True,
                 gzip_level: Optional[int] = None, batch_size: int = 100, batch_seconds: float = 0.2) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process that runs a reactor
        jobs_in, self._jobs = context.Pipe(duplex=False)
        self._results, results_out = context.Pipe(duplex=False)
        options = {"durable": durable, "gzip_level": gzip_level, "batch_size": batch_size,
                   "batch_seconds": batch_seconds}
        self._process = context.Process(target=serve, args=(jobs_in, results_out, db_url, str(archive_dir), options),
                                        name="xxgk-store", daemon=False)
        self._process.start()
        jobs_in.close()
        results_out.close()
        self.batches = self.jobs = 0
        self.busy_seconds = 0.0
        self.child_stats: dict[str, Any] = {}
        self._pending: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._alive = True
        self._outbox: "queue.Queue[Optional[tuple[int, str, Any]]]" = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, name="xxgk-store-send", daemon=True)
        self._receiver = threading.Thread(target=self._receive_loop, name="xxgk-store-receive", daemon=True)
        self._sender.start()
        self._receiver.start()
        atexit.register(self.close)  # runs before multiprocessing joins its children (atexit is LIFO)

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid

    def submit(self, kind: str, payload: Any) -> Future:
        future: Future = Future()
        with self._lock:
            if not self._alive:
                future.set_exception(StoreProcessError("the store process has stopped"))
                return future
            self._next_id += 1
            self._pending[self._next_id] = future
            self._outbox.put((self._next_id, kind, payload))
        return future

    def close(self, timeout: Optional[float] = None) -> None:
        """Commit everything submitted, then stop the process (idempotent)."""
        with self._lock:
            self._alive = False
        self._outbox.put(None)  # the sender sends the stop (or finds the pipe broken) and ends
        self._sender.join(timeout)
        self._receiver.join(timeout)
        self._process.join(timeout)
        atexit.unregister(self.close)

    # ------------------------------------------------------------------ the parent's two threads
    def _send_loop(self) -> None:
        from multiprocessing.reduction import ForkingPickler

        while True:
            job = self._outbox.get()
            try:
                data = ForkingPickler.dumps(job)
            except Exception as exc:  # noqa: BLE001 - this write cannot cross; the others can
                self._fail(job[0], StoreProcessError(f"cannot hand this write to the store process: {exc}"))
                continue
            try:
                self._jobs.send_bytes(data)
            except (OSError, ValueError) as exc:  # the child is gone: the receiver fails the rest
                logger.error("the store process stopped taking writes: %s", exc)
                return
            if job is None:
                self._jobs.close()
                return

    def _fail(self, job_id: int, error: Exception) -> None:
        with self._lock:
            future = self._pending.pop(job_id, None)
        if future is not None:
            future.set_exception(error)

    def _receive_loop(self) -> None:
        try:
            while True:
                message = self._results.recv()
                if message[0] == "closed":
                    self.child_stats = message[1]
                    self.batches, self.jobs = self.child_stats["batches"], self.child_stats["jobs"]
                    self.busy_seconds = self.child_stats["busy_seconds"]
                    break
                job_id, ok, value = message
                with self._lock:
                    future = self._pending.pop(job_id)
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(StoreProcessError(value))
        except (EOFError, OSError):
            pass
        with self._lock:
            self._alive = False
            left, self._pending = self._pending, {}
        if left:
            self._process.join(5)
            error = StoreProcessError(f"the store process stopped (exit code {self._process.exitcode})")
            logger.error("%s with %d writes unanswered", error, len(left))
            for future in left.values():
                future.set_exception(error)


def serve(jobs: Any, results: Any, db_url: str, archive_dir: str, options: dict[str, Any]) -> None:
    """The store process: take jobs until told to stop or the parent is gone, commit them all.

    A parent that is gone without saying stop was killed: the runs it opened here and never
    closed are marked ``killed`` (a crawl killed while it was starting has told nobody else).
    """
    from crawler import store

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the crawl decides when the store stops
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    writer = open_writer(db_url, archive_dir, **options)
    send_lock = threading.Lock()

    def answer(job_id: int, future: Future) -> None:
        exc = future.exception()
        message = (job_id, True, future.result()) if exc is None else \
            (job_id, False, f"{type(exc).__name__}: {exc}")
        with send_lock:
            try:
                results.send(message)
            except (OSError, ValueError):
                pass  # the parent is gone; the write itself is committed all the same

    started_cpu: Optional[float] = None  # at the first job (the run's row): the crawl's start
    opened_runs: list[int] = []  # the crawl runs this store recorded (store.open_crawl_run)
    parent_died = False
    while True:
        try:
            job = jobs.recv()
        except (EOFError, OSError):
            parent_died = True  # no stop message: the crawl died (kill -9, OOM killer)
            break
        if job is None:
            break
        if started_cpu is None:
            started_cpu = cpu_seconds()
        job_id, kind, payload = job
        future = writer.submit(kind, payload)
        if kind == "call" and payload[0] is store.open_crawl_run:
            future.add_done_callback(lambda f: opened_runs.append(f.result()[0]) if f.exception() is None else None)
        future.add_done_callback(lambda future, job_id=job_id: answer(job_id, future))
    if parent_died and opened_runs:  # committed after every write it had received
        writer.submit("call", (_mark_runs_killed, (opened_runs,), {}))
    writer.close()
    cpu = cpu_seconds()
    with send_lock:
        try:
            results.send(("closed", {"batches": writer.batches, "jobs": writer.jobs, "cpu_seconds": cpu,
                                     "busy_seconds": writer.busy_seconds,
                                     "crawl_cpu_seconds": cpu - (started_cpu if started_cpu is not None else cpu),
                                     "peak_rss_kb": peak_rss_kb()}))
        except (OSError, ValueError):
            pass


def peak_rss_kb() -> int:
    """This process's peak RSS since it started its program (VmHWM). Unlike ``ru_maxrss``, which
    keeps the high-water mark of the parent's memory it was forked from, this is ours alone."""
    import resource

    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _mark_runs_killed(session: Any, run_ids: list[int]) -> None:
    from crawler.store import mark_run_killed

    for run_id in run_ids:
        mark_run_killed(session, run_id)
