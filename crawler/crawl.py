"""Run a crawl from Python: ``run_crawl(...)`` starts Scrapy in a child process and returns a summary.

A child process, because Twisted's reactor cannot be restarted inside one process: tests, the
demo, the benchmark and ``xxgk crawl`` can all call :func:`run_crawl` as often as they like.

    from crawler.crawl import run_crawl
    result = run_crawl(registry="crawler/registry/sources.yaml", sources=["mva-zfxxgknb"])
    result.ok, result.stats["xxgk/documents"], result.sources["mva-zfxxgknb"]["outcome"]

``python -m crawler.crawl SPEC.json`` is the child's entry point (a JSON spec in, a JSON summary
written next to it); it is not meant to be called by hand — use ``xxgk crawl`` or ``scrapy crawl``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

ROOT = Path(__file__).resolve().parent.parent

# for crawling the local simulator: no politeness delay (it is ours), many requests in flight
# (all simulated sites share the 127.0.0.1 download slot), private loopback allowed explicitly
LOCAL_SIMULATOR_SETTINGS: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_DELAY_JITTER": 0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "DOWNLOAD_TIMEOUT": 60,
    "RETRY_TIMES": 2,
    "XXGK_ALLOW_PRIVATE_NETWORKS": ["127.0.0.0/8"],
    "LOG_LEVEL": "WARNING",
}

RegistryArg = Union[str, Path, Iterable[dict[str, Any]], None]


EXIT_JOBDIR_BUSY = 75  # EX_TEMPFAIL: another crawl holds the JOBDIR; try again later


@dataclass
class CrawlResult:
    """What a crawl did (read from the child's summary)."""

    returncode: int
    run_id: Optional[int] = None
    finish_reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocked_hosts: dict[str, str] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    monitors: list[dict[str, Any]] = field(default_factory=list)  # failed Spidermon monitors
    jobdir_start: Optional[str] = None  # fresh | resume | recovered (with --jobdir)
    worker: Optional[str] = None  # distributed mode: this process's id on the frontier
    db_url: str = ""
    archive_dir: str = ""
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.finish_reason == "finished"

    @property
    def busy(self) -> bool:
        """The JOBDIR was held by another crawl: nothing was done."""
        return self.returncode == EXIT_JOBDIR_BUSY

    @property
    def needs_attention(self) -> bool:
        """Blocked hosts, failed sources, fetch errors or failed monitors: worth a person's look.

        Sources marked ``not_seen`` (fetched by another process of a distributed crawl) are not.
        """
        return (not self.ok or bool(self.blocked_hosts) or bool(self.failures) or bool(self.monitors)
                or any(s.get("outcome") not in ("ok", "not_seen") for s in self.sources.values()))


class CrawlProcess:
    """A crawl running in a child process (see :func:`start_crawl`); ``wait()`` for its result.

    The child runs in its own session, so a terminal's Ctrl-C or systemd's SIGTERM reaches it
    exactly once, forwarded by :meth:`wait` (Scrapy stops gracefully on the first signal and
    saves its JOBDIR; a second one forces an unclean stop).
    """

    def __init__(self, popen: subprocess.Popen, tmp: tempfile.TemporaryDirectory, summary_file: Path,
                 capture_log: bool) -> None:
        self.popen = popen
        self._tmp = tmp
        self._summary_file = summary_file
        self._capture_log = capture_log

    @property
    def pid(self) -> int:
        return self.popen.pid

    def send_signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def wait(self, timeout: Optional[float] = None) -> CrawlResult:
        import signal
        import threading

        forwarding = threading.current_thread() is threading.main_thread()
        previous = {}
        if forwarding:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda n, _f: self.send_signal(n))
        try:
            log_bytes, _ = self.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            log_bytes, _ = self.popen.communicate()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log = log_bytes.decode("utf-8", "replace") if self._capture_log and log_bytes else ""
        summary = {}
        if self._summary_file.exists():
            summary = json.loads(self._summary_file.read_text(encoding="utf-8"))
        self._tmp.cleanup()
        return CrawlResult(returncode=self.popen.returncode, log=log, **summary)


def start_crawl(*, registry: RegistryArg = None, sources: Optional[Iterable[str]] = None,
                start_url: Optional[str] = None, platform: Optional[str] = None,
                agency: Optional[str] = None, db_url: Optional[str] = None,
                archive_dir: Optional[Union[str, Path]] = None, jobdir: Optional[Union[str, Path]] = None,
                settings: Optional[dict[str, Any]] = None, redis_url: Optional[str] = None,
                redis_prefix: Optional[str] = None, capture_log: bool = True,
                env: Optional[dict[str, str]] = None) -> CrawlProcess:
    """Start a crawl in a child process and return at once (tests use it to stop crawls midway).

    ``redis_url`` (or ``XXGK_REDIS_URL`` in the environment) selects distributed mode: the crawl
    joins the shared frontier named by ``redis_prefix``.
    """
    tmp = tempfile.TemporaryDirectory(prefix="xxgk-crawl-")
    tmp_path = Path(tmp.name)
    registry_file: Optional[str] = None
    if registry is not None and not isinstance(registry, (str, Path)):
        registry_file = str(tmp_path / "registry.json")
        Path(registry_file).write_text(json.dumps({"sources": list(registry)}, ensure_ascii=False),
                                       encoding="utf-8")
    elif registry is not None:
        registry_file = str(Path(registry).resolve())
    overrides = dict(settings or {})
    if redis_url:
        overrides["XXGK_REDIS_URL"] = redis_url
    if redis_prefix:
        overrides["XXGK_REDIS_PREFIX"] = redis_prefix
    spec = {"registry": registry_file, "sources": list(sources or []), "start_url": start_url,
            "platform": platform, "agency": agency, "db_url": db_url,
            "archive_dir": str(archive_dir) if archive_dir else None,
            "jobdir": str(Path(jobdir).resolve()) if jobdir else None, "settings": overrides,
            "summary": str(tmp_path / "summary.json")}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    child_env = dict(env if env is not None else os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), child_env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    child_env.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    popen = subprocess.Popen([sys.executable, "-m", "crawler.crawl", str(spec_file)], env=child_env,
                             cwd=os.getcwd(), start_new_session=True,
                             stdout=subprocess.PIPE if capture_log else None,
                             stderr=subprocess.STDOUT if capture_log else None)
    return CrawlProcess(popen, tmp, Path(spec["summary"]), capture_log)


def run_crawl(*, registry: RegistryArg = None, sources: Optional[Iterable[str]] = None,
              start_url: Optional[str] = None, platform: Optional[str] = None,
              agency: Optional[str] = None, db_url: Optional[str] = None,
              archive_dir: Optional[Union[str, Path]] = None, jobdir: Optional[Union[str, Path]] = None,
              settings: Optional[dict[str, Any]] = None, timeout: Optional[float] = None,
              capture_log: bool = True, redis_url: Optional[str] = None,
              redis_prefix: Optional[str] = None) -> CrawlResult:
    """Crawl in a child process and return its summary. ``registry`` may be a file or a list of
    dicts (e.g. ``Simulator.registry_entries()``); ``settings`` override Scrapy/xxgk settings."""
    return start_crawl(registry=registry, sources=sources, start_url=start_url, platform=platform,
                       agency=agency, db_url=db_url, archive_dir=archive_dir, jobdir=jobdir,
                       settings=settings, redis_url=redis_url, redis_prefix=redis_prefix,
                       capture_log=capture_log).wait(timeout)


# ---------------------------------------------------------------------------- the child process
def _child(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    if not spec.get("jobdir"):
        return _crawl_in_child(spec, jobdir_start=None)
    from crawler import jobdir

    try:
        with jobdir.locked(spec["jobdir"]) as root:
            state = jobdir.prepare(root)
            if state["start"] == "recovered":
                _record_killed_run(spec, state.get("previous_run_id"))
            jobdir.mark_running(root)
            code = _crawl_in_child(spec, jobdir_start=state["start"])
            summary = json.loads(Path(spec["summary"]).read_text(encoding="utf-8"))
            jobdir.finish(root, summary.get("finish_reason", ""))
            return code
    except jobdir.JobDirBusy as exc:
        print(f"xxgk crawl: {exc}", file=sys.stderr)
        return EXIT_JOBDIR_BUSY


def _record_killed_run(spec: dict[str, Any], run_id: Optional[int]) -> None:
    """The crawl before this one died in this JOBDIR: mark its run record ``killed``."""
    if not run_id:
        return
    from crawler.config import resolve_db_url
    from crawler.db.session import open_database, transaction
    from crawler.store import mark_run_killed

    try:
        with transaction(open_database(resolve_db_url(spec.get("db_url")))) as session:
            mark_run_killed(session, run_id)
    except Exception as exc:  # noqa: BLE001 - the record only; the crawl goes on
        print(f"xxgk crawl: could not mark run {run_id} as killed: {exc}", file=sys.stderr)


def _crawl_in_child(spec: dict[str, Any], jobdir_start: Optional[str]) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.frontier import distributed_settings
    from crawler.monitoring import outcomes_for_run

    settings = get_project_settings()
    for key, value in (spec.get("settings") or {}).items():
        settings.set(key, value, priority="cmdline")
    redis_url = settings.get("XXGK_REDIS_URL")
    if redis_url:  # distributed mode, also when switched by -s rather than the environment
        for key, value in distributed_settings(redis_url, settings.get("XXGK_REDIS_PREFIX")).items():
            settings.set(key, value, priority="cmdline")
    if spec.get("registry"):
        settings.set("XXGK_REGISTRY", spec["registry"], priority="cmdline")
    if spec.get("db_url"):
        settings.set("XXGK_DB", spec["db_url"], priority="cmdline")
    if spec.get("archive_dir"):
        settings.set("XXGK_ARCHIVE", spec["archive_dir"], priority="cmdline")
    if spec.get("jobdir"):
        settings.set("JOBDIR", spec["jobdir"], priority="cmdline")
    process = CrawlerProcess(settings)
    kwargs = {"source": ",".join(spec.get("sources") or []) or None, "start_url": spec.get("start_url"),
              "platform": spec.get("platform"), "agency": spec.get("agency")}
    crawler = process.create_crawler("reports")
    process.crawl(crawler, **{k: v for k, v in kwargs.items() if v})
    process.start()
    spider = crawler.spider
    store = getattr(crawler, "xxgk_store", None)
    stats = dict(crawler.stats.get_stats() if crawler.stats else {})
    import resource

    stats["xxgk/peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = spider.source_report() if spider is not None else {}
    summary = {
        "run_id": getattr(spider, "run_id", None),
        "finish_reason": str(stats.get("finish_reason", "")),
        "stats": json.loads(json.dumps(stats, default=str)),
        "sources": outcomes_for_run(report, distributed=bool(redis_url)),
        "blocked_hosts": dict(getattr(spider, "blocked_hosts", {})),
        "failures": list(getattr(spider, "failures", [])),
        "monitors": list(getattr(crawler, "xxgk_monitor_failures", [])),
        "jobdir_start": jobdir_start,
        "worker": getattr(crawler, "xxgk_worker_id", None),
        "db_url": store.db_url if store else "",
        "archive_dir": str(store.archive_dir) if store else "",
    }
    Path(spec["summary"]).write_text(json.dumps(summary, ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if summary["finish_reason"] == "finished" else 1


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
