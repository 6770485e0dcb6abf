"""Fixtures for the simulator tests: one running simulator per session and a raw HTTP client.

The client is http.client on purpose: no redirects followed, no cookies kept, no decoding, so the
tests see exactly what a crawler would receive.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

import pytest

from crawler.simulator import Simulator


@dataclass
class Fetched:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def fetch_url(url: str, method: str = "GET", body: Optional[bytes] = None,
              headers: Optional[dict[str, str]] = None, timeout: float = 60) -> Fetched:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path or "/", body=body, headers=headers or {})
        response = conn.getresponse()
        return Fetched(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


# the generated reports of the session simulator are HTML or PDF so every test stays fast; the
# slow kinds (DOCX, DOC/WPS via LibreOffice, scans) are covered once in test_truth.py
FAST_KINDS = [("body", "html", 3.0), ("attachment", "pdf", 1.0), ("image", "png", 0.2)]


@pytest.fixture(scope="session")
def sim():
    sites = [{"name": name, "kinds": FAST_KINDS} if name not in ("county", "hanweb-oss") else name
             for name in ("trs-a", "trs-gbk", "trs-shtml", "trs-pingtan", "hanweb-a", "hanweb-b", "hanweb-oss",
                          "gkmlpt-a", "gkmlpt-b", "intertid", "ewb", "athena", "county", "waf-412", "waf-521",
                          "waf-ct6t", "waf-ratelimit", "waf-robots", "waf-robots403", "waf-uploadfiles", "waf-shell")]
    sites[sites.index("county")] = {"name": "county", "kinds": FAST_KINDS + [("pdfjs", "pdf", 0.5), ("direct", "pdf", 0.5)]}
    simulator = Simulator(seed=3, sites=sites)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def get(sim):
    """get(site, path, **kw) -> Fetched, for a path on a simulated site."""
    def _get(site: str, path: str, **kwargs) -> Fetched:
        return fetch_url(sim.url(site, path), **kwargs)
    return _get
