"""From fetched bytes to database rows: the store extension and the document pipeline.

:class:`StoreExtension` owns the archive and the database for the crawl, through one writer
(:mod:`crawler.writer`): by default a :class:`crawler.writer.StoreProcess`, a child process that
archives and commits in batches while the reactor goes on fetching (``XXGK_STORE_PROCESS = False``
keeps the writer in a thread of the crawl process instead). It records the run (settings, stats,
per-source outcome), the registry's agencies and sources, and every capture (called by
:class:`crawler.middlewares.ArchiveMiddleware`, archive first, row second). Everything submitted is
committed on spider close, on Ctrl-C (Scrapy's graceful shutdown closes the spider), at
interpreter exit, and — with the store process — even after ``kill -9`` of the crawl, which
closes the process's pipe.

:class:`DocumentPipeline` turns a :class:`crawler.items.DocumentItem` (a response the spider found
to carry a report: a detail page with the report in its body, an attachment, a scanned image) into
a document row pending parse. It never parses: parse workers (:mod:`crawler.work`) do, out of the
reactor, in processes with a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Optional, TypeVar

from scrapy import Request, signals
from scrapy.http import Response

from crawler.items import DocumentItem
from crawler.writer import StoreProcess, cpu_seconds, open_writer, peak_rss_kb

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StoreExtension:
    """Archive + database for one crawl, written by one batching writer (SQLite-friendly):
    the store process, or a thread with ``XXGK_STORE_PROCESS = False``."""

    def __init__(self, crawler: Any) -> None:
        from crawler.archive import DEFAULT_WARC_GZIP_LEVEL
        from crawler.config import resolve_archive_dir, resolve_db_url

        settings = crawler.settings
        self.crawler = crawler
        self.db_url = resolve_db_url(settings.get("XXGK_DB") or None)
        self.archive_dir = resolve_archive_dir(settings.get("XXGK_ARCHIVE") or None, self.db_url)
        options = {"durable": settings.getbool("XXGK_ARCHIVE_DURABLE", True),
                   "gzip_level": settings.getint("XXGK_WARC_GZIP_LEVEL", DEFAULT_WARC_GZIP_LEVEL),
                   "batch_size": settings.getint("XXGK_STORE_BATCH_SIZE", 100),
                   "batch_seconds": settings.getfloat("XXGK_STORE_BATCH_SECONDS", 0.2)}
        self.writer: Any = StoreProcess(self.db_url, self.archive_dir, **options) \
            if settings.getbool("XXGK_STORE_PROCESS", True) else open_writer(self.db_url, self.archive_dir, **options)
        self.run_id: Optional[int] = None
        self.source_ids: dict[str, int] = {}
        self.opened_at, self.opened_cpu = time.monotonic(), cpu_seconds()
        crawler.xxgk_store = self
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StoreExtension":
        return cls(crawler)

    # ---------------------------------------------------------------- the writer
    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args, **kwargs)`` in one transaction on the writer; await the result.
        ``fn`` must be a module-level function (it crosses to the store process by name)."""
        future = self.writer.submit("call", (fn, args, kwargs))
        # Scrapy runs coroutines on the asyncio reactor (its default): await the writer's future
        return await asyncio.wrap_future(future)

    def call_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.writer.submit("call", (fn, args, kwargs)).result()

    # ---------------------------------------------------------------- run and registry
    def spider_opened(self, spider: Any) -> None:
        from crawler import store

        sources = [{"name": s.name, "url": s.url, "agency": s.agency, "level": s.level or None,
                    "division_code": s.division_code, "platform": s.platform or "auto",
                    "how_established": s.established or None} for s in getattr(spider, "sources", [])]
        settings = {"spider": spider.name, "sources": [s["name"] for s in sources],
                    "db": _redact(self.db_url), "archive": str(self.archive_dir),
                    "jobdir": self.crawler.settings.get("JOBDIR")}
        self.opened_at, self.opened_cpu = time.monotonic(), cpu_seconds()
        self.run_id, self.source_ids = self.call_sync(store.open_crawl_run, settings, sources)
        spider.run_id = self.run_id

    def spider_closed(self, spider: Any, reason: str) -> None:
        from crawler import store

        stats = dict(self.crawler.stats.get_stats() or {})
        stats["sources"] = spider.source_report() if hasattr(spider, "source_report") else {}
        stats["blocked_hosts"] = dict(getattr(spider, "blocked_hosts", {}))
        outcome = "finished" if reason == "finished" else ("interrupted" if reason == "shutdown" else reason)
        try:
            # queued after every write: all of them are committed first (stats made plain: they
            # cross to the store process)
            self.call_sync(store.close_crawl_run, self.run_id, outcome, store.jsonable(stats))
        finally:
            self.writer.close()
            child = getattr(self.writer, "child_stats", {})  # the store process's own figures
            set_value = self.crawler.stats.set_value
            set_value("xxgk/store/batches", self.writer.batches)
            set_value("xxgk/store/writes", self.writer.jobs)
            # wall seconds the writer spent writing: close to xxgk/store/seconds, it sets the pace
            set_value("xxgk/store/writer_busy_seconds", round(self.writer.busy_seconds, 3))
            set_value("xxgk/store/process", bool(child))
            # spider opened → last row committed, and CPU time (for bench/crawl.py): the crawl
            # process's and the store process's
            set_value("xxgk/store/seconds", round(time.monotonic() - self.opened_at, 3))
            set_value("xxgk/store/cpu_seconds", round(cpu_seconds() - self.opened_cpu, 3))
            # the store process from the run's first write (its start-up overlaps Scrapy's)
            set_value("xxgk/store/writer_cpu_seconds", round(child.get("crawl_cpu_seconds", 0.0), 3))
            set_value("xxgk/store/writer_startup_cpu_seconds",
                      round(child.get("cpu_seconds", 0.0) - child.get("crawl_cpu_seconds", 0.0), 3))
            set_value("xxgk/store/peak_rss_kb", peak_rss_kb())
            set_value("xxgk/store/writer_peak_rss_kb", child.get("peak_rss_kb", 0))

    # ---------------------------------------------------------------- captures and documents
    async def capture(self, request: Request, response: Response, body: bytes) -> dict[str, Any]:
        """Archive a response and record its capture; returns once both are durable and committed."""
        from crawler.store import CaptureInput

        source_id = self.source_ids.get(request.meta.get("source", ""))
        original_url = (request.meta.get("redirect_urls") or [request.url])[0]
        referrer = request.meta.get("referrer_url") or _header(request, b"Referer")
        job = CaptureInput(
            url=original_url, status=response.status, headers=list(response.headers.items()), body=body,
            method=request.method, request_headers=list(request.headers.items()),
            request_body=request.body or b"", final_url=response.url, referrer_url=referrer,
            run_id=self.run_id, source_id=source_id)
        return await asyncio.wrap_future(self.writer.submit("capture", job))

    async def failure(self, request: Request, error: str) -> None:
        source_id = self.source_ids.get(request.meta.get("source", ""))
        fields = dict(url=request.url, method=request.method, request_headers=list(request.headers.items()),
                      run_id=self.run_id, source_id=source_id, error=error,
                      referrer_url=request.meta.get("referrer_url"))
        await asyncio.wrap_future(self.writer.submit("failure", fields))

    async def document(self, item: DocumentItem) -> Optional[int]:
        """The document row of an archived capture (pending parse); its id."""
        fields = {"capture_id": item["capture_id"], "media_type": item.get("media_type")}
        return await asyncio.wrap_future(self.writer.submit("document", fields))


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
