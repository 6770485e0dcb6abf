"""Archetype F, ``waf-guarded``: challenges, throttling and robots.txt in front of a TRS column (§4, §7 F).

Behind the guard each site is an ordinary TRS column (URL shapes of ``trs.py``). Modes
(``SiteOptions.extra["waf"]``):

  ruishu       every path (robots.txt included) → 412 with an inline ``$_ts=…`` script, a
               ``<meta … r='m'>`` and an external JS file. Unsolvable: record the site as BLOCKED.
  jiasule      first request: Set-Cookie ``__jsluid_s`` and 521 with
               ``document.cookie='__jsl_clearance_s=…';location.href=location.pathname+…``.
               Replaying the cookie gives 200, but evading a challenge is not allowed: BLOCKED.
  ct6t         a 302 to the same URL that sets a cookie (openresty CT6T style); a plain cookie jar
               passes it. NOT blocked: every report is expected.
  ratelimit    more than ``rate_limit`` requests within ``rate_window`` seconds → 429 with
               ``Retry-After: <retry_after>`` until the window clears; the first ``slow_paths``
               detail pages answer after ``slow_seconds``; the first request to index_1 is a
               connection reset (``reset_first`` times). NOT blocked: every report is expected.
  robots       robots.txt ``Disallow: /``: a crawler that obeys robots fetches nothing else.
  robots403    robots.txt answers 403 (policy question; Scrapy treats it as allow-all). Expected.
  uploadfiles  robots.txt ``Disallow: /uploadfiles/`` and the attachments live there: reports
               that are attachments are unreachable for an obedient crawler.
  shell        every page is a 200 anti-bot shell of ~1 KB with no content: BLOCKED (judge
               success positively).
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from typing import Optional

from ..http import Reply, SimRequest
from ..model import Item
from .trs import TrsSite

RUISHU_PAGE = ("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
               "<meta id=\"9DhefwqGPrzGxEp9hPaoag\" content=\"{token}\" r='m'>"
               "<script type=\"text/javascript\">$_ts=window['$_ts'];if(!$_ts)$_ts={{}};$_ts.nsd=84613;"
               "$_ts.cd=\"qE7rrGAlqq3hcGLWr1...\";</script>"
               "<script type=\"text/javascript\" charset=\"utf-8\" src=\"/4QbVtADbnLVIc/d.FxJzG50F.b4b3e5b.js\" r='m'>"
               "</script></head><body></body></html>")
JIASULE_PAGE = ("<html><body><script>document.cookie='__jsl_clearance_s={value};max-age=3600;path=/';"
                "location.href=location.pathname+location.search</script></body></html>")
SHELL_PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title></title>"
              "<script src=\"/waf/static/check.js\"></script></head><body><div id=\"app\"></div>"
              "<noscript>您的浏览器不支持JavaScript</noscript>" + "<!-- " + "=" * 800 + " --></body></html>")


class WafSite(TrsSite):
    archetype = "waf-guarded"
    platform = "trs"

    def populate(self) -> None:
        super().populate()
        extra = self.options.extra
        self.mode = extra.get("waf", "ruishu")
        self.blocked = {"ruishu": "412 challenge (Ruishu-like $_ts)", "jiasule": "521 cookie challenge (Jiasule-like)",
                        "shell": "200 anti-bot shell"}.get(self.mode)
        self.robots_disallow_all = self.mode == "robots"
        self.rate_limit = int(extra.get("rate_limit", 30))
        self.rate_window = float(extra.get("rate_window", 10.0))
        self.retry_after = int(extra.get("retry_after", 2))
        self.slow_seconds = float(extra.get("slow_seconds", 1.5))
        self.reset_left = int(extra.get("reset_first", 1))
        detail_reports = [it for it in self.columns[0].items if it.is_report]
        self.slow_items = {it.item_id for it in detail_reports[: int(extra.get("slow_paths", 2))]}
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    # ---- robots and scope ---------------------------------------------------------------------
    def robots(self, request: SimRequest) -> Reply:
        if self.mode == "ruishu":
            return self.ruishu()
        if self.mode == "jiasule":
            challenge = self.jiasule(request)
            if challenge is not None:
                return challenge
        if self.mode == "robots403":
            return Reply.html("<html><body><h1>403 Forbidden</h1></body></html>", status=403)
        if self.mode == "uploadfiles":
            return Reply(body=b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /uploadfiles/\n",
                         content_type="text/plain")
        return super().robots(request)

    def attachment_path(self, item: Item) -> str:
        if self.options.extra.get("waf") == "uploadfiles":
            return f"/uploadfiles/{item.published:%Y%m}/{self.file_name(item)}"
        return super().attachment_path(item)

    def attachment_href(self, item: Item) -> str:
        if self.options.extra.get("waf") == "uploadfiles":
            return self.attachment_path(item)
        return super().attachment_href(item)

    def unreachable_reason(self, item: Item) -> Optional[str]:
        # only attachments live under /uploadfiles/; the images of an image-only report are served
        # from the article's month directory like on any TRS site, so they stay reachable
        if self.mode == "uploadfiles" and item.form == "attachment":
            return "robots.txt disallows /uploadfiles/ where the attachment lives"
        return super().unreachable_reason(item)

    # ---- the guard ----------------------------------------------------------------------------
    def handle(self, request: SimRequest) -> Optional[Reply]:
        guard = {"ruishu": lambda r: self.ruishu(), "jiasule": self.jiasule, "ct6t": self.ct6t,
                 "ratelimit": self.ratelimit, "shell": lambda r: Reply.html(SHELL_PAGE)}.get(self.mode)
        if guard is not None:
            reply = guard(request)
            if reply is not None:
                return reply
        reply = super().handle(request)
        if reply is not None and self.mode == "ratelimit":
            item_id = _item_id(request.path)
            if item_id in self.slow_items:
                reply.delay = self.slow_seconds
        return reply

    def ruishu(self) -> Reply:
        token = hashlib.md5(self.name.encode()).hexdigest()
        return Reply.html(RUISHU_PAGE.format(token=token), status=412,
                          headers={"Set-Cookie": f"FSSBBIl1UgzbN7N80S={token[:16]}; Path=/; HttpOnly"})

    def _clearance(self) -> str:
        return hashlib.sha1(f"{self.name}:clearance".encode()).hexdigest()[:32]

    def jiasule(self, request: SimRequest) -> Optional[Reply]:
        if request.cookies.get("__jsl_clearance_s") == self._clearance():
            return None
        return Reply.html(JIASULE_PAGE.format(value=self._clearance()), status=521,
                          headers={"Set-Cookie": "__jsluid_s=4a7c0f0e9d1b2c3a; Path=/; HttpOnly"})

    def ct6t(self, request: SimRequest) -> Optional[Reply]:
        value = hashlib.sha1(f"{self.name}:ct6t".encode()).hexdigest()[:24]
        if request.cookies.get("CT6T") == value:
            return None
        return Reply.redirect(request.raw_path or request.path,
                              headers={"Set-Cookie": f"CT6T={value}; Path=/; HttpOnly"})

    def ratelimit(self, request: SimRequest) -> Optional[Reply]:
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] > self.rate_window:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                return Reply.html("<html><body><h1>429 Too Many Requests</h1></body></html>", status=429,
                                  headers={"Retry-After": str(self.retry_after)})
            self._recent.append(now)
            if self.reset_left > 0 and request.path == self.page_path(1):
                self.reset_left -= 1
                return Reply(action="reset")
        return None


def _item_id(path: str) -> Optional[int]:
    import re
    match = re.search(r"/t\d{8}_(\d+)\.", path)
    return int(match.group(1)) if match else None
