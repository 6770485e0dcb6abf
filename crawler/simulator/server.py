"""The HTTP server: one aiohttp application on many ports, in its own thread and event loop.

Why aiohttp in a private thread: slow or hanging responses are coroutines that block nothing else,
the loop is independent of whatever reactor the crawler under test runs (Scrapy's Twisted reactor
in the same process is fine), and raw transport access lets us send what frameworks refuse to
(truncated bodies, resets, no Content-Type). Site code is synchronous and runs in a thread pool,
so rendering a PDF or a DOC through LibreOffice never stalls the other sites.

Site selection: the Host header names a virtual host ``<site>.sim.test`` → that site, whatever port
was used; otherwise the local port the request arrived on → its site.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Optional

from aiohttp import web

from .faults import Fault
from .http import Reply, SimRequest
from .model import RequestRecord

if TYPE_CHECKING:
    from .archetypes.base import Site
    from .simulator import Simulator

_REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
            403: "Forbidden", 404: "Not Found", 412: "Precondition Failed", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            521: "Web Server Is Down"}


class SimServer:
    """Binds one TCP port per site and dispatches every request to its site."""

    def __init__(self, sim: "Simulator", host: str = "127.0.0.1") -> None:
        self.sim = sim
        self.host = host
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.thread: Optional[threading.Thread] = None
        self.runner: Optional[web.AppRunner] = None
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sim-site")
        self.port_to_site: dict[int, "Site"] = {}
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._seq = 0
        self._seq_lock = threading.Lock()

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self, ports: dict[str, int]) -> None:
        self.thread = threading.Thread(target=self._run, args=(ports,), name="xxgk-simulator", daemon=True)
        self.thread.start()
        self._ready.wait(timeout=60)
        if self._error is not None:
            raise RuntimeError(f"simulator failed to start: {self._error}") from self._error

    def _run(self, ports: dict[str, int]) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._bind(ports))
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._cleanup())
        self.loop.close()

    async def _bind(self, ports: dict[str, int]) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        for name, port in ports.items():
            tcp_site = web.TCPSite(self.runner, self.host, port, reuse_address=True)
            await tcp_site.start()
            bound = tcp_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            site = self.sim.site(name)
            site.port = bound
            self.port_to_site[bound] = site

    async def _cleanup(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def stop(self) -> None:
        if self.loop is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(timeout=30)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # ---- dispatch -----------------------------------------------------------------------------
    def _site_for(self, request: web.Request) -> Optional["Site"]:
        host_header = request.headers.get("Host", "").split(":")[0].lower()
        if host_header.endswith(".sim.test"):
            site = self.sim.sites_by_name.get(host_header[: -len(".sim.test")])
            if site is not None:
                return site
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        return self.port_to_site.get(sockname[1]) if sockname else None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        site = self._site_for(request)
        body = await request.read()
        sim_request = SimRequest(
            method=request.method, path=request.path,
            query={k: v for k, v in reversed(list(request.query.items()))},
            headers={k.lower(): v for k, v in request.headers.items()}, body=body,
            port=site.port if site else 0, raw_path=request.path_qs,
            cookies=dict(request.cookies))
        record = self._record(site.name if site else "?", sim_request)
        if site is None:
            record.status = 421
            return web.Response(status=421, text="unknown simulated site")
        fault = self.sim.faults.take(site.name, request.path, request.path_qs)
        if fault is not None:
            record.fault = fault.kind
        reply = await self._reply_for(site, sim_request, fault)
        return await self._send(request, reply, record)

    def _record(self, site_name: str, request: SimRequest) -> RequestRecord:
        with self._seq_lock:
            self._seq += 1
            seq = self._seq
        record = RequestRecord(seq=seq, time=time.time(), site=site_name, port=request.port,
                               method=request.method, path=request.raw_path, headers=request.headers,
                               body=request.body[:4096])
        self.sim._log(record)
        return record

    async def _reply_for(self, site: "Site", request: SimRequest, fault: Optional[Fault]) -> Reply:
        if fault is not None:
            early = fault_reply(site, request, fault)
            if early is not None:
                return early
        loop = asyncio.get_running_loop()
        try:
            if request.path == "/robots.txt":
                reply = await loop.run_in_executor(self.pool, site.robots, request)
            else:
                reply = await loop.run_in_executor(self.pool, site.handle, request)
        except Exception as exc:  # a simulator bug must show as a 500, not kill the server
            import traceback
            traceback.print_exc()
            reply = Reply.html(f"<html><body>simulator error: {exc!r}</body></html>", status=500)
        if reply is None:
            reply = Reply.not_found()
        if fault is not None:
            reply = fault_modify(reply, fault)
        return reply

    async def _send(self, request: web.Request, reply: Reply, record: RequestRecord) -> web.StreamResponse:
        if reply.delay or self.sim.latency:
            await asyncio.sleep(reply.delay + self.sim.latency)
        if reply.action == "reset":
            record.status = 0
            _reset(request)
            raise _Hijacked()
        if reply.action == "hang":
            record.status = 0
            await asyncio.sleep(reply.delay or 3600)
            _reset(request)
            raise _Hijacked()
        headers = dict(reply.headers)
        status = reply.status
        body = reply.body
        if reply.cacheable and status == 200:
            status, body = _conditional(request, reply, headers)
        record.status = status
        if reply.action == "truncate" or reply.content_type is None or status not in _REASONS and status >= 400:
            return self._raw(request, status, body, reply, headers)
        response = web.Response(status=status, body=body if status != 304 else None, headers=headers)
        if reply.content_type and status != 304:
            response.headers["Content-Type"] = reply.content_type
        return response

    def _raw(self, request: web.Request, status: int, body: bytes, reply: Reply,
             headers: dict[str, str]) -> web.StreamResponse:
        """Write the response bytes ourselves (truncated bodies, no Content-Type header)."""
        sent = body[: int(len(body) * reply.headers.get("X-Sim-Fraction", 0.5))] if reply.action == "truncate" else body
        headers.pop("X-Sim-Fraction", None)
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
                 f"Content-Length: {len(body)}", "Connection: close", "Server: nginx",
                 f"Date: {format_datetime(_now_utc(), usegmt=True)}"]
        if reply.content_type:
            lines.append(f"Content-Type: {reply.content_type}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + sent
        if request.transport is not None:
            request.transport.write(raw)
            request.transport.close()
        raise _Hijacked()


class _Hijacked(web.HTTPException):
    """Raised after we wrote (or refused to write) the response on the raw transport."""

    status_code = 200


def _reset(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


def _now_utc():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)


def _conditional(request: web.Request, reply: Reply, headers: dict[str, str]) -> tuple[int, bytes]:
    """ETag and Last-Modified on static files; 304 when the client's validators still match."""
    from datetime import timezone
    etag = '"' + hashlib.sha1(reply.body).hexdigest()[:20] + '"'
    headers["ETag"] = etag
    modified = None
    if reply.last_modified is not None:
        modified = reply.last_modified.replace(tzinfo=timezone.utc)
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        return (304, b"") if etag in tags or "*" in tags else (200, reply.body)
    since = request.headers.get("If-Modified-Since")
    if since and modified is not None:
        try:
            if modified <= parsedate_to_datetime(since):
                return 304, b""
        except (TypeError, ValueError):
            pass
    return 200, reply.body


# ---- faults -----------------------------------------------------------------------------------
ERROR_SHELL = ("<html><head><meta charset=\"utf-8\"><title>提示信息</title></head><body>"
               "<div class=\"error\">系统繁忙，请稍后再试。</div></body></html>")


def fault_reply(site: "Site", request: SimRequest, fault: Fault) -> Optional[Reply]:
    """Faults that replace the site's answer entirely (None: let the site answer first)."""
    p = fault.params
    if fault.kind == "status":
        code = int(p.get("status", 500))
        headers = dict(p.get("headers") or {})
        if p.get("retry_after") is not None:
            headers["Retry-After"] = str(p["retry_after"])
        body = p.get("body") or f"<html><body><h1>{code} {_REASONS.get(code, 'Error')}</h1></body></html>"
        return Reply.html(body, status=code, headers=headers)
    if fault.kind == "body":
        return Reply(body=bytes(p["body"]), content_type=p.get("content_type", "application/octet-stream"),
                     headers=dict(p.get("headers") or {}))
    if fault.kind == "robots":
        return Reply(body=str(p.get("text", "User-agent: *\nDisallow: /\n")).encode("utf-8"),
                     content_type="text/plain; charset=utf-8")
    if fault.kind == "reset":
        return Reply(action="reset")
    if fault.kind == "timeout":
        return Reply(action="hang", delay=float(p.get("seconds", 60)))
    if fault.kind == "redirect_loop":
        loop_n = int(request.query.get("loop", "0")) + 1
        target = p.get("location") or f"{request.path}?loop={loop_n % int(p.get('cycle', 1000000))}"
        return Reply.redirect(target)
    if fault.kind == "redirect_offsite":
        return Reply.redirect(p.get("location", "http://offsite.example.invalid/landing.html"))
    if fault.kind == "error_shell":
        return Reply.html(ERROR_SHELL)
    if fault.kind == "huge":
        size = int(p.get("size", 50 * 1024 * 1024))
        chunk = b"<p>" + "数据".encode() * 100 + b"</p>\n"
        return Reply(body=(chunk * (size // len(chunk) + 1))[:size], content_type="text/html; charset=utf-8")
    if fault.kind == "endless":
        page = int(request.query.get("page", "0"))
        links = "".join(f'<li><a href="./endless/t{page}_{i}.html">动态信息{page}-{i}</a></li>' for i in range(10))
        count_page = int(p.get("count_page", page + 2))
        return Reply.html(f"<html><body><ul>{links}</ul><script>var countPage = {count_page};</script>"
                          f'<a href="{request.path}?page={page + 1}">下一页</a></body></html>')
    return None


def fault_modify(reply: Reply, fault: Fault) -> Reply:
    """Faults applied to the site's own answer."""
    p = fault.params
    if fault.kind == "truncate":
        reply.action = "truncate"
        reply.headers["X-Sim-Fraction"] = float(p.get("fraction", 0.5))  # type: ignore[assignment]
        reply.cacheable = False
    elif fault.kind == "content_type":
        reply.content_type = p.get("content_type")
        reply.cacheable = False
    elif fault.kind == "slow":
        reply.delay = float(p.get("seconds", 5))
    elif fault.kind == "disposition":
        reply.headers["Content-Disposition"] = str(p.get("value", 'attachment; filename="../../etc/passwd"'))
        reply.cacheable = False
    return reply
