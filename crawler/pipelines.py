"""From fetched bytes to database rows: the store extension and the document pipeline.

:class:`StoreExtension` owns the archive, the database and one writer thread for the crawl. It
records the run (settings, stats, per-source outcome), the registry's agencies and sources, and
every capture (called by :class:`crawler.middlewares.ArchiveMiddleware`, archive first, row second).

The writer commits in groups ("group commit"): it takes every write queued since its last commit
(up to ``XXGK_STORE_BATCH_SIZE``, default 100), archives them as one batch — payloads fsynced in
parallel, renamed, directories and the WARC file fsynced once — and only then inserts their rows in
one transaction. A committed row therefore never points at bytes that are not durable; a crash
(``kill -9``) loses at most the batch being written, whose bytes may stay in the archive without
rows (harmless: ``xxgk verify`` only needs every row's bytes). It never waits to fill a batch: the
callers hold download slots while they await their row, so a timer would cap the crawl at
(concurrency / delay) responses per second; under load the batches fill by themselves, and
``XXGK_STORE_BATCH_SECONDS`` (default 0.2) bounds how long one batch keeps taking new writes.
Everything queued is committed on spider close, on Ctrl-C (Scrapy's graceful shutdown closes the
spider) and at interpreter exit.

:class:`DocumentPipeline` turns a :class:`crawler.items.DocumentItem` (a response the spider found
to carry a report: a detail page with the report in its body, an attachment, a scanned image) into
a document row pending parse. It never parses: parse workers (:mod:`crawler.work`) do, out of the
reactor, in processes with a timeout.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import queue
import resource
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from scrapy import Request, signals
from scrapy.http import Response

from crawler.items import DocumentItem

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _capture_summary(result: Any) -> dict[str, Any]:
    capture = result.capture
    return {"id": capture.id, "sha256": capture.sha256, "size": capture.size,
            "media_type": capture.media_type, "status": capture.status}


@dataclass
class _Job:
    """One write for the writer thread: a capture, a failed fetch, a document, or a function."""

    kind: str  # capture | failure | document | call
    future: Future
    payload: Any = None
    archived: Any = None  # set once the capture's bytes are in the archive
    result: Any = field(default=None)


class BatchWriter:
    """One thread that turns queued writes into batches: archive first, then one transaction."""

    def __init__(self, factory: Any, archive: Any, *, batch_size: int = 100, batch_seconds: float = 0.2) -> None:
        self.factory = factory
        self.archive = archive
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.batches = 0
        self.jobs = 0
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
            self._process(jobs)

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
                job.future.set_result(job.payload(session))
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
                                                         [j.archived for j in captures])
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
        documents = store.ensure_documents(session, wanted)
        for job in jobs:
            capture = captures.get(job.payload["capture_id"])
            document = documents.get(capture.sha256) if capture is not None and capture.sha256 else None
            job.result = document.id if document is not None else None


class StoreExtension:
    """Archive + database for one crawl, written from a single batching thread (SQLite-friendly)."""

    def __init__(self, crawler: Any) -> None:
        from crawler.archive import DEFAULT_WARC_GZIP_LEVEL, Archive
        from crawler.config import resolve_archive_dir, resolve_db_url
        from crawler.db.session import open_database

        settings = crawler.settings
        self.crawler = crawler
        self.db_url = resolve_db_url(settings.get("XXGK_DB") or None)
        self.archive_dir = resolve_archive_dir(settings.get("XXGK_ARCHIVE") or None, self.db_url)
        self.factory = open_database(self.db_url)
        self.archive = Archive(self.archive_dir, durable=settings.getbool("XXGK_ARCHIVE_DURABLE", True),
                               gzip_level=settings.getint("XXGK_WARC_GZIP_LEVEL", DEFAULT_WARC_GZIP_LEVEL))
        self.writer = BatchWriter(self.factory, self.archive,
                                  batch_size=settings.getint("XXGK_STORE_BATCH_SIZE", 100),
                                  batch_seconds=settings.getfloat("XXGK_STORE_BATCH_SECONDS", 0.2))
        self.run_id: Optional[int] = None
        self.source_ids: dict[str, int] = {}
        self.opened_at, self.opened_cpu = time.monotonic(), _cpu_seconds()
        crawler.xxgk_store = self
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StoreExtension":
        return cls(crawler)

    # ---------------------------------------------------------------- the writer thread
    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction on the writer thread; await the result."""
        future = self.writer.submit("call", lambda session: fn(session, *args, **kwargs))
        # Scrapy runs coroutines on the asyncio reactor (its default): await the thread's future
        return await asyncio.wrap_future(future)

    def call_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.writer.submit("call", lambda session: fn(session, *args, **kwargs)).result()

    # ---------------------------------------------------------------- run and registry
    def spider_opened(self, spider: Any) -> None:
        from crawler import store

        sources = list(getattr(spider, "sources", []))
        settings = {"spider": spider.name, "sources": [s.name for s in sources],
                    "db": _redact(self.db_url), "archive": str(self.archive_dir),
                    "jobdir": self.crawler.settings.get("JOBDIR")}

        def open_run(session: Any) -> tuple[int, dict[str, int]]:
            run = store.start_run(session, settings)
            ids = {}
            for source in sources:
                agency = store.get_or_create_agency(session, source.agency, level=source.level or None,
                                                    division_code=source.division_code)
                row = store.get_or_create_source(session, source.name, source.url, agency=agency,
                                                 platform=source.platform or "auto",
                                                 how_established=source.established or None)
                ids[source.name] = row.id
            return run.id, ids

        self.opened_at, self.opened_cpu = time.monotonic(), _cpu_seconds()
        self.run_id, self.source_ids = self.call_sync(open_run)
        spider.run_id = self.run_id

    def spider_closed(self, spider: Any, reason: str) -> None:
        from crawler import store
        from crawler.db.models import CrawlRun

        stats = dict(self.crawler.stats.get_stats() or {})
        stats["sources"] = spider.source_report() if hasattr(spider, "source_report") else {}
        stats["blocked_hosts"] = dict(getattr(spider, "blocked_hosts", {}))
        outcome = "finished" if reason == "finished" else ("interrupted" if reason == "shutdown" else reason)

        stats["xxgk/store/batches"] = self.writer.batches
        stats["xxgk/store/writes"] = self.writer.jobs

        def close_run(session: Any) -> None:
            run = session.get(CrawlRun, self.run_id)
            if run is not None:
                store.finish_run(session, run, outcome=outcome, stats=stats)

        try:
            self.call_sync(close_run)  # queued after every write: all of them are committed first
        finally:
            self.writer.close()
            self.archive.close()
            self.crawler.stats.set_value("xxgk/store/batches", self.writer.batches)
            self.crawler.stats.set_value("xxgk/store/writes", self.writer.jobs)
            # spider opened → last row committed, and the process's CPU time (for bench/crawl.py)
            self.crawler.stats.set_value("xxgk/store/seconds", round(time.monotonic() - self.opened_at, 3))
            self.crawler.stats.set_value("xxgk/store/cpu_seconds", round(_cpu_seconds() - self.opened_cpu, 3))
            self.crawler.stats.set_value("xxgk/store/peak_rss_kb", peak_rss_kb())

    # ---------------------------------------------------------------- captures and documents
    async def capture(self, request: Request, response: Response, body: bytes) -> dict[str, Any]:
        """Archive a response and record its capture; returns once both are durable and committed."""
        from crawler.store import CaptureInput

        source_id = self.source_ids.get(request.meta.get("source", ""))
        original_url = (request.meta.get("redirect_urls") or [request.url])[0]
        referrer = request.meta.get("referrer_url") or _header(request, b"Referer")
        job = CaptureInput(
            url=original_url, status=response.status, headers=response.headers.items(), body=body,
            method=request.method, request_headers=request.headers.items(),
            request_body=request.body or b"", final_url=response.url, referrer_url=referrer,
            run_id=self.run_id, source_id=source_id)
        return await asyncio.wrap_future(self.writer.submit("capture", job))

    async def failure(self, request: Request, error: str) -> None:
        source_id = self.source_ids.get(request.meta.get("source", ""))
        fields = dict(url=request.url, method=request.method, request_headers=request.headers.items(),
                      run_id=self.run_id, source_id=source_id, error=error,
                      referrer_url=request.meta.get("referrer_url"))
        await asyncio.wrap_future(self.writer.submit("failure", fields))

    async def document(self, item: DocumentItem) -> Optional[int]:
        """The document row of an archived capture (pending parse); its id."""
        fields = {"capture_id": item["capture_id"], "media_type": item.get("media_type")}
        return await asyncio.wrap_future(self.writer.submit("document", fields))


def peak_rss_kb() -> int:
    """This process's peak RSS since it started its program (VmHWM). Unlike ``ru_maxrss``, which
    keeps the high-water mark of the parent's memory it was forked from, this is ours alone."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _header(request: Request, name: bytes) -> Optional[str]:
    value = request.headers.get(name)
    return value.decode("latin-1") if value else None


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a label only
        return "?"


class DocumentPipeline:
    """DocumentItem → document row (pending parse). Cheap: one insert on the writer thread."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "DocumentPipeline":
        return cls(crawler)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, DocumentItem):
            return item
        store = getattr(self.crawler, "xxgk_store", None)
        if store is None or not item.get("capture_id"):
            return item
        item["document_id"] = await store.document(item)
        if item["document_id"] is not None:
            self.crawler.stats.inc_value("xxgk/documents")
        return item
