"""Parse workers: claim pending documents, parse each in a child process with a timeout, store.

Parsing never runs in the crawler's reactor: the crawl only archives and queues documents. Here,
``run_workers(n, db_url, archive_dir)`` runs ``n`` worker threads; each owns one child process
that reads the archived bytes and calls :func:`parsers.parse`. A parse that hangs is killed at the
timeout (the child is replaced), a parser crash kills only the child; either way the failure is
stored with the document, which stays archived for ``xxgk reparse``. Claims go through
:func:`crawler.store.claim_pending_documents` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so
workers on several machines can share one queue.

When a document does not say who wrote it or for which year, the listing that linked it does:
the hint is recovered from the archive itself — the capture's referring listing page is re-read
with the same pure platform adapter the crawl used — and the registry's agency is the last resort.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

from crawler import titles

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 180.0


@dataclass
class WorkSummary:
    """What a worker run did."""

    parsed: int = 0
    stored: int = 0
    failed: int = 0
    timeouts: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (sha256, one-line reason)

    def add(self, other: "WorkSummary") -> None:
        self.parsed += other.parsed
        self.stored += other.stored
        self.failed += other.failed
        self.timeouts += other.timeouts
        self.errors.extend(other.errors)


# ------------------------------------------------------------------------------- child process
def _child_main() -> None:
    """``python -m crawler.work --child``: parse requests (one JSON line each) until stdin closes.

    A clean interpreter of its own (not multiprocessing), so nothing of the caller's main module,
    threads or database connections is inherited.
    """
    import json
    import resource
    import sys

    import parsers
    from parsers.fuzzing import quiet_third_party_loggers

    # an address-space limit: a decompression bomb or a runaway reader fails this child, not the worker
    limit = int(os.environ.get("XXGK_PARSE_MEMORY_MB", "4096")) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    quiet_third_party_loggers()
    for line in sys.stdin:
        job = json.loads(line)
        try:
            data = Path(job["path"]).read_bytes()
            report = parsers.parse(data, media_type=job["media_type"], name=job["name"], meta=job["meta"])
            reply = ("ok", report.to_dict())
        except parsers.ParseError as exc:
            reply = ("error", f"ParseError: {exc}")
        except MemoryError:
            reply = ("error", "MemoryError: the document needs more memory than allowed")
        except Exception as exc:  # a parser bug: reported, the worker goes on
            text = str(exc).splitlines()[0] if str(exc) else ""
            reply = ("error", f"{type(exc).__name__}: {text}"[:500])
        sys.stdout.write(json.dumps(reply, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()


class ParserProcess:
    """One long-lived child interpreter that parses; replaced when it hangs or dies."""

    def __init__(self) -> None:
        self.process: Optional[subprocess.Popen] = None

    def _start(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        # its own session, so a kill takes LibreOffice/OCR processes the parse started with it;
        # stderr to a log file, so a crash leaves its traceback
        log_path = Path(os.environ.get("XXGK_PARSE_LOG", str(Path(tempfile.gettempdir()) / "xxgk-parse-child.log")))
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "crawler.work", "--child"], cwd=root, env=env,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            text=True, encoding="utf-8", bufsize=1, start_new_session=True)

    def parse(self, path: Path, media_type: Optional[str], name: str, meta: dict[str, str],
              timeout: float) -> tuple[str, Any]:
        import json
        import select

        if self.process is None or self.process.poll() is not None:
            self._start()
        assert self.process is not None and self.process.stdin and self.process.stdout
        try:
            self.process.stdin.write(json.dumps({"path": str(path), "media_type": media_type, "name": name,
                                                 "meta": meta}, ensure_ascii=False) + "\n")
            self.process.stdin.flush()
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if not ready:
                self.kill()
                return "timeout", f"parse timed out after {timeout:.0f}s"
            line = self.process.stdout.readline()
            if not line:
                code = self.process.poll()
                self.kill()
                return "error", f"parser process died (exit code {code})"
            status, result = json.loads(line)
            return status, result
        except (BrokenPipeError, OSError, ValueError) as exc:
            self.kill()
            return "error", f"parser process failed: {type(exc).__name__}"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(5)
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.stdin.close()  # type: ignore[union-attr]
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


# ------------------------------------------------------------------------------- hints
def listing_hint(session: Any, archive: Any, document: Any) -> dict[str, Any]:
    """What the listing said about a document: title, title year, title agency, source agency.

    Walks from the document's first capture back through ``referrer_url`` (attachment → detail
    page → listing page) and re-reads each archived page with the platform adapters.
    """
    from sqlalchemy import select

    from crawler.db.models import Agency, Capture, Source

    capture = session.scalar(select(Capture).where(Capture.sha256 == document.sha256)
                             .order_by(Capture.is_revisit, Capture.id).limit(1))
    hint: dict[str, Any] = {"url": None, "title": None, "year": None, "agency": None,
                            "source_agency": None, "source_id": None}
    if capture is None:
        return hint
    hint["url"] = capture.url
    hint["source_id"] = capture.source_id
    if capture.source_id:
        source = session.get(Source, capture.source_id)
        if source is not None and source.agency_id:
            agency = session.get(Agency, source.agency_id)
            hint["source_agency"] = agency.name if agency else None
    targets = {capture.url, capture.final_url}
    referrer = capture.referrer_url
    for _hop in range(3):
        if not referrer:
            break
        page = session.scalar(select(Capture).where(Capture.url == referrer, Capture.sha256.is_not(None))
                              .order_by(Capture.id.desc()).limit(1))
        if page is None:
            break
        title = _title_in_listing(archive, page.id, page.sha256, page.final_url or page.url,
                                  tuple(sorted((page.response_headers or {}).items())), frozenset(targets))
        if title:
            verdict = titles.classify_title(title)
            hint.update(title=title, year=verdict.year, agency=verdict.agency)
            return hint
        targets = {page.url, page.final_url}
        referrer = page.referrer_url
    return hint


@lru_cache(maxsize=256)
def _listing_items(archive_root: str, capture_id: int, sha256: str, url: str,
                   headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    from scrapy.http import HtmlResponse, Request, TextResponse

    from crawler import platforms
    from crawler.archive import Archive

    try:
        body = Archive(archive_root).read_blob(sha256)
    except Exception:  # noqa: BLE001 - a missing blob only loses the hint
        return ()
    header_map = {k: v for k, v in headers if k.lower() != "content-encoding"}
    is_json = body.lstrip()[:1] in (b"{", b"[")
    cls = TextResponse if is_json else HtmlResponse
    response = cls(url=url, body=body, headers=header_map, request=Request(url))
    try:
        listing = platforms.adapter_for(response).parse_listing(response)
        if not listing.items:
            listing = platforms.generic.parse_listing(response)
    except Exception:  # noqa: BLE001 - a page that is not a listing gives no hint
        return ()
    return tuple((item.url, item.title, tuple(item.attachments)) for item in listing.items)


def _title_in_listing(archive: Any, capture_id: int, sha256: str, url: str,
                      headers: tuple[tuple[str, str], ...], targets: frozenset[str]) -> Optional[str]:
    for item_url, title, attachments in _listing_items(str(archive.root), capture_id, sha256, url, headers):
        if item_url in targets or targets.intersection(attachments):
            return title
    return None


# ------------------------------------------------------------------------------- one document
def _finalize(report: dict[str, Any], hint: dict[str, Any]) -> tuple[dict[str, Any], Optional[str]]:
    """Fill agency/year the document did not state from the listing title, then the registry."""
    report = dict(report)
    if not report.get("year") and hint.get("year"):
        report["year"] = hint["year"]
        report.setdefault("warnings", []).append("year taken from the listing title")
    agency = report.get("agency")
    if not agency:
        agency = hint.get("agency") or hint.get("source_agency")
        if agency:
            report["agency"] = agency
            report.setdefault("warnings", []).append("agency taken from the listing title or registry")
    if not report.get("title") and hint.get("title"):
        report["title"] = hint["title"]
    return report, report.get("agency")


def process_document(factory: Any, archive: Any, document_id: int, parser: ParserProcess,
                     timeout: float) -> WorkSummary:
    """Parse one claimed document and store the result (or the failure).

    Three steps so that no database transaction is open while a parse runs (SQLite has one
    writer): read what is needed, parse in the child process, write in one transaction.
    """
    from crawler import store
    from crawler.db.models import Document, Source
    from crawler.db.session import transaction

    summary = WorkSummary()
    with transaction(factory) as session:
        document = session.get(Document, document_id)
        if document is None:
            return summary
        sha256, media_type = document.sha256, document.media_type
        hint = listing_hint(session, archive, document)
        context = store.document_context(session, document)
        parts = store.detail_parts(session, archive, document, context["url"])
        joined = store.document_bytes(archive, document, parts) if any(sha for _u, sha in parts) else None
    meta = {k: str(v) for k, v in (("listing_title", hint.get("title")), ("url", hint.get("url"))) if v}
    if joined is None:
        status, result = parser.parse(archive.blob_path(sha256), media_type, context["name"], meta, timeout)
    else:  # a page split in parts: the joined page, from a temporary file
        with tempfile.NamedTemporaryFile(prefix="xxgk-parts-", suffix=".html") as tmp:
            tmp.write(joined)
            tmp.flush()
            status, result = parser.parse(Path(tmp.name), media_type, context["name"], meta, timeout)
    with transaction(factory) as session:
        document = session.get(Document, document_id)
        if status != "ok":
            summary.failed += 1
            summary.timeouts += status == "timeout"
            summary.errors.append((sha256, str(result)))
            store.finish_document(session, document, error=str(result))
            return summary
        summary.parsed += 1
        report, agency = _finalize(result, hint)
        store.note_detail_parts(report, parts)
        source = session.get(Source, context["source_id"]) if context["source_id"] else None
        try:
            with session.begin_nested():
                store.store_report(session, document, report, agency=agency, source=source,
                                   source_url=context["url"])
            summary.stored += 1
            store.finish_document(session, document)
        except store.StoreError as exc:
            summary.failed += 1
            summary.errors.append((sha256, f"StoreError: {exc}"))
            store.finish_document(session, document, error=f"StoreError: {exc}")
    return summary


# ------------------------------------------------------------------------------- the workers
def _mark_failed(factory: Any, document_id: int, error: str) -> None:
    from crawler import store
    from crawler.db.models import Document
    from crawler.db.session import transaction

    try:
        with transaction(factory) as session:
            document = session.get(Document, document_id)
            if document is not None:
                store.finish_document(session, document, error=error)
    except Exception:  # noqa: BLE001 - the claim goes stale and another worker retries it
        logger.exception("could not record the failure of document %s", document_id)


def run_workers(n: int, db_url: str, archive_dir: str | Path, *, timeout: float = DEFAULT_TIMEOUT_S,
                batch: int = 4, until_empty: bool = True, poll_seconds: float = 2.0,
                stop: Optional[threading.Event] = None,
                progress: Optional[Callable[[WorkSummary], None]] = None) -> WorkSummary:
    """Run ``n`` parse workers until the queue is empty (or ``stop`` is set when not ``until_empty``)."""
    from crawler.archive import Archive
    from crawler.db.session import open_database

    factory = open_database(db_url)
    archive = Archive(archive_dir)
    total = WorkSummary()
    lock = threading.Lock()
    stop = stop or threading.Event()

    def worker(index: int) -> None:
        from crawler import store

        worker_id = f"{socket.gethostname()}:{os.getpid()}:{index}"
        parser = ParserProcess()
        try:
            while not stop.is_set():
                session = factory()
                try:
                    claimed = [d.id for d in store.claim_pending_documents(session, worker_id, limit=batch)]
                finally:
                    session.close()
                if not claimed:
                    if until_empty:
                        return
                    stop.wait(poll_seconds)
                    continue
                for document_id in claimed:
                    try:
                        result = process_document(factory, archive, document_id, parser, timeout)
                    except Exception as exc:  # a database hiccup must not kill the worker
                        logger.exception("document %s: %s", document_id, exc)
                        result = WorkSummary(failed=1, errors=[(str(document_id), f"{type(exc).__name__}: {exc}"[:300])])
                        _mark_failed(factory, document_id, result.errors[0][1])
                    with lock:
                        total.add(result)
                        if progress:
                            progress(total)
        finally:
            parser.close()

    threads = [threading.Thread(target=worker, args=(i,), name=f"xxgk-parse-{i}", daemon=True)
               for i in range(max(1, n))]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join(10)
        raise
    return total


if __name__ == "__main__" and sys.argv[1:] == ["--child"]:
    _child_main()
