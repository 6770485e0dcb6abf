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
from scrapy.utils.test import get_crawler

from crawler import frontier
from crawler.frontier import LEASE_META, LeasedScheduler, distributed_settings
from tests.scale.services import REDIS_URL, redis_frontier


class ReportsSpider(Spider):
    name = "reports"


@pytest.fixture()
def server_and_prefix() -> Iterator[tuple[Any, str]]:
    with redis_frontier() as prefix:
        yield redis.Redis.from_url(REDIS_URL), prefix


def open_scheduler(prefix: str) -> LeasedScheduler:
    crawler = get_crawler(ReportsSpider, distributed_settings(REDIS_URL, prefix))
    crawler.spider = crawler._create_spider()
    scheduler = LeasedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def dead_worker_id() -> str:
    """A worker id on this host whose pid has exited: what a ``kill -9``-ed crawler leaves."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:dead00"


def test_a_crawler_killed_right_after_a_pop_still_holds_the_request_as_a_lease(server_and_prefix) -> None:
    server, prefix = server_and_prefix
    survivor = open_scheduler(prefix)
    try:
        survivor.enqueue_request(Request("http://127.0.0.1:1/report.html", priority=5))
        victim = dead_worker_id()
        server.sadd(survivor._key("workers"), victim)
        # the victim's pop, and nothing after it: the Python side never ran
        popped = survivor._pop_and_lease(keys=[survivor.queue.key, *survivor._lease_keys(victim)], args=["t1"])
        assert popped is not None and len(survivor.queue) == 0
        assert survivor.recover_dead_workers() == 1
        request = survivor.next_request()
        assert request is not None and request.url == "http://127.0.0.1:1/report.html"
        assert request.priority == 5
        assert not server.exists(*survivor._lease_keys(victim))
    finally:
        survivor.close("finished")


def test_recovery_puts_leases_back_at_their_priority(server_and_prefix) -> None:
    server, prefix = server_and_prefix
    survivor = open_scheduler(prefix)
    try:
        for url, priority in [("http://127.0.0.1:1/low", 0), ("http://127.0.0.1:1/high", 10)]:
            survivor.enqueue_request(Request(url, priority=priority))
        victim = dead_worker_id()
        server.sadd(survivor._key("workers"), victim)
        for token in ("a", "b"):
            survivor._pop_and_lease(keys=[survivor.queue.key, *survivor._lease_keys(victim)], args=[token])
        survivor.enqueue_request(Request("http://127.0.0.1:1/middle", priority=5))
        assert survivor.recover_dead_workers() == 2
        assert survivor.recover_dead_workers() == 0  # recovered once, by one process
        order = [survivor.next_request().url for _ in range(3)]
        assert order == ["http://127.0.0.1:1/high", "http://127.0.0.1:1/middle", "http://127.0.0.1:1/low"]
    finally:
        survivor.close("finished")


def test_the_seen_set_and_the_queue_change_together(server_and_prefix) -> None:
    server, prefix = server_and_prefix
    scheduler = open_scheduler(prefix)
    try:
        assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a")) is True
        assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a")) is False  # seen
        assert scheduler.enqueue_request(Request("http://127.0.0.1:1/a", dont_filter=True)) is True
        assert server.scard(scheduler.df.key) == 1
        assert len(scheduler.queue) == 2
        assert scheduler.stats.get_value("scheduler/enqueued/redis") == 2
    finally:
        scheduler.close("finished")


def test_a_retry_replaces_its_lease_in_one_step(server_and_prefix) -> None:
    server, prefix = server_and_prefix
    scheduler = open_scheduler(prefix)
    try:
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
    finally:
        scheduler.close("finished")


def test_a_queue_without_scores_is_refused(server_and_prefix) -> None:
    _, prefix = server_and_prefix
    settings = dict(distributed_settings(REDIS_URL, prefix), SCHEDULER_QUEUE_CLASS="scrapy_redis.queue.FifoQueue")
    crawler = get_crawler(ReportsSpider, settings)
    crawler.spider = crawler._create_spider()
    scheduler = LeasedScheduler.from_crawler(crawler)
    with pytest.raises(ValueError, match="PriorityQueue"):
        scheduler.open(crawler.spider)
    frontier.clear(redis.Redis.from_url(REDIS_URL), prefix)
