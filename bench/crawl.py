"""Crawl throughput: reports archived and stored per second, against a bare Scrapy fetch.

    python bench/crawl.py --docs 1000        # target: ratio >= 0.8, 10k peak RSS <= 1.3 x 1k
    python bench/crawl.py --docs 10000
    python bench/crawl.py --docs 1000 --mixed   # PDF + HTML portal, parse workers, end to end
    python bench/crawl.py --docs 1000 --repeat 3   # three measured rounds, median ratio
    python bench/crawl.py --docs 1000 --latency 50   # every reply 50 ms late, as a remote portal's

One simulated TRS portal (the simulator's "bench" site) holding N reports — HTML pages only, or
with ``--mixed`` half HTML and half PDF attachments — is crawled by the real crawler (robots.txt,
scope checks, the spider's adapters, archive: blob + WARC + capture row + document row per
report) and fetched by a bare Scrapy spider that requests exactly the URLs the crawler requested
and does nothing with them. Both run in this invocation against the same simulator, with the
same concurrency, timeout and retry settings, each in its own process. A first crawl into a
scratch store lists the URLs and a first bare pass warms the simulator's caches, so both measured
passes see the same server.

Both are timed the same way, from spider_opened to the end of the crawl (for ours: until the last
row is committed and the archive closed); reports/s is reports stored over that time for both,
and the ratio is ours over bare's. CPU seconds (spider_opened to the end) and peak RSS of each crawl process are printed too:
other work on the machine changes the times, CPU seconds much less so. With ``--mixed``, parse
workers run beside the crawl (as ``xxgk crawl`` does on a busy machine) and end-to-end reports/s
counts parsed and stored reports from the crawl's start until the queue is empty.

The target's measure is ``--latency 0``: a simulator on the same machine answering at once, so
both sides are bound by CPU (ours archives and stores; bare drops the bytes). ``--latency MS``
makes every reply wait MS milliseconds (asleep: no CPU), as a portal across the country does, to
show the ratio where crawls actually run: bound by the network at the same concurrency.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIXED_KINDS = [("body", "html", 1.0), ("attachment", "pdf", 1.0)]


def bare_child(url_file: str, result_file: str, settings_file: str) -> None:
    """A Scrapy spider that fetches a list of URLs and keeps nothing (the baseline)."""
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    urls = json.loads(Path(url_file).read_text())
    moments: dict[str, float] = {}

    class Bare(scrapy.Spider):
        name = "bare"

        @classmethod
        def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> "Bare":
            spider = super().from_crawler(crawler, *args, **kwargs)
            crawler.signals.connect(spider.opened, signal=signals.spider_opened)
            crawler.signals.connect(spider.closed_at, signal=signals.spider_closed)
            return spider

        def opened(self) -> None:
            moments.setdefault("opened", time.monotonic())
            moments.setdefault("opened_cpu", cpu_seconds())

        def closed_at(self) -> None:
            moments.setdefault("closed", time.monotonic())
            moments.setdefault("closed_cpu", cpu_seconds())

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response):
            return None

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False,
                              **json.loads(Path(settings_file).read_text())})
    process.crawl(Bare)
    process.start()
    Path(result_file).write_text(json.dumps({
        "seconds": moments["closed"] - moments["opened"], "cpu_seconds": moments["closed_cpu"] - moments["opened_cpu"],
        "peak_rss_kb": peak_rss_kb()}))


def peak_rss_kb() -> int:
    from crawler.writer import peak_rss_kb as ours

    return ours()  # VmHWM: ru_maxrss would include the bench process this child was forked from


def cpu_seconds() -> float:
    from crawler.writer import cpu_seconds as ours

    return ours()


def bare_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The crawler's fetch settings that shape throughput, for the bare spider too."""
    keys = ("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT",
            "AUTOTHROTTLE_ENABLED", "RETRY_TIMES", "DOWNLOAD_MAXSIZE", "REDIRECT_MAX_TIMES")
    from crawler import settings as project

    merged = {key: getattr(project, key) for key in keys if hasattr(project, key)}
    merged.update({key: settings[key] for key in keys if key in settings})
    merged["RANDOMIZE_DOWNLOAD_DELAY"] = False
    return merged


def run_bare(urls: list[str], settings: dict[str, Any], tmp: Path) -> dict:
    url_file, result_file, settings_file = tmp / "urls.json", tmp / "bare.json", tmp / "bare-settings.json"
    url_file.write_text(json.dumps(urls))
    settings_file.write_text(json.dumps(bare_settings(settings)))
    subprocess.run([sys.executable, __file__, "--bare-child", str(url_file), str(result_file), str(settings_file)],
                   check=True, cwd=ROOT)
    return json.loads(result_file.read_text())


class ParseWorkers:
    """Parse workers beside the crawl; stopped once the crawl is over and the queue is empty."""

    def __init__(self, n: int, db_url: str, archive_dir: Path) -> None:
        from crawler.work import WorkSummary

        self.n, self.db_url, self.archive_dir = n, db_url, archive_dir
        self.stop = threading.Event()
        self.summary = WorkSummary()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from crawler.db.session import open_database
        from crawler.work import run_workers

        while not Path(self.db_url.removeprefix("sqlite:///")).exists() and not self.stop.is_set():
            time.sleep(0.2)  # the crawl creates the database
        open_database(self.db_url)
        self.summary = run_workers(self.n, self.db_url, self.archive_dir, until_empty=False,
                                   poll_seconds=0.5, stop=self.stop)

    def start(self) -> "ParseWorkers":
        self.thread.start()
        return self

    def finish(self) -> None:
        """Wait until no document is pending or being parsed, then stop the workers."""
        from sqlalchemy import func, select

        from crawler.db.models import Document
        from crawler.db.session import open_database

        factory = open_database(self.db_url)
        while True:
            with factory() as session:
                left = session.scalar(select(func.count()).select_from(Document)
                                      .where(Document.parse_status.in_(("pending", "parsing"))))
            if not left:
                break
            time.sleep(0.2)
        self.stop.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="reports on the simulated portal")
    parser.add_argument("--concurrency", type=int, default=16, help="CONCURRENT_REQUESTS(_PER_DOMAIN) of both")
    parser.add_argument("--mixed", action="store_true", help="half PDF attachments; run parse workers too")
    parser.add_argument("--workers", type=int, default=2, help="parse workers with --mixed")
    parser.add_argument("--no-fsync", action="store_true", help="do not fsync the archive (throwaway runs)")
    parser.add_argument("--gzip-level", type=int, default=None, help="WARC gzip level (default: the archive's)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measured rounds (each: our crawl into a fresh store, then the bare fetch); "
                             "the median ratio is printed — wall times move by ±15 %% from run to run")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="ms the simulator waits before every reply, for both crawls (0: the target's "
                             "measure; real portals answer in tens to hundreds of ms)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, run_crawl
    from crawler.simulator.simulator import Simulator

    site = {"name": "trs-bench", "docs": args.docs}
    if args.mixed:
        site["kinds"] = MIXED_KINDS
    with tempfile.TemporaryDirectory(prefix="xxgk-bench-") as tmp_name, \
            Simulator(seed=7, sites=[site], log_bodies=False, latency=args.latency / 1000) as sim:
        tmp = Path(tmp_name)
        entries = sim.registry_entries()
        expected = len(sim.expected_reports())
        settings = dict(LOCAL_SIMULATOR_SETTINGS, CONCURRENT_REQUESTS=args.concurrency,
                        CONCURRENT_REQUESTS_PER_DOMAIN=args.concurrency,
                        XXGK_ARCHIVE_DURABLE=not args.no_fsync)
        if args.gzip_level is not None:
            settings["XXGK_WARC_GZIP_LEVEL"] = args.gzip_level
        # the URLs a crawl requests (a first crawl into a scratch store), then a bare warm-up pass
        warm = run_crawl(registry=entries, db_url=f"sqlite:///{tmp / 'warm.sqlite'}", archive_dir=tmp / "warm",
                         settings=settings)
        if not warm.ok:
            sys.exit(f"the warm-up crawl failed: {warm.finish_reason}\n{warm.log[-2000:]}")
        urls = sorted({sim.site(r.site).url(r.path) for r in sim.requests()
                       if r.method == "GET" and not r.path.endswith("robots.txt")})
        run_bare(urls, settings, tmp)
        sim.clear_requests()

        rounds = [measure_round(k, args, sim, entries, settings, urls, tmp) for k in range(args.repeat)]

    summary = {"portal": {"reports": expected, "urls": len(urls), "mixed": args.mixed, "concurrency": args.concurrency,
                          "fsync": not args.no_fsync, "latency_ms": args.latency},
               "rounds": rounds, "ratio_median": statistics.median(r["ratio"] for r in rounds),
               "cpu_ratio_median": statistics.median(r["cpu_ratio"] for r in rounds)}
    if args.json:
        print(json.dumps(rounds[0] | {"portal": summary["portal"]} if args.repeat == 1 else summary, indent=2))
        return
    print(f"portal     : {expected} reports, {len(urls)} URLs{' (half PDF)' if args.mixed else ' (HTML only)'}, "
          f"concurrency {args.concurrency}, fsync {'on' if not args.no_fsync else 'off'}, "
          f"latency {args.latency:g} ms per reply")
    for k, figures in enumerate(rounds):
        if args.repeat > 1:
            print(f"--- round {k + 1} of {args.repeat}")
        print_round(figures, len(urls), args.workers)
    if args.repeat > 1:
        ratios = sorted(r["ratio"] for r in rounds)
        print(f"=== ratio median {summary['ratio_median']:.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f}, target >= 0.8); "
              f"CPU ratio median {summary['cpu_ratio_median']:.2f}")


def measure_round(k: int, args: argparse.Namespace, sim: Any, entries: list[dict[str, Any]],
                  settings: dict[str, Any], urls: list[str], tmp: Path) -> dict[str, Any]:
    """One measured pass of each: our crawl into a fresh store, then the bare fetch."""
    from crawler.crawl import run_crawl

    db_url = f"sqlite:///{tmp / f'bench-{k}.sqlite'}"
    archive = tmp / f"archive-{k}"
    workers = ParseWorkers(args.workers, db_url, archive).start() if args.mixed else None
    started = time.monotonic()
    result = run_crawl(registry=entries, db_url=db_url, archive_dir=archive, settings=settings)
    end_to_end = None
    if workers is not None:
        workers.finish()
        end_to_end = time.monotonic() - started
    bare = run_bare(urls, settings, tmp)
    sim.clear_requests()
    shutil.rmtree(archive, ignore_errors=True)  # rounds of 10,000 reports would fill a small disk
    stats = result.stats
    documents = int(stats.get("xxgk/documents", 0))
    ours_seconds = float(stats.get("xxgk/store/seconds") or stats.get("elapsed_time_seconds") or 0)
    crawl_cpu = float(stats.get("xxgk/store/cpu_seconds") or 0)
    writer_cpu = float(stats.get("xxgk/store/writer_cpu_seconds") or 0)
    crawl_rss_kb = stats.get("xxgk/store/peak_rss_kb") or stats.get("xxgk/peak_rss_kb", 0)
    writer_rss_kb = stats.get("xxgk/store/writer_peak_rss_kb") or 0
    figures: dict[str, Any] = {
        "xxgk": {"reports": documents, "seconds": ours_seconds, "reports_per_s": documents / ours_seconds,
                 # the crawl process and its store process (whose whole life is this crawl)
                 "cpu_seconds": crawl_cpu + writer_cpu, "crawl_cpu_seconds": crawl_cpu,
                 "store_cpu_seconds": writer_cpu,
                 "peak_rss_mb": (crawl_rss_kb + writer_rss_kb) / 1024, "crawl_peak_rss_mb": crawl_rss_kb / 1024,
                 "store_peak_rss_mb": writer_rss_kb / 1024,
                 "store_batches": stats.get("xxgk/store/batches"), "store_writes": stats.get("xxgk/store/writes"),
                 "store_busy_seconds": float(stats.get("xxgk/store/writer_busy_seconds") or 0)},
        "bare": {"seconds": bare["seconds"], "reports_per_s": documents / bare["seconds"],
                 "cpu_seconds": bare["cpu_seconds"], "peak_rss_mb": bare["peak_rss_kb"] / 1024},
        "load_average": os.getloadavg(),
    }
    figures["ratio"] = figures["xxgk"]["reports_per_s"] / figures["bare"]["reports_per_s"]
    # the same ratio in CPU time: what the ratio would be if each process had a core to itself
    figures["cpu_ratio"] = figures["bare"]["cpu_seconds"] / figures["xxgk"]["cpu_seconds"]
    if workers is not None:
        figures["end_to_end"] = {"parsed": workers.summary.parsed, "stored": workers.summary.stored,
                                 "failed": workers.summary.failed, "seconds": end_to_end,
                                 "reports_per_s": workers.summary.stored / end_to_end, "workers": args.workers}
    return figures


def print_round(figures: dict[str, Any], urls: int, workers: int) -> None:
    ours, base = figures["xxgk"], figures["bare"]
    print(f"xxgk crawl : {ours['reports']} reports archived+stored in {ours['seconds']:.2f}s = "
          f"{ours['reports_per_s']:.1f} reports/s; CPU {ours['cpu_seconds']:.1f}s (crawl {ours['crawl_cpu_seconds']:.1f} + "
          f"store {ours['store_cpu_seconds']:.1f}); peak RSS {ours['peak_rss_mb']:.0f} MB (crawl {ours['crawl_peak_rss_mb']:.0f} + "
          f"store {ours['store_peak_rss_mb']:.0f}); {ours['store_writes']} writes in {ours['store_batches']} batches, "
          f"the writer busy {ours['store_busy_seconds'] / ours['seconds']:.0%} of the time")
    print(f"bare scrapy: same {urls} URLs in {base['seconds']:.2f}s = {base['reports_per_s']:.1f} reports/s; "
          f"CPU {base['cpu_seconds']:.1f}s; peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"ratio      : {figures['ratio']:.2f} (target >= 0.8); in CPU seconds {figures['cpu_ratio']:.2f} "
          f"(bare CPU / ours, crawl phase only); load average {figures['load_average'][0]:.1f} on {os.cpu_count()} cores")
    if "end_to_end" in figures:
        e2e = figures["end_to_end"]
        print(f"end to end : {e2e['stored']} reports parsed and stored ({e2e['failed']} failed) by {workers} "
              f"workers beside the crawl in {e2e['seconds']:.2f}s = {e2e['reports_per_s']:.1f} reports/s")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-child":
        bare_child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
