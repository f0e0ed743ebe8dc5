"""Short work on a session runs on the event loop; long work, and work that must wait for a lock (the session's,
or the storage file's while another thread saves), in threads.

A hop to the threadpool and back costs more than a small network's whole step (bench/README.md has the figures),
and under load the threads contend with the event loop for the GIL. But while work runs on the loop no other
request moves, so only work estimated to be short does: requests on large networks, many steps, and storage over
a network (Redis) go to the threadpool.
"""
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool

from app.core.session import Session
from app.datasets import DATASETS
from app.ratelimit import Budget, unmetered
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


# Rows the page's pictures evaluate when a session is drawn (app/web/training.py PICTURE_ROWS, about).
BUILD_PICTURE_ROWS = 4_000


def build_cost(request) -> int:
    """Multiply-adds of building a session from a CreateSession and drawing it once, roughly: each row evaluated
    twice and the pictures once. A CSV's rows are guessed from its bytes (8 a row at the least)."""
    spec = request.dataset
    info = DATASETS.get(spec.name or "circle")
    if spec.inputs is not None:
        rows = len(spec.inputs) + len(spec.test_inputs or [])
    elif spec.csv is not None:
        rows = len(spec.csv) // 8
    else:
        rows = spec.samples or (info.default_samples if info is not None and info.default_samples else 500)
    layers = request.layers or [2, 4, 2, 1]
    params = sum((a + 1) * b for a, b in zip(layers, layers[1:]))
    return (2 * rows + BUILD_PICTURE_ROWS) * params


def check_cost(session: Session) -> int:
    """Multiply-adds of a gradient check: two forward passes of the batch for every parameter."""
    params = session.trainer.net.n_params
    return 2 * params * session.trainer.batch_size * params


def steps_within(session: Session, work: int, picture_rows: int = 0) -> int:
    """The most steps whose step_cost stays within `work` (0 when not even one does)."""
    data, trainer = session.dataset, session.trainer
    per_step = (3 * trainer.batch_size + len(data.train_x) + len(data.test_x)) * trainer.net.n_params
    return max(0, (work - picture_rows * trainer.net.n_params) // per_step)


async def find(store: SessionStore, sid: str) -> Session | None:
    """store.get: on the loop when storage is local (a lookup in memory, rarely a load from the file)."""
    return store.get(sid) if store.local else await run_in_threadpool(store.get, sid)


@cache
def _adapter(annotation) -> TypeAdapter:
    return TypeAdapter(annotation)


def _dump(annotation, content) -> bytes:
    adapter = _adapter(annotation)
    return adapter.dump_json(adapter.validate_python(content, from_attributes=True), by_alias=True)


# Numbers pydantic checks and writes in one call: about a millisecond, during which it holds the GIL.
CHUNK = 20_000


def _numbers(value) -> int:
    """About how many numbers `value` holds (each list's first item taken as typical)."""
    if isinstance(value, list):
        return len(value) * _numbers(value[0]) if value else 1
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    return 1


def _list_item(annotation):
    """X of list[X] (or of list[X] | None); None for anything else."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is list:
            return typing.get_args(candidate)[0]
    return None


def _dump_list(annotation, value: list) -> list[bytes]:
    """The JSON of a long list in parts of about CHUNK numbers: the same bytes as one call would write, joined."""
    item = _list_item(annotation)
    parts, group, size = [b"["], [], 0

    def flush() -> None:
        nonlocal group, size
        if group:
            parts.extend((_dump(annotation, group)[1:-1], b","))
            group, size = [], 0

    for v in value:
        n = _numbers(v)
        if n > CHUNK and isinstance(v, list) and _list_item(item) is not None:  # a long list itself: in parts
            flush()
            parts.extend((*_dump_list(item, v), b","))
        else:
            if size + n > CHUNK:
                flush()
            group.append(v)
            size += n
    flush()
    if len(parts) > 1:
        parts.pop()  # the last comma
    parts.append(b"]")
    return parts


class Parts(Response):
    """An answer sent in parts, each its own write, so that the event loop serves other clients between them; with
    its Content-Length, like any other answer."""

    def __init__(self, parts: list[bytes], status_code: int = 200, media_type: str = "application/json"):
        self.parts = parts
        super().__init__(None, status_code=status_code, media_type=media_type)
        self.headers["content-length"] = str(sum(map(len, parts)))

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for part in self.parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def _long_lists(model, content: dict, path: tuple = ()) -> list[tuple[tuple, object]]:
    """(path, annotation) of the fields of `model` in `content`, and of its nested models, that hold lists of more
    than CHUNK numbers."""
    found = []
    for name, field in model.model_fields.items():
        value = content.get(name) if isinstance(content, dict) else None
        if isinstance(value, list) and _list_item(field.annotation) is not None and _numbers(value) > CHUNK:
            found.append(((*path, name), field.annotation))
        elif isinstance(value, dict) and isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found += _long_lists(field.annotation, value, (*path, name))
    return found


def _emptied(content: dict, path: tuple) -> dict:
    """A copy of `content` with the list at `path` replaced by []."""
    head, *rest = path
    return {**content, head: [] if not rest else _emptied(content[head], tuple(rest))}


def json_answer(model: type, content, status: int = 200) -> Response:
    """`content` checked against the route's response model and written as JSON, byte for byte as FastAPI writes
    it (TypeAdapter.dump_json, by alias), but where this runs, and CHUNK numbers at a time.

    FastAPI writes its routes' answers on the event loop, which a step of the largest network (18 MB of JSON) or a
    prediction of 10,000 rows (100 MB) would hold for up to a second, and pydantic holds the GIL while it checks and
    writes, wherever it runs: one call for the whole answer stops the event loop, every other client with it, just
    as long from a thread. So the long lists are written apart, in chunks, and put in their place in the rest."""
    lists = _long_lists(model, content) if isinstance(content, dict) else []
    if not lists:
        return Response(_dump(model, content), status_code=status, media_type="application/json")
    rest = content
    for path, _ in lists:
        rest = _emptied(rest, path)
    body = _dump(model, rest)
    needles = [b'"' + path[-1].encode() + b'":[]' for path, _ in lists]
    at = [body.find(needle) for needle in needles]
    if any(body.count(needle) != 1 for needle in needles) or at != sorted(at):  # not told apart: one call
        return Response(_dump(model, content), status_code=status, media_type="application/json")
    parts, start = [], 0
    for (path, annotation), needle, where in zip(lists, needles, at):
        value = content
        for key in path:
            value = value[key]
        parts.append(body[start:where + len(needle) - 2])
        parts += _dump_list(annotation, value)
        start = where + len(needle)
    parts.append(body[start:])
    return Parts(parts, status)


@dataclass(frozen=True)
class Steps:
    """Training work: `steps` steps, and the rows the page's pictures evaluate once (`picture_rows`). Its cost is
    step_cost's; what a request did not run (stopped early, thrown away, refused) is given back to its budget."""
    steps: int
    picture_rows: int = 0


async def locked(store: SessionStore, session: Session, work: Callable[[], T], cost: "int | Steps",
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
