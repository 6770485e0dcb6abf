"""The fault suite: one test per class of server misbehaviour, on the portal simulator.

Each test starts from the same clean crawl (archived, parsed and stored), makes one URL or one
kind of URL misbehave, crawls again and checks the four promises of issue 7:

* the crawl finishes (and records its run);
* the failure is recorded per URL (a capture row with the status or the error, and an entry in the
  run's failures) and per source (counters and outcome in the run summary);
* retries are bounded (counted in the simulator's own request log);
* nothing already archived or stored is lost (baseline rows unchanged, ``xxgk verify`` clean).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .faultcrawl import SITE, Baseline, Recrawl, assert_finished, assert_nothing_lost, make_baseline, recrawl

MAX_ATTEMPTS = 1 + 2  # the first request and RETRY_TIMES = 2 retries


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Any:
    baseline = make_baseline(tmp_path_factory.mktemp("baseline"))
    yield baseline
    baseline.sim.stop()


def path_of(url: str) -> str:
    return urlsplit(url).path


def faulty_recrawl(base: Baseline, tmp_path: Path, url: str, kind: str, **params: Any) -> Recrawl:
    settings = params.pop("settings", None)
    base.sim.add_fault(SITE, path_of(url), kind, **params)
    outcome = recrawl(base, tmp_path, settings=settings)
    assert_finished(outcome)
    return outcome


def assert_recorded(outcome: Recrawl, url: str, *, status: Any = None, error: str = "") -> None:
    """The URL's failure is in the capture rows and in the run's failures; the source counts it."""
    rows = outcome.captures(url)
    assert rows, f"no capture row for {url}"
    if status is not None:
        assert any(row[0] == status for row in rows), rows
    if error:
        assert any(row[1] and error in row[1] for row in rows), rows
    assert outcome.failures_for(url), outcome.result.failures
    assert outcome.source().get("errors", 0) >= 1, outcome.source()


# ----------------------------------------------------------------------------- HTTP errors
@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_is_retried_a_bounded_number_of_times(base: Baseline, tmp_path: Path, status: int) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "status", status=status)
    assert outcome.hits(path_of(url)) == MAX_ATTEMPTS
    assert_recorded(outcome, url, status=status)
    assert outcome.failures_for(url)[0]["status"] == status
    assert_nothing_lost(outcome)


def test_transient_server_error_recovers(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "status", status=503, times=1)
    assert outcome.hits(path_of(url)) == 2
    assert [row[0] for row in outcome.captures(url)] == [503, 200] or sorted(
        row[0] for row in outcome.captures(url)) in ([200, 503], [304, 503])
    assert not outcome.failures_for(url)
    assert_nothing_lost(outcome)


# ----------------------------------------------------------------------------- network
def test_timeout(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "timeout", seconds=30)  # DOWNLOAD_TIMEOUT is 3 s
    assert outcome.hits(path_of(url)) == MAX_ATTEMPTS
    assert_recorded(outcome, url, error="TimeoutError")
    assert_nothing_lost(outcome)


def test_connection_reset(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "reset")
    # Twisted's connection pool resends an idempotent request once when a reused keep-alive
    # connection dies before the answer, so each of Scrapy's attempts is one or two requests
    assert MAX_ATTEMPTS <= outcome.hits(path_of(url)) <= 2 * MAX_ATTEMPTS
    assert_recorded(outcome, url, error="Error")
    assert_nothing_lost(outcome)


def test_truncated_body_is_not_stored(base: Baseline, tmp_path: Path) -> None:
    url = base.report("pdf")["urls"][0]
    outcome = faulty_recrawl(base, tmp_path, url, "truncate")
    assert outcome.hits(path_of(url)) == MAX_ATTEMPTS
    assert_recorded(outcome, url, error="DataLoss")
    assert all(row[2] is None for row in outcome.captures(url))  # no half file in the archive
    assert_nothing_lost(outcome)
    with outcome.db() as db:
        assert db.execute("select count(*) from documents").fetchone()[0] == len(outcome.before["documents"])


# ----------------------------------------------------------------------------- redirects
def test_redirect_loop_is_cut_and_recorded(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "redirect_loop")
    assert outcome.hits(path_of(url)) <= 1 + 10  # REDIRECT_MAX_TIMES
    assert any(row[0] == 302 for row in outcome.captures(url))
    failures = outcome.failures_for(url)
    assert failures and "redirect" in failures[0]["error"].lower(), outcome.result.failures
    assert_nothing_lost(outcome)


def test_redirect_cycle_between_two_urls_is_recorded(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "redirect_loop", cycle=2)
    assert outcome.hits(path_of(url)) <= 4
    failures = outcome.failures_for(url)
    assert failures and "redirect" in failures[0]["error"].lower(), outcome.result.failures
    assert_nothing_lost(outcome)


def test_redirect_to_another_host_is_refused_and_recorded(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    elsewhere = base.sim.url("trs-gbk", "/zwgk/zfxxgknb/index.htm")  # a live site outside the scope
    outcome = faulty_recrawl(base, tmp_path, url, "redirect_offsite", location=elsewhere)
    assert not [r for r in outcome.requests if r.site != SITE], "a host outside the scope was requested"
    assert any(row[0] == 302 for row in outcome.captures(url))
    failures = outcome.failures_for(url)
    assert failures and "scope" in failures[0]["error"], outcome.result.failures
    assert outcome.source().get("out_of_scope", 0) >= 1
    assert_nothing_lost(outcome)


# ----------------------------------------------------------------------------- content
@pytest.mark.parametrize("declared", ["text/html; charset=utf-8", None])
def test_wrong_or_missing_content_type_on_a_pdf(base: Baseline, tmp_path: Path, declared: Any) -> None:
    url = base.report("pdf")["urls"][0]
    outcome = faulty_recrawl(base, tmp_path, url, "content_type", content_type=declared)
    rows = outcome.captures(url)
    assert rows and rows[0][2], rows  # archived in full
    with outcome.db() as db:
        media, status = db.execute("select media_type, parse_status from documents where sha256 = ?",
                                   (rows[0][2],)).fetchone()
    assert "pdf" in media and status == "done"  # the bytes decide, not the header
    assert not outcome.result.failures
    assert_nothing_lost(outcome)


def test_wrong_content_type_on_a_detail_page(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "content_type", content_type="application/octet-stream")
    assert outcome.captures(url)
    assert outcome.work is not None and outcome.work.failed == 0, outcome.work
    assert_nothing_lost(outcome)


def test_error_shell_on_a_detail_page_is_not_a_report(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "error_shell")
    assert outcome.captures(url)[0][0] == 200
    assert outcome.failures_for(url), outcome.result.failures
    assert outcome.source().get("details_without_report", 0) >= 1
    assert_nothing_lost(outcome)  # the stored report of that URL is still the current one


def test_error_shell_instead_of_an_attachment_is_not_a_report(base: Baseline, tmp_path: Path) -> None:
    url = base.report("pdf")["urls"][0]
    outcome = faulty_recrawl(base, tmp_path, url, "error_shell")
    assert outcome.failures_for(url), outcome.result.failures
    with outcome.db() as db:
        assert db.execute("select count(*) from documents").fetchone()[0] == len(outcome.before["documents"])
    assert_nothing_lost(outcome)


def test_huge_response_is_cut_at_the_size_cap(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "huge", size=3 * 1024 * 1024,
                             settings={"DOWNLOAD_MAXSIZE": 1024 * 1024, "DOWNLOAD_WARNSIZE": 0})
    assert outcome.hits(path_of(url)) <= MAX_ATTEMPTS
    failures = outcome.failures_for(url)
    assert failures and "size" in failures[0]["error"].lower(), outcome.result.failures
    assert all(row[2] is None for row in outcome.captures(url))
    assert outcome.captures(url), "the size-capped download has no capture row"
    assert_nothing_lost(outcome)


def test_endless_pagination_is_capped(base: Baseline, tmp_path: Path) -> None:
    column = base.registry[0]["start_url"]
    outcome = faulty_recrawl(base, tmp_path, column, "endless", settings={"XXGK_MAX_LISTING_PAGES": 15})
    assert outcome.hits(path_of(column)) <= 15 + 1
    assert outcome.source()["listing_pages"] <= 15
    assert any("listing" in f["error"] for f in outcome.result.failures), outcome.result.failures
    assert_nothing_lost(outcome)


# ----------------------------------------------------------------------------- WAF and politeness
def test_412_challenge_blocks_the_host_and_stops(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "status", status=412,
                             body="<html><script>$_ts=window['$_ts'];</script></html>")
    assert outcome.hits(path_of(url)) == 1  # a challenge is never retried, never solved
    assert outcome.result.blocked_hosts and outcome.source()["outcome"] == "blocked"
    assert any(row[0] == 412 for row in outcome.captures(url))
    assert_nothing_lost(outcome)


def test_521_on_the_column_page_blocks_the_source(base: Baseline, tmp_path: Path) -> None:
    column = base.registry[0]["start_url"]
    outcome = faulty_recrawl(base, tmp_path, column, "status", status=521,
                             body="<html><script>document.cookie='__jsl_clearance=1'</script></html>")
    assert outcome.hits(path_of(column)) == 1
    assert [r.path_only for r in outcome.requests] == ["/robots.txt", path_of(column)]
    assert outcome.source()["outcome"] == "blocked"
    assert any(row[0] == 521 for row in outcome.captures(column))
    assert_nothing_lost(outcome)


def test_429_with_retry_after_is_honoured(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "status", status=429, retry_after=1, times=2)
    assert outcome.hits(path_of(url)) == 3
    assert outcome.result.stats.get("xxgk/retry_after/waits") == 2
    assert not outcome.failures_for(url)
    assert_nothing_lost(outcome)


def test_429_forever_is_bounded_and_recorded(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "status", status=429, retry_after=1)
    assert outcome.hits(path_of(url)) <= 1 + 3 + 2  # Retry-After waits, then the bounded retries
    assert_recorded(outcome, url, status=429)
    assert_nothing_lost(outcome)


def test_429_asking_for_a_too_long_wait_is_not_hammered(base: Baseline, tmp_path: Path) -> None:
    url = base.report("html")["detail_url"]
    outcome = faulty_recrawl(base, tmp_path, url, "status", status=429, retry_after=3600)
    assert outcome.hits(path_of(url)) == 1  # asked to come back in an hour: not retried now
    assert_recorded(outcome, url, status=429)
    assert_nothing_lost(outcome)


def test_robots_disallow_is_obeyed_and_recorded(base: Baseline, tmp_path: Path) -> None:
    target = base.report("html")["detail_url"]
    folder = path_of(target).rsplit("/", 1)[0] + "/"
    base.sim.add_fault(SITE, "/robots.txt", "robots", text=f"User-agent: *\nDisallow: {folder}\n")
    outcome = recrawl(base, tmp_path)
    assert_finished(outcome)
    assert not [r for r in outcome.requests if r.path_only.startswith(folder)]
    assert outcome.source().get("robots_forbidden", 0) >= 1
    assert any(f["url"] == target and "robots" in f["error"] for f in outcome.result.failures)
    assert_nothing_lost(outcome)
