"""The leased frontier's two-key steps are atomic on the real Redis, so a crawler killed at any
instant loses no request: pop + lease, seen-set + queue, retry push + ack, and recovery.

A kill cannot be aimed at the instant between two Redis calls, so these tests check the state
each single step leaves behind, which is all a ``kill -9`` can leave."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any, Iterator

import pytest
import redis
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.frontier import LEASE_META, PARENT_META, LeaseAckSpiderMiddleware, LeasedScheduler, distributed_settings
from tests.scale.services import REDIS_URL, redis_frontier


class ReportsSpider(Spider):
    name = "reports"


@pytest.fixture()
def frontier_on_redis() -> Iterator[tuple[Any, LeasedScheduler]]:
    """The real Redis and one open scheduler on a fresh frontier (closed, keys deleted, after)."""
    with redis_frontier() as prefix:
        scheduler = open_scheduler(prefix)
        try:
            yield redis.Redis.from_url(REDIS_URL), scheduler
        finally:
            scheduler.close("finished")


def open_scheduler(prefix: str) -> LeasedScheduler:
    crawler = get_crawler(ReportsSpider, distributed_settings(REDIS_URL, prefix))
    crawler.spider = crawler._create_spider()
    scheduler = LeasedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def dead_worker(server: Any, scheduler: LeasedScheduler) -> str:
    """A registered worker on this host whose pid has exited: what a ``kill -9``-ed crawler leaves."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    worker = f"{socket.gethostname()}:{child.pid}:dead00"
    server.sadd(scheduler._key("workers"), worker)
    return worker


def pop_as(scheduler: LeasedScheduler, worker: str, token: str) -> Any:
    """That worker's atomic pop + lease, and nothing after it: its Python side never ran."""
    return scheduler._pop_and_lease(keys=[scheduler.queue.key, *scheduler._lease_keys(worker)], args=[token])


def test_a_crawler_killed_right_after_a_pop_still_holds_the_request_as_a_lease(frontier_on_redis) -> None:
    server, survivor = frontier_on_redis
    survivor.enqueue_request(Request("http://127.0.0.1:1/report.html", priority=5))
    victim = dead_worker(server, survivor)
    assert pop_as(survivor, victim, "t1") is not None and len(survivor.queue) == 0
    assert survivor.recover_dead_workers() == 1
    request = survivor.next_request()
    assert request is not None and request.url == "http://127.0.0.1:1/report.html"
    assert request.priority == 5
    assert not server.exists(*survivor._lease_keys(victim))


def test_recovery_puts_leases_back_at_their_priority(frontier_on_redis) -> None:
    server, survivor = frontier_on_redis
    for url, priority in [("http://127.0.0.1:1/low", 0), ("http://127.0.0.1:1/high", 10)]:
        survivor.enqueue_request(Request(url, priority=priority))
    victim = dead_worker(server, survivor)
    for token in ("a", "b"):
        pop_as(survivor, victim, token)
    survivor.enqueue_request(Request("http://127.0.0.1:1/middle", priority=5))
    assert survivor.recover_dead_workers() == 2
    assert survivor.recover_dead_workers() == 0  # recovered once, by one process
    order = [survivor.next_request().url for _ in range(3)]
    assert order == ["http://127.0.0.1:1/high", "http://127.0.0.1:1/middle", "http://127.0.0.1:1/low"]


def test_the_seen_set_and_the_queue_change_together(frontier_on_redis) -> None:
    server, scheduler = frontier_on_redis
    assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a")) is True
    assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a")) is False  # seen
    assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a", dont_filter=True)) is True
    assert server.scard(scheduler.df.key) == 1
    assert len(scheduler.queue) == 2
    assert scheduler.stats.get_value("scheduler/enqueued/redis") == 2


def test_a_retry_replaces_its_lease_in_one_step(frontier_on_redis) -> None:
    server, scheduler = frontier_on_redis
    scheduler.enqueue_request(Request("http://127.0.0.1:1/flaky"))
    request = scheduler.next_request()
    token = request.meta[LEASE_META]
    assert server.hexists(scheduler._key("inflight", scheduler.worker_id), token)
    retry = request.replace(dont_filter=True)  # what RetryMiddleware schedules: meta copied
    assert retry.meta[LEASE_META] == token
    assert scheduler.enqueue_request(retry) is True
    assert not server.exists(*scheduler._lease_keys(scheduler.worker_id))
    again = scheduler.next_request()
    assert again.url == request.url and again.meta[LEASE_META] != token
    scheduler.ack(again)
    assert not server.exists(*scheduler._lease_keys(scheduler.worker_id))


def test_a_queue_without_scores_is_refused() -> None:
    with redis_frontier() as prefix:
        settings = dict(distributed_settings(REDIS_URL, prefix), SCHEDULER_QUEUE_CLASS="scrapy_redis.queue.FifoQueue")
        crawler = get_crawler(ReportsSpider, settings)
        crawler.spider = crawler._create_spider()
        scheduler = LeasedScheduler.from_crawler(crawler)
        with pytest.raises(ValueError, match="PriorityQueue"):
            scheduler.open(crawler.spider)


def test_a_lease_is_acked_only_once_the_requests_its_callback_yielded_are_in_redis(frontier_on_redis) -> None:
    """Scrapy drains a callback's outputs into a queue before it schedules them: the end of the
    callback is not the moment its requests are safe (a kill then lost two reports)."""
    server, scheduler = frontier_on_redis
    acker = LeaseAckSpiderMiddleware(scheduler.crawler)
    scheduler.enqueue_request(Request("http://127.0.0.1:1/list"))
    listing = scheduler.next_request()
    token, leases = listing.meta[LEASE_META], scheduler._key("inflight", scheduler.worker_id)
    response = HtmlResponse(listing.url, body=b"<html></html>", request=listing)
    children = [Request("http://127.0.0.1:1/a"), Request("http://127.0.0.1:1/b"), {"title": "an item"}]
    drained = list(acker.process_spider_output(response, iter(children)))  # the callback is over
    assert server.hexists(leases, token)  # nothing of it is safe yet
    acker.item_done(drained[2])
    scheduler.enqueue_request(drained[0])
    assert server.hexists(leases, token)  # the item is stored, one request is still in memory only
    scheduler.enqueue_request(drained[1])
    assert not server.hexists(leases, token)
    queued = [scheduler.next_request() for _ in range(2)]
    assert {r.url for r in queued} == {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}
    assert all(PARENT_META not in r.meta for r in queued)  # the parent's token is not stored with them
