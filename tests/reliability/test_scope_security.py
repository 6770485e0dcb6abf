"""Scope and security: the crawler cannot be turned against anyone, and hostile names, links and
text from the sites it crawls reach neither the file system nor the database's SQL.

* only the hosts of a source (plus declared storage hosts) are requested — also after redirects
  (tests/reliability/test_faults.py) and with hostile links on pages;
* never private, loopback or link-local addresses (IP literals or names resolving there) unless the
  network is explicitly allowed; never ``file:``, ``ftp:`` or other schemes;
* with a proxy from the standard environment variables, requests go through the proxy;
* names from URLs or Content-Disposition never become file paths in the archive;
* SQL text is never built from data (a static check over crawler/ and parsers/).
The web UI's read-only database and escaping are tested in tests/lookup/test_web.py.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from crawler.crawl import run_crawl
from crawler.simulator.simulator import Simulator

from .faultcrawl import FAST_SETTINGS, ROOT, SITE, SITES
from .proxy import ForwardProxy

NO_PRIVATE = {**FAST_SETTINGS, "XXGK_ALLOW_PRIVATE_NETWORKS": []}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, sites=SITES) as simulator:
        yield simulator


@pytest.fixture
def registry(sim: Simulator) -> list[dict[str, Any]]:
    sim.faults.clear()
    sim.clear_requests()
    return [e for e in sim.registry_entries() if e["site"] == SITE]


def crawl(tmp_path: Path, registry: list[dict[str, Any]], settings: dict[str, Any]) -> Any:
    return run_crawl(registry=registry, db_url=f"sqlite:///{tmp_path / 'xxgk.sqlite'}",
                     archive_dir=tmp_path / "archive", settings=settings, timeout=300)


# ----------------------------------------------------------------------------- addresses
def test_loopback_is_refused_unless_explicitly_allowed(sim: Simulator, registry: list[dict[str, Any]],
                                                       tmp_path: Path) -> None:
    result = crawl(tmp_path, registry, NO_PRIVATE)
    assert result.finish_reason == "finished"
    assert sim.requests() == [], "the crawler connected to a loopback address it was not allowed"
    source = next(iter(result.sources.values()))
    assert source["outcome"] == "failed" and source["out_of_scope"] >= 1
    assert any("loopback" in f["error"] for f in result.failures), result.failures


def test_a_name_resolving_to_loopback_is_refused(sim: Simulator, registry: list[dict[str, Any]],
                                                 tmp_path: Path) -> None:
    entry = dict(registry[0])
    port = urlsplit(entry["start_url"]).port
    entry["start_url"] = entry["start_url"].replace(f"127.0.0.1:{port}", f"localhost:{port}")
    entry["scope_hosts"] = [f"localhost:{port}"]
    result = crawl(tmp_path, [entry], NO_PRIVATE)
    assert result.finish_reason == "finished"
    assert sim.requests() == [], "a name resolving to loopback was connected to"
    assert result.stats.get("xxgk/scope/refused_resolved", 0) >= 1, result.stats
    assert result.failures and result.failures[0]["url"] == entry["start_url"]


HOSTILE_LINKS = ["file:///etc/passwd.pdf", "ftp://127.0.0.1/report.pdf", "gopher://127.0.0.1:70/x.pdf",
                 "http://169.254.169.254/latest/meta-data/report.pdf", "http://10.0.0.1/report.pdf",
                 "http://[::1]:{port}/report.pdf", "http://localhost:{port}/report.pdf",
                 "data:application/pdf;base64,JVBERi0=", "javascript:alert(1)//.pdf"]


def test_hostile_links_on_a_page_are_never_followed(sim: Simulator, registry: list[dict[str, Any]],
                                                    tmp_path: Path) -> None:
    detail = next(e for e in sim.expected_reports() if e["site"] == SITE and e["format"] == "html")["detail_url"]
    port = urlsplit(detail).port
    links = "".join(f'<p><a href="{link.format(port=port)}">附件{i}.pdf</a></p>'
                    for i, link in enumerate(HOSTILE_LINKS))
    page = (f"<html><head><meta charset='utf-8'><title>2023年政府信息公开工作年度报告</title></head><body>"
            f"<h1>2023年政府信息公开工作年度报告</h1>{links}</body></html>").encode()
    sim.add_fault(SITE, urlsplit(detail).path, "body", body=page, content_type="text/html; charset=utf-8")
    result = crawl(tmp_path, registry, {**FAST_SETTINGS, "XXGK_ALLOW_PRIVATE_NETWORKS": ["127.0.0.1/32"]})
    assert result.finish_reason == "finished"
    requested = {r.path_only for r in sim.requests()}
    assert "/report.pdf" not in requested and "/etc/passwd.pdf" not in requested
    with sqlite3.connect(tmp_path / "xxgk.sqlite") as db:
        urls = [row[0] for row in db.execute("select url from captures")]
    assert urls and all(urlsplit(u).scheme == "http" and urlsplit(u).netloc == urlsplit(detail).netloc
                        for u in urls), urls
    assert result.stats.get("xxgk/scope/refused", 0) >= 1


def test_a_proxy_from_the_environment_is_used(sim: Simulator, registry: list[dict[str, Any]],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = dict(registry[0])
    port = urlsplit(entry["start_url"]).port
    name = sim.site(SITE).name + ".sim.test"  # a name only the proxy can reach (virtual host)
    entry["start_url"] = entry["start_url"].replace(f"127.0.0.1:{port}", name)
    entry["scope_hosts"] = [name]
    with ForwardProxy(port) as proxy:
        for variable in ("http_proxy", "HTTP_PROXY"):
            monkeypatch.setenv(variable, proxy.url)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        result = crawl(tmp_path, [entry], NO_PRIVATE)  # the proxy is the user's explicit choice
    assert result.finish_reason == "finished", result.log[-2000:]
    assert proxy.seen and all(urlsplit(url).netloc == name for url in proxy.seen), proxy.seen[:5]
    assert next(iter(result.sources.values()))["documents"] >= 1
    assert len(sim.requests()) == len(proxy.seen)  # every request reached the site through the proxy


# ----------------------------------------------------------------------------- file names
HOSTILE_DISPOSITIONS = ['attachment; filename="../../../../etc/passwd"',
                        "attachment; filename*=UTF-8''..%2F..%2F..%2Ftmp%2Fevil.sh",
                        'attachment; filename="C:\\\\Windows\\\\win.ini"; filename*=UTF-8\'\'%2Fetc%2Fshadow']


def test_hostile_file_names_never_reach_the_file_system(sim: Simulator, registry: list[dict[str, Any]],
                                                        tmp_path: Path) -> None:
    pdfs = [e for e in sim.expected_reports() if e["site"] == SITE and e["format"] == "pdf"]
    for entry, value in zip(pdfs, HOSTILE_DISPOSITIONS):
        sim.add_fault(SITE, urlsplit(entry["urls"][0]).path, "disposition", value=value)
    detail = next(e for e in sim.expected_reports() if e["site"] == SITE and e["format"] == "html")["detail_url"]
    page = ("<html><head><meta charset='utf-8'></head><body><h1>2023年政府信息公开工作年度报告</h1>"
            "<a href='/..%2F..%2F..%2Fetc%2Fpasswd.pdf'>附件.pdf</a>"
            "<a href='../../../../../etc/passwd.doc'>附件2.doc</a></body></html>").encode()
    sim.add_fault(SITE, urlsplit(detail).path, "body", body=page, content_type="text/html; charset=utf-8")
    result = crawl(tmp_path, registry, dict(FAST_SETTINGS))
    assert result.finish_reason == "finished"
    with sqlite3.connect(tmp_path / "xxgk.sqlite") as db:
        dispositions = [row[0] for row in db.execute("select response_headers from captures")
                        if "etc" in row[0] or "evil" in row[0]]
    assert dispositions, "the hostile Content-Disposition headers were not archived as sent"
    archive = tmp_path / "archive"
    allowed = re.compile(r"^(blobs/[0-9a-f]{2}/[0-9a-f]{64}|warc/[\w.-]+\.warc\.gz|tmp/[\w.-]+)$")
    files = [p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file()]
    assert files and all(allowed.match(f) for f in files), [f for f in files if not allowed.match(f)]
    outside = {p.name for p in tmp_path.iterdir()} - {"archive", "xxgk.sqlite", "xxgk.sqlite-wal",
                                                       "xxgk.sqlite-shm"}
    assert not outside, outside
    assert not (tmp_path / "etc").exists() and not Path("/tmp/evil.sh").exists()


# ----------------------------------------------------------------------------- SQL
SQL_WORDS = re.compile(r"\b(select|insert|update|delete|create|drop|alter|pragma|where)\b", re.I)
# f-strings in SQL that interpolate only constants of the code (never data), by file
CONSTANT_INTERPOLATIONS = {"crawler/web/metadata.py", "crawler/lookup.py", "crawler/db/session.py"}


def _printed(tree: ast.AST) -> set[int]:
    """ids of the string nodes handed to print/echo (example commands shown to a user)."""
    printed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "print", "echo", "secho"):
            printed.update(id(arg) for arg in ast.walk(node))
    return printed


def _sql_built_from_values(tree: ast.AST) -> list[int]:
    """Lines where text that looks like SQL is built by f-string, % or .format()."""
    lines = []
    printed = _printed(tree)
    for node in ast.walk(tree):
        if id(node) in printed:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if SQL_WORDS.search(text) and re.search(r"\b(from|set|into|values|pragma)\b", text, re.I):
                lines.append(node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str) and SQL_WORDS.search(node.left.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str) \
                and SQL_WORDS.search(node.func.value.value) and " from " in node.func.value.value.lower():
            lines.append(node.lineno)
    return lines


def test_sql_is_never_built_from_data() -> None:
    offenders = {}
    for path in sorted((ROOT / "crawler").rglob("*.py")) + sorted((ROOT / "parsers").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("crawler/simulator/") or relative in CONSTANT_INTERPOLATIONS:
            continue
        lines = _sql_built_from_values(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            offenders[relative] = lines
    assert not offenders, f"SQL text built by formatting (use bound parameters): {offenders}"


def test_constant_interpolations_use_only_code_constants() -> None:
    """The allow-listed files interpolate module constants and ints, never a function argument
    that could carry user text: every user value goes through :name parameters."""
    metadata = (ROOT / "crawler/web/metadata.py").read_text(encoding="utf-8")
    assert "where a.name = :agency" in metadata
    for name in ("crawler/lookup.py", "crawler/db/session.py"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for match in re.finditer(r'execute\(f"([^"]*)"', text):
            assert match.group(1).startswith("PRAGMA busy_timeout={"), match.group(0)
