"""Sessions that last: the SQLite store, the working set in memory, TTL, share links, fork, export and import."""
import gc
import html
import re
import subprocess
import sys
import threading
from contextlib import contextmanager
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


@contextmanager
def browser(client):
    """Another browser (its own cookies) on the same running app; its lifespan is the first client's."""
    other = TestClient(client.app)
    yield other
    other.close()


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


# Share links and forks


def test_a_fork_starts_at_exactly_the_snapshot_and_never_changes_it(client):
    sid = client.post("/api/sessions", json={"optimizer": "momentum"}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 12})
    shared = client.post(f"/api/sessions/{sid}/share")
    assert shared.status_code == 201
    snap = shared.json()["snapshot_id"]
    assert shared.json()["url"] == f"http://testserver/s/{snap}"
    frozen = client.get(f"/api/snapshots/{snap}").json()
    original = client.get(f"/api/sessions/{sid}").json()
    assert frozen["id"] == snap
    # Everything but the rewind points, which a share leaves behind: a fork starts its own from the shared step.
    assert frozen["kept_steps"] == [12, 12] and original["kept_steps"] == [0, 12]
    skip = {"id", "kept_steps"}
    assert {k: v for k, v in frozen.items() if k not in skip} == {k: v for k, v in original.items() if k not in skip}

    fork = client.post(f"/api/snapshots/{snap}/fork")
    assert fork.status_code == 201
    fid = fork.json()["id"]
    assert fid != sid and re.fullmatch(r"[0-9a-f]{32}", fid)
    assert fork.json()["weights"] == original["weights"] and fork.json()["step"] == 12
    stepped = client.post(f"/api/snapshots/{snap}/fork").json()["id"]
    after_fork = client.post(f"/api/sessions/{stepped}/step", json={"steps": 5}).json()
    assert client.get(f"/api/snapshots/{snap}").json() == frozen
    assert client.get(f"/api/sessions/{sid}").json() == original
    # The optimizer's velocity and the batch position came along: the fork continues as the original would.
    assert client.post(f"/api/sessions/{sid}/step", json={"steps": 5}).json()["weights"] == after_fork["weights"]
    assert client.get(f"/api/sessions/{fid}").json()["step"] == 12


def test_snapshots_survive_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"
    with TestClient(create_app(url)) as c:
        sid = c.post("/api/sessions", json={}).json()["id"]
        c.post(f"/api/sessions/{sid}/step", json={"steps": 4})
        snap = c.post(f"/api/sessions/{sid}/share").json()["snapshot_id"]
        frozen = c.get(f"/api/snapshots/{snap}").json()
    with TestClient(create_app(url)) as c:
        assert c.get(f"/api/snapshots/{snap}").json() == frozen


def test_share_ids_are_unguessable_and_unknown_ones_get_a_friendly_404(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    ids = {client.post(f"/api/sessions/{sid}/share").json()["snapshot_id"] for _ in range(25)}
    assert len(ids) == 25 and all(re.fullmatch(r"[A-Za-z0-9_-]{16}", i) for i in ids)  # 96 random bits each
    missing = client.get("/api/snapshots/AAAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and "No snapshot" in missing.json()["detail"]
    assert client.post("/api/snapshots/AAAAAAAAAAAAAAAA/fork").status_code == 404
    assert client.get("/api/snapshots/short").status_code == 422
    for path in ("/s/AAAAAAAAAAAAAAAA", "/s/not-a-share-id", "/s/%3Cscript%3E"):
        page = client.get(path)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "does not exist" in page.text and "Open the playground" in page.text
        assert "Traceback" not in page.text and "<script>" not in page.text.split("</head>")[1]


def test_opening_a_share_link_gives_the_browser_its_own_copy(client):
    client.get("/")
    client.post("/ui/step", headers={"HX-Request": "true"})
    client.post("/ui/step", headers={"HX-Request": "true"})
    teacher = client.cookies["bp_session"]
    page = client.post("/ui/share", headers={"HX-Request": "true"})
    url = re.search(r'id="share-url" type="text" readonly value="([^"]+)"', page.text).group(1)
    snap = url.rsplit("/", 1)[1]
    with browser(client) as student:
        opened = student.get(f"/s/{snap}", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        mine = student.cookies["bp_session"]
        assert mine != teacher
        page = student.get("/")
        assert "your own copy of a shared network, at step 2" in page.text
        student.post("/ui/step", headers={"HX-Request": "true"})
        assert student.get(f"/api/sessions/{mine}").json()["step"] == 3
    assert client.get(f"/api/sessions/{teacher}").json()["step"] == 2
    assert client.get(f"/api/snapshots/{snap}").json()["step"] == 2


# Export and import


def test_export_then_import_continues_exactly(client):
    sid = client.post("/api/sessions", json={"optimizer": "adam", "dataset": {"name": "xor", "noise": 0.2}}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 9})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    assert doc["format"] == "backprop-playground/session" and doc["step"] == 9 and len(doc["history"]) == 10
    imported = client.post("/api/sessions/import", json=doc)
    assert imported.status_code == 201
    new = imported.json()["id"]
    original = client.get(f"/api/sessions/{sid}").json()
    skip = {"id", "kept_steps"}  # rewind points are not exported: the import starts its own
    assert {k: v for k, v in imported.json().items() if k not in skip} == \
        {k: v for k, v in original.items() if k not in skip}
    a = client.post(f"/api/sessions/{sid}/step", json={"steps": 3}).json()["weights"]
    assert client.post(f"/api/sessions/{new}/step", json={"steps": 3}).json()["weights"] == a


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d["weights"].pop(), "weights"),
    (lambda d: d["weights"][1].pop(), "weights.1"),
    (lambda d: d["biases"][0].append(0.5), "biases.0"),
    (lambda d: d["optimizer"].update(m=[0.0]), "optimizer.m"),
    (lambda d: d["optimizer"].update(name="sgd"), "optimizer.name"),
    (lambda d: d["request"].update(learning_rate=-1), "request.learning_rate"),
    (lambda d: d.update(position=10**6), "position"),
])
def test_import_refuses_a_document_that_does_not_fit_and_names_the_field(client, change, field):
    sid = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    change(doc)
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == field, r.json()


def test_the_page_imports_a_downloaded_state_and_says_what_was_wrong_otherwise(client):
    client.get("/")
    for _ in range(3):
        client.post("/ui/step", headers={"HX-Request": "true"})
    download = client.get("/ui/export.json")
    assert download.headers["content-disposition"] == 'attachment; filename="backprop-playground-step-3.json"'
    sid = client.cookies["bp_session"]
    client.post("/ui/reset", headers={"HX-Request": "true"})
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0
    r = client.post("/ui/import", headers={"HX-Request": "true"},
                    files={"file": ("saved.json", download.content, "application/json")})
    assert "Imported saved.json: step 3." in r.text
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 3
    before = client.get(f"/api/sessions/{sid}").json()
    r = client.post("/ui/import", headers={"HX-Request": "true"},
                    files={"file": ("x.json", b"<script>alert(1)</script>", "application/json")})
    assert 'id="error-import"' in r.text and "not a JSON file saved by Download JSON" in r.text
    assert "<script>alert" not in r.text
    assert client.get(f"/api/sessions/{sid}").json() == before


def test_weights_and_python_downloads(client):
    client.get("/")
    client.post("/ui/step", headers={"HX-Request": "true"})
    npz = client.get("/ui/weights.npz")
    assert npz.headers["content-disposition"].endswith('step-1.npz"') and npz.content[:2] == b"PK"
    python = client.get("/ui/python")
    assert "import numpy as np" in python.text and "import torch" in python.text and "step 1" in python.text
    sid = client.cookies["bp_session"]
    api = client.get(f"/api/sessions/{sid}/python").json()
    assert set(api) == {"numpy", "pytorch"}


# Setup links

SPIRAL = "/?dataset=spiral&layers=2,8,8,1&activation=tanh&lr=0.03&seed=7"


def test_a_setup_link_builds_the_same_initial_state_in_every_browser(client):
    states = []
    for _ in range(2):
        with browser(client) as other:
            page = other.get(SPIRAL)
            assert page.status_code == 200
            states.append(other.get(f"/api/sessions/{other.cookies['bp_session']}").json())
    assert states[0]["weights"] == states[1]["weights"] and states[0]["step"] == 0
    cfg = states[0]["config"]
    assert cfg["layers"] == [2, 8, 8, 1] and cfg["dataset"]["name"] == "spiral" and cfg["learning_rate"] == 0.03


def test_the_page_carries_its_setup_link_and_a_reload_keeps_the_training(client):
    page = client.get(SPIRAL)
    url = re.search(r'data-setup-url="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert url.startswith("/?dataset=spiral&layers=2,8,8,1&activation=tanh") and "seed=7" in url
    client.post("/ui/step", headers={"HX-Request": "true"})
    sid = client.cookies["bp_session"]
    client.get(url)  # the same setup: the session keeps its step
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 1
    changed = client.post("/ui/config", headers={"HX-Request": "true"}, data={"learning_rate": "0.1"})
    assert "lr=0.1" in re.search(r'data-setup-url="([^"]+)"', changed.text).group(1)
    client.get(url.replace("seed=7", "seed=8"))  # another setup: a new session built from the link
    new = client.cookies["bp_session"]
    assert new != sid and client.get(f"/api/sessions/{new}").json()["step"] == 0
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 1  # a GET changed nothing


def test_a_bad_setup_link_says_why_and_changes_nothing(client):
    client.get("/")
    sid = client.cookies["bp_session"]
    client.post("/ui/step", headers={"HX-Request": "true"})
    before = client.get(f"/api/sessions/{sid}").json()
    for query, words in (("lr=abc", "lr"), ("layers=2,1000,1", "layers"), ("dataset=%3Cscript%3E", "dataset"),
                         ("output=linear&loss=bce", "loss")):
        page = client.get("/?" + query)
        assert page.status_code == 200
        message = html.unescape(re.search(r'<p class="message error" role="alert">([^<]*)</p>', page.text).group(1))
        assert "This link's setup cannot be used" in message and words in message
        assert client.get(f"/api/sessions/{sid}").json() == before


@pytest.mark.parametrize("change, field", [
    (lambda d: d["optimizer"].update(t=-1), "optimizer.t"),
    (lambda d: d["optimizer"].update(v=[-1.0] * len(d["optimizer"]["v"])), "optimizer.v"),
    (lambda d: d.update(position=d["config"]["dataset"]["samples"] // 2), "position"),  # = the training rows
    (lambda d: d.update(step=2**63), "step"),
    (lambda d: d["weights"][0].__setitem__(0, [0.1]), "weights.0"),  # ragged rows
    (lambda d: d.update(history=[[0, 1.0, None, None, None], [0, 1.0, None, None, None]]), "history.1"),
    (lambda d: d.update(history=[[5, 1.0, None, None, None]] * 1), "history.0"),  # beyond the step
])
def test_import_refuses_state_that_could_not_be_trained(client, change, field):
    sid = client.post("/api/sessions", json={"optimizer": "adam", "dataset": {"samples": 100,
                                                                              "train_fraction": 0.5}}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    if field == "history.0":
        doc["step"] = 2
    change(doc)
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text


def test_import_recomputes_the_current_loss_and_refuses_an_infinite_one(client):
    sid = client.post("/api/sessions", json={"output_activation": "linear", "loss": "mse",
                                             "dataset": {"name": "sine"}}).json()["id"]
    doc = client.get(f"/api/sessions/{sid}/export").json()
    doc["history"] = [[0, 123.0, None, None, None]]
    assert client.post("/api/sessions/import", json=doc).json()["loss"]["train"] != 123.0
    doc["weights"] = [[[1e300] * len(row) for row in layer] for layer in doc["weights"]]
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 422 and "infinite" in r.json()["detail"][0]["msg"]


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
