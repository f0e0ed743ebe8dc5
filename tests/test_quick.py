"""Short work on the event loop, long work and waiting in threads (app/quick/)."""
import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from app.quick import costs, scheduler
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.web.training import PICTURE_ROWS
from app.store import SessionStore
from app.store.sqlite_backend import SQLiteBackend
from helpers import HX, state


def run_async(coro):
    """asyncio.run in a thread of its own: once the browser tests have started Playwright's sync API, the
    main thread already has a running event loop and asyncio.run refuses to start another there."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def store(tmp_path):
    s = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=3600), max_sessions=10, ttl=3600)
    yield s
    s.close()


@pytest.fixture
def stored(store):
    session = build_session(CreateSession())
    store.add(session)
    return session


def where(store, session, cost) -> str:
    """'loop' or 'thread': where scheduler.locked ran the work, which must find the lock held."""
    async def run():
        loop_thread = threading.get_ident()

        def work():
            assert session.lock.locked()
            return "loop" if threading.get_ident() == loop_thread else "thread"

        return await scheduler.locked(store, session, work, cost)

    return run_async(run())


def test_short_work_runs_on_the_loop_and_long_work_in_a_thread(store, stored):
    assert where(store, stored, scheduler.QUICK_WORK) == "loop"
    assert where(store, stored, scheduler.QUICK_WORK + 1) == "thread"
    assert not stored.lock.locked()


def test_storage_over_a_network_always_runs_in_a_thread(store, stored):
    assert store.local is True
    assert where(SimpleNamespace(local=False), stored, 1) == "thread"


def test_a_held_lock_is_waited_for_in_a_thread_while_the_loop_goes_on(store, stored):
    order = []

    async def run():
        stored.lock.acquire()
        loop_thread = threading.get_ident()

        def work():
            order.append(("work", threading.get_ident() != loop_thread))

        task = asyncio.ensure_future(scheduler.locked(store, stored, work, 1))
        await asyncio.sleep(0.05)
        order.append(("loop moved", True))  # the waiting request did not block the loop
        threading.Thread(target=stored.lock.release).start()  # a Lock may be released by any thread
        await task

    run_async(run())
    assert order == [("loop moved", True), ("work", True)]
    assert not stored.lock.locked()


def test_an_error_in_the_work_releases_the_lock(store, stored):
    async def run():
        await scheduler.locked(store, stored, lambda: 1 / 0, 1)

    with pytest.raises(ZeroDivisionError):
        run_async(run())
    assert not stored.lock.locked()


def test_a_default_step_is_quick_and_a_large_network_is_not():
    small = build_session(CreateSession())
    assert costs.step_cost(small, 1, PICTURE_ROWS) < scheduler.QUICK_WORK / 10
    assert costs.step_cost(small, 1000) > scheduler.QUICK_WORK  # many steps go to a thread
    large = build_session(CreateSession(layers=[2, 64, 64, 64, 1], dataset={"name": "spiral", "samples": 2000}))
    assert costs.step_cost(large, 1, PICTURE_ROWS) > scheduler.QUICK_WORK


def test_steps_on_the_loop_and_a_long_run_in_a_thread_interleave_exactly(client):
    """Single steps (quick) arrive while a 2000-step request (not quick) trains the same session."""
    sid = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    steps: list[int] = []
    long = threading.Thread(target=lambda: client.post(f"/api/sessions/{sid}/step", json={"steps": 2000}))
    shorts = [threading.Thread(target=lambda: steps.append(
        client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()["step"])) for _ in range(40)]
    long.start()
    for t in shorts:  # spread over the long request's run
        time.sleep(0.005)
        t.start()
    for t in [long, *shorts]:
        t.join()
    assert len(set(steps)) == 40
    final = client.get(f"/api/sessions/{sid}").json()
    assert final["step"] == 2040
    ref = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    assert client.post(f"/api/sessions/{ref}/step", json={"steps": 2040}).json()["weights"] == final["weights"]


# Many requests at once: on the event loop and in threads, each step counts exactly once.


def api_step(client, sid) -> int:
    return client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()["step"]


def page_step(client, sid) -> int:
    r = client.post("/ui/step", headers=HX)  # the cookie names sid
    return int(re.search(r'<svg id="network" data-step="(\d+)"', r.text).group(1))


@pytest.mark.parametrize("press", [api_step, page_step])
@pytest.mark.parametrize("where", ["event loop", "threads"])
def test_a_hundred_concurrent_steps_move_the_counter_by_exactly_a_hundred(client, monkeypatch, press, where):
    if where == "threads":  # every step through the threadpool, so that they contend for the session's lock
        monkeypatch.setattr(scheduler, "QUICK_WORK", 0)
    sid = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    client.cookies.set("bp_session", sid)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(press(client, sid))) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == list(range(1, 101))
    ref = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    assert client.post(f"/api/sessions/{ref}/step", json={"steps": 100}).json()["weights"] == state(client, sid)["weights"]
