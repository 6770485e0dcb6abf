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
    db_url: str = ""
    archive_dir: str = ""
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.finish_reason == "finished"

    @property
    def needs_attention(self) -> bool:
        """Blocked hosts, failed sources or fetch errors: something a person should look at."""
        return (not self.ok or bool(self.blocked_hosts) or bool(self.failures)
                or any(s.get("outcome") not in ("ok",) for s in self.sources.values()))


def run_crawl(*, registry: RegistryArg = None, sources: Optional[Iterable[str]] = None,
              start_url: Optional[str] = None, platform: Optional[str] = None,
              agency: Optional[str] = None, db_url: Optional[str] = None,
              archive_dir: Optional[Union[str, Path]] = None, jobdir: Optional[Union[str, Path]] = None,
              settings: Optional[dict[str, Any]] = None, timeout: Optional[float] = None,
              capture_log: bool = True) -> CrawlResult:
    """Crawl in a child process and return its summary. ``registry`` may be a file or a list of
    dicts (e.g. ``Simulator.registry_entries()``); ``settings`` override Scrapy/xxgk settings."""
    with tempfile.TemporaryDirectory(prefix="xxgk-crawl-") as tmp:
        tmp_path = Path(tmp)
        registry_file: Optional[str] = None
        if registry is not None and not isinstance(registry, (str, Path)):
            registry_file = str(tmp_path / "registry.json")
            Path(registry_file).write_text(json.dumps({"sources": list(registry)}, ensure_ascii=False),
                                           encoding="utf-8")
        elif registry is not None:
            registry_file = str(Path(registry).resolve())
        spec = {"registry": registry_file, "sources": list(sources or []), "start_url": start_url,
                "platform": platform, "agency": agency, "db_url": db_url,
                "archive_dir": str(archive_dir) if archive_dir else None,
                "jobdir": str(jobdir) if jobdir else None, "settings": settings or {},
                "summary": str(tmp_path / "summary.json")}
        spec_file = tmp_path / "spec.json"
        spec_file.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
        completed = subprocess.run([sys.executable, "-m", "crawler.crawl", str(spec_file)], env=env,
                                   cwd=os.getcwd(), timeout=timeout,
                                   stdout=subprocess.PIPE if capture_log else None,
                                   stderr=subprocess.STDOUT if capture_log else None)
        log = completed.stdout.decode("utf-8", "replace") if capture_log and completed.stdout else ""
        summary_file = Path(spec["summary"])
        summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else {}
    return CrawlResult(returncode=completed.returncode, log=log, **summary)


# ---------------------------------------------------------------------------- the child process
def _child(spec_path: str) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    settings = get_project_settings()
    for key, value in (spec.get("settings") or {}).items():
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
    summary = {
        "run_id": getattr(spider, "run_id", None),
        "finish_reason": str(stats.get("finish_reason", "")),
        "stats": json.loads(json.dumps(stats, default=str)),
        "sources": spider.source_report() if spider is not None else {},
        "blocked_hosts": dict(getattr(spider, "blocked_hosts", {})),
        "failures": list(getattr(spider, "failures", [])),
        "db_url": store.db_url if store else "",
        "archive_dir": str(store.archive_dir) if store else "",
    }
    Path(spec["summary"]).write_text(json.dumps(summary, ensure_ascii=False, default=str), encoding="utf-8")
    return 0 if summary["finish_reason"] == "finished" else 1


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
