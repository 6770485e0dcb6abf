"""The one spider: registry (or a start URL) → platform adapter → report links → documents.

Thin on purpose: what a page means is decided by the pure adapters in :mod:`crawler.platforms`
and the title filter in :mod:`crawler.titles`; bytes go to the archive in a downloader middleware
before this code sees them; documents become rows in the pipeline; parsing happens elsewhere.

    scrapy crawl reports                                  # the whole starter registry
    scrapy crawl reports -a source=pingtan-zfxxgknb       # one source
    scrapy crawl reports -a start_url=https://…/zfxxgknb/ # one column, platform auto-detected
    scrapy crawl reports -a registry=my-sources.yaml      # another registry
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any, AsyncIterator, Iterator, Optional
from urllib.parse import urlsplit

import scrapy
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import platforms, titles
from crawler.items import DocumentItem
from crawler.middlewares import BlockedHostError, ChallengeError, ScopeError, resolver_refusal
from crawler.platforms import generic
from crawler.platforms.base import is_document_url, is_image_url
from crawler.registry import Source, adhoc_source, find_source, load_registry

_REJECT_ATTACHMENT = re.compile(r"解读|图解|一图读懂")
_HTML_TYPES = (b"text/html", b"application/xhtml", b"text/xml", b"application/xml")
_PASS_META = ("source", "column_url")
# a listing page that stands in for a document is an error page when it is this small
FILE_SHELL_BYTES = 4096


def _looks_binary(body: bytes) -> bool:
    head = body[:1024]
    return b"\x00" in head or head.startswith((b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x89PNG",
                                                b"\xff\xd8\xff"))


class ReportsSpider(scrapy.Spider):
    name = "reports"
    custom_settings: dict[str, Any] = {}

    def __init__(self, registry: Optional[str] = None, source: Optional[str] = None,
                 start_url: Optional[str] = None, platform: Optional[str] = None,
                 agency: Optional[str] = None, sources: Optional[list[Source]] = None,
                 *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registry_arg = registry
        self._source_arg = source
        self._start_url = start_url
        self._platform = platform or ""
        self._agency = agency or ""
        self.sources: list[Source] = list(sources) if sources else []
        self.by_name: dict[str, Source] = {}
        self.all_hosts: frozenset[str] = frozenset()
        self.blocked_hosts: dict[str, str] = {}
        self.per_source: dict[str, Counter] = defaultdict(Counter)
        self.failures: list[dict[str, Any]] = []
        self.run_id: Optional[int] = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> "ReportsSpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_listing_depth = crawler.settings.getint("XXGK_MAX_LISTING_DEPTH", 4)
        # endless pagination guard: listing pages requested per source (a column has 1-50)
        spider.max_listing_pages = crawler.settings.getint("XXGK_MAX_LISTING_PAGES", 1000)
        if not spider.sources:
            spider.sources = spider._load_sources(spider._registry_arg or crawler.settings.get("XXGK_REGISTRY") or None)
        spider.by_name = {s.name: s for s in spider.sources}
        spider.all_hosts = frozenset(h for s in spider.sources for h in s.hosts)
        return spider

    def _load_sources(self, registry: Optional[str]) -> list[Source]:
        if self._start_url:
            return [adhoc_source(self._start_url, self._platform, self._agency)]
        sources = load_registry(registry)
        if self._source_arg:
            wanted = [name.strip() for name in self._source_arg.split(",") if name.strip()]
            return [find_source(load_registry(registry, include_disabled=True), name) for name in wanted]
        return sources

    # ------------------------------------------------------------------ scope and outcomes
    def hosts_for(self, request: Request) -> frozenset[str]:
        """The netlocs a request may go to: its source's, or any source's (robots.txt)."""
        source = self.by_name.get(request.meta.get("source", ""))
        return source.hosts if source is not None else self.all_hosts

    def mark_blocked(self, host: str, reason: str, request: Optional[Request] = None) -> None:
        if host not in self.blocked_hosts:
            self.logger.warning("blocked: %s (%s) — recorded and left alone", host, reason)
        self.blocked_hosts.setdefault(host, reason)
        if request is not None:
            self.per_source[request.meta.get("source", "")]["blocked"] += 1

    def note_out_of_scope(self, request: Request, reason: str) -> None:
        self.per_source[request.meta.get("source", "")]["out_of_scope"] += 1
        self.logger.debug("out of scope: %s (%s)", request.url, reason)

    def record_failure(self, request: Request, error: str, status: Optional[int] = None,
                       url: Optional[str] = None) -> None:
        """One failed URL in the run's summary (the capture row, if any, is already written)."""
        source = request.meta.get("source", "")
        self.per_source[source]["errors"] += 1
        first_url = (request.meta.get("redirect_urls") or [request.url])[0]
        self.failures.append({"url": url or first_url, "source": source, "error": error[:500],
                              "status": status})

    def source_report(self) -> dict[str, dict[str, Any]]:
        """Per source: counters and an outcome (ok / blocked / failed / empty) for the run record."""
        report = {}
        for source in self.sources:
            counts = dict(self.per_source.get(source.name, {}))
            hosts_blocked = {h: r for h, r in self.blocked_hosts.items() if h in source.hosts}
            if hosts_blocked and source.host in hosts_blocked:
                outcome = "blocked"
            elif counts.get("listing_pages", 0) == 0:
                outcome = "failed"
            elif counts.get("report_links", 0) == 0:
                outcome = "empty"
            else:
                outcome = "ok"
            report[source.name] = {**counts, "outcome": outcome, "agency": source.agency,
                                   "url": source.url, "blocked_hosts": hosts_blocked}
        return report

    # ------------------------------------------------------------------ start
    async def start(self) -> AsyncIterator[Request]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        for source in self.sources:
            fragment = urlsplit(source.url).fragment
            yield Request(source.url, callback=self.parse_listing, errback=self.on_error,
                          meta={"source": source.name, "platform": source.platform, "role": "listing",
                                "column_url": source.url, "fragment": fragment, "listing_depth": 0})

    # ------------------------------------------------------------------ listings
    def parse_listing(self, response: Response) -> Iterator[Any]:
        source_name = response.meta["source"]
        counts = self.per_source[source_name]
        counts["listing_pages"] += 1
        if not isinstance(response, TextResponse) and _looks_binary(response.body):
            counts["listing_not_html"] += 1
            return
        is_column_page = response.meta.get("column_url") == response.url
        if is_column_page and generic.is_empty_shell(response, response.text if isinstance(response, TextResponse) else ""):
            # judged positively: a column page with nothing in it is an anti-bot shell (a stub page
            # past the end of a list is normal and only ends the listing)
            self.mark_blocked(urlsplit(response.url).netloc.lower(), "200 anti-bot shell (no content)", response.request)
            return
        listing = self._listing(response)
        self.crawler.stats.inc_value(f"xxgk/listing/{listing.platform}")
        for link in listing.items:
            counts["items_seen"] += 1
            verdict = titles.classify_title(link.title)
            if not verdict.is_report:
                counts["titles_rejected"] += 1
                continue
            counts["report_links"] += 1
            yield self._item_request(response, link, verdict)
        depth = response.meta.get("listing_depth", 0)
        for request in listing.requests:
            if request.meta.get("platform") == generic.NAME:
                if depth >= self.max_listing_depth:
                    continue
                request.meta["platform"] = ""  # a continuation of a generic list: detect again
                request.meta["listing_depth"] = depth + 1
            else:
                request.meta["listing_depth"] = depth
            if not self._listing_allowed(response, source_name):
                break
            for key in _PASS_META:
                request.meta.setdefault(key, response.meta.get(key))
            request.meta.setdefault("referrer_url", response.url)
            yield request.replace(callback=self.parse_listing, errback=self.on_error)

    def _listing_allowed(self, response: Response, source_name: str) -> bool:
        """Endless pagination guard: at most XXGK_MAX_LISTING_PAGES listing requests per source."""
        counts = self.per_source[source_name]
        if counts["listing_requests"] + 1 >= self.max_listing_pages:  # the column page counts too
            if not counts["listing_capped"]:
                counts["listing_capped"] = 1
                self.record_failure(response.request, f"listing page cap reached: {self.max_listing_pages} "
                                    "listing pages (XXGK_MAX_LISTING_PAGES); endless pagination?",
                                    url=response.meta.get("column_url") or response.url)
            return False
        counts["listing_requests"] += 1
        return True

    def _listing(self, response: Response) -> platforms.Listing:
        declared = response.meta.get("platform") or ""
        adapter = platforms.adapter_for(response, declared or None)
        listing = adapter.parse_listing(response)
        if declared and not listing.items and not listing.requests and adapter is not generic:
            # the registry's platform did not fit this page: fall back to detection, then generic
            detected = platforms.adapter_for(response)
            if detected is not adapter:
                listing = detected.parse_listing(response)
            if not listing.items and not listing.requests and detected is not generic:
                listing = generic.parse_listing(response)
        return listing

    def _item_request(self, response: Response, link: platforms.ReportLink,
                      verdict: titles.TitleVerdict) -> Request:
        meta = {"source": response.meta["source"], "column_url": response.meta.get("column_url"),
                "listing_url": response.url, "referrer_url": response.url,
                "listing_title": link.title, "listing_date": link.date, "title_year": verdict.year,
                "title_agency": verdict.agency, "api_attachments": list(link.attachments)}
        if is_document_url(link.url):
            meta["role"] = "direct"
            return Request(link.url, callback=self.parse_document, errback=self.on_error, meta=meta)
        meta["role"] = "detail"
        return Request(link.url, callback=self.parse_detail, errback=self.on_error, meta=meta)

    # ------------------------------------------------------------------ details and documents
    def parse_detail(self, response: Response) -> Iterator[Any]:
        counts = self.per_source[response.meta["source"]]
        counts["detail_pages"] += 1
        if not self._is_html(response):  # the "detail" link served the file itself
            yield from self.parse_document(response)
            return
        detail = platforms.parse_detail(response)
        if detail.is_report_body:
            if detail.parts:  # the report continues on t…_1.html: its document once every part is archived
                yield self._next_detail_part(response, self._document_fields(response, "detail"), detail.parts)
            else:
                yield self._document_item(response, "detail")
        files = [a.url for a in detail.attachments if a.kind == "file"
                 and not _REJECT_ATTACHMENT.search(a.title or "")]
        files = list(dict.fromkeys(list(response.meta.get("api_attachments") or []) + files))
        role = "attachment_copy" if detail.is_report_body else "attachment"
        for url in files:
            yield self._follow_file(response, url, role)
        if not detail.is_report_body and not files:
            images = [a.url for a in detail.attachments if a.kind == "image"]
            for url in images:
                yield self._follow_file(response, url, "image")
            if not images:
                counts["details_without_report"] += 1
                self.record_failure(response.request, "no report on the detail page (no report body, "
                                    "no attachment: an error page or an empty shell?)",
                                    status=response.status)

    # ---- a report body split over several pages (TRS t…_<id>.html, t…_<id>_1.html, …)
    def _next_detail_part(self, response: Response, fields: dict[str, Any], parts: list[str]) -> Request:
        meta = {key: response.meta.get(key) for key in _PASS_META}
        meta.update(role="detail_part", referrer_url=response.url, detail_fields=fields, detail_parts=parts[1:])
        return Request(parts[0], callback=self.parse_detail_part, errback=self.on_detail_part_error, meta=meta)

    def parse_detail_part(self, response: Response) -> Iterator[Any]:
        """A later part is archived (the parse workers join the parts); the document follows the last."""
        self.per_source[response.meta["source"]]["detail_parts"] += 1
        fields, rest = response.meta["detail_fields"], response.meta["detail_parts"]
        if rest:
            yield self._next_detail_part(response, fields, rest)
        else:
            yield self._emit_document(fields)

    async def on_detail_part_error(self, failure: Failure) -> AsyncIterator[Any]:
        """A part that cannot be fetched: recorded; the report is kept with the parts there are."""
        await self.on_error(failure)
        yield self._emit_document(failure.request.meta["detail_fields"])

    def _follow_file(self, response: Response, url: str, role: str) -> Request:
        meta = {key: response.meta.get(key) for key in
                ("source", "column_url", "listing_url", "listing_title", "listing_date", "title_year",
                 "title_agency")}
        meta.update(role=role, referrer_url=response.url)
        return Request(url, callback=self.parse_document, errback=self.on_error, meta=meta)

    def parse_document(self, response: Response) -> Iterator[Any]:
        role = response.meta.get("role", "attachment")
        counts = self.per_source[response.meta["source"]]
        counts[f"files_{role}"] += 1
        if role == "attachment_copy":
            return  # archived (every byte kept); the report is the detail page's own body
        if self._is_html(response) and generic.is_soft_404(response, response.text if isinstance(response, TextResponse) else ""):
            counts["soft_404"] += 1
            self.record_failure(response.request, "soft 404: a 'not found' page with status 200",
                                status=response.status)
            return
        if role != "detail" and self._is_error_page_for_file(response):
            counts["error_pages"] += 1
            self.record_failure(response.request, f"an HTML page of {len(response.body)} bytes instead of "
                                "the linked file (an error page?)", status=response.status)
            return
        yield self._document_item(response, role)

    def _document_item(self, response: Response, role: str) -> DocumentItem:
        return self._emit_document(self._document_fields(response, role))

    def _emit_document(self, fields: dict[str, Any]) -> DocumentItem:
        self.per_source[fields["source"]]["documents"] += 1
        return DocumentItem(**fields)

    @staticmethod
    def _document_fields(response: Response, role: str) -> dict[str, Any]:
        """A document item's fields (plain values: they may wait in a request's meta, which a
        JOBDIR or a shared frontier serialises)."""
        capture = response.meta.get("xxgk_capture") or {}
        return dict(
            url=(response.meta.get("redirect_urls") or [response.url])[0], final_url=response.url,
            source=response.meta["source"], role=role, capture_id=capture.get("id"),
            sha256=capture.get("sha256"), media_type=capture.get("media_type"),
            listing_url=response.meta.get("listing_url"), listing_title=response.meta.get("listing_title"),
            listing_date=response.meta.get("listing_date"), title_year=response.meta.get("title_year"),
            title_agency=response.meta.get("title_agency"))

    def _is_error_page_for_file(self, response: Response) -> bool:
        """A link to a file (.pdf, .doc...) answered by a small HTML page: an error shell, not
        the report (a real report page is never this small)."""
        if not is_document_url(response.url) or len(response.body) > FILE_SHELL_BYTES:
            return False
        head = response.body[:512].lstrip().lower()
        return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<div", b"<meta"))

    @staticmethod
    def _is_html(response: Response) -> bool:
        content_type = (response.headers.get(b"Content-Type") or b"").lower()
        if content_type:
            return any(t in content_type for t in _HTML_TYPES)
        if is_document_url(response.url) or is_image_url(response.url):
            return False
        return isinstance(response, TextResponse)

    # ------------------------------------------------------------------ failures
    async def on_error(self, failure: Failure) -> None:
        """Record every failed URL: per URL (a capture row for network failures, the summary's
        failures) and per source (counters). Refusals decided elsewhere (scope, blocked hosts,
        challenges) are counted where they are decided and only listed here when they cut a
        redirect chain short."""
        request: Request = failure.request  # type: ignore[attr-defined]
        source = request.meta.get("source", "")
        host = urlsplit(request.url).netloc.lower()
        error = failure.value
        if isinstance(error, HttpError):  # a 4xx/5xx answer, archived with its status
            status = error.response.status
            self.record_failure(request, f"HTTP {status}", status=status)
            return
        message = _one_line(error)
        if isinstance(error, (BlockedHostError, ChallengeError)):
            return
        if isinstance(error, ScopeError):
            if request.meta.get("redirect_urls"):  # a redirect led out of the scope: refused
                self.record_failure(request, f"redirected out of scope: {error}")
            elif request.meta.get("role") == "listing":  # the column itself may not be crawled
                self.record_failure(request, str(error))
            return
        if isinstance(error, IgnoreRequest):
            if "robots.txt" in str(error):
                self.per_source[source]["robots_forbidden"] += 1
                if request.meta.get("role") == "listing":
                    self.mark_blocked(host, "robots.txt disallows the column", request)
                self.failures.append({"url": request.url, "source": source, "status": None,
                                      "error": "forbidden by robots.txt (not requested)"})
                return
            # redirect loops, too many redirections...
            self.record_failure(request, message)
            return
        response = getattr(error, "response", None)
        refused = resolver_refusal(urlsplit(request.url).hostname) if response is None else None
        if refused:  # the name resolves to a private address: a scope refusal, not a DNS failure
            message = f"out of scope: {refused}"
            self.per_source[source]["out_of_scope"] += 1
            self.crawler.stats.inc_value("xxgk/scope/refused_resolved")
        self.record_failure(request, message, status=getattr(response, "status", None))
        if response is None:  # network failure: no capture was archived; record the attempt
            store = getattr(self.crawler, "xxgk_store", None)
            if store is not None:
                await store.failure(request, message)


_ERROR_EXPLANATIONS = {
    "ResponseDataLossError": "the body is shorter than its Content-Length (truncated)",
    "TimeoutError": "no answer within DOWNLOAD_TIMEOUT",
    "ConnectionLost": "the connection was closed or reset",
}


def _one_line(error: BaseException) -> str:
    """``Type: message`` on one line, explained when the exception says nothing itself."""
    name = type(error).__name__
    text = str(error).splitlines()[0] if str(error).strip() else _ERROR_EXPLANATIONS.get(name, "")
    return f"{name}: {text}"[:500]
