"""From fetched bytes to database rows: the store extension and the document pipeline.

:class:`StoreExtension` owns the archive, the database and one writer thread for the crawl. It
records the run (settings, stats, per-source outcome), the registry's agencies and sources, and
every capture (called by :class:`crawler.middlewares.ArchiveMiddleware`, archive first, row second).

:class:`DocumentPipeline` turns a :class:`crawler.items.DocumentItem` (a response the spider found
to carry a report: a detail page with the report in its body, an attachment, a scanned image) into
a document row pending parse. It never parses: parse workers (:mod:`crawler.work`) do, out of the
reactor, in processes with a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
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


class StoreExtension:
    """Archive + database for one crawl, written from a single thread (SQLite-friendly)."""

    def __init__(self, crawler: Any) -> None:
        from crawler.archive import Archive
        from crawler.config import resolve_archive_dir, resolve_db_url
        from crawler.db.session import open_database

        settings = crawler.settings
        self.crawler = crawler
        self.db_url = resolve_db_url(settings.get("XXGK_DB") or None)
        self.archive_dir = resolve_archive_dir(settings.get("XXGK_ARCHIVE") or None, self.db_url)
        self.factory = open_database(self.db_url)
        self.archive = Archive(self.archive_dir, durable=settings.getbool("XXGK_ARCHIVE_DURABLE", True))
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xxgk-store")
        self.run_id: Optional[int] = None
        self.source_ids: dict[str, int] = {}
        self._lock = threading.Lock()
        crawler.xxgk_store = self
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "StoreExtension":
        return cls(crawler)

    # ---------------------------------------------------------------- the writer thread
    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction on the writer thread; await the result."""
        from crawler.db.session import transaction

        def work() -> T:
            with transaction(self.factory) as session:
                return fn(session, *args, **kwargs)

        # Scrapy runs coroutines on the asyncio reactor (its default): await the thread's future
        return await asyncio.wrap_future(self.executor.submit(work))

    def call_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from crawler.db.session import transaction

        def work() -> T:
            with transaction(self.factory) as session:
                return fn(session, *args, **kwargs)

        return self.executor.submit(work).result()

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

        self.run_id, self.source_ids = self.call_sync(open_run)
        spider.run_id = self.run_id

    def spider_closed(self, spider: Any, reason: str) -> None:
        from crawler import store
        from crawler.db.models import CrawlRun

        stats = dict(self.crawler.stats.get_stats() or {})
        stats["sources"] = spider.source_report() if hasattr(spider, "source_report") else {}
        stats["blocked_hosts"] = dict(getattr(spider, "blocked_hosts", {}))
        outcome = "finished" if reason == "finished" else ("interrupted" if reason == "shutdown" else reason)

        def close_run(session: Any) -> None:
            run = session.get(CrawlRun, self.run_id)
            if run is not None:
                store.finish_run(session, run, outcome=outcome, stats=stats)

        try:
            self.call_sync(close_run)
        finally:
            self.executor.shutdown(wait=True)
            self.archive.close()

    # ---------------------------------------------------------------- captures and documents
    async def capture(self, request: Request, response: Response, body: bytes) -> dict[str, Any]:
        from crawler import store

        source_id = self.source_ids.get(request.meta.get("source", ""))
        original_url = (request.meta.get("redirect_urls") or [request.url])[0]
        referrer = request.meta.get("referrer_url") or _header(request, b"Referer")

        def write(session: Any) -> dict[str, Any]:
            result = store.capture_response(
                session, self.archive, url=original_url, status=response.status,
                headers=response.headers.items(), body=body, method=request.method,
                request_headers=request.headers.items(), request_body=request.body or b"",
                final_url=response.url, referrer_url=referrer, run_id=self.run_id, source_id=source_id)
            return _capture_summary(result)

        return await self.call(write)

    async def failure(self, request: Request, error: str) -> None:
        from crawler import store

        source_id = self.source_ids.get(request.meta.get("source", ""))

        def write(session: Any) -> None:
            store.record_capture(session, url=request.url, method=request.method,
                                 request_headers=request.headers.items(), run_id=self.run_id,
                                 source_id=source_id, error=error,
                                 referrer_url=request.meta.get("referrer_url"))

        await self.call(write)

    async def document(self, item: DocumentItem) -> Optional[int]:
        from crawler import store
        from crawler.db.models import Capture

        def write(session: Any) -> Optional[int]:
            capture = session.get(Capture, item["capture_id"])
            if capture is None or not capture.sha256:
                return None
            document = store.ensure_document(session, capture.sha256, size=capture.size or 0,
                                             media_type=item.get("media_type") or capture.media_type,
                                             first_seen=capture.fetched_at)
            return document.id

        return await self.call(write)


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
