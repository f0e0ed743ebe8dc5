"""Per-client rate limits on the expensive endpoints: token buckets, answered with 429 and Retry-After.

A client is its session for work on a session (so a class behind one NAT address is not one client), and its
address for what creates sessions or snapshots. Buckets live in each process: with several workers a client
gets up to that many times the rate.

Most limits count requests, and the middleware takes their token before the route runs. Training counts work
too (`counts="work"`): the work a request does grows with the network, the data and Play's speed, so the route,
which knows its session, spends its estimate (app/quick.py step_cost: multiply-adds) through a `Budget`. Work
over the budget waits its turn, as nginx's limit_req delays a burst, and only a queue longer than MAX_DELAY is
refused: one page playing on a large network slows down instead of failing.

Every request on those paths also spends server CPU time, measured as it runs (`Meter`: the CPU of the request's
own task on the event loop, and of its work in the threadpool), from two buckets at once: its session's and its
address's (`CPU_SESSION`, `CPU_ADDRESS`). A request is let in while neither bucket is in debt, and its CPU is
charged when it ends; a client in debt gets 429 with Retry-After until its buckets refill. Work is counted where
it happened rather than estimated, so a large network, a large upload, a prediction of many rows or a JSON answer
of megabytes all cost what they cost.
"""
import asyncio
import functools
import json
import math
import re
import threading
import time
from collections import OrderedDict, deque
from contextvars import ContextVar
from dataclasses import dataclass

import anyio.to_thread
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
    counts: str = "requests"  # or "work": multiply-adds, spent by the route (Budget); or "cpu": CPU seconds


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
    ("POST", re.compile(r"^/ui/(step|epoch|play|play-frame|phase|live/reveal)$"), TRAIN),  # Reveal takes a step
    ("POST", re.compile(r"^/api/sessions/[0-9a-f]{32}/(step|epoch)$|^/ui/(step|epoch|play|play-frame)$"), WORK),
    # A loss slice is forward passes over the next batch: the route spends them from the same work budget.
    ("GET", re.compile(r"^/api/sessions/[0-9a-f]{32}/loss-slice$"), WORK),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/gradient-check$"), CHECK),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/share$"), SHARE),
    ("POST", re.compile(r"^/api/sessions(/import)?$|^/api/snapshots/[^/]+/fork$|^/ui/import$|^/live/[^/]+/copy$"),
     CREATE),
    ("GET", re.compile(r"^/s/[^/]+$"), CREATE),
    ("POST", re.compile(r"^/ui/(config|reset|new-seed|regenerate|shape|upload)$"), REBUILD),
    ("POST", re.compile(r"^(/api/sessions/[0-9a-f]{32}|/ui)/predict$"), PREDICT),
    ("POST", re.compile(r"^/ui/(back|forward|rewind|edit|detailed|pause|speed)$|^/api/sessions/[0-9a-f]{32}/(parameters|rewind)$"),
     PAGE),
    ("POST", re.compile(r"^/ui/live/(start|stop|ask|close-poll)$|^/api/sessions/[0-9a-f]{32}/live(/stop)?$"), PAGE),
    ("GET", re.compile(r"^/ui/inspect$"), PAGE),
    ("POST", re.compile(r"^/ui/inspect(/close)?$"), PAGE),
]
MAX_BUCKETS = 100_000

# Server CPU time, in CPU seconds a second, per process (bench/README.md has the measurements behind them). A page
# Step of the default network costs about 1.5-3 ms, the API's 1 ms: one session's share is a quarter of a core,
# which Play at its fastest on the default network (about 0.15 s a second) stays well inside, and the burst lets
# in the largest single requests (a share, an import or a gradient check of the largest network: 0.2-2 s).
CPU_SESSION = Limit("server CPU time of one session", 0.25, 3.0, "session", counts="cpu")
# An address pays for the part of each request beyond ADDRESS_ALLOWANCE: a class of 300 behind one NAT address
# pressing Step once a second (300 presses of 2-4 ms a second, more than a core in all) costs its address nothing
# and each student's session all of it, while one client spreading the largest requests over many sessions is
# held to half a core a process however many sessions it opens.
CPU_ADDRESS = Limit("server CPU time of one address", 0.5, 5.0, "address", counts="cpu")
ADDRESS_ALLOWANCE = 0.02
# Requests of one session that run at once in a process; the others wait their turn before their budget is
# checked (the session's lock would make them take turns anyway), so that each is let in or refused knowing what
# the one before it cost: 16 threads on one session cannot start 16 requests on one full bucket.
MAX_RUNNING = 1
# Threadpool work of one address that runs at once in a process; the rest waits its turn. Work in threads holds the
# GIL for its Python parts, and the event loop, which answers every light request, waits for the GIL behind every
# thread that wants it: 16 threads of one client made the loop wait seconds (bench/README.md). The page's Step runs
# on the loop (app/quick.py) and never waits here; a class behind one address shares these lanes for its slower
# actions, which take turns on the GIL anyway.
THREADS_PER_ADDRESS = 1


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


class CpuBuckets:
    """Two token buckets per client in CPU seconds (CPU_SESSION, CPU_ADDRESS): `admit` before a request, `charge`
    after it. Buckets may go into debt (a request's CPU is known only once it ran); a client in debt waits."""

    def __init__(self, scale: float, clock=time.monotonic):
        self.scale, self.clock = scale, clock
        self._buckets: OrderedDict[tuple, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def rate(self, limit: Limit) -> tuple[float, float]:
        return limit.per_second * self.scale, limit.burst * self.scale

    def _level(self, limit: Limit, key: str, now: float) -> float:
        rate, burst = self.rate(limit)
        tokens, last = self._buckets.pop((limit.name, key), (burst, now))
        return min(burst, tokens + (now - last) * rate)

    def _store(self, limit: Limit, key: str, tokens: float, now: float) -> None:
        self._buckets[(limit.name, key)] = (tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)

    def _keys(self, session: str | None, address: str) -> list[tuple[Limit, str]]:
        return [(CPU_SESSION, session)] * (session is not None) + [(CPU_ADDRESS, address)]

    def admit(self, session: str | None, address: str) -> tuple[int, str] | None:
        """None, or (Retry-After seconds, message) of a 429 when either bucket is in debt. A request with no
        session yet (creating one, opening a share link) has only its address's bucket."""
        now = self.clock()
        with self._lock:
            for limit, key in self._keys(session, address):
                tokens = self._level(limit, key, now)
                self._store(limit, key, tokens, now)
                if tokens < 0:
                    rate, burst = self.rate(limit)
                    seconds = max(1, math.ceil(-tokens / rate))
                    return seconds, (f"Too much server CPU time: one {limit.by} may use about {rate:g} s of it a "
                                     f"second (bursts of {burst:g} s), and this one has used more. "
                                     f"Try again in {seconds} s.")
        return None

    def charge(self, session: str | None, address: str, seconds: float, address_seconds: float | None = None) -> None:
        """A request that `admit` let in used `seconds` of CPU (so far): its session pays them, its address
        `address_seconds` (by default what is beyond ADDRESS_ALLOWANCE)."""
        if address_seconds is None:
            address_seconds = max(0.0, seconds - ADDRESS_ALLOWANCE)
        now = self.clock()
        with self._lock:
            for limit, key in self._keys(session, address):
                amount = seconds if limit is CPU_SESSION else address_seconds
                self._store(limit, key, self._level(limit, key, now) - amount, now)

    def tokens(self, limit: Limit, key: str) -> float:
        """What the bucket holds now (negative: in debt)."""
        with self._lock:
            now = self.clock()
            tokens = self._level(limit, key, now)
            self._store(limit, key, tokens, now)
            return tokens


class Turns:
    """At most `capacity` holders of each key at once (in this process, on its event loop); the others wait, in
    the order they came: requests of a session (MAX_RUNNING), threadpool work of an address (THREADS_PER_ADDRESS)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._running: dict[str, int] = {}
        self._waiting: dict[str, deque] = {}

    async def take(self, session: str) -> None:
        if self._running.get(session, 0) < self.capacity:
            self._running[session] = self._running.get(session, 0) + 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(session, deque()).append(turn)
        try:
            await turn  # handed over by give_back, still counted as running
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back(session)  # it was handed this turn as it was cancelled: pass it on
            else:
                self._waiting[session].remove(turn)
                if not self._waiting[session]:
                    del self._waiting[session]
            raise

    def give_back(self, session: str) -> None:
        waiting = self._waiting.get(session)
        while waiting:
            turn = waiting.popleft()
            if not waiting:
                del self._waiting[session]
            if not turn.done():
                turn.set_result(None)
                return
        if (n := self._running.pop(session) - 1) > 0:
            self._running[session] = n

    def running(self, session: str) -> int:
        return self._running.get(session, 0)


class Meter:
    """The CPU one request uses, charged to its client's budgets (`cpu`, None: only counted): its task's turns on
    the event loop (`run`, charged when the request ends) and its work in the threadpool (`in_thread`, through
    meter_threads, charged as each piece ends), each measured with the CPU clock of the thread it ran on. Its
    threadpool work waits for its address's turn in `lanes` (None: no wait), and is then let in again or refused
    (`admit`): what ran meanwhile may have spent the client's budget."""

    def __init__(self, cpu: "CpuBuckets | None" = None, session: str | None = None, address: str = "",
                 lanes: "Turns | None" = None):
        self.cpu, self.session, self.address, self.lanes = cpu, session, address, lanes
        self.seconds = 0.0  # all of it so far
        self.on_loop = 0.0  # not charged yet
        self.allowance = ADDRESS_ALLOWANCE  # what of it the address does not pay
        self.admitted = False  # let in again at its first turn in the threadpool

    async def run(self, coro):
        """Await `coro`, counting the CPU of each of its turns on the event loop (between two awaits that waited)."""
        return await _Metered(coro, self)

    def charge(self, seconds: float) -> None:
        """Count `seconds` and charge them (the address pays what is beyond the request's allowance)."""
        self.seconds += seconds
        address_seconds = max(0.0, seconds - self.allowance)
        self.allowance = max(0.0, self.allowance - seconds)
        if self.cpu is not None:
            self.cpu.charge(self.session, self.address, seconds, address_seconds)

    def admit(self) -> tuple[int, str] | None:
        """Let in again, before the request's first work in the threadpool (only then: a later piece, such as
        checking the answer against its model, comes after the work, whose result must not be thrown away)."""
        self.admitted = True
        return None if self.cpu is None else self.cpu.admit(self.session, self.address)


class _Metered:
    """An awaitable that drives a coroutine as the task would, timing each `send` with the thread's CPU clock."""

    def __init__(self, coro, meter: Meter):
        self.coro, self.meter = coro, meter

    def __await__(self):
        coro, meter, clock = self.coro, self.meter, time.thread_time
        value, error = None, None
        while True:
            start = clock()
            try:
                yielded = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                return stop.value
            finally:
                meter.on_loop += clock() - start
            try:
                value, error = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in (cancellation): the coroutine handles it
                value, error = None, exc


METER: ContextVar[Meter | None] = ContextVar("cpu_meter", default=None)


def in_thread(work, *args, **kwargs):
    """work(*args, **kwargs) in a threadpool thread, its CPU added to the request's Meter (anyio runs it in a copy
    of the request's context, so it sees the request's Meter)."""
    meter = METER.get()
    if meter is None:
        return work(*args, **kwargs)
    start = time.thread_time()
    try:
        return work(*args, **kwargs)
    finally:
        meter.charge(time.thread_time() - start)


async def unmetered(func, *args):
    """func(*args) in the threadpool outside the request's Meter: neither charged nor waiting for its address's
    turn (for releasing a session's lock, which a request waiting in that turn may need)."""
    token = METER.set(None)
    try:
        return await anyio.to_thread.run_sync(functools.partial(func, *args))
    finally:
        METER.reset(token)


def meter_threads() -> None:
    """Make every call to the threadpool (anyio.to_thread.run_sync: FastAPI's plain `def` routes and dependencies,
    app/quick.py, Starlette's form parsing) wait for its address's lane, be refused with a 429 if its client's budget
    was spent meanwhile, and add its CPU to the Meter of the request that made it. Installed once per process; a call outside a metered request only pays for a ContextVar lookup."""
    if getattr(anyio.to_thread.run_sync, "metered", False):
        return
    run_sync = anyio.to_thread.run_sync

    @functools.wraps(run_sync)
    async def metered(func, *args, **kwargs):
        meter = METER.get()
        if meter is None or meter.lanes is None:
            return await run_sync(functools.partial(in_thread, func), *args, **kwargs)
        await meter.lanes.take(meter.address)
        try:
            if not meter.admitted and (refused := meter.admit()) is not None:
                seconds, message = refused
                raise HTTPException(429, detail=message, headers={"Retry-After": str(seconds)})
            return await run_sync(functools.partial(in_thread, func), *args, **kwargs)
        finally:
            meter.lanes.give_back(meter.address)

    metered.metered = True
    anyio.to_thread.run_sync = metered


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
    def __init__(self, app: ASGIApp, buckets: Buckets | None, cpu: CpuBuckets | None = None):
        self.app = app
        self.buckets = buckets  # None: no limits
        self.cpu = cpu  # None: no CPU budgets
        self.turns = Turns(MAX_RUNNING)  # per session
        self.lanes = Turns(THREADS_PER_ADDRESS)  # per address, in the threadpool
        if cpu is not None:
            meter_threads()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.buckets is None:
            return await self.app(scope, receive, send)
        rules = [limit for method, path, limit in RULES if scope["method"] == method and path.match(scope["path"])]
        if not rules:
            return await self.app(scope, receive, send)
        if self.cpu is None:
            return await self._limited(scope, receive, send, rules)
        session, client = self._session(scope), address(scope)
        if session is not None:
            await self.turns.take(session)
        try:
            if refused := self.cpu.admit(session, client):
                return await self._refuse(send, *refused)
            meter = Meter(self.cpu, session, client, self.lanes)
            token = METER.set(meter)
            try:
                await meter.run(self._limited(scope, receive, send, rules))
            finally:
                METER.reset(token)
                meter.charge(meter.on_loop)
        finally:
            if session is not None:
                self.turns.give_back(session)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, rules: list[Limit]) -> None:
        """The request-counting limits of its path, then the app."""
        for limit in rules:
            if limit.counts == "work":  # the route knows the work: it spends it (Budget)
                scope["work_limit"] = limit
            elif wait := self.buckets.take(limit, self._client(scope, limit)):
                return await self._refuse(send, *self.buckets.refusal(limit, wait))
        await self.app(scope, receive, send)

    @staticmethod
    def _session(scope: Scope) -> str | None:
        """The session the request names, in its path or its cookie; None when it has none."""
        if m := SESSION.match(scope["path"]):
            return m.group(1)
        for name, value in scope["headers"]:  # parsed as the app parses it, so both see the same session
            if name == b"cookie" and (sid := cookie_parser(value.decode("latin-1")).get(COOKIE)):
                return sid
        return None

    @classmethod
    def _client(cls, scope: Scope, limit: Limit) -> str:
        return (limit.by == "session" and cls._session(scope)) or address(scope)

    @staticmethod
    async def _refuse(send: Send, seconds: int, message: str) -> None:
        body = json.dumps({"detail": message}).encode()
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", str(seconds).encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
