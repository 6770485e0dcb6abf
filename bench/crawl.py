"""Crawl throughput: reports archived and stored per second, against a bare Scrapy fetch.

    python bench/crawl.py --docs 1000        # target: ratio >= 0.8
    python bench/crawl.py --docs 10000

One simulated HTML-only TRS portal (the simulator's "bench" profile) holding N reports is
crawled by the real crawler (robots.txt, scope checks, archive: blob + WARC + capture row +
document row per report) and then fetched by a bare Scrapy spider that requests exactly the URLs
the crawler requested and does nothing with them, in the same run against the same server. A
first bare pass warms the simulator's caches so both measured passes see the same server. The
ratio is (our reports per second) / (the bare spider's reports per second), i.e. bare time over
our time for the same work. Peak RSS of each crawl process is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bare_child(url_file: str, result_file: str, concurrency: int) -> None:
    """A Scrapy spider that fetches a list of URLs and keeps nothing (the baseline)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = json.loads(Path(url_file).read_text())

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response):
            return None

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "CONCURRENT_REQUESTS": concurrency,
                              "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "DOWNLOAD_DELAY": 0,
                              "AUTOTHROTTLE_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                              "REDIRECT_ENABLED": True, "RETRY_ENABLED": False})
    started = time.perf_counter()
    process.crawl(Bare)
    process.start()
    elapsed = time.perf_counter() - started
    Path(result_file).write_text(json.dumps({"seconds": elapsed,
                                             "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def run_bare(urls: list[str], concurrency: int, tmp: Path) -> dict:
    url_file, result_file = tmp / "urls.json", tmp / "bare.json"
    url_file.write_text(json.dumps(urls))
    subprocess.run([sys.executable, __file__, "--bare-child", str(url_file), str(result_file),
                    str(concurrency)], check=True, cwd=ROOT)
    return json.loads(result_file.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000, help="reports on the simulated portal")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-fsync", action="store_true", help="do not fsync archived payloads")
    args = parser.parse_args()

    from crawler.crawl import LOCAL_SIMULATOR_SETTINGS, run_crawl
    from crawler.simulator.simulator import Simulator

    with tempfile.TemporaryDirectory(prefix="xxgk-bench-") as tmp_name, \
            Simulator(seed=7, profile="bench", docs=args.docs, log_bodies=False) as sim:
        tmp = Path(tmp_name)
        entries = sim.registry_entries()
        expected = len(sim.expected_reports())
        settings = dict(LOCAL_SIMULATOR_SETTINGS, CONCURRENT_REQUESTS=args.concurrency,
                        CONCURRENT_REQUESTS_PER_DOMAIN=args.concurrency,
                        XXGK_ARCHIVE_DURABLE=not args.no_fsync)
        # the URLs a crawl requests (a first crawl into a scratch store), used to warm the server
        run_crawl(registry=entries, db_url=f"sqlite:///{tmp / 'warm.sqlite'}", archive_dir=tmp / "warm",
                  settings=settings)
        urls = sorted({sim.site(r.site).url(r.path) for r in sim.requests()
                       if r.method == "GET" and not r.path.endswith("robots.txt")})
        run_bare(urls, args.concurrency, tmp)  # warm-up pass
        sim.clear_requests()

        started = time.perf_counter()
        result = run_crawl(registry=entries, db_url=f"sqlite:///{tmp / 'bench.sqlite'}",
                           archive_dir=tmp / "archive", settings=settings)
        ours = time.perf_counter() - started
        ours_inside = float(result.stats.get("elapsed_time_seconds") or ours)
        documents = int(result.stats.get("xxgk/documents", 0))
        bare = run_bare(urls, args.concurrency, tmp)

    ours_rate = documents / ours_inside if ours_inside else 0.0
    bare_rate = documents / bare["seconds"] if bare["seconds"] else 0.0
    print(f"portal: {expected} reports, {len(urls)} URLs (lists, details, robots excluded)")
    print(f"xxgk crawl : {documents} reports archived+stored in {ours_inside:.2f}s "
          f"= {ours_rate:.1f} reports/s (peak RSS {result.stats.get('xxgk/peak_rss_kb', 0) / 1024:.0f} MB)")
    print(f"bare scrapy: same {len(urls)} URLs in {bare['seconds']:.2f}s = {bare_rate:.1f} reports/s "
          f"(peak RSS {bare['peak_rss_kb'] / 1024:.0f} MB)")
    print(f"ratio      : {ours_rate / bare_rate if bare_rate else 0:.2f} (target >= 0.8)"
          + ("  [fsync off]" if args.no_fsync else ""))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-child":
        bare_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
