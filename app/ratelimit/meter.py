"""Metering: the CPU each request uses, charged to its session and its address (CpuBuckets), measured as it runs.

`Metering` (a middleware) gives every request a `Meter`: its turns on the event loop and its work in the threadpool
are timed with the CPU clock of the thread they ran on (CpuBuckets.cpu_clock) and charged when they end. A heavy
request (app/ratelimit/declared.py) also waits for its address's lane before each piece of threadpool work, and is
let in again then, or refused: what ran meanwhile may have spent its client's budget."""
import functools
import time
import re
from contextvars import ContextVar

import anyio.to_thread
from fastapi import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from .buckets import CpuBuckets
from .limits import ADDRESS_ALLOWANCE, HEAVY_THREADS_PER_ADDRESS
from .turns import Turns

SESSION = re.compile(r"^/api/sessions/([0-9a-f]{32})/")
COOKIE = "bp_session"
UNMETERED = ("/static/", "/vendor/")  # files: no work of ours


def address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def session_of(scope: Scope) -> str | None:
    """The session the request names, in its path or its cookie; None when it has none."""
    if m := SESSION.match(scope["path"]):
        return m.group(1)
    for name, value in scope["headers"]:  # parsed as the app parses it, so both see the same session
        if name == b"cookie" and (sid := cookie_parser(value.decode("latin-1")).get(COOKIE)):
            return sid
    return None


class Meter:
    """The CPU one request uses, charged to its client's budgets (`cpu`; None: only counted)."""

    def __init__(self, cpu: CpuBuckets | None = None, session: str | None = None, address: str = "",
                 lanes: Turns | None = None, cpu_clock=None):
        self.cpu, self.session, self.address, self.lanes = cpu, session, address, lanes
        self.cpu_clock = cpu_clock or (cpu.cpu_clock if cpu is not None else time.thread_time)
        self.seconds = 0.0  # all of it so far
        self.on_loop = 0.0  # not charged yet
        self.allowance = ADDRESS_ALLOWANCE  # what of it the address does not pay
        self.heavy = False  # set by the route's Limited, or by Budget for heavy training work
        self.admitted = False  # a heavy request is let in again at its first turn in the threadpool

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

    def next_part(self) -> None:
        """A long request that does the work of many (Play's stream, a frame at a time): what it ran so far is
        charged now, and what follows has an allowance of its own, as the requests it stands for had."""
        self.charge(self.on_loop)
        self.on_loop = 0.0
        self.allowance = ADDRESS_ALLOWANCE

    def admit(self) -> tuple[int, str] | None:
        """None, or the 429 of a heavy request whose client is in CPU debt."""
        self.admitted = True
        return None if self.cpu is None else self.cpu.admit(self.session, self.address)


class _Metered:
    """An awaitable that drives a coroutine as the task would, timing each `send` with the thread's CPU clock."""

    def __init__(self, coro, meter: Meter):
        self.coro, self.meter = coro, meter

    def __await__(self):
        coro, meter, clock = self.coro, self.meter, self.meter.cpu_clock
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
    """work(*args, **kwargs), its CPU added to the request's Meter (anyio runs it in a copy of the request's
    context, so it sees the request's Meter)."""
    meter = METER.get()
    if meter is None:
        return work(*args, **kwargs)
    start = meter.cpu_clock()
    try:
        return work(*args, **kwargs)
    finally:
        meter.charge(meter.cpu_clock() - start)


async def unmetered(func, *args):
    """func(*args) in the threadpool outside the request's Meter: neither charged nor waiting for its address's
    lane (for releasing a session's lock, which a request waiting in that lane may need)."""
    token = METER.set(None)
    try:
        return await anyio.to_thread.run_sync(functools.partial(func, *args))
    finally:
        METER.reset(token)


def meter_threads() -> None:
    """Make every call to the threadpool (anyio.to_thread.run_sync: FastAPI's plain `def` routes and dependencies,
    app/quick/scheduler.py, Starlette's form parsing) add its CPU to the Meter of the request that made it, and, for a
    heavy request, wait for its address's lane and be refused with a 429 if its client's budget was spent meanwhile.
    Installed once per process; a call outside a metered request only pays for a ContextVar lookup."""
    if getattr(anyio.to_thread.run_sync, "metered", False):
        return
    run_sync = anyio.to_thread.run_sync

    @functools.wraps(run_sync)
    async def metered(func, *args, **kwargs):
        meter = METER.get()
        if meter is None or meter.lanes is None or not meter.heavy:
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


class Metering:
    """Every request but a file's runs under a Meter; nothing is refused here (routes declare their limits)."""

    def __init__(self, app: ASGIApp, cpu: CpuBuckets | None = None):
        self.app, self.cpu = app, cpu
        self.lanes = Turns(HEAVY_THREADS_PER_ADDRESS)  # per address, for heavy work in the threadpool
        if cpu is not None:
            meter_threads()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.cpu is None or scope["path"].startswith(UNMETERED):
            return await self.app(scope, receive, send)
        meter = Meter(self.cpu, session_of(scope), address(scope), self.lanes)
        token = METER.set(meter)
        try:
            await meter.run(self.app(scope, receive, send))
        finally:
            METER.reset(token)
            meter.charge(meter.on_loop)
