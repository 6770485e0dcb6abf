"""Monitoring: per-run per-source health, Spidermon run checks, and what needs attention.

Two layers, each on the tool that fits it:

* **Run-level checks** (did the crawl finish, were there errors in the log, download exceptions,
  blocked hosts, failed sources) are Spidermon monitors (:class:`CrawlMonitorSuite`), run when the
  spider closes; their failures are stored in the run's stats (``monitors``) and make
  ``xxgk crawl`` exit 1.
* **Per-source health** (listing pages seen, reports found, new, changed, errors, blocked, parse
  failures) is data, not a pass/fail test: :class:`HealthExtension` writes one ``source_health``
  row per source and run, and :func:`sources_needing_attention` compares a source's last run with
  its history (blocked, zero results where there were results before, parse failures rising).
  ``xxgk status`` shows both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from scrapy import signals
from spidermon import Monitor, MonitorSuite, monitors
from spidermon.contrib.scrapy.monitors import (DownloaderExceptionMonitor, ErrorCountMonitor,
                                               FinishReasonMonitor)
from spidermon.core.actions import Action
from sqlalchemy import and_, func, select

logger = logging.getLogger(__name__)

ATTENTION_OUTCOMES = ("blocked", "failed", "empty", "killed")
NOT_SEEN = "not_seen"  # distributed mode: another crawler process fetched this source


# --------------------------------------------------------------------------- Spidermon monitors
@monitors.name("xxgk sources")
class SourcesMonitor(Monitor):
    """Sources of this run: none blocked, none failed (no listing page could be read)."""

    def _report(self) -> dict[str, dict[str, Any]]:
        spider = self.data.spider
        return outcomes_for_run(spider.source_report(), distributed=bool(
            self.data.crawler.settings.get("XXGK_REDIS_URL"))) if hasattr(spider, "source_report") else {}

    @monitors.name("no blocked source")
    def test_no_blocked_source(self) -> None:
        blocked = sorted(name for name, info in self._report().items() if info["outcome"] == "blocked")
        self.assertFalse(blocked, msg=f"blocked sources: {', '.join(blocked[:10])}")

    @monitors.name("no failed source")
    def test_no_failed_source(self) -> None:
        failed = sorted(name for name, info in self._report().items() if info["outcome"] == "failed")
        self.assertFalse(failed, msg=f"sources with no readable listing page: {', '.join(failed[:10])}")


class RecordMonitorResults(Action):
    """Keep the monitors' verdicts on the crawler, for the run record and the exit status."""

    def run_action(self) -> None:
        failures = []
        for result in self.result.monitors_failed_results:
            monitor = getattr(result, "monitor", None)
            name = getattr(monitor, "name", None) or getattr(monitor, "monitor_name", None) or str(monitor)
            reason = getattr(result, "reason", None) or (getattr(result, "error", "") or "").strip().splitlines()[-1:]
            failures.append({"monitor": str(name), "reason": reason if isinstance(reason, str) else " ".join(reason)})
        self.data.crawler.xxgk_monitor_failures = failures


class CrawlMonitorSuite(MonitorSuite):
    """Run when the spider closes (``SPIDERMON_SPIDER_CLOSE_MONITORS``)."""

    monitors = [FinishReasonMonitor, ErrorCountMonitor, DownloaderExceptionMonitor, SourcesMonitor]
    monitors_finished_actions = [RecordMonitorResults]


# --------------------------------------------------------------------------- outcomes
def outcomes_for_run(report: dict[str, dict[str, Any]], *, distributed: bool) -> dict[str, dict[str, Any]]:
    """The spider's per-source report, with sources another process fetched marked ``not_seen``.

    In distributed mode each process sees only the requests it popped from the shared frontier,
    so a source with no counter at all in this process is not a failure of the source.
    """
    if not distributed:
        return report
    result = {}
    for name, info in report.items():
        others_listed = info.get("outcome") == "failed" and not info.get("listing_pages")
        others_found = info.get("outcome") == "empty" and (info.get("detail_pages") or info.get("documents"))
        if others_listed or others_found:
            info = {**info, "outcome": NOT_SEEN}
        result[name] = info
    return result


# --------------------------------------------------------------------------- the extension
class HealthExtension:
    """Write ``source_health`` rows and the monitors' verdicts when a crawl run closes.

    Runs after :class:`crawler.pipelines.StoreExtension` (which records the run) and after
    Spidermon (whose verdicts it stores), in its own transaction.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "HealthExtension":
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        from crawler import jobdir

        store = getattr(self.crawler, "xxgk_store", None)
        path = self.crawler.settings.get("JOBDIR")
        if path and store is not None:
            jobdir.note_run(path, store.run_id)
        frontier = getattr(self.crawler, "xxgk_frontier", None)
        if frontier is not None and store is not None:
            frontier.note_run(store.run_id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        store = getattr(self.crawler, "xxgk_store", None)
        if store is None or store.run_id is None or not hasattr(spider, "source_report"):
            return
        distributed = bool(self.crawler.settings.get("XXGK_REDIS_URL"))
        report = outcomes_for_run(spider.source_report(), distributed=distributed)
        failures = list(getattr(self.crawler, "xxgk_monitor_failures", []))
        extra = {"mode": "distributed" if distributed else "single",
                 "redis_prefix": self.crawler.settings.get("XXGK_REDIS_PREFIX") if distributed else None,
                 "worker": getattr(self.crawler, "xxgk_worker_id", None)}
        try:
            from crawler.db.session import open_database, transaction

            with transaction(open_database(store.db_url)) as session:
                record_health(session, store.run_id, report, store.source_ids)
                record_run_extras(session, store.run_id, monitors=failures, settings=extra)
        except Exception:  # noqa: BLE001 - monitoring must never lose the crawl itself
            logger.exception("could not record the health of run %s", store.run_id)


def record_health(session: Any, run_id: int, report: dict[str, dict[str, Any]],
                  source_ids: dict[str, int]) -> None:
    """One ``source_health`` row per source of the run (replacing any earlier one: idempotent)."""
    from crawler.db.models import SourceHealth

    for name, info in report.items():
        source_id = source_ids.get(name)
        if source_id is None:
            continue
        row = session.scalar(select(SourceHealth).where(SourceHealth.run_id == run_id,
                                                        SourceHealth.source_id == source_id))
        if row is None:
            row = SourceHealth(run_id=run_id, source_id=source_id)
            session.add(row)
        row.outcome = str(info.get("outcome", "?"))[:16]
        row.listing_pages = int(info.get("listing_pages", 0))
        row.reports_found = int(info.get("report_links", 0))
        row.documents = int(info.get("documents", 0))
        row.errors = int(info.get("errors", 0))
        row.blocked = int(info.get("blocked", 0)) + len(info.get("blocked_hosts") or {})
        row.details = {k: v for k, v in info.items() if k not in ("agency", "url")}
        row.new_documents = _new_documents(session, run_id, source_id)
        row.changed_reports = row.changed_reports or 0
        row.parse_failures = row.parse_failures or 0
    session.flush()


def record_run_extras(session: Any, run_id: int, *, monitors: list[dict[str, Any]],
                      settings: dict[str, Any]) -> None:
    """Add the monitors' verdicts to the run's stats and the run mode to its settings."""
    from crawler.db.models import CrawlRun

    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    run.stats = {**(run.stats or {}), "monitors": monitors}
    run.settings = {**(run.settings or {}), **{k: v for k, v in settings.items() if v is not None}}
    session.flush()


def _documents_of(run_id: int, source_id: int) -> Any:
    from crawler.db.models import Capture

    return select(Capture.sha256).where(Capture.run_id == run_id, Capture.source_id == source_id,
                                        Capture.sha256.is_not(None)).distinct()


def _new_documents(session: Any, run_id: int, source_id: int) -> int:
    from crawler.db.models import CrawlRun, Document

    run = session.get(CrawlRun, run_id)
    return int(session.scalar(select(func.count(Document.id)).where(
        Document.sha256.in_(_documents_of(run_id, source_id)), Document.first_seen >= run.started_at)) or 0)


def refresh_parse_health(session: Any, run_ids: Optional[Iterable[int]] = None) -> int:
    """Recount parse failures and changed reports of the runs' sources (after parse workers ran).

    Without ``run_ids``: the runs whose documents may still have changed (the last 20).
    Returns the number of rows updated.
    """
    from crawler.db.models import CrawlRun, Document, Report, SourceHealth

    if run_ids is None:
        run_ids = session.scalars(select(CrawlRun.id).order_by(CrawlRun.id.desc()).limit(20)).all()
    rows = session.scalars(select(SourceHealth).where(SourceHealth.run_id.in_(list(run_ids)))).all()
    for row in rows:
        documents = _documents_of(row.run_id, row.source_id)
        row.parse_failures = int(session.scalar(select(func.count(Document.id)).where(
            Document.sha256.in_(documents), Document.parse_status == "failed")) or 0)
        row.changed_reports = int(session.scalar(select(func.count(Report.id)).join(
            Document, Document.id == Report.document_id).where(
            Document.sha256.in_(documents), Report.changed_after_publication.is_(True))) or 0)
    session.flush()
    return len(rows)


# --------------------------------------------------------------------------- attention
@dataclass
class Attention:
    """One source that needs a person to look at it, and why."""

    source: str
    run_id: int
    reasons: list[str] = field(default_factory=list)
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "run_id": self.run_id, "reasons": self.reasons, "url": self.url}


def sources_needing_attention(session: Any, *, history: int = 10) -> list[Attention]:
    """Compare each source's last health row with its earlier ones.

    Needs attention: blocked; failed (no listing page read) or empty; zero reports found where an
    earlier run found some; parse failures rising; fetch errors. Rows marked ``not_seen`` (another
    distributed process fetched the source) are skipped.
    """
    from crawler.db.models import Source, SourceHealth

    result = []
    source_ids = session.scalars(select(SourceHealth.source_id).distinct()).all()
    for source_id in source_ids:
        rows = session.scalars(select(SourceHealth).where(
            and_(SourceHealth.source_id == source_id, SourceHealth.outcome != NOT_SEEN))
            .order_by(SourceHealth.run_id.desc()).limit(history)).all()
        if not rows:
            continue
        reasons = attention_reasons(rows[0], rows[1:])
        if reasons:
            source = session.get(Source, source_id)
            result.append(Attention(source=source.name if source else str(source_id), run_id=rows[0].run_id,
                                    reasons=reasons, url=source.start_url if source else ""))
    return sorted(result, key=lambda a: (-a.run_id, a.source))


def attention_reasons(last: Any, earlier: list[Any]) -> list[str]:
    """Why ``last`` (a SourceHealth row) needs attention, given the rows before it (newest first)."""
    reasons = []
    if last.outcome == "blocked":
        hosts = (last.details or {}).get("blocked_hosts") or {}
        reasons.append("blocked" + (": " + "; ".join(f"{h} ({r})" for h, r in hosts.items()) if hosts else ""))
    elif last.outcome == "failed":
        reasons.append("failed: no listing page could be read")
    elif last.outcome == "killed":
        reasons.append("the run was killed before it finished")
    before = max((row.reports_found for row in earlier), default=0)
    if last.reports_found == 0 and before > 0:
        reasons.append(f"zero reports found (an earlier run found {before})")
    elif last.outcome == "empty":
        reasons.append("empty: no report link in the column")
    if earlier and last.parse_failures > earlier[0].parse_failures:
        reasons.append(f"parse failures rising: {earlier[0].parse_failures} → {last.parse_failures}")
    elif not earlier and last.parse_failures:
        reasons.append(f"parse failures: {last.parse_failures}")
    if last.errors:
        reasons.append(f"fetch errors: {last.errors}")
    return reasons


def last_runs(session: Any, limit: int = 10) -> list[dict[str, Any]]:
    """The last crawl runs, newest first, with their per-source outcome counts."""
    from crawler.db.models import CrawlRun, SourceHealth

    runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).all()
    result = []
    for run in runs:
        outcomes = dict(session.execute(select(SourceHealth.outcome, func.count()).where(
            SourceHealth.run_id == run.id).group_by(SourceHealth.outcome)).all())
        totals = session.execute(select(func.coalesce(func.sum(SourceHealth.reports_found), 0),
                                        func.coalesce(func.sum(SourceHealth.new_documents), 0),
                                        func.coalesce(func.sum(SourceHealth.errors), 0),
                                        func.coalesce(func.sum(SourceHealth.parse_failures), 0))
                                 .where(SourceHealth.run_id == run.id)).one()
        stats = run.stats or {}
        result.append({
            "id": run.id, "started_at": run.started_at.isoformat() if run.started_at else None,
            "ended_at": run.ended_at.isoformat() if run.ended_at else None, "outcome": run.outcome,
            "mode": (run.settings or {}).get("mode", "single"), "worker": (run.settings or {}).get("worker"),
            "sources": outcomes, "reports_found": int(totals[0]), "new_documents": int(totals[1]),
            "errors": int(totals[2]), "parse_failures": int(totals[3]),
            "requests": stats.get("downloader/request_count", 0),
            "monitors_failed": [m.get("monitor") for m in stats.get("monitors") or []],
        })
    return result
