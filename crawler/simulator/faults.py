"""The fault toolkit: make any URL of any simulated site misbehave, for reliability tests.

Usage (tests of issue 7)::

    sim.add_fault("trs-a", "/zfxxgk/zfxxgknb/index_1.html", "status", status=503, times=2)
    sim.add_fault("county", "*.pdf", "truncate")
    sim.add_fault("hanweb-a", "/art/*", "timeout", seconds=30)

``pattern`` is matched with fnmatch against the path, and against path?query when it contains "?".
``times`` limits how many requests the fault hits (then the URL behaves again), so retry logic can
be tested; ``None`` means always. Kinds and their parameters:

=================  ==========================================================================
status             answer ``status`` (500, 502, 503, 412, 429...) with a small error page (or ``body``);
                   ``retry_after`` adds a Retry-After header, ``headers`` any others
timeout            wait ``seconds`` (default 60) before answering normally (a client timeout)
reset              close the connection with a TCP RST before any byte
truncate           send Content-Length of the full body but only ``fraction`` (0.5) of it
redirect_loop      302 to ``path`` + "?loop=N+1" forever (or between two URLs)
redirect_offsite   302 to ``location`` (default an out-of-scope host)
content_type       send ``content_type`` instead of the real one; ``None`` omits the header
error_shell        200 with a small 「系统繁忙」 page instead of the content
huge               200 with ``size`` bytes (default 50 MB) of HTML streamed in chunks
endless            200 listing page that always links one more page (page N links page N+1)
                   and announces ``count_page`` pages to pager scripts (default N+2)
slow               answer normally after ``seconds`` (default 5)
body               serve ``body`` (bytes) as ``content_type`` instead: hostile documents
robots             serve ``text`` as the file (use on "/robots.txt": Disallow rules on any site)
disposition        add ``Content-Disposition: value`` to the real answer (hostile file names)
=================  ==========================================================================
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

FAULT_KINDS = ("status", "timeout", "reset", "truncate", "redirect_loop", "redirect_offsite",
               "content_type", "error_shell", "huge", "endless", "slow", "robots", "disposition",
               "body")


@dataclass
class Fault:
    site: str
    pattern: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    times: Optional[int] = None
    hits: int = 0

    def matches(self, site: str, path: str, path_qs: str) -> bool:
        if site != self.site and self.site != "*":
            return False
        target = path_qs if "?" in self.pattern else path
        return fnmatch.fnmatchcase(target, self.pattern)


class FaultSet:
    """The active faults; thread-safe because the server consults it from many requests."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, site: str, pattern: str, kind: str, *, times: Optional[int] = None, **params: Any) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        fault = Fault(site=site, pattern=pattern, kind=kind, params=params, times=times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, site: Optional[str] = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if site is not None and f.site != site]

    def take(self, site: str, path: str, path_qs: str) -> Optional[Fault]:
        """The first matching fault with hits left (counting this hit), else None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(site, path, path_qs) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None

    def __iter__(self):
        return iter(list(self._faults))
