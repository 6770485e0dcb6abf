"""Fixtures for the simulator tests: one running simulator per session and a raw HTTP client.

The client is http.client on purpose: no redirects followed, no cookies kept, no decoding, so the
tests see exactly what a crawler would receive.
"""

from __future__ import annotations


import pytest

from crawler.simulator import Simulator
from xxgk_testing import Fetched, fetch_url  # noqa: F401  (re-exported for fixtures)


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
