"""Scrapy settings of the xxgk crawler (``scrapy crawl reports`` from the project root uses these).

Politeness first: robots.txt obeyed, AutoThrottle on, at most 2 concurrent requests per host,
bounded retries. Archive and database come from ``XXGK_DB`` / ``XXGK_ARCHIVE`` (or the defaults
beside ``./xxgk-data``), like every other ``xxgk`` command. Every standard Scrapy setting and
environment variable keeps working (e.g. ``http_proxy``/``https_proxy`` through
HttpProxyMiddleware, ``-s JOBDIR=…`` for resumable crawls).
"""

from __future__ import annotations

import os

BOT_NAME = "xxgk"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = ("Mozilla/5.0 (compatible; xxgk-archive/0.1; +https://github.com/xxgk-archive; "
              "archiving government information-disclosure annual reports)")
ROBOTSTXT_OBEY = True

# politeness: per-host concurrency and adaptive delay
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024  # a report PDF is rarely above 50 MB
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024

# bounded retries; 429 and 5xx are retried, challenges (412/521) never are
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10
# a callback yields a handful of requests and at most a few items: Scrapy's default (100) makes
# 100 asyncio tasks per response to process them, the crawl's largest fixed cost per page
CONCURRENT_ITEMS = 4
METAREFRESH_ENABLED = True

COOKIES_ENABLED = True  # plain session cookies only; challenge cookies are never computed
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = os.environ.get("XXGK_LOG_LEVEL", "INFO")
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

# resolve names through a resolver that refuses private, loopback and link-local addresses
TWISTED_DNS_RESOLVER = "crawler.middlewares.ScopedResolver"  # Scrapy >= 2.14 name
DNS_RESOLVER = TWISTED_DNS_RESOLVER  # older Scrapy

DOWNLOADER_MIDDLEWARES = {
    # process_request: scope and blocked hosts are checked before robots.txt is even fetched
    "crawler.middlewares.ScopeMiddleware": 40,
    "crawler.middlewares.BlockedHostMiddleware": 45,
    # process_response runs from high to low: archive every response first (redirects, errors,
    # challenges included), then classify blocked hosts, then Scrapy's own handling
    "crawler.middlewares.ArchiveMiddleware": 960,
    "crawler.middlewares.ChallengeMiddleware": 955,
    "crawler.middlewares.SelfRedirectMiddleware": 610,  # after cookies (700), before redirects (600)
    "crawler.middlewares.RetryAfterMiddleware": 560,  # before RetryMiddleware (550) sees a 429
    # distributed mode only (not loaded otherwise): process_exception runs last (after
    # RetryMiddleware gave up): ack the lease
    "crawler.frontier.LeaseAckDownloaderMiddleware": 5,
}
ITEM_PIPELINES = {
    "crawler.pipelines.DocumentPipeline": 300,
}
EXTENSIONS = {
    "crawler.pipelines.StoreExtension": 10,  # records the run; its spider_closed runs first
    "spidermon.contrib.scrapy.extensions.Spidermon": 500,  # run-level monitors (crawler.monitoring)
    "crawler.monitoring.HealthExtension": 600,  # per-source health rows + the monitors' verdicts
}
SPIDER_MIDDLEWARES = {
    # distributed mode only (not loaded otherwise): ack a request's lease once its callback's
    # output is in Redis and through the pipelines; at the engine's end, after the built-in
    # middlewares that may drop a request (depth 900, URL length 800)
    "crawler.frontier.LeaseAckSpiderMiddleware": 5,
}

# Spidermon: run-level checks when the spider closes (failures stored with the run, exit 1)
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.monitoring.CrawlMonitorSuite"]
SPIDERMON_EXPECTED_FINISH_REASONS = ["finished"]
SPIDERMON_MAX_ERRORS = 0  # any ERROR in the log is worth a look
SPIDERMON_MAX_DOWNLOADER_EXCEPTIONS = int(os.environ.get("XXGK_MAX_DOWNLOADER_EXCEPTIONS", "50"))

# xxgk settings (each also settable with -s NAME=value)
XXGK_REGISTRY = os.environ.get("XXGK_REGISTRY", "")  # YAML/JSON file; empty = the starter registry
XXGK_DB = ""  # SQLAlchemy URL; empty = $XXGK_DB, else ./xxgk-data/xxgk.sqlite
XXGK_ARCHIVE = ""  # folder; empty = $XXGK_ARCHIVE, else archive/ beside the database
XXGK_ARCHIVE_DURABLE = True  # fsync every payload (off only for throwaway benchmarks)
# networks the crawler may connect to although private (the tests' and demo's simulator on
# 127.0.0.1); empty by default: private, loopback and link-local addresses are refused
XXGK_ALLOW_PRIVATE_NETWORKS: list[str] = [
    net for net in os.environ.get("XXGK_ALLOW_PRIVATE_NETWORKS", "").split(",") if net.strip()]
# archiving and SQL in a child process (crawler/writer.py StoreProcess), off the reactor's GIL;
# False keeps the writer in a thread of the crawl process
XXGK_STORE_PROCESS = True
XXGK_STORE_BATCH_SIZE = 100  # captures committed together by the writer (group commit)
XXGK_STORE_BATCH_SECONDS = 0.2
XXGK_WARC_GZIP_LEVEL = 1  # 6: WARCs ~20 % smaller on HTML, the archive ~1 % (blobs are raw), 3x the CPU
XXGK_MAX_LISTING_PAGES = 1000  # listing pages per source (endless pagination guard)
XXGK_MAX_LISTING_DEPTH = 6  # shells, iframes and sub-columns followed below a column

# Distributed mode (docs/operations.md): a shared Redis frontier (scrapy-redis scheduler and
# duplicate filter) for several crawler processes; PostgreSQL in XXGK_DB, a shared XXGK_ARCHIVE.
# Switched on by XXGK_REDIS_URL (environment, or ``-s XXGK_REDIS_URL=…`` through ``xxgk crawl``).
XXGK_REDIS_URL = os.environ.get("XXGK_REDIS_URL", "")
XXGK_REDIS_PREFIX = os.environ.get("XXGK_REDIS_PREFIX", "xxgk")  # one prefix = one frontier
XXGK_REDIS_RESTART_AFTER = float(os.environ.get("XXGK_REDIS_RESTART_AFTER", "3600"))  # s after a finished crawl
if XXGK_REDIS_URL:
    from crawler.frontier import distributed_settings as _distributed_settings

    globals().update(_distributed_settings(XXGK_REDIS_URL, XXGK_REDIS_PREFIX))
