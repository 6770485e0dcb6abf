"""Scope and blocking decisions: schemes, hosts, private addresses, challenges."""

from __future__ import annotations

import ipaddress

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.middlewares import address_refusal, challenge_reason, ScopeMiddleware
from crawler.registry import load_registry


class _Spider:
    def __init__(self, hosts: set[str]) -> None:
        self.hosts = frozenset(hosts)

    def hosts_for(self, request: Request) -> frozenset[str]:
        return self.hosts


class _Settings:
    def __init__(self, nets: list[str]) -> None:
        self.nets = nets

    def getlist(self, name: str) -> list[str]:
        return self.nets


class _Crawler:
    def __init__(self, nets: list[str]) -> None:
        self.settings = _Settings(nets)
        self.spider = None

        class _Stats:
            def inc_value(self, *a, **k) -> None:
                pass

        self.stats = _Stats()


@pytest.mark.parametrize("address,refused", [
    ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.1", True), ("169.254.169.254", True),
    ("::1", True), ("fe80::1", True), ("0.0.0.0", True), ("8.8.8.8", False), ("www.gov.cn", False),
])
def test_private_loopback_and_link_local_addresses_are_refused(address: str, refused: bool) -> None:
    assert (address_refusal(address, []) is not None) is refused


def test_explicitly_allowed_network() -> None:
    assert address_refusal("127.0.0.1", [ipaddress.ip_network("127.0.0.0/8")]) is None


def test_scope_middleware_schemes_hosts_and_addresses() -> None:
    middleware = ScopeMiddleware(_Crawler([]))
    spider = _Spider({"www.example.gov.cn", "oss.example.com"})
    assert middleware.refusal(Request("https://www.example.gov.cn/a.html"), spider) is None
    assert middleware.refusal(Request("http://oss.example.com/x.pdf"), spider) is None
    assert "not in the scope" in middleware.refusal(Request("http://evil.example/"), spider)
    assert "scheme" in middleware.refusal(Request("ftp://www.example.gov.cn/x"), spider)
    assert "loopback" in middleware.refusal(Request("http://127.0.0.1:8080/"), _Spider({"127.0.0.1:8080"}))
    allowed = ScopeMiddleware(_Crawler(["127.0.0.0/8"]))
    assert allowed.refusal(Request("http://127.0.0.1:8080/"), _Spider({"127.0.0.1:8080"})) is None


def _response(status: int, body: str) -> HtmlResponse:
    return HtmlResponse("http://w.example/", status=status, body=body.encode())


def test_challenges_are_recognised_and_ordinary_pages_are_not() -> None:
    assert "412" in challenge_reason(_response(412, "<script>$_ts=window['$_ts'];</script>"))
    assert "521" in challenge_reason(_response(521, "<script>document.cookie='__jsl_clearance_s=1'</script>"))
    assert challenge_reason(_response(200, "<script>document.cookie='__jsl_clearance_s=1';</script>"))
    assert challenge_reason(_response(200, "<html><body><a href='/x'>报告</a>" + "正文" * 3000 + "</body></html>")) is None
    assert challenge_reason(_response(404, "not found")) is None


def test_starter_registry_hosts_are_public_names() -> None:
    for source in load_registry(include_disabled=True):
        host = source.host.split(":")[0]
        if host.replace(".", "").isdigit():  # an IP-only government host seen in research
            assert address_refusal(host, []) is None
