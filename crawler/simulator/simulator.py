"""``Simulator``: build the sites of a profile from a seed, serve them, expose the ground truth.

    with Simulator(seed=1, profile="small") as sim:
        for entry in sim.registry_entries(): ...         # what the crawler's registry consumes
        ...crawl...
        truth = sim.expected_reports()                    # every report a good crawler must find
        assert not sim.requests(outside_scope=True)       # nothing outside scope was requested
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Iterable, Optional, Union

from .archetypes import SITE_CLASSES
from .archetypes.base import Site, SiteOptions
from .content import ContentStore
from .faults import Fault, FaultSet
from .model import Item, RequestRecord
from .population import World
from .profiles import SiteDef, profile_sites
from .server import SimServer

SiteArg = Union[str, dict[str, Any]]


class Simulator:
    """Many simulated government portals in one process (see docs/simulator.md)."""

    def __init__(self, seed: int = 0, sites: Optional[Iterable[SiteArg]] = None, profile: str = "small",
                 docs: Optional[int] = None, port_base: Optional[int] = None, host: str = "127.0.0.1",
                 cache_bytes: int = 64 * 1024 * 1024, log_bodies: bool = True, latency: float = 0.0) -> None:
        self.seed = seed
        # seconds added before every reply, as a portal across the country answers (tens to
        # hundreds of ms); spent asleep in the event loop, so it costs the simulator no CPU
        self.latency = max(0.0, latency)
        self.host = host
        self.port_base = port_base
        self.world = World(seed)
        self.content = ContentStore(seed, cache_bytes=cache_bytes)
        self.faults = FaultSet()
        self.log_bodies = log_bodies
        self._log_lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._dead_socket, self.closed_port = _closed_port(host)
        self.sites: list[Site] = []
        self.sites_by_name: dict[str, Site] = {}
        for definition in profile_sites(profile, sites, docs):
            self._add_site(definition)
        self.server: Optional[SimServer] = None

    def _add_site(self, definition: SiteDef) -> None:
        cls = SITE_CLASSES[definition.cls]
        options = SiteOptions(docs=definition.docs, per_page=definition.per_page, kinds=definition.kinds,
                              extra=dict(definition.extra))
        site = cls(definition.name, self.world, self.content, options)
        site.sim = self
        self.sites.append(site)
        self.sites_by_name[site.name] = site

    # ---- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "Simulator":
        if self.server is not None:
            return self
        ports = {site.name: (self.port_base + i if self.port_base else 0) for i, site in enumerate(self.sites)}
        self.server = SimServer(self, host=self.host)
        self.server.start(ports)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._dead_socket is not None:
            self._dead_socket.close()
            self._dead_socket = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- sites --------------------------------------------------------------------------------
    def site(self, name: str) -> Site:
        try:
            return self.sites_by_name[name]
        except KeyError:
            raise KeyError(f"no simulated site {name!r}; sites: {', '.join(self.sites_by_name)}") from None

    def url(self, site: str, path: str = "/") -> str:
        self._require_started()
        return self.site(site).url(path)

    def _require_started(self) -> None:
        if self.server is None:
            raise RuntimeError("the simulator is not started: call sim.start() (URLs carry the bound ports)")

    def dead_url(self, path: str = "/") -> str:
        """A URL on a local port nobody listens on (connection refused)."""
        return f"http://{self.host}:{self.closed_port}{path}"

    # ---- ground truth -------------------------------------------------------------------------
    def expected_reports(self, include_unreachable: bool = False) -> list[dict[str, Any]]:
        """Every report a well-behaved crawler must find, once (duplicates folded into one entry).

        An entry: site, column, agency, level, division_code, year, title, format (the file kind:
        html, pdf, docx...), report_format (F2021/F2019/...), detail_url, urls (the URL(s) whose bytes
        carry the report), duplicates (other listing URLs of the same report), values (table values;
        None when unknown, e.g. an unlabelled corpus file), corpus_file, item_id, unreachable.
        """
        self._require_started()
        duplicates: dict[int, list[str]] = {}
        for site in self.sites:
            for item in site.all_items():
                if item.duplicate_of is not None:
                    duplicates.setdefault(item.duplicate_of, []).extend(site.document_urls(item))
        result = []
        for site in self.sites:
            for item in site.all_items():
                if not item.is_report or item.duplicate_of is not None:
                    continue
                reason = site.unreachable_reason(item)
                if reason and not include_unreachable:
                    continue
                result.append(self._truth(site, item, duplicates.get(item.item_id, []), reason))
        return result

    def _truth(self, site: Site, item: Item, dups: list[str], reason: Optional[str]) -> dict[str, Any]:
        record = self.content.expected_record(item)
        values = record.get("values") if record else None
        return {
            "site": site.name, "column": item.column, "agency": item.agency.name,
            "level": item.agency.level, "division_code": item.agency.division_code,
            "year": item.year, "title": item.title, "format": item.file_kind or "html",
            "report_format": record.get("format", item.fmt) if record else item.fmt,
            "detail_url": site.detail_url(item), "urls": site.document_urls(item), "duplicates": dups,
            "values": values, "corpus_file": item.corpus_file, "item_id": item.item_id,
            "version": item.version, "flags": sorted(item.flags), "unreachable": reason,
        }

    def non_reports(self) -> list[dict[str, Any]]:
        """Listed items that are NOT reports (news, 解读, 图解, letters): must not be stored as reports."""
        self._require_started()
        return [{"site": site.name, "title": item.title, "kind": item.kind, "detail_url": site.detail_url(item),
                 "urls": site.document_urls(item)}
                for site in self.sites for item in site.all_items() if not item.is_report]

    def blocked_sites(self) -> dict[str, str]:
        """Sites a crawler must record as blocked (challenge, anti-bot shell, robots), with why."""
        result = {}
        for site in self.sites:
            if site.blocked:
                result[site.name] = site.blocked
            elif site.robots_disallow_all:
                result[site.name] = "robots.txt: Disallow: /"
        return result

    def scope(self) -> dict[str, list[str]]:
        """Per site: the host:port pairs a crawl of that site's sources may request."""
        self._require_started()
        return {site.name: site.scope_hosts() for site in self.sites}

    def registry_entries(self) -> list[dict[str, Any]]:
        """Registry sources for every column, as the crawler's source registry consumes them."""
        self._require_started()
        return [entry for site in self.sites for entry in site.registry_entries()]

    # ---- request log --------------------------------------------------------------------------
    def _log(self, record: RequestRecord) -> None:
        if not self.log_bodies:
            record.body = b""
        with self._log_lock:
            self._requests.append(record)

    def requests(self, site: Optional[str] = None, path: Optional[str] = None,
                 method: Optional[str] = None, status: Optional[int] = None) -> list[RequestRecord]:
        """Recorded requests, filtered; ``path`` matches the path without query (fnmatch globs ok)."""
        import fnmatch
        with self._log_lock:
            records = list(self._requests)
        return [r for r in records
                if (site is None or r.site == site) and (method is None or r.method == method)
                and (status is None or r.status == status)
                and (path is None or fnmatch.fnmatchcase(r.path_only, path))]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    # ---- faults and mutations -----------------------------------------------------------------
    def add_fault(self, site: str, pattern: str, kind: str, *, times: Optional[int] = None, **params: Any) -> Fault:
        """Make matching requests on ``site`` misbehave (kinds: see ``faults.py``)."""
        if site != "*":
            self.site(site)
        return self.faults.add(site, pattern, kind, times=times, **params)

    def find_item(self, ref: Union[int, str]) -> Item:
        """An item by id, or by any of its URLs (detail or document)."""
        if isinstance(ref, int):
            item = self.world.items.get(ref)
            if item is None:
                raise KeyError(f"no item {ref}")
            return item
        for site in self.sites:
            for item in site.all_items():
                if ref == site.detail_url(item) or ref in site.document_urls(item):
                    return item
        raise KeyError(f"no item at {ref}")

    def update_report(self, ref: Union[int, str], values: Optional[dict[str, Any]] = None) -> Item:
        """Publish a new version of a generated report: new bytes, new ETag and Last-Modified.

        ``values`` replaces (some of) the table values; without it the generator draws new ones.
        """
        item = self.find_item(ref)
        if item.corpus_file:
            raise ValueError(f"{item.corpus_file} is a real corpus document; only generated reports change")
        old_values = self.content.values(item)
        item.version += 1
        if values is not None:
            self.content.set_values(item, {**old_values, **values})
        return item


def _closed_port(host: str) -> tuple[socket.socket, int]:
    """A port nobody listens on, for dead links: bound but never listening, so connections are
    refused, and held for the simulator's lifetime, so no other server can take it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock, sock.getsockname()[1]
