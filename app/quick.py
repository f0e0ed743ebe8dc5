"""Short work on a session runs on the event loop; long work, and work that must wait for a lock, in threads.

A hop to the threadpool and back costs more than a small network's whole step (bench/README.md has the figures),
and under load the threads contend with the event loop for the GIL. But while work runs on the loop no other
request moves, so only work estimated to be short does: requests on large networks, many steps, and storage over
a network (Redis) go to the threadpool.
"""
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from app.core.session import Session
from app.ratelimit import Budget
from app.store import SessionStore

T = TypeVar("T")

# Multiply-adds a request may do on the event loop: a couple of milliseconds of NumPy at most.
QUICK_WORK = 5_000_000


def step_cost(session: Session, steps: int, picture_rows: int = 0) -> int:
    """Multiply-adds of `steps` steps, roughly: each batch forward and back (about 3 passes), the evaluation
    of every row after each step, and the rows the page's pictures evaluate once (`picture_rows`)."""
    data, trainer = session.dataset, session.trainer
    rows = steps * (3 * trainer.batch_size + len(data.train_x) + len(data.test_x)) + picture_rows
    return rows * trainer.net.n_params


def steps_within(session: Session, work: int, picture_rows: int = 0) -> int:
    """The most steps whose step_cost stays within `work` (0 when not even one does)."""
    data, trainer = session.dataset, session.trainer
    per_step = (3 * trainer.batch_size + len(data.train_x) + len(data.test_x)) * trainer.net.n_params
    return max(0, (work - picture_rows * trainer.net.n_params) // per_step)


async def find(store: SessionStore, sid: str) -> Session | None:
    """store.get: on the loop when storage is local (a lookup in memory, rarely a load from the file)."""
    return store.get(sid) if store.local else await run_in_threadpool(store.get, sid)


async def locked(store: SessionStore, session: Session, work: Callable[[], T], cost: int,
                 budget: Budget | None = None) -> T:
    """work() under the session's lock: on the event loop when it is short, storage is local and the lock is
    free at once; otherwise in the threadpool, waiting there for the lock. With a `budget`, the cost is spent
    from the session's share of work first (app/ratelimit.py): it may wait for it, or be refused with a 429. The
    CPU the work uses counts against the request's CPU budget wherever it runs (app/ratelimit.py Meter)."""
    if budget is not None:
        await budget.spend(session.id, cost)
    if cost <= QUICK_WORK and store.local and session.lock.acquire(blocking=False):
        try:
            return work()
        finally:
            session.lock.release()
    return await run_in_threadpool(_held, session, work)


def _held(session: Session, work: Callable[[], T]) -> T:
    with session.lock:
        return work()
