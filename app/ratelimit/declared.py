"""Limits declared on the routes: `@router.post(..., dependencies=[Limited(TRAIN, WORK)])`.

`Limited` takes its limits' tokens once the request's body is read, all or none, and gives them back when the request
is refused further on (a refused request spends nothing); then it waits for the session's turn (MAX_RUNNING). A route
whose work depends on what it is asked (training, loss slices) spends it through `Budget`, a dependency: work beyond
CHEAP_WORK makes the request heavy (so does `heavy_if`), and what it did not run is given back.
tests/test_limits_declared.py walks the app's routes and fails on one that declares nothing."""
import math
from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute

from .buckets import Buckets
from .limits import CHEAP_WORK, HEAVY_WORK, MAX_DELAY, Limit
from .meter import COOKIE, METER, address


def _refuse(seconds: int, message: str) -> HTTPException:
    return HTTPException(429, detail=message, headers={"Retry-After": str(seconds)})


def make_heavy() -> None:
    """The request is heavy: its client's CPU budget is checked now (429 when in debt), and its threadpool work
    takes turns with the rest of its address's heavy work."""
    meter = METER.get()
    if meter is None or meter.heavy:
        return
    meter.heavy = True
    # Let in now, and again at its first turn in its address's lane (meter_threads): what ran meanwhile counts.
    if meter.cpu is not None and (refused := meter.cpu.admit(meter.session, meter.address)) is not None:
        raise _refuse(*refused)


class Limiter:
    """What one route declares (see Limited)."""

    def __init__(self, limits: tuple[Limit, ...], turn: bool, free: str | None):
        if not limits and not free:
            raise ValueError("a route with no limit says why (free=...)")
        self.limits, self.turn, self.free = limits, turn, free
        self.work = next((limit for limit in limits if limit.counts == "work"), None)

    def session_key(self, request: Request) -> str | None:
        return request.path_params.get("session_id") or request.cookies.get(COOKIE) or None

    async def __call__(self, request: Request):
        state = request.app.state
        buckets: Buckets | None = state.rate_limits
        request.state.limiter = self
        if buckets is None:  # limits are off
            yield self
            return
        session, client = self.session_key(request), address(request.scope)
        # Work is spent by the route (Budget); requests are counted here, all of their limits or none.
        counted = [(limit, session if limit.by == "session" and session else client)
                   for limit in self.limits if limit.counts == "requests"]
        wait, refusing = buckets.take_all(counted)
        if refusing is not None:
            raise _refuse(*buckets.refusal(refusing, wait))
        turn = self.turn and session is not None
        if turn:
            await state.turns.take(session)
        try:
            yield self
        except HTTPException as exc:
            if exc.status_code == 429:  # refused further on (work, CPU, a quota): it costs no request either
                for limit, key in counted:
                    buckets.give(limit, key, 1)
            raise
        finally:
            if turn:
                state.turns.give_back(session)


def Limited(*limits: Limit, turn: bool = True, free: str | None = None):  # noqa: N802
    """A route's limits, as a dependency: `dependencies=[Limited(TRAIN, WORK)]`. Whether a request is heavy
    depends on what it asks (heavy_if, Budget), and the route says so before its work goes to the threadpool.
    `turn=False` for a route that never ends by itself (an event stream). `free="why"` for a route that does no
    work of ours."""
    return Depends(Limiter(limits, turn, free))


def declared(route: APIRoute, extra: list | tuple = ()) -> list[Limiter]:
    """The Limiters a route declares (its own dependencies and its routers')."""
    return [d.dependency for d in [*extra, *route.dependencies] if isinstance(d.dependency, Limiter)]


def routes(app) -> Iterator[tuple[APIRoute, list[Limiter]]]:
    """Every APIRoute of the app with the Limiters it declares, through included routers."""
    def walk(items, inherited):
        for item in items:
            if hasattr(item, "original_router"):  # FastAPI's included router
                context = item.include_context
                yield from walk(item.original_router.routes, [*inherited, *context.dependencies])
            elif isinstance(item, APIRoute):
                yield item, declared(item, inherited)

    yield from walk(app.router.routes, [])


class Budget:
    """A request's work limit (its route's `counts="work"` limit, if any) for the route to spend once it knows its
    session's cost, and to give back what it did not run."""

    def __init__(self, buckets: Buckets | None, limit: Limit | None, address: str = ""):
        self.buckets, self.limit, self.address = buckets, limit, address
        self.spent: list[tuple[Limit, str, float]] = []

    async def spend(self, key: str, amount: float) -> None:
        """Wait for `amount` of work, or raise a 429 with Retry-After when the wait would be too long. Work
        beyond CHEAP_WORK is heavy: its address's budget pays it too, and its client's CPU budget is checked."""
        if self.buckets is None or self.limit is None:
            return
        charges = [(self.limit, key)]
        if amount > CHEAP_WORK:
            make_heavy()
            charges.append((HEAVY_WORK, self.address))
        waits = []
        for limit, bucket in charges:
            wait, refused = self.buckets.spend(limit, bucket, amount)
            if refused:
                self.give_back(amount)  # what was spent on the others
                rate, burst = self.buckets.rate(limit)
                seconds = max(1, math.ceil(refused))
                per = "session" if limit.by == "session" else "address, for its large requests,"
                raise _refuse(seconds, f"Too much {limit.name} at once: one {per} may do about {rate:.2g} "
                                       f"multiply-adds a second (bursts of {burst:.2g}), and these requests would "
                                       f"wait longer than {MAX_DELAY:g} s for it. Try again in {seconds} s.")
            self.spent.append((limit, bucket, amount))
            waits.append(wait)
        if wait := max(waits):
            await self.buckets.sleep(wait)

    def give_back(self, amount: float) -> None:
        """Work that was spent but not done (refused, stopped, thrown away): up to `amount` back to each bucket."""
        for limit, bucket, spent in self.spent:
            self.buckets.give(limit, bucket, min(amount, spent))
        self.spent = [(limit, bucket, spent - min(amount, spent)) for limit, bucket, spent in self.spent]


async def get_budget(request: Request) -> Budget:
    limiter = getattr(request.state, "limiter", None)
    return Budget(request.app.state.rate_limits, limiter.work if limiter else None, address(request.scope))


def heavy_if(work: float) -> None:
    """Make the request heavy (make_heavy) when `work` multiply-adds is more than CHEAP_WORK."""
    if work > CHEAP_WORK:
        make_heavy()


def take_bytes(request: Request, limit: Limit, amount: int) -> None:
    """Spend `amount` bytes of an address's quota (STORED_QUOTA), or raise its 429 (nothing spent)."""
    buckets: Buckets | None = request.app.state.rate_limits
    if buckets is not None and amount > 0 and (wait := buckets.take(limit, address(request.scope), amount)):
        raise _refuse(*buckets.refusal(limit, wait))
