"""Budgets of server CPU time (app/ratelimit.py CpuBuckets, Meter, Turns): each session and each address may use so
many CPU seconds a second; what a request used is measured where it ran and charged when it ends, and a client in
debt gets 429 with Retry-After while other sessions and addresses go on."""
import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from app import ratelimit
from app.quick import json_parts, scheduler
from app.api.answers import prediction, step_result
from app.api.schemas import Prediction, StepResult
from app.core.session import Session
from app.main import create_app
from app.ratelimit import ADDRESS_ALLOWANCE, CPU_ADDRESS, CPU_SESSION, METER, CpuBuckets, Limit, Meter, in_thread
from app.store.working_set import StoredLock
from helpers import HX, page_session


class FakeCpu:
    """A CPU clock that moves only when a test says the work used CPU (burn): no test reads the machine's real CPU
    time, so none depends on how fast or how busy the machine is."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def burn(self, seconds: float) -> None:
        self.now += seconds


CPU = FakeCpu()
burn = CPU.burn


def run(coro):
    """asyncio.run(coro) in a thread of its own: the browser tests, earlier in a full run, leave an event loop
    running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def fake_clock(budgets: CpuBuckets) -> list:
    """The buckets' wall clock as a list to move by hand; their CPU clock is CPU."""
    clock = [0.0]
    budgets.clock, budgets.cpu_clock = (lambda: clock[0]), CPU
    return clock


def all_heavy(monkeypatch) -> None:
    """Every request that declares or estimates any work is heavy (CHEAP_WORK 0)."""
    from app.ratelimit import declared
    monkeypatch.setattr(declared, "CHEAP_WORK", -1)


# ---- the buckets ----------------------------------------------------------------------------------------------

def test_a_session_in_debt_is_refused_until_its_bucket_refills():
    budgets = CpuBuckets(1.0)
    clock = fake_clock(budgets)
    rate, burst = budgets.rate(CPU_SESSION)
    assert budgets.admit("s", "a") is None
    budgets.charge("s", "a", burst + 2 * rate, address_seconds=0.0)  # two seconds' worth beyond the burst
    seconds, message = budgets.admit("s", "a")
    assert seconds == 2 and "server CPU time" in message and "session" in message
    assert budgets.admit("t", "a") is None  # another session of the same address
    clock[0] += 1.9
    assert budgets.admit("s", "a") is not None
    clock[0] += 0.1
    assert budgets.admit("s", "a") is None
    clock[0] += 1000
    assert budgets.tokens(CPU_SESSION, "s") == pytest.approx(burst)  # refills up to the burst only


def test_an_address_pays_only_beyond_each_requests_allowance():
    budgets = CpuBuckets(1.0)
    fake_clock(budgets)
    _, burst = budgets.rate(CPU_ADDRESS)
    budgets.charge("s", "a", ADDRESS_ALLOWANCE * 0.9)
    assert budgets.tokens(CPU_ADDRESS, "a") == burst
    budgets.charge("s", "a", ADDRESS_ALLOWANCE + 0.5)
    assert budgets.tokens(CPU_ADDRESS, "a") == pytest.approx(burst - 0.5)
    budgets.charge(None, "a", ADDRESS_ALLOWANCE + burst)  # no session (a create): the address pays
    seconds, message = budgets.admit(None, "a")
    assert "address" in message and seconds >= 1
    assert budgets.admit("u", "a") is not None  # any session of that address waits too
    assert budgets.admit("u", "b") is None


def test_a_class_of_300_behind_one_address_pressing_step_every_second_is_never_refused():
    """300 sessions on one address, each pressing once a second a Step that costs 10 ms of CPU (bench/load.py
    measures 1.5-3 ms for the page's Step of the default network), for two minutes."""
    budgets = CpuBuckets(1.0)
    clock = fake_clock(budgets)
    for second in range(120):
        for k in range(300):
            clock[0] = second + k / 300
            assert budgets.admit(f"s{k}", "nat") is None, (second, k)
            budgets.charge(f"s{k}", "nat", 0.010)


def test_one_address_running_the_largest_requests_from_16_sessions_is_held_to_its_share():
    """16 clients on one address, each starting a 1-second request whenever it is let in, for a minute: the
    address's burst and rate, plus the requests let in before the first was charged."""
    budgets = CpuBuckets(1.0)
    clock = fake_clock(budgets)
    rate, burst = budgets.rate(CPU_ADDRESS)
    busy_until, used = [0.0] * 16, 0.0
    for tick in range(600):
        clock[0] = tick / 10
        for k in range(16):
            if busy_until[k] == clock[0]:  # its request ends: charged
                budgets.charge(f"s{k}", "heavy", 1.0)
                used += 1.0
            if busy_until[k] <= clock[0] and budgets.admit(f"s{k}", "heavy") is None:
                busy_until[k] = clock[0] + 1.0
    assert used <= burst + 60 * rate + 16 + 1e-9
    assert used < 60 * 16 / 15  # against 960 s unlimited


# ---- measuring ------------------------------------------------------------------------------------------------

def test_the_meter_counts_the_requests_own_turns_on_the_loop_and_not_other_tasks():
    async def request():
        burn(0.03)
        await asyncio.sleep(0.05)  # another task runs meanwhile
        burn(0.03)

    async def other():
        await asyncio.sleep(0.01)
        burn(0.05)

    async def main():
        meter = Meter(cpu_clock=CPU)
        await asyncio.gather(meter.run(request()), other())
        return meter.on_loop

    assert 0.06 <= run(main()) < 0.1


def test_the_meter_counts_work_in_the_threadpool_and_not_waiting():
    async def main():
        meter = Meter(cpu_clock=CPU)
        METER.set(meter)

        def work():
            burn(0.03)
            time.sleep(0.05)

        await run_in_threadpool(in_thread, work)
        return meter.seconds

    assert 0.03 <= run(main()) < 0.07


def test_cancelling_a_metered_request_reaches_the_request():
    cancelled = []

    async def request():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main():
        task = asyncio.create_task(Meter(cpu_clock=CPU).run(request()))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert cancelled == [True]


# ---- through the app ------------------------------------------------------------------------------------------

def spent(client, key: str, limit: Limit = CPU_SESSION) -> float:
    budgets = client.app.state.cpu_budgets
    return budgets.rate(limit)[1] - budgets.tokens(limit, key)


@pytest.mark.parametrize("where", ["event loop", "threadpool"])
def test_a_step_is_charged_the_cpu_it_used_wherever_it_ran(client, monkeypatch, where):
    fake_clock(client.app.state.cpu_budgets)
    if where == "threadpool":
        monkeypatch.setattr(scheduler, "QUICK_WORK", 0)
    sid = page_session(client)
    train = Session.train
    monkeypatch.setattr(Session, "train", lambda self, *a, **k: (burn(0.05), train(self, *a, **k))[1])
    before = spent(client, sid)
    assert client.post("/ui/step", headers=HX).status_code == 200
    used = spent(client, sid) - before
    assert used >= 0.05 - 1e-9
    assert used - ADDRESS_ALLOWANCE - 1e-9 <= spent(client, "testclient", CPU_ADDRESS) <= spent(client, sid)


def test_a_plain_route_in_the_threadpool_is_charged_its_cpu(client, monkeypatch):
    fake_clock(client.app.state.cpu_budgets)
    sid = client.post("/api/sessions", json={}).json()["id"]
    check = Session.gradient_check
    monkeypatch.setattr(Session, "gradient_check", lambda self: (burn(0.05), check(self))[1])
    assert client.post(f"/api/sessions/{sid}/gradient-check").status_code == 200
    assert spent(client, sid) >= 0.05 - 1e-9


def cpu_limits(monkeypatch, session: float | None = None, address: float | None = None) -> None:
    """CPU budgets of `session` and `address` CPU seconds a second and no burst: one request puts its client in
    debt. An address then pays all of a request's CPU (no allowance)."""
    from app.ratelimit import buckets, meter
    if session is not None:
        monkeypatch.setattr(buckets, "CPU_SESSION", Limit("server CPU time of one session", session, 0.0, "session",
                                                          counts="cpu"))
    if address is not None:
        monkeypatch.setattr(buckets, "CPU_ADDRESS", Limit("server CPU time of one address", address, 0.0, "address",
                                                          counts="cpu"))
        monkeypatch.setattr(buckets, "ADDRESS_ALLOWANCE", 0.0)
        monkeypatch.setattr(meter, "ADDRESS_ALLOWANCE", 0.0)


def test_a_session_over_its_cpu_budget_is_refused_heavy_requests_only(tmp_path, monkeypatch):
    """A session in CPU debt: its heavy requests get 429 until its bucket refills; its Steps, which cost less than
    a heavy request, go on, and so do other sessions of its address."""
    cpu_limits(monkeypatch, session=0.01)
    app = create_app(f"sqlite:///{tmp_path}/s.db")
    with TestClient(app) as c:
        fake_clock(app.state.cpu_budgets)
        sid = page_session(c)
        train = Session.train
        monkeypatch.setattr(Session, "train", lambda self, *a, **k: (burn(0.05), train(self, *a, **k))[1])
        assert c.post("/ui/step", headers=HX).status_code == 200  # 50 ms: the session is in debt
        assert c.post("/ui/step", headers=HX).status_code == 200  # a Step is never refused for CPU
        assert c.post(f"/api/sessions/{sid}/step", json={"steps": 1}).status_code == 200
        all_heavy(monkeypatch)
        steps = c.get(f"/api/sessions/{sid}").json()["step"]
        r = c.post(f"/api/sessions/{sid}/gradient-check")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "server CPU time" in r.json()["detail"]
        assert c.post(f"/api/sessions/{sid}/step", json={"steps": 1}).status_code == 429  # heavy now
        c.cookies.clear()  # another client of the same address
        other = c.post("/api/sessions", json={}).json()["id"]
        assert c.post(f"/api/sessions/{other}/gradient-check").status_code == 200
        assert c.get(f"/api/sessions/{sid}").json()["step"] == steps  # reading is not refused; nothing ran
        app.state.cpu_budgets.clock = lambda: 1e6  # much later: refilled
        assert c.post(f"/api/sessions/{sid}/gradient-check").status_code == 200


def test_an_address_over_its_cpu_budget_is_refused_heavy_requests_while_its_students_go_on(tmp_path, monkeypatch):
    """One client of an address put it in CPU debt with a large request: the address's heavy requests wait, while
    the other students behind it create sessions and step, and another address's heavy requests go on."""
    cpu_limits(monkeypatch, address=0.01)
    app = create_app(f"sqlite:///{tmp_path}/s.db")
    with TestClient(app) as c:
        fake_clock(app.state.cpu_budgets)
        heavy = c.post("/api/sessions", json={}).json()["id"]
        check = Session.gradient_check
        monkeypatch.setattr(Session, "gradient_check", lambda self: (burn(0.5), check(self))[1])
        all_heavy(monkeypatch)
        assert c.post(f"/api/sessions/{heavy}/gradient-check").status_code == 200  # the address is in debt
        r = c.post(f"/api/sessions/{heavy}/gradient-check")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "address" in r.json()["detail"]
        monkeypatch.undo()
        cpu_limits(monkeypatch, address=0.01)
        for _ in range(5):  # the students
            c.cookies.clear()
            student = c.post("/api/sessions", json={})
            assert student.status_code == 201
            assert c.post(f"/api/sessions/{student.json()['id']}/step", json={"steps": 1}).status_code == 200
            page_session(c)
            assert c.post("/ui/step", headers=HX).status_code == 200
        all_heavy(monkeypatch)
        far = TestClient(app, client=("192.0.2.7", 50000))
        assert far.post(f"/api/sessions/{heavy}/gradient-check").status_code == 200  # same session, elsewhere


def test_heavy_requests_of_one_session_take_turns_so_16_at_once_cannot_share_one_full_bucket(tmp_path, monkeypatch):
    """16 threads on one session with a bucket that one request empties: each request is let in or refused
    knowing what the one before it cost, so exactly one runs."""
    cpu_limits(monkeypatch, session=0.01)
    all_heavy(monkeypatch)
    app = create_app(f"sqlite:///{tmp_path}/s.db")
    with TestClient(app) as c:
        fake_clock(app.state.cpu_budgets)
        sid = c.post("/api/sessions", json={}).json()["id"]
        train = Session.train
        monkeypatch.setattr(Session, "train", lambda self, *a, **k: (burn(0.05), train(self, *a, **k))[1])
        codes = []
        threads = [threading.Thread(target=lambda: codes.append(
            c.post(f"/api/sessions/{sid}/step", json={"steps": 50}).status_code)) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200] + [429] * 15
        assert c.get(f"/api/sessions/{sid}").json()["step"] == 50


# ---- light clients keep the event loop -------------------------------------------------------------------------

def test_a_long_json_answer_is_written_in_parts_with_the_same_bytes(client):
    """A prediction of 3,000 rows on a wide network: its activations (over CHUNK numbers) are written in parts, and
    the answer is byte for byte what one call of pydantic writes, Content-Length included."""
    sid = client.post("/api/sessions", json={"layers": [2, 64, 64, 1]}).json()["id"]
    rows = [[k / 3000, 1 - k / 3000] for k in range(3000)]
    session = client.app.state.sessions.get(sid)
    content = prediction(session, rows)
    assert json_parts._numbers(content["a"]) > json_parts.CHUNK
    answer = json_parts.json_answer(Prediction, content)
    assert isinstance(answer, json_parts.Parts) and len(answer.parts) > 10
    whole = TypeAdapter(Prediction).dump_json(TypeAdapter(Prediction).validate_python(content), by_alias=True)
    assert b"".join(answer.parts) == whole and answer.headers["content-length"] == str(len(whole))
    r = client.post(f"/api/sessions/{sid}/predict", json={"inputs": rows})
    assert r.status_code == 200 and r.content == whole and r.headers["content-length"] == str(len(whole))
    small = json_parts.json_answer(Prediction, prediction(session, rows[:2]))
    assert not isinstance(small, json_parts.Parts)


def test_a_step_answer_with_long_traces_is_written_in_parts_with_the_same_bytes(client):
    sid = client.post("/api/sessions", json={"layers": [2, 64, 64, 64, 1], "batch_size": 200,
                                            "dataset": {"name": "circle", "samples": 400}}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
    session = client.app.state.sessions.get(sid)
    content = step_result(session)
    assert [path for path, _ in json_parts._long_lists(StepResult, content)]  # the trace's lists are long
    adapter = TypeAdapter(StepResult)
    assert r.status_code == 200 and r.content == adapter.dump_json(adapter.validate_python(content), by_alias=True)


def test_heavy_threadpool_work_of_one_address_takes_turns(client, monkeypatch):
    """Four sessions of one address running heavy gradient checks at once: one at a time in the threadpool."""
    all_heavy(monkeypatch)
    running, most = [0], [0]
    check = Session.gradient_check

    def slow(self):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.05)
        running[0] -= 1
        return check(self)

    monkeypatch.setattr(Session, "gradient_check", slow)
    sids = [client.post("/api/sessions", json={}).json()["id"] for _ in range(4)]
    codes = []
    threads = [threading.Thread(target=lambda s=s: codes.append(
        client.post(f"/api/sessions/{s}/gradient-check").status_code)) for s in sids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 4 and most[0] == 1


def test_short_work_leaves_the_loop_while_a_thread_is_saving(client, monkeypatch):
    """A page Step runs on the event loop, unless the storage file is busy with another thread's save: then it waits
    for it in a thread."""
    page_session(client)
    where = []
    train = Session.train
    monkeypatch.setattr(Session, "train", lambda self, *a, **k: (where.append(threading.current_thread().name),
                                                                 train(self, *a, **k))[1])
    assert client.post("/ui/step", headers=HX).status_code == 200
    backend = client.app.state.sessions.backend
    monkeypatch.setattr(backend, "busy", lambda: True)
    assert client.post("/ui/step", headers=HX).status_code == 200
    assert where[0] != where[1] and "AnyIO worker" in where[1]


def test_work_waiting_for_its_addresss_turn_is_refused_if_the_work_before_it_spent_the_budget(tmp_path, monkeypatch):
    """Two sessions of one address: the second's gradient check waits for the first's turn in the threadpool, and
    by then the first has put the address in debt (its 20 ms of CPU, with no burst)."""
    cpu_limits(monkeypatch, address=0.001)
    all_heavy(monkeypatch)
    check = Session.gradient_check
    monkeypatch.setattr(Session, "gradient_check", lambda self: (burn(0.02), time.sleep(0.2), check(self))[-1])
    app = create_app(f"sqlite:///{tmp_path}/s.db")
    with TestClient(app) as c:
        fake_clock(app.state.cpu_budgets)
        first, second = (TestClient(app, client=("192.0.2.1", 1)).post("/api/sessions", json={}).json()["id"],
                         TestClient(app, client=("192.0.2.2", 1)).post("/api/sessions", json={}).json()["id"])
        codes = {}
        threads = [threading.Thread(target=lambda s=s: codes.__setitem__(s, c.post(f"/api/sessions/{s}/gradient-check")))
                   for s in (first, second)]
        threads[0].start()
        time.sleep(0.05)  # the first is running: the second is let in (the address is not in debt yet) and waits
        threads[1].start()
        for t in threads:
            t.join()
        assert codes[first].status_code == 200, codes[first].text
        r = codes[second]
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "address" in r.json()["detail"]


def test_a_save_that_would_wait_for_another_threads_is_made_in_the_threadpool(client, monkeypatch):
    """The file was free when a page Step took its session on the loop, and busy when it was done: the release,
    which saves, runs in a thread (outside the address's turn, which a request waiting for this lock may hold)."""
    page_session(client)
    backend = client.app.state.sessions.backend
    answers = iter([False, True])  # free before, busy after
    monkeypatch.setattr(backend, "busy", lambda: next(answers, False))
    released = []
    release = StoredLock.release
    monkeypatch.setattr(StoredLock, "release", lambda self: (released.append(threading.current_thread().name),
                                                             release(self))[1])
    assert client.post("/ui/step", headers=HX).status_code == 200
    assert "AnyIO worker" in released[0]
    assert client.post("/ui/step", headers=HX).status_code == 200  # released: the next one takes it
