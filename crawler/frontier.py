"""Distributed mode: one crawl frontier in Redis shared by many crawler processes (scrapy-redis).

``XXGK_REDIS_URL=redis://host:6379/0`` (environment or ``-s``) switches the crawler to
scrapy-redis's scheduler and duplicate filter: every process started with the same URL and
``XXGK_REDIS_PREFIX`` pops requests from one priority queue and shares one seen-set, on one
machine or many. The database (PostgreSQL, ``XXGK_DB``) and the archive (a shared path,
``XXGK_ARCHIVE``) are shared the same way.

scrapy-redis pops a request and forgets it: a process killed mid-request would lose it (its
fingerprint is already "seen"). :class:`LeasedScheduler` adds leases on top, the reliable-queue
pattern: a popped request is also written to ``<prefix>:inflight:<worker>``, and removed (acked)
once its callback's output is scheduled (:class:`LeaseAckSpiderMiddleware`) or its download
failed for good (:class:`LeaseAckDownloaderMiddleware`). Each process keeps a heartbeat key; the
leases of a dead process (heartbeat expired, or same host and the pid is gone) are pushed back
on the queue by whichever process notices first. A process does not close while the queue or
another live process's leases are not empty, because those may still produce requests.

Every step that touches two keys is one Lua script, so ``kill -9`` at any instant loses nothing:
pop + lease (scrapy-redis pops, then we would lease: a kill between the two lost the request);
seen-set + queue (scrapy-redis adds the fingerprint, then pushes: a kill between the two left a
request "seen" that no queue held, and the refetched parent's copy was then filtered out);
push of a retry or redirect + ack of its lease; recovery of a dead process's leases.

A finished crawl leaves ``<prefix>:done``; a process starting later than
``XXGK_REDIS_RESTART_AFTER`` seconds after that begins a new crawl (queue and seen-set cleared),
so the same cron line crawls again next time. A missed ack costs at most a refetch after a crash.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import Any, Optional

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

LEASE_META = "xxgk_lease"
PARENT_META = "xxgk_parent_lease"  # on a request a leased callback yielded, until it is in Redis
HEARTBEAT_SECONDS = 10
HEARTBEAT_TTL = 45
POLL_SECONDS = 1.0
DEFAULT_PREFIX = "xxgk"
DEFAULT_RESTART_AFTER = 3600


def distributed_settings(redis_url: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The Scrapy settings that switch a crawl to the shared Redis frontier."""
    prefix = prefix or DEFAULT_PREFIX
    return {
        "XXGK_REDIS_URL": redis_url,
        "XXGK_REDIS_PREFIX": prefix,
        "REDIS_URL": redis_url,
        "SCHEDULER": "crawler.frontier.LeasedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
        "SCHEDULER_PERSIST": True,  # the frontier outlives any one process
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
    }


# KEYS: queue, leases, lease scores; ARGV: lease token. Returns the request popped, or nil.
POP_AND_LEASE = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('HSET', KEYS[2], ARGV[1], top[1])
redis.call('HSET', KEYS[3], ARGV[1], top[2])
return top[1]
"""

# KEYS: seen-set, queue, leases, lease scores; ARGV: fingerprint ('' = not filtered), score,
# request, lease token to ack ('' = none). Returns 1 if queued, 0 if already seen.
SEE_PUSH_AND_ACK = """
local queued = 1
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  queued = 0
else
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
if ARGV[4] ~= '' then
  redis.call('HDEL', KEYS[3], ARGV[4])
  redis.call('HDEL', KEYS[4], ARGV[4])
end
return queued
"""

# KEYS: leases, lease scores, queue. Every lease back on the queue at its score, past the
# seen-set (these were seen and never finished). Returns how many.
RECOVER_LEASES = """
local leases = redis.call('HGETALL', KEYS[1])
for i = 1, #leases, 2 do
  local score = redis.call('HGET', KEYS[2], leases[i]) or 0
  redis.call('ZADD', KEYS[3], score, leases[i + 1])
end
redis.call('DEL', KEYS[1], KEYS[2])
return #leases / 2
"""


def keys(prefix: str, spider: str = "reports") -> dict[str, str]:
    """Every Redis key of one frontier (for inspection and cleanup)."""
    return {"queue": f"{prefix}:{spider}:requests", "seen": f"{prefix}:{spider}:dupefilter",
            "workers": f"{prefix}:workers", "done": f"{prefix}:done", "lock": f"{prefix}:lock",
            "inflight": f"{prefix}:inflight:", "heartbeat": f"{prefix}:heartbeat:"}


def clear(server: Any, prefix: str) -> int:
    """Delete every key of a frontier; returns how many."""
    names = list(server.scan_iter(match=f"{prefix}:*"))
    return server.delete(*names) if names else 0


class LeasedScheduler(Scheduler):
    """scrapy-redis's scheduler with leases, dead-worker recovery and a shared idle rule."""

    crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> "LeasedScheduler":
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.prefix = crawler.settings.get("XXGK_REDIS_PREFIX") or DEFAULT_PREFIX
        instance.restart_after = crawler.settings.getfloat("XXGK_REDIS_RESTART_AFTER", DEFAULT_RESTART_AFTER)
        instance.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        instance._pop_and_lease = instance.server.register_script(POP_AND_LEASE)
        instance._see_push_and_ack = instance.server.register_script(SEE_PUSH_AND_ACK)
        instance._recover = instance.server.register_script(RECOVER_LEASES)
        crawler.xxgk_frontier = instance
        crawler.xxgk_worker_id = instance.worker_id
        crawler.signals.connect(instance.spider_idle, signal=signals.spider_idle)
        return instance

    # ------------------------------------------------------------------ keys
    def _key(self, name: str, suffix: str = "") -> str:
        return keys(self.prefix, getattr(self.spider, "name", "reports"))[name] + suffix

    def _lease_keys(self, worker: str) -> list[str]:
        """A process's leases (token -> request) and their queue scores (token -> score)."""
        return [self._key("inflight", worker), self._key("inflight", f"{worker}:scores")]

    # ------------------------------------------------------------------ lifecycle
    def open(self, spider: Any) -> Any:
        self.spider = spider
        self._start_or_join_crawl(spider)
        result = super().open(spider)
        if not isinstance(self.queue, PriorityQueue):  # the Lua scripts speak sorted sets
            raise ValueError(f"the leased frontier needs SCHEDULER_QUEUE_CLASS = scrapy_redis.queue.PriorityQueue, "
                             f"not {type(self.queue).__name__}")
        self._heartbeat()
        self.server.sadd(self._key("workers"), self.worker_id)
        from twisted.internet import task

        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.start(HEARTBEAT_SECONDS, now=False)
        self._poll = task.LoopingCall(self._wake_engine)
        self._poll.start(POLL_SECONDS, now=False)
        self.recover_dead_workers()
        return result

    def _start_or_join_crawl(self, spider: Any) -> None:
        """A new crawl when the last one finished long enough ago; otherwise join it."""
        with self.server.lock(self._key("lock"), timeout=30, blocking_timeout=30):
            done = self.server.get(self._key("done"))
            if done is not None and time.time() - float(done) > self.restart_after:
                self.server.delete(self._key("queue"), self._key("seen"), self._key("done"))
                spider.logger.info("frontier %s: the last crawl finished; starting a new one", self.prefix)

    def close(self, reason: str) -> Any:
        for loop in (getattr(self, "_beat", None), getattr(self, "_poll", None)):
            if loop is not None and loop.running:
                loop.stop()
        # a clean close: every request this process popped has been handled
        self.server.delete(*self._lease_keys(self.worker_id), self._key("heartbeat", self.worker_id),
                           self._key("inflight", f"{self.worker_id}:run"))
        self.server.srem(self._key("workers"), self.worker_id)
        if reason == "finished" and not len(self.queue) and not self._live_leases():
            self.server.set(self._key("done"), str(time.time()))
        return super().close(reason)

    def _wake_engine(self) -> None:
        """Scrapy polls an empty scheduler only every 5 s; other processes fill ours sooner."""
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        if slot is not None and slot.closing is None and len(self.queue):
            slot.nextcall.schedule()

    def _heartbeat(self) -> None:
        self.server.set(self._key("heartbeat", self.worker_id), str(time.time()), ex=HEARTBEAT_TTL)

    # ------------------------------------------------------------------ leases
    def enqueue_request(self, request: Any) -> bool:
        """scrapy-redis's enqueue (seen-set, then queue) as one atomic step, which also acks the
        lease of the request this one replaces (a retry or a redirect)."""
        lease = request.meta.pop(LEASE_META, None) or ""
        parent = request.meta.pop(PARENT_META, None)  # not stored with the request
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        queued = self._see_push_and_ack(
            keys=[self.df.key, self.queue.key, *self._lease_keys(self.worker_id)],
            args=[fingerprint, -request.priority, self.queue._encode_request(request), lease])
        acker = getattr(self.crawler, "xxgk_lease_acker", None)
        if parent and acker is not None:  # in Redis now (or seen before): safe for its parent
            acker.output_done(parent)
        if not queued:
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Optional[Any]:
        """Pop the best request and lease it to this process, atomically."""
        token = uuid.uuid4().hex
        data = self._pop_and_lease(keys=[self.queue.key, *self._lease_keys(self.worker_id)], args=[token])
        if data is None:
            return None
        request = self.queue._decode_request(data)
        request.meta[LEASE_META] = token
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def ack(self, request: Any) -> None:
        token = request.meta.pop(LEASE_META, None)
        if token:
            self.ack_token(token)

    def ack_token(self, token: str) -> None:
        pipe = self.server.pipeline(transaction=True)
        for key in self._lease_keys(self.worker_id):
            pipe.hdel(key, token)
        pipe.execute()

    # ------------------------------------------------------------------ recovery and idleness
    def _workers(self) -> list[str]:
        return [w.decode() if isinstance(w, bytes) else w for w in self.server.smembers(self._key("workers"))]

    def _is_dead(self, worker: str) -> bool:
        if worker == self.worker_id:
            return False
        host, _, rest = worker.partition(":")
        pid = rest.partition(":")[0]
        if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
            return True
        return not self.server.exists(self._key("heartbeat", worker))

    def note_run(self, run_id: Optional[int]) -> None:
        """Remember which crawl run this process records (marked ``killed`` if it dies)."""
        if run_id is not None:
            self.server.set(self._key("inflight", f"{self.worker_id}:run"), str(run_id))

    def recover_dead_workers(self) -> int:
        """Push the leases of dead processes back on the queue; returns how many requests."""
        recovered = 0
        for worker in self._workers():
            if not self._is_dead(worker):
                continue
            recovered += self._recover_leases(worker)
            self._record_killed_run(worker)
            self.server.srem(self._key("workers"), worker)
        return recovered

    def _recover_leases(self, worker: str) -> int:
        count = int(self._recover(keys=[*self._lease_keys(worker), self.queue.key]))
        if count:
            logger.warning("frontier %s: recovered %d requests of dead crawler %s", self.prefix, count, worker)
        if count and self.stats:
            self.stats.inc_value("xxgk/frontier/recovered", count)
        return count

    def _record_killed_run(self, worker: str) -> None:
        run_id = self.server.getdel(self._key("inflight", f"{worker}:run"))
        store = getattr(self.crawler, "xxgk_store", None)
        if not run_id or store is None:
            return
        try:
            from crawler.db.session import open_database, transaction
            from crawler.store import mark_run_killed

            with transaction(open_database(store.db_url)) as session:
                mark_run_killed(session, int(run_id))
        except Exception:  # noqa: BLE001 - the record only
            logger.exception("could not mark run %s of dead crawler %s as killed", run_id, worker)

    def _live_leases(self) -> int:
        return sum(self.server.hlen(self._key("inflight", w)) for w in self._workers()
                   if w != self.worker_id and not self._is_dead(w))

    def spider_idle(self, spider: Any) -> None:
        """Idle here: our own leases are all done. Stay open while others may add requests."""
        self.server.delete(*self._lease_keys(self.worker_id))
        self.recover_dead_workers()
        if len(self.queue) or self._live_leases():
            raise DontCloseSpider("other crawler processes still hold requests of the shared frontier")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _frontier(crawler: Any) -> Optional[LeasedScheduler]:
    return getattr(crawler, "xxgk_frontier", None)


def _require_frontier(crawler: Any) -> None:
    """Lease acks exist only in distributed mode; elsewhere the middlewares stay out of the chain
    (wrapping every callback's output costs the reactor time on every response)."""
    if not crawler.settings.get("XXGK_REDIS_URL"):
        raise NotConfigured("no shared frontier (XXGK_REDIS_URL unset): no leases to ack")


class LeaseAckSpiderMiddleware:
    """Ack a request's lease once all its callback yielded is safe: the requests in Redis and the
    items through the pipelines (the document row committed).

    The end of the callback is not enough: Scrapy pulls a callback's outputs into a queue (up to
    2 × ``CONCURRENT_ITEMS``) ahead of scheduling them, so a lease acked there could be gone
    while requests it yielded still waited in memory — and a ``kill -9`` then lost them (seen:
    two reports of one listing page never fetched). So each yielded request carries its parent's
    token (``PARENT_META``) until :meth:`LeasedScheduler.enqueue_request` has it in Redis, and
    counts as outstanding until then, as each item does until ``item_scraped`` (or dropped/error).

    It sits at the engine's end of the spider middlewares (order 5), after those that may drop a
    request (depth, URL length), so every request it counts does reach the scheduler.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.outstanding: dict[str, int] = {}  # lease token -> outputs not yet safe
        self.item_leases: dict[int, str] = {}  # id(item) -> lease token
        self.iterating: set[str] = set()
        crawler.xxgk_lease_acker = self
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.item_done, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Any) -> "LeaseAckSpiderMiddleware":
        _require_frontier(crawler)
        return cls(crawler)

    async def process_spider_output_async(self, response: Any, result: Any, spider: Any = None) -> Any:
        token = self._token(response)
        try:
            async for output in result:
                self._track(token, output)
                yield output
        finally:
            self._finish(token)

    def process_spider_output(self, response: Any, result: Any, spider: Any = None) -> Any:
        token = self._token(response)
        try:
            for output in result:
                self._track(token, output)
                yield output
        finally:
            self._finish(token)

    def _token(self, response: Any) -> Optional[str]:
        request = getattr(response, "request", None)
        token = request.meta.get(LEASE_META) if request is not None else None
        if token:
            self.iterating.add(token)
        return token

    def _track(self, token: Optional[str], output: Any) -> None:
        from scrapy import Request

        if not token or output is None:
            return
        self.outstanding[token] = self.outstanding.get(token, 0) + 1
        if isinstance(output, Request):
            output.meta[PARENT_META] = token
        else:
            self.item_leases[id(output)] = token

    def _finish(self, token: Optional[str]) -> None:
        if token:
            self.iterating.discard(token)
            self._maybe_ack(token)

    def item_done(self, item: Any, **_: Any) -> None:
        token = self.item_leases.pop(id(item), None)
        if token:
            self.output_done(token)

    def output_done(self, token: str) -> None:
        """One output of the lease's callback is safe (a request in Redis, an item stored)."""
        if token in self.outstanding:
            self.outstanding[token] -= 1
            self._maybe_ack(token)

    def _maybe_ack(self, token: str) -> None:
        if token in self.iterating or self.outstanding.get(token, 0) > 0:
            return
        self.outstanding.pop(token, None)
        frontier = _frontier(self.crawler)
        if frontier is not None:
            frontier.ack_token(token)


class LeaseAckDownloaderMiddleware:
    """Ack a request whose download failed for good (after retries): its errback adds nothing."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> "LeaseAckDownloaderMiddleware":
        _require_frontier(crawler)
        return cls(crawler)

    def process_exception(self, request: Any, exception: Exception, spider: Any = None) -> None:
        frontier = _frontier(self.crawler)
        if frontier is not None:
            frontier.ack(request)
        return None
