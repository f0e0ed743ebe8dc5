"""Where work on a session runs: on the event loop when it is short (QUICK_WORK), storage is local and the session's
lock is free at once; otherwise in the threadpool, waiting there for the lock (app/quick/__init__.py says why)."""
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from app.core.session import Session
from app.ratelimit import Budget, unmetered
from app.store import SessionStore

from .costs import Steps, step_cost
from .json_parts import json_answer

T = TypeVar("T")

# Multiply-adds a request may do on the event loop: a couple of milliseconds of NumPy at most.
QUICK_WORK = 5_000_000


async def find(store: SessionStore, sid: str) -> Session | None:
    """store.get: on the loop when storage is local (a lookup in memory, rarely a load from the file)."""
    return store.get(sid) if store.local else await run_in_threadpool(store.get, sid)


async def locked(store: SessionStore, session: Session, work: Callable[[], T], cost: int | Steps,
                 budget: Budget | None = None, answer: type | None = None) -> T:
    """work() under the session's lock: on the event loop when it is short, storage is local and the lock is
    free at once; otherwise in the threadpool, waiting there for the lock. With a `budget`, the cost is spent
    from the session's share of work first (app/ratelimit): it may wait for it, or be refused with a 429; training
    (`Steps`) gets back what it did not run. The CPU the work uses counts against the request's CPU budget wherever
    it runs (app/ratelimit/meter.py). With an `answer` model, work()'s result is written as that model's JSON
    (json_answer) where the work ran, after the lock is released."""
    amount = cost if isinstance(cost, int) else step_cost(session, cost.steps, cost.picture_rows)
    if budget is not None:
        await budget.spend(session.id, amount)
    ran = [0]

    def counted() -> T:
        before = session.steps_ran
        try:
            return work()
        finally:
            ran[0] = session.steps_ran - before

    try:
        if amount <= QUICK_WORK and store.local and not _storage_busy(store) and session.lock.acquire(blocking=False):
            try:
                result = counted()
            finally:
                if _storage_busy(store):  # a thread began saving meanwhile: this save would wait for it on the loop
                    await unmetered(session.lock.release)
                else:
                    session.lock.release()
            return result if answer is None else json_answer(answer, result)
        return await run_in_threadpool(_held, session, counted, answer)
    finally:
        if budget is not None and isinstance(cost, Steps) and ran[0] < cost.steps:
            budget.give_back(amount - step_cost(session, ran[0], cost.picture_rows))


def _storage_busy(store: SessionStore) -> bool:
    """Storage is in use by a thread: taking the session's lock (which checks its version) and saving it would wait
    on the loop, every other request with it, for as long as that thread's save takes (a session of the largest
    network saving 10,000 new steps and its rewind points: most of a second, bench/README.md)."""
    busy = getattr(store.backend, "busy", None)
    return busy is not None and busy()


def _held(session: Session, work: Callable[[], T], answer: type | None = None) -> T:
    with session.lock:
        result = work()
    return result if answer is None else json_answer(answer, result)
