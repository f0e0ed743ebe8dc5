"""Per-client rate limits on the expensive endpoints: token buckets, answered with 429 and Retry-After.

A client is its session for work on a session (so a class behind one NAT address is not one client), and its
address for what creates sessions or snapshots. Buckets live in each process: with several workers a client
gets up to that many times the rate.
"""
import json
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

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


# Play sends about 30 steps a second; a class of 300 behind one address opens up to 600 sessions at once.
TRAIN = Limit("training steps", 60, 120, "session")
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
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/gradient-check$"), CHECK),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/share$"), SHARE),
    ("POST", re.compile(r"^/api/sessions(/import)?$|^/api/snapshots/[^/]+/fork$|^/ui/import$"), CREATE),
    ("GET", re.compile(r"^/s/[^/]+$"), CREATE),
    ("POST", re.compile(r"^/ui/(config|reset|new-seed|regenerate|shape|upload)$"), REBUILD),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/predict$"), PREDICT),
    ("POST", re.compile(r"^/ui/(back|rewind|edit|detailed|pause|speed)$|^/api/sessions/[0-9a-f]{32}/(parameters|rewind)$"),
     PAGE),
    ("GET", re.compile(r"^/ui/inspect$"), PAGE),
    ("POST", re.compile(r"^/ui/inspect(/close)?$"), PAGE),
]
MAX_BUCKETS = 100_000


def address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class Buckets:
    def __init__(self, scale: float, clock=time.monotonic):
        self.scale, self.clock = scale, clock
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


class RateLimit:
    def __init__(self, app: ASGIApp, buckets: Buckets | None):
        self.app = app
        self.buckets = buckets  # None: no limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.buckets is not None:
            limit = next((l for method, path, l in RULES if scope["method"] == method and path.match(scope["path"])),
                         None)
            if limit is not None:
                wait = self.buckets.take(limit, self._client(scope, limit))
                if wait:
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
