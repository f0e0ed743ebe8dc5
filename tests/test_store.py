"""Sessions that last (app/store): the SQLite store, the working set in memory, TTL, snapshots kept across a
restart, several stores on one file. Crashes and several server processes: test_store_durability.py."""
import gc
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.recipe import CreateSession
from app.main import create_app
from app.core.session import build_session
from app.store import SessionStore
from app.store.backend import SessionBusy
from app.store.codec import unpack_points
from app.store.file_locks import FileLocks
from app.store.sqlite_backend import SQLiteBackend

ROOT = Path(__file__).resolve().parents[1]

class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def params(session):
    return session.trainer.net.params.copy()


def test_sessions_survive_a_restart_with_their_curve_and_rewind_points(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    with TestClient(create_app(url)) as c:
        sid = c.post("/api/sessions", json={"optimizer": "adam", "learning_rate": 0.01}).json()["id"]
        for _ in range(7):
            c.post(f"/api/sessions/{sid}/step", json={"steps": 1})
        before = c.get(f"/api/sessions/{sid}").json()
        store = c.app.state.sessions
        curve = list(store.get(sid).history)
    with TestClient(create_app(url)) as c:
        assert not c.app.state.sessions.in_memory(sid)
        after = c.get(f"/api/sessions/{sid}").json()
        assert after == before
        assert c.app.state.sessions.get(sid).history == curve
        assert after["kept_steps"] == [0, 7]
        # Adam's moments and the batch position came back too: the next step matches an uninterrupted run.
        nxt = c.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()
        assert c.post(f"/api/sessions/{sid}/rewind", json={"step": 3}).json()["step"] == 3
    with TestClient(create_app(url)) as c:
        ref = c.post("/api/sessions", json={"optimizer": "adam", "learning_rate": 0.01}).json()["id"]
        assert c.post(f"/api/sessions/{ref}/step", json={"steps": 8}).json()["weights"] == nxt["weights"]
        assert c.get(f"/api/sessions/{sid}").json()["step"] == 3


def test_least_recently_used_sessions_leave_memory_but_not_storage(tmp_path):
    store = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=3600), max_sessions=2, ttl=3600)
    ids, weights = [], []
    for k in range(3):
        s = build_session(CreateSession(seed=k))
        store.add(s)
        with s.lock:
            s.train(2 + k)
        ids.append(s.id)
        weights.append(params(s))
    del s
    gc.collect()  # no request holds the evicted session any more
    assert len(store) == 2 and not store.in_memory(ids[0])
    loaded = store.get(ids[0])
    assert np.array_equal(params(loaded), weights[0]) and loaded.trainer.step_count == 2
    assert not store.in_memory(ids[1])  # it was the least recently used when the first came back
    assert store.get(ids[1]).trainer.step_count == 3


def test_a_session_evicted_while_in_use_is_saved_and_comes_back_as_the_same_object(tmp_path):
    store = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=3600), max_sessions=1, ttl=3600)
    first = build_session(CreateSession())
    store.add(first)
    held = store.get(first.id)  # a slow request still holds it...
    store.add(build_session(CreateSession(seed=2)))  # ...when it is evicted from memory
    assert not store.in_memory(first.id)
    with held.lock:
        held.train(3)  # saved although evicted
    again = store.get(first.id)
    assert again is held  # one object per session, so one lock
    other = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=3600), max_sessions=1, ttl=3600)
    assert other.get(first.id).trainer.step_count == 3


def test_idle_sessions_expire_after_the_ttl_and_used_ones_do_not(tmp_path):
    clock = Clock()
    backend = SQLiteBackend(tmp_path / "s.db", ttl=100, clock=clock)
    store = SessionStore(backend, max_sessions=10, ttl=100, clock=clock)
    idle, used = build_session(CreateSession()), build_session(CreateSession(seed=3))
    store.add(idle)
    store.add(used)
    for _ in range(5):  # 5 × 60 s, each use within the TTL of the last
        clock.now += 60
        with store.get(used.id).lock:
            pass
    assert store.get(idle.id) is None
    assert store.get(used.id) is not None
    assert backend.version(idle.id) is None  # gone from storage too
    clock.now += 101
    assert store.get(used.id) is None and backend.load(used.id) is None


def test_concurrent_steps_on_one_session_all_count(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    threads = [threading.Thread(target=lambda: client.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = client.get(f"/api/sessions/{sid}").json()
    ref = client.post("/api/sessions", json={}).json()["id"]
    assert state["step"] == 20
    assert client.post(f"/api/sessions/{ref}/step", json={"steps": 20}).json()["weights"] == state["weights"]


def test_snapshots_survive_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    with TestClient(create_app(url)) as c:
        sid = c.post("/api/sessions", json={}).json()["id"]
        c.post(f"/api/sessions/{sid}/step", json={"steps": 4})
        snap = c.post(f"/api/sessions/{sid}/share").json()["snapshot_id"]
        frozen = c.get(f"/api/snapshots/{snap}").json()
    with TestClient(create_app(url)) as c:
        assert c.get(f"/api/snapshots/{snap}").json() == frozen


def test_a_stale_copy_reloads_even_after_storage_lost_the_session(tmp_path):
    """Two processes share one store; storage loses the session and one process writes it again. Versions
    are random, so the other process's old version never matches by accident."""
    path = tmp_path / "s.db"
    a = SessionStore(SQLiteBackend(path, ttl=3600), max_sessions=10, ttl=3600)
    b = SessionStore(SQLiteBackend(path, ttl=3600), max_sessions=10, ttl=3600)
    session = build_session(CreateSession())
    a.add(session)
    sid = session.id
    with b.get(sid).lock:
        b.get(sid).train(3)
    with a.get(sid).lock:
        assert a.get(sid).trainer.step_count == 3
    a.backend.delete(sid)  # lost (a flushed Redis, say)
    with a.get(sid).lock:  # written again in full
        a.get(sid).train(2)
    with b.get(sid).lock:
        copy = b.get(sid)
        assert copy.trainer.step_count == 5 and len(copy.history) == 6
        assert np.array_equal(params(copy), params(a.get(sid)))


def test_two_stores_on_one_file_take_turns_with_a_session(tmp_path):
    """Two workers share the SQLite file: while one holds a session the other cannot have it, then it sees
    what the first saved."""
    path = tmp_path / "s.db"
    a = SessionStore(SQLiteBackend(path, ttl=3600), max_sessions=10, ttl=3600)
    b = SessionStore(SQLiteBackend(path, ttl=3600), max_sessions=10, ttl=3600)
    session = build_session(CreateSession())
    a.add(session)
    other = b.get(session.id)
    with session.lock:
        assert not other.lock.acquire(blocking=False)
        assert not other.lock.locked()  # a refused try holds nothing
        session.train(2)
    assert other.lock.acquire(blocking=False)
    try:
        assert other.trainer.step_count == 2 and np.array_equal(params(other), params(session))
        assert not session.lock.acquire(blocking=False)
    finally:
        other.lock.release()
    assert session.lock.acquire(blocking=False)
    session.lock.release()


def test_a_killed_worker_leaves_no_session_locked(tmp_path):
    code = ("import sys, time; from app.store.file_locks import FileLocks; "
            f"assert FileLocks({str(tmp_path / 's.locks')!r}).lock('abc').acquire(blocking=False); "
            "print('locked', flush=True); time.sleep(60)")
    worker = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert worker.stdout.readline() == b"locked\n"
        mine = FileLocks(tmp_path / "s.locks")
        assert not mine.lock("abc").acquire(blocking=False)
        assert mine.lock("abd").acquire(blocking=False)  # other sessions are free
        with pytest.raises(SessionBusy):
            mine.lock("abc").acquire(wait=0.1)
    finally:
        worker.kill()
        worker.wait()
    assert mine.lock("abc").acquire(blocking=False)


def test_a_save_after_storage_lost_the_session_writes_all_of_it(tmp_path):
    store = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=3600), max_sessions=10, ttl=3600)
    session = build_session(CreateSession())
    store.add(session)
    with session.lock:
        session.train(20)
        store.backend.delete(session.id)  # expired or flushed while the request ran
        session.train(3)
    stored = store.backend.load(session.id)
    assert len(unpack_points(stored.history)) == 24 and len(stored.rewind) == 24


def test_a_restart_does_not_restart_the_idle_timer(tmp_path):
    clock = Clock()
    store = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=100, clock=clock), 10, 100, clock=clock)
    session = build_session(CreateSession())
    store.add(session)
    clock.now += 90
    store.close()
    reopened = SessionStore(SQLiteBackend(tmp_path / "s.db", ttl=100, clock=clock), 10, 100, clock=clock)
    clock.now += 20
    assert reopened.get(session.id) is None


def _exact(session) -> tuple:
    """A session's training state as bytes and plain values: weights, optimizer state, step, batch position,
    the loss curve with its points to redo, and the rewind points' steps and weights."""
    state = session.trainer.state_dict()
    return (session.request.model_dump_json(), state["params"].tobytes(),
            {k: v.tobytes() if hasattr(v, "tobytes") else v for k, v in state["optimizer"].items()},
            state["step"], state["epoch"], state["position"], list(session.history), list(session.future),
            [(step, s["params"].tobytes()) for step, s in session.snapshots.items()])


def test_steps_to_redo_and_replaced_networks_survive_a_restart_and_reach_another_worker(tmp_path):
    path = tmp_path / "s.db"
    a = SessionStore(SQLiteBackend(path, ttl=3600), max_sessions=10, ttl=3600)
    session = build_session(CreateSession(optimizer="adam", batch_size=5))
    a.add(session)
    with session.lock:
        session.train(6)
        session.rewind(2)  # steps 3 to 6 can be redone
        first = _exact(session)
        fresh = build_session(CreateSession(seed=11, hidden_activation="relu"), session.id)
        session.become(fresh, replacing="New seed")
        session.train(3)
        session.back()  # step 3 of the new network can be redone too
        second = _exact(session)
    b = SessionStore(SQLiteBackend(path, ttl=3600), max_sessions=10, ttl=3600)  # a restart, or another worker
    other = b.get(session.id)
    with other.lock:
        assert _exact(other) == second and other.redo_steps == (3, 3)
        assert [(r.what, r.number) for r in other.replaced] == [("New seed", 1)]
        assert other.back() is None and other.back() is None and other.trainer.step_count == 0
        assert other.back().what == "New seed"
        assert _exact(other) == first and other.redo_steps == (3, 6) and other.replaced == []
        other.rewind(6)
        sixth = _exact(other)
    with session.lock:  # the first worker sees what the second saved
        assert _exact(session) == sixth and session.replaced == []
    stored = b.backend.load(session.id)
    assert sorted(stored.rewind) == list(range(7))  # the replaced network's record is gone from storage


def test_sessions_stored_before_redo_and_rebuild_undo_still_load(tmp_path):
    from app.store import records
    from app.store.codec import pack

    backend = SQLiteBackend(tmp_path / "s.db", ttl=3600)
    store = SessionStore(backend, max_sessions=10, ttl=3600)
    session = build_session(CreateSession())
    store.add(session)
    with session.lock:
        session.train(4)
    stored = backend.load(session.id)
    old_state = pack({"trainer": session.trainer.state_dict(), "detailed": False, "page": {}})  # no "future"
    restored = records.restore(session.id, stored.recipe, old_state, unpack_points(stored.history), stored.rewind)
    assert restored.future == [] and restored.replaced == [] and restored.kept_steps == (0, 4)
    assert np.array_equal(params(restored), params(session)) and restored.history == session.history
