"""Per-client rate limits on the expensive endpoints: token buckets, answered with 429 and Retry-After.

A client is its session for work on a session (so a class behind one NAT address is not one client), and its
address for what creates sessions or snapshots. Buckets live in each process: with several workers a client
gets up to that many times the rate.

Most limits count requests, and the middleware takes their token before the route runs. Training counts work
too (`counts="work"`): the work a request does grows with the network, the data and Play's speed, so the route,
which knows its session, spends its estimate (app/quick.py step_cost: multiply-adds) through a `Budget`. Work
over the budget waits its turn, as nginx's limit_req delays a burst, and only a queue longer than MAX_DELAY is
refused: one page playing on a large network slows down instead of failing.
"""
import asyncio
import json
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

SESSION = re.compile(r"^/api/sessions/([0-9a-f]{32})/")
COOKIE = "bp_session"


@dataclass(frozen=True)
class Limit:
    name: str
    per_second: float
    burst: float
    by: str  # "session" or "address"
    counts: str = "requests"  # or "work": multiply-adds, spent by the route (Budget)


# Play sends about 30 steps a second; a class of 300 behind one address opens up to 600 sessions at once.
TRAIN = Limit("training steps", 60, 120, "session")
# ...and the work of those steps: the default network's Play at its fastest (3 epochs a frame, 1.2e6 multiply-adds)
# at 60 frames a second spends 6.9e7 a second, about a third of this. On the largest networks 2e8 a second is about a
# tenth of one core (bench/README.md); a burst is the largest single page step (about 9e8).
WORK = Limit("training work", 2e8, 1e9, "session", counts="work")
# Work waits at most this long for its budget; beyond it the request is refused.
MAX_DELAY = 5.0
CHECK = Limit("gradient checks", 1, 5, "session")
SHARE = Limit("shares", 1, 30, "session")
CREATE = Limit("new sessions", 10, 600, "address")
# Rebuilding the data and network (settings, reset, seeds, shape, upload) and predicting many rows cost up to
# a second each on the largest networks; a person changes a setting a few times a second at most.
REBUILD = Limit("setting changes", 5, 30, "session")
PREDICT = Limit("predictions", 20, 60, "session")
# Everything else that draws the panels costs about what a step does.
PAGE = Limit("page actions", 60, 120, "session")

RULES = [
    ("POST", re.compile(r"^/api/sessions/[0-9a-f]{32}/(step|epoch)$"), TRAIN),
    ("POST", re.compile(r"^/ui/(step|epoch|play|play-frame|phase)$"), TRAIN),
    ("POST", re.compile(r"^/api/sessions/[0-9a-f]{32}/(step|epoch)$|^/ui/(step|epoch|play|play-frame)$"), WORK),
    # A loss slice is forward passes over the next batch: the route spends them from the same work budget.
    ("GET", re.compile(r"^/api/sessions/[0-9a-f]{32}/loss-slice$"), WORK),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/gradient-check$"), CHECK),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/share$"), SHARE),
    ("POST", re.compile(r"^/api/sessions(/import)?$|^/api/snapshots/[^/]+/fork$|^/ui/import$"), CREATE),
    ("GET", re.compile(r"^/s/[^/]+$"), CREATE),
    ("POST", re.compile(r"^/ui/(config|reset|new-seed|regenerate|shape|upload)$"), REBUILD),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/predict$"), PREDICT),
    ("POST", re.compile(r"^/ui/(back|forward|rewind|edit|detailed|pause|speed)$|^/api/sessions/[0-9a-f]{32}/(parameters|rewind)$"),
     PAGE),
    ("GET", re.compile(r"^/ui/inspect$"), PAGE),
    ("POST", re.compile(r"^/ui/inspect(/close)?$"), PAGE),
]
MAX_BUCKETS = 100_000


def address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class Buckets:
    def __init__(self, scale: float, clock=time.monotonic, sleep=asyncio.sleep):
        self.scale, self.clock, self.sleep = scale, clock, sleep
        self._buckets: OrderedDict[tuple, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def rate(self, limit: Limit) -> tuple[float, float]:
        """Tokens a second and the burst, scaled; a burst below one token would refuse everything."""
        return limit.per_second * self.scale, max(1.0, limit.burst * self.scale)

    def refusal(self, limit: Limit, wait: float) -> tuple[int, str]:
        """Retry-After seconds and the message of a 429."""
        rate, burst = self.rate(limit)
        seconds = max(1, math.ceil(wait))
        return seconds, (f"Too many {limit.name}: at most {rate:g} a second (bursts of {burst:g}). "
                         f"Try again in {seconds} s.")

    def take(self, limit: Limit, key: str) -> float:
        """Take one token; return 0, or the seconds until one is available (nothing taken)."""
        rate, burst = self.rate(limit)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop((limit.name, key), (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[(limit.name, key)] = (tokens - 1 if wait == 0 else tokens, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return wait

    def spend(self, limit: Limit, key: str, amount: float) -> tuple[float, float]:
        """Spend `amount` of a work limit: (seconds the work must first wait, 0), or (0, seconds until it may be
        asked again) when it would wait longer than MAX_DELAY, and then nothing is spent.

        Work waits until the bucket holds its amount, or a full bucket for work larger than the burst, which then
        leaves the bucket in debt. Spending at once queues the next request behind this one."""
        rate, burst = self.rate(limit)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop((limit.name, key), (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            wait = max(0.0, (min(amount, burst) - tokens) / rate)
            if wait <= MAX_DELAY + 1e-9:
                tokens -= amount
            self._buckets[(limit.name, key)] = (tokens, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return (wait, 0.0) if wait <= MAX_DELAY + 1e-9 else (0.0, wait - MAX_DELAY)


class Budget:
    """A request's work limit (the RULES' `counts="work"` limit of its path, if any) for the route to spend."""

    def __init__(self, buckets: Buckets | None, limit: Limit | None):
        self.buckets, self.limit = buckets, limit

    async def spend(self, key: str, amount: float) -> None:
        """Wait for `amount` of work, or raise a 429 with Retry-After when the wait would be too long."""
        if self.buckets is None or self.limit is None:
            return
        wait, refused = self.buckets.spend(self.limit, key, amount)
        if refused:
            rate, burst = self.buckets.rate(self.limit)
            seconds = max(1, math.ceil(refused))
            raise HTTPException(429, headers={"Retry-After": str(seconds)},
                                detail=f"Too much {self.limit.name} at once: one session may do about {rate:.2g} "
                                       f"multiply-adds a second (bursts of {burst:.2g}), and these requests would "
                                       f"wait longer than {MAX_DELAY:g} s for it. Try again in {seconds} s.")
        if wait:
            await self.buckets.sleep(wait)


class RateLimit:
    def __init__(self, app: ASGIApp, buckets: Buckets | None):
        self.app = app
        self.buckets = buckets  # None: no limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.buckets is not None:
            for method, path, limit in RULES:
                if scope["method"] != method or not path.match(scope["path"]):
                    continue
                if limit.counts == "work":  # the route knows the work: it spends it (Budget)
                    scope["work_limit"] = limit
                elif wait := self.buckets.take(limit, self._client(scope, limit)):
                    return await self._refuse(send, *self.buckets.refusal(limit, wait))
        await self.app(scope, receive, send)

    @staticmethod
    def _client(scope: Scope, limit: Limit) -> str:
        if limit.by == "session":
            if m := SESSION.match(scope["path"]):
                return m.group(1)
            for name, value in scope["headers"]:  # parsed as the app parses it, so both see the same session
                if name == b"cookie" and (sid := cookie_parser(value.decode("latin-1")).get(COOKIE)):
                    return sid
        return address(scope)

    @staticmethod
    async def _refuse(send: Send, seconds: int, message: str) -> None:
        body = json.dumps({"detail": message}).encode()
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
