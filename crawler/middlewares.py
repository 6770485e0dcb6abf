"""Downloader middlewares: scope, blocked hosts, archive-first, and a resolver that keeps the
crawler off private networks.

* :class:`ScopeMiddleware` drops any request that is not http(s), not on a host of its source
  (column host + declared storage hosts), or aimed at a private/loopback/link-local IP literal.
* :class:`ScopedResolver` applies the same address rule to the address a host name resolves to,
  i.e. to the address actually connected to (with a proxy from the environment, Scrapy connects
  to the proxy, which the user configured explicitly, and the proxy resolves the target).
* :class:`ArchiveMiddleware` writes every response (listings, details, attachments, API replies,
  redirects, challenges, robots.txt) to the archive and a capture row *before* anything else
  looks at it.
* :class:`ChallengeMiddleware` recognises WAF challenges (412 + ``$_ts``, 521 + ``__jsl_clearance``,
  418, anti-bot shells): the host is recorded as blocked and left alone. We stop; we never
  solve a challenge.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import zlib
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
_CHALLENGE_STATUSES = {412: "412 challenge (Ruishu-like)", 521: "521 cookie challenge (Jiasule-like)",
                       512: "512 cookie challenge (Jiasule-like)", 418: "418 WAF block"}
_CHALLENGE_MARKERS = (
    (re.compile(rb"\$_ts\s*=|\$_ts\.|_\$[a-zA-Z]{2}\(|meta[^<>]{1,200}?id=[\"']?\w+[\"']?[^<>]{1,200}?r=[\"']m"), "Ruishu challenge page"),
    (re.compile(rb"__jsl_clearance|__jsluid"), "Jiasule cookie challenge"),
    (re.compile("访问被拦截|安全验证|人机验证|滑动验证|请完成验证|验证码|请开启JavaScript|请启用JavaScript|"
                "访问过于频繁|网站防火墙|WAF|captcha|Access Denied|anti-?bot".encode(), re.I), "anti-bot shell"),
)
ANTI_BOT_SHELL_BYTES = 4096


class ScopeError(IgnoreRequest):
    """A request outside the crawl's scope (dropped, counted, never sent)."""


class BlockedHostError(IgnoreRequest):
    """A request to a host already recorded as blocked (not sent)."""


class ChallengeError(IgnoreRequest):
    """A WAF challenge answered: the host is recorded as blocked."""


class RedirectLoopError(IgnoreRequest):
    """A redirect back to a URL of the same redirect chain."""


# ------------------------------------------------------------------------------------ addresses
def allowed_networks(settings: Any) -> list[ipaddress._BaseNetwork]:
    nets = settings.getlist("XXGK_ALLOW_PRIVATE_NETWORKS") if settings is not None else []
    return [ipaddress.ip_network(n.strip(), strict=False) for n in nets if str(n).strip()]


def address_refusal(address: str, allowed: Iterable[ipaddress._BaseNetwork]) -> Optional[str]:
    """Why connecting to this IP address is refused (None = fine)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return None  # a host name: the resolver checks what it resolves to
    if any(ip in net for net in allowed):
        return None
    if ip.is_loopback:
        return f"loopback address {ip}"
    if ip.is_link_local:
        return f"link-local address {ip}"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return f"private or reserved address {ip}"
    return None


# host name -> why the resolver refused it (Twisted turns the refusal into a bare "no results")
RESOLVER_REFUSALS: dict[str, str] = {}


def resolver_refusal(host: Optional[str]) -> Optional[str]:
    """Why :class:`ScopedResolver` refused to connect to ``host`` in this process, if it did."""
    return RESOLVER_REFUSALS.get((host or "").lower())


class ScopedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing names that resolve to private/loopback/link-local
    addresses unless the network is in ``XXGK_ALLOW_PRIVATE_NETWORKS``."""

    allowed: list = []
    proxy_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> "ScopedResolver":
        resolver = super().from_crawler(crawler, reactor)
        resolver.allowed = allowed_networks(crawler.settings)
        resolver.proxy_hosts = _proxy_hosts()
        return resolver

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        deferred = super().getHostByName(name, timeout)
        if name in self.proxy_hosts:  # a proxy configured by the user is trusted as configured
            return deferred

        def check(address: str) -> str:
            refusal = address_refusal(address, self.allowed)
            if refusal:
                # Twisted reports any resolver error as "no results for hostname lookup", so the
                # reason is logged and counted here, where it is known
                logger.warning("%s resolves to a %s: refused by the crawl's scope", name, refusal)
                RESOLVER_REFUSALS[name.lower()] = f"{name} resolves to a {refusal}: refused by the crawl's scope"
                raise DNSLookupError(f"{name} resolves to a {refusal}: refused by the crawl's scope")
            return address

        return deferred.addCallback(check)


def _proxy_hosts() -> set[str]:
    import urllib.request

    hosts = set()
    for url in urllib.request.getproxies().values():
        host = urlsplit(url if "://" in url else f"http://{url}").hostname
        if host:
            hosts.add(host)
    return hosts


# ------------------------------------------------------------------------------------ scope
class ScopeMiddleware:
    """Only http(s), only the hosts of the request's source, never private IP literals."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.allowed = allowed_networks(crawler.settings)
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> "ScopeMiddleware":
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = spider or self.crawler.spider  # Scrapy >= 2.13 no longer passes the spider
        reason = self.refusal(request, spider)
        if reason:
            self.stats.inc_value("xxgk/scope/refused")
            if spider is not None and hasattr(spider, "note_out_of_scope"):
                spider.note_out_of_scope(request, reason)
            raise ScopeError(f"out of scope: {reason}: {request.url}")
        return None

    def refusal(self, request: Request, spider: Any) -> Optional[str]:
        parts = urlsplit(request.url)
        if parts.scheme not in ALLOWED_SCHEMES:
            return f"scheme {parts.scheme!r} is not crawled"
        if request.meta.get("proxy") and parts.hostname:
            pass  # the target is still checked below; the proxy itself is the user's choice
        refusal = address_refusal(parts.hostname or "", self.allowed)
        if refusal:
            return refusal
        hosts = spider.hosts_for(request) if hasattr(spider, "hosts_for") else None
        if hosts is not None and parts.netloc.lower() not in hosts:
            return f"host {parts.netloc} is not in the scope of the source"
        return None


# ------------------------------------------------------------------------------------ blocked hosts
class BlockedHostMiddleware:
    """Requests to a host already recorded as blocked are not sent (we leave it alone)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "BlockedHostMiddleware":
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        spider = spider or self.crawler.spider
        blocked = getattr(spider, "blocked_hosts", {})
        host = urlsplit(request.url).netloc.lower()
        if host in blocked:
            self.crawler.stats.inc_value("xxgk/blocked/skipped_requests")
            raise BlockedHostError(f"host {host} is blocked ({blocked[host]}); not requested")
        return None


def challenge_reason(response: Response) -> Optional[str]:
    """Why a response is a WAF challenge or an anti-bot shell (None = an ordinary response)."""
    if response.status in _CHALLENGE_STATUSES:
        return _CHALLENGE_STATUSES[response.status]
    head = response.body[:ANTI_BOT_SHELL_BYTES]
    if response.status == 200 and len(response.body) <= ANTI_BOT_SHELL_BYTES:
        for pattern, label in _CHALLENGE_MARKERS:
            if pattern.search(head) and b"<a " not in head.lower():
                return label
    elif response.status in (202, 403) and len(response.body) <= ANTI_BOT_SHELL_BYTES:
        for pattern, label in _CHALLENGE_MARKERS[:2]:
            if pattern.search(head):
                return label
    return None


class ChallengeMiddleware:
    """Record a challenged host as blocked and stop there (the response never reaches parsing)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "ChallengeMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            return response
        reason = challenge_reason(response)
        if reason is None:
            return response
        spider = spider or self.crawler.spider
        host = urlsplit(request.url).netloc.lower()
        if hasattr(spider, "mark_blocked"):
            spider.mark_blocked(host, reason, request)
        self.crawler.stats.inc_value("xxgk/blocked/challenges")
        raise ChallengeError(f"host {host} answered with a {reason}; recorded as blocked")


# ------------------------------------------------------------------------------------ archive
def decoded_body(response: Response, limit: int) -> bytes:
    """The payload without Content-Encoding (the archive stores what the server meant to send)."""
    encoding = (response.headers.get(b"Content-Encoding") or b"").strip().lower()
    body = response.body
    if encoding in (b"gzip", b"x-gzip", b"deflate"):
        try:
            wbits = 16 + zlib.MAX_WBITS if b"gzip" in encoding else zlib.MAX_WBITS
            inflater = zlib.decompressobj(wbits)
            data = inflater.decompress(body, limit)
            if inflater.unconsumed_tail:
                return body  # over the size cap: keep the bytes as sent
            return data
        except zlib.error:
            try:
                return zlib.decompress(body, -zlib.MAX_WBITS)
            except zlib.error:
                return body
    return body


class ArchiveMiddleware:
    """Archive every response and record its capture before anything interprets it.

    The writes run on the store's single writer thread (see :class:`crawler.pipelines.StoreExtension`),
    so the reactor keeps fetching while bytes go to disk. The capture's id and sha256 are left in
    ``request.meta['xxgk_capture']`` for the spider and the pipeline.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Any) -> "ArchiveMiddleware":
        return cls(crawler)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        store = getattr(self.crawler, "xxgk_store", None)
        if store is None:
            return response
        body = decoded_body(response, self.maxsize)
        capture = await store.capture(request, response, body)
        request.meta["xxgk_capture"] = capture
        if body is not response.body:
            headers = response.headers.copy()
            headers.pop(b"Content-Encoding", None)
            response = response.replace(body=body, headers=headers)
        return response


# ------------------------------------------------------------------------------------ 429
class RetryAfterMiddleware:
    """Honour ``Retry-After`` on 429/503: wait as told (up to ``XXGK_RETRY_AFTER_MAX`` seconds), then
    retry, at most ``XXGK_RETRY_AFTER_TIMES`` times per request. Longer waits fall through to
    Scrapy's bounded RetryMiddleware."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("XXGK_RETRY_AFTER_MAX", 120.0)
        self.max_times = crawler.settings.getint("XXGK_RETRY_AFTER_TIMES", 3)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "RetryAfterMiddleware":
        return cls(crawler)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if response.status not in (429, 503):
            return response
        wait = _retry_after_seconds(response.headers.get(b"Retry-After"))
        times = request.meta.get("xxgk_retry_after", 0)
        if wait is not None and wait > self.max_wait:
            # told to come back much later: retrying now would hammer the server; give up on this
            # URL for this run (recorded as a failure with its status) instead
            request.meta["dont_retry"] = True
            self.crawler.stats.inc_value("xxgk/retry_after/too_long")
            return response
        if wait is None or times >= self.max_times:
            return response
        import asyncio

        self.crawler.stats.inc_value("xxgk/retry_after/waits")
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["xxgk_retry_after"] = times + 1
        return retry


def _retry_after_seconds(value: Optional[bytes]) -> Optional[float]:
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


# ------------------------------------------------------------------------------------ self-redirects
class SelfRedirectMiddleware:
    """A redirect to the very same URL that sets a cookie (openresty CT6T style) is retried once
    or twice with the cookie — what any cookie-keeping client does; Scrapy's duplicate filter would
    otherwise drop the repeated URL. No script is run, nothing is computed.

    A redirect back to an earlier URL of the same chain (A → B → A) is a loop: it is cut here and
    raised as :class:`RedirectLoopError`, so that the spider records it (the duplicate filter would
    otherwise drop the repeated URL silently). Chains of distinct URLs end at REDIRECT_MAX_TIMES."""

    MAX_TIMES = 2

    @classmethod
    def from_crawler(cls, crawler: Any) -> "SelfRedirectMiddleware":
        return cls()

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        if response.status not in (301, 302, 303, 307, 308):
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response
        from urllib.parse import urljoin

        target = urljoin(request.url, location.decode("latin-1"))
        times = request.meta.get("xxgk_self_redirects", 0)
        if target != request.url and target in (request.meta.get("redirect_urls") or []):
            raise RedirectLoopError(f"redirect loop: {request.url} redirects back to {target}")
        if target != request.url or times >= self.MAX_TIMES:
            return response
        retry = request.replace(dont_filter=True)
        retry.meta["xxgk_self_redirects"] = times + 1
        return retry
