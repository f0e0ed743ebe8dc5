"""Live rooms (issue 16): presenting, following, taking a copy, polls, and what a follower cannot do."""
import json
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.live.model import ALPHABET, CODE_LENGTH, normal_code
from app.live.events import event_seq
from app.main import create_app
from app.web.live_publisher import FRAME_INTERVAL

# How long a test waits for an event before it fails: long enough for the slowest machine; a passing test waits
# only as long as the event takes.
EVENT_TIMEOUT = 30.0

HX = {"HX-Request": "true"}
SAME_SITE = {"Origin": "http://testserver"}


def code_of(html: str) -> str:
    return re.search(r'class="live-code"[^>]*>([A-Z0-9 ]+)<', html).group(1).replace(" ", "")


@pytest.fixture
def app(tmp_path):
    return create_app(f"sqlite:///{tmp_path}/store.db")


@pytest.fixture
def presenter(app):
    with TestClient(app) as c:
        assert c.get("/").status_code == 200
        yield c


@pytest.fixture
def follower(app, presenter):
    """Another browser (its own cookies) on the same server."""
    return TestClient(app)


@pytest.fixture
def room(presenter) -> str:
    r = presenter.post("/ui/live/start", headers=HX)
    assert r.status_code == 200
    return code_of(r.text)


def live(client):
    return client.app.state.live


def the_session(presenter):
    return presenter.app.state.sessions.get(presenter.cookies.get("bp_session"))


def events(client, code: str, after: int = 0) -> list[tuple[int, str, str]]:
    """(number, kind, data) of the room's kept events after `after`."""
    out = []
    for seq, event in live(client).rooms.events_after(code, after) or []:
        text = event.decode()
        kind = re.search(r"^event: (\w+)$", text, re.M).group(1)
        data = "\n".join(line[6:] for line in text.splitlines() if line.startswith("data: "))
        out.append((seq, kind, data))
    return out


STATUS_STEP = re.compile(r'id="live-status"[^>]*data-step="(\d+)"')


def step_of(kind: str, data: str) -> int | None:
    """The step a frame (HTML: its status line's data-step) or a patch (JSON: its "step") shows."""
    if kind == "patch":
        return json.loads(data)["step"]
    return int(m.group(1)) if (m := STATUS_STEP.search(data)) else None


def wait_frames(client, code: str, step: int, showing: str = "") -> list:
    """The frames and patches published up to one of `step` that holds `showing` (a frame held back while playing
    goes out after the interval)."""
    import time
    deadline = time.monotonic() + EVENT_TIMEOUT
    while time.monotonic() < deadline:
        frames = [e for e in events(client, code) if e[1] in ("frame", "patch")]
        if frames and step_of(*frames[-1][1:]) == step and showing in frames[-1][2]:
            return frames
        time.sleep(FRAME_INTERVAL / 4)
    raise AssertionError(f"no frame of step {step} with {showing!r}: {[f[2][:300] for f in frames]}")


# ---- 1. Present ----

def test_codes_are_short_and_typed_forgivingly():
    assert len(ALPHABET) == 31 and not set("0O1IL") & set(ALPHABET)
    assert normal_code("k7m-2qx") == "K7M2QX"
    assert normal_code(" K7M 2QX ") == "K7M2QX"
    assert normal_code("K7M2Q") is None and normal_code("K7M2Q0") is None  # too short; 0 is not in the alphabet
    assert CODE_LENGTH == 6


def test_present_shows_the_code_link_and_a_qr_code(presenter, room):
    page = presenter.get("/").text
    assert f">{room[:3]} {room[3:]}<" in page
    assert f'href="http://testserver/live/{room}"' in page
    qr = re.search(r'<div class="live-qr"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert qr.lstrip().startswith("<svg") and "<path" in qr  # segno's QR code, inline
    assert 'id="btn-stop-presenting"' in page
    # Present again: the same room.
    again = presenter.post("/ui/live/start", headers=HX)
    assert code_of(again.text) == room


def test_the_api_starts_and_stops_a_room(presenter):
    sid = presenter.post("/api/sessions", json={}).json()["id"]
    r = presenter.post(f"/api/sessions/{sid}/live")
    assert r.status_code == 201
    body = r.json()
    assert re.fullmatch(f"[{ALPHABET}]{{{CODE_LENGTH}}}", body["code"])
    assert body["url"] == f"http://testserver/live/{body['code']}"
    assert body["events"] == body["url"] + "/events"
    again = presenter.post(f"/api/sessions/{sid}/live")
    assert again.status_code == 200 and again.json()["code"] == body["code"]
    # An API step reaches the followers too (every change of the session, whoever made it).
    presenter.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    assert step_of(*wait_frames(presenter, body["code"], 3)[-1][1:]) == 3
    assert presenter.post(f"/api/sessions/{sid}/live/stop").status_code == 204
    assert presenter.post(f"/api/sessions/{sid}/live/stop").status_code == 404
    assert presenter.post("/api/sessions/" + "0" * 32 + "/live").status_code == 404
    assert "/api/sessions/{session_id}/live" in presenter.get("/openapi.json").json()["paths"]
    assert "/live/{code}/events" in presenter.get("/openapi.json").json()["paths"]


def test_stop_presenting_ends_the_room_but_keeps_its_last_state(presenter, follower, room):
    presenter.post("/ui/step", headers=HX)
    r = presenter.post("/ui/live/stop", headers=HX)
    assert "Stopped presenting" in r.text and 'id="live-present"' in r.text and "live-code" not in r.text
    assert [e[1] for e in events(presenter, room)][-1] == "end"
    presenter.post("/ui/step", headers=HX)  # the presenter goes on alone
    page = follower.get(f"/live/{room}")
    assert page.status_code == 200 and "The presenter stopped presenting at step 1." in page.text
    assert "sse-connect" not in page.text  # nothing more will come
    assert 'id="metric-step">1<' in page.text  # where it ended, not where the presenter is now
    copy = follower.post(f"/live/{room}/copy", headers=SAME_SITE, follow_redirects=False)
    assert copy.status_code == 303
    assert live(follower).store.get(follower.cookies.get("bp_session")).trainer.step_count == 1


def test_a_room_expires_after_its_time_to_live(presenter, follower, room, monkeypatch):
    import asyncio
    hub = live(presenter).hub
    sub = presenter.portal.call(lambda: _subscribe(hub, room))
    rooms = live(presenter).rooms
    later = rooms.clock() + presenter.app.state.live.ttl + 1
    monkeypatch.setattr(rooms, "clock", lambda: later)
    # Its streams get an end event that says why, then end (the page and the presenter's panel listen for it).
    watcher = presenter.portal.start_task_soon(lambda: live(presenter).watch(every=0.01))
    seq, event = presenter.portal.call(lambda: asyncio.wait_for(sub.queue.get(), 5))
    assert b"event: end" in event and b"its presenter made no change for 3 hours." in event
    assert b'<div id="live-copy" hx-swap-oob="true"></div>' in event  # nothing is kept to copy
    assert presenter.portal.call(lambda: asyncio.wait_for(sub.queue.get(), 5)) is None
    watcher.cancel()
    assert follower.get(f"/live/{room}").status_code == 404
    panel = presenter.get("/ui/live/panel", headers=HX).text  # the presenter's page asks on the end event
    assert "The live room" in panel and "has ended: 3 hours passed without a change." in panel
    page = presenter.get("/").text
    assert "live-code" not in page  # the presenter's page no longer shows it
    assert the_session(presenter).page.live is None


# ---- 2. Follow ----

def test_followers_see_the_presenters_network_and_never_its_session_id(presenter, follower, room):
    presenter.post("/ui/step", headers=HX)
    sid = presenter.cookies.get("bp_session")
    wait_frames(presenter, room, 1)
    published = len(events(presenter, room))
    page = follower.get(f"/live/{room}")
    assert page.status_code == 200
    for part in ('id="network"', 'id="metrics"', 'id="narration"', 'id="output-data"', 'id="loss-data"',
                 f'sse-connect="/live/{room}/events?after='):
        assert part in page.text
    assert 'id="metric-step">1<' in page.text
    assert sid not in page.text and "/ui/" not in page.text  # no presenter controls, no session id
    assert follower.cookies.get("bp_follower") and not follower.cookies.get("bp_session")
    for seq, kind, data in events(presenter, room):
        assert sid not in data
    inspect = follower.get(f"/live/{room}/inspect", params={"kind": "edge", "layer": 0, "from": 0, "to": 0})
    assert inspect.status_code == 200 and "Inspector" in inspect.text and sid not in inspect.text
    assert "/ui/edit" not in inspect.text and "/ui/worksheet" not in inspect.text  # read only
    assert len(events(presenter, room)) == published  # reading the room publishes nothing


def test_every_kind_of_change_is_one_frame_with_its_step(presenter, room):
    """Steps and a detailed step's phases go out as patches on the frame before; a rewind and a setting as whole
    frames (HTML)."""
    presenter.post("/ui/step", headers=HX)
    assert wait_frames(presenter, room, 1)[-1][1] == "patch"
    presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    presenter.post("/ui/phase", headers=HX)  # the forward pass of step 2
    assert wait_frames(presenter, room, 1, "step 2 in progress, the forward pass")[-1][1] == "patch"
    presenter.post("/ui/detailed", headers=HX, data={"detailed": ""})
    presenter.post("/ui/epoch", headers=HX)
    step = the_session(presenter).trainer.step_count
    assert wait_frames(presenter, room, step, '"mode":"extend"')[-1][1] == "patch"
    presenter.post("/ui/rewind", headers=HX, data={"step": "1"})
    assert wait_frames(presenter, room, 1, '"mode":"replace"')[-1][1] == "frame"  # a rewind redraws the curve
    presenter.post("/ui/config", headers=HX, data={"learning_rate": "0.1"})
    # A setting: the whole network panel and figure.
    assert wait_frames(presenter, room, 1, 'id="network-panel"')[-1][1] == "frame"
    assert the_session(presenter).trainer.config.learning_rate == 0.1
    nums = [seq for seq, _, _ in events(presenter, room)]
    assert nums == list(range(nums[0], nums[0] + len(nums)))  # numbered one by one


def test_a_frame_is_rendered_once_however_many_follow(presenter, room, monkeypatch):
    """One render a change, a patch or a whole frame, whether no stream follows or fifty: each stream is sent the
    same bytes."""
    import asyncio
    from app.web import live_render
    renders = []
    for name in ("light_frame", "render"):
        real = getattr(live_render, name)
        monkeypatch.setattr(live_render, name, lambda *a, real=real, name=name: renders.append(name) or real(*a))
    hub = live(presenter).hub
    for streams, change, kind in ((0, {"steps": "1"}, "patch"), (50, {"steps": "1"}, "patch"),
                                  (50, {"learning_rate": "0.1"}, "frame")):
        subs = [presenter.portal.call(_subscribe, hub, room) for _ in range(streams)]
        renders.clear()
        before = len(events(presenter, room))
        if "steps" in change:
            presenter.post("/ui/step", headers=HX)
        else:
            presenter.post("/ui/config", headers=HX, data=change)
        published = eventually(lambda: events(presenter, room)[before:], lambda e: e)
        assert [e[1] for e in published] == [kind]
        assert renders == (["light_frame"] if kind == "patch" else ["render"])
        sent = [presenter.portal.call(lambda sub=sub: asyncio.wait_for(sub.queue.get(), EVENT_TIMEOUT)) for sub in subs]
        assert all(item[1] is sent[0][1] for item in sent)  # the same bytes to every stream
        for sub in subs:
            hub.unsubscribe(room, sub)


def test_play_sends_at_most_one_frame_an_interval_with_every_loss_point(presenter, room):
    import time
    wait_frames(presenter, room, 0)
    before = len(events(presenter, room))
    start = time.monotonic()
    for _ in range(12):
        presenter.post("/ui/step", headers=HX)
    frames = wait_frames(presenter, room, 12)[before:]
    took = time.monotonic() - start
    assert len(frames) <= took / FRAME_INTERVAL + 2
    steps = []
    for _, kind, data in frames:
        assert kind == "patch"
        steps += [point[0] for point in json.loads(data)["loss"]["points"]]
    assert steps == list(range(1, 13))  # every point once, in order


# ---- 3. Take a copy ----

def test_take_a_copy_forks_the_room_and_links_back(presenter, follower, room):
    presenter.post("/ui/step", headers=HX)
    presenter.post("/ui/step", headers=HX)
    r = follower.post(f"/live/{room}/copy", headers=SAME_SITE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    mine = follower.get("/")
    assert f'href="/live/{room}"' in mine.text and "your own copy of live room" in mine.text
    copy = live(follower).store.get(follower.cookies.get("bp_session"))
    there = the_session(presenter)
    assert copy.id != there.id and copy.trainer.step_count == 2
    for a, b in zip(copy.trainer.net.weights, there.trainer.net.weights):
        assert np.array_equal(a, b)
    follower.post("/ui/step", headers=HX)
    follower.post("/ui/step", headers=HX)
    assert the_session(presenter).trainer.step_count == 2  # the room is untouched
    assert copy.page.live is None  # the copy presents nothing
    assert follower.get(f"/live/{room}").status_code == 200  # and following again is one link away


# ---- 4. Polls ----

def ask(presenter, kind: str, choice: str):
    r = presenter.post("/ui/live/ask", headers=HX, data={"kind": kind, "choice": choice})
    assert r.status_code == 200 and "field-error" not in r.text, r.text
    return r


def answer(follower, room: str, value: str, poll: int = 1):
    return follower.post(f"/live/{room}/answer", headers=HX, data={"poll": str(poll), "answer": value})


def test_a_direction_poll_counts_reveals_and_marks(app, presenter, room):
    session = the_session(presenter)
    w_before = session.trainer.net.weights[1][0, 0]
    r = ask(presenter, "direction", "1.0.0")
    assert "Asked: Will the weight h1.1 → " in r.text and "0 answers" in r.text
    students = [TestClient(app) for _ in range(5)]
    for k, s in enumerate(students):
        s.get(f"/live/{room}")
        assert "Your answer:" in answer(s, room, "up" if k < 3 else "down").text
    assert "Your answer: down" in answer(students[4], room, "down").text  # changing one's mind counts once
    assert live(presenter).rooms.count(room, 1) == 5
    counts = [e for e in events(presenter, room) if e[1] == "count"]
    assert counts and "5 answers" in counts[-1][2] or _eventually_count(presenter, room, 5)
    r = presenter.post("/ui/live/reveal", headers=HX)
    assert "Revealed: Will" in r.text
    session = the_session(presenter)
    assert session.trainer.step_count == 1  # Reveal took the step
    went = "up" if session.trainer.net.weights[1][0, 0] > w_before else "down"
    result = live(presenter).rooms.get(room).poll.result
    assert result["answer"] == went and result["total"] == 5
    assert result["right"] == (3 if went == "up" else 2)
    assert {b["label"]: b["count"] for b in result["bars"]} == {"up": 3, "down": 2}
    mine = [s.get(f"/live/{room}/mine").text for s in students]
    assert all((": right." in m) == ((k < 3) == (went == "up")) for k, m in enumerate(mine))
    late = answer(students[0], room, "down")
    assert "this question is closed" in late.text
    for _, kind, data in events(presenter, room):  # every event carries a step number (a patch in its JSON)
        assert (isinstance(json.loads(data)["step"], int) if kind == "patch"
                else re.search(r'data-step="\d+"', data)), (kind, data[:200])
    poll_event = [e for e in events(presenter, room) if e[1] == "poll"][-1][2]
    assert "answered right" in poll_event
    for s in students:  # anonymous: no follower's token is in what everyone receives
        assert s.cookies.get("bp_follower") not in poll_event


def _eventually_count(presenter, room, n):
    import time
    deadline = time.monotonic() + EVENT_TIMEOUT
    while time.monotonic() < deadline:
        counts = [e for e in events(presenter, room) if e[1] == "count"]
        if counts and f"{n} answers" in counts[-1][2]:
            return True
        time.sleep(0.05)
    return False


def test_the_largest_delta_poll_is_the_steps_own(app, presenter, room):
    presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    presenter.post("/ui/phase", headers=HX)  # Forward: the class sees the coming step
    ask(presenter, "largest", "1")
    s = TestClient(app)
    s.get(f"/live/{room}")
    answer(s, room, "h1.2")
    session = the_session(presenter)
    presenter.post("/ui/live/reveal", headers=HX)
    trace = session.last_trace
    mean_delta = np.mean(trace.deltas[0], axis=0) if hasattr(trace, "deltas") else None
    result = live(presenter).rooms.get(room).poll.result
    if mean_delta is not None:
        assert result["answer"] == f"h1.{int(np.argmax(np.abs(mean_delta))) + 1}"
    assert result["total"] == 1 and len(result["bars"]) == session.trainer.net.sizes[1]


def test_a_number_poll_is_marked_as_the_worksheet_marks(app, tmp_path):
    from helpers import mazur_setup
    with TestClient(app) as p:
        sid = p.post("/api/sessions", json=mazur_setup()).json()["id"]
        p.cookies.set("bp_session", sid)
        code = code_of(p.post("/ui/live/start", headers=HX).text)
        p.post("/ui/detailed", headers=HX, data={"detailed": "on"})
        p.post("/ui/phase", headers=HX)  # Forward: the class sees the coming step's numbers
        ask(p, "number", "2.0")  # δ of o1: Mazur's 0.13849856...
        right, close, wrong = TestClient(app), TestClient(app), TestClient(app)
        for s in (right, close, wrong):
            s.get(f"/live/{code}")  # joining lets a browser answer
        assert "Your answer: 0.1385" in answer(right, code, "0.1385").text
        answer(close, code, "0.1384")
        answer(wrong, code, "0.14")  # too few digits to be right at 3 significant digits: 0.140 ≠ 0.138
        bad = answer(wrong, code, "about a tenth")
        assert "type a number" in bad.text
        p.post("/ui/live/reveal", headers=HX)
        result = live(p).rooms.get(code).poll.result
        assert result["value"] == pytest.approx(0.13849856162855698, abs=1e-15)
        assert result["right"] == 1 and result["total"] == 3
        assert ": right." in right.get(f"/live/{code}/mine").text
        assert "not right." in close.get(f"/live/{code}/mine").text


def test_a_change_of_the_network_cancels_an_open_question(app, presenter, room):
    """A question is about the step from the state it was asked in: a Step, a rewind or a setting instead of Reveal
    cancels it, and the class is told."""
    student = TestClient(app)
    student.get(f"/live/{room}")
    for change in (lambda: presenter.post("/ui/step", headers=HX),
                   lambda: presenter.post("/ui/rewind", headers=HX, data={"step": "0"}),
                   lambda: presenter.post("/ui/config", headers=HX, data={"learning_rate": "0.05"})):
        ask(presenter, "direction", "0.0.0")
        poll = live(presenter).rooms.get(room).poll
        answer(student, room, "up", poll.id)
        change()
        poll = eventually(lambda: live(presenter).rooms.get(room).poll, lambda p: p.result is not None)
        assert poll.result == {"cancelled": "the network changed before the reveal"}
        assert "Cancelled" in [e for e in events(presenter, room) if e[1] == "poll"][-1][2]
        assert "cancelled" in student.get(f"/live/{room}/mine").text
        assert "no open question" in presenter.post("/ui/live/reveal", headers=HX).text
        assert "this question is closed" in answer(student, room, "down", poll.id).text


def eventually(read, test, timeout: float | None = None):
    """read() once test() holds of it (a frame held back while playing goes out after the interval)."""
    import time
    deadline = time.monotonic() + (EVENT_TIMEOUT if timeout is None else timeout)
    while not test(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(FRAME_INTERVAL / 4)
    return value


def test_a_detailed_step_does_not_show_an_open_questions_answer(presenter, room):
    presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    presenter.post("/ui/phase", headers=HX)  # the forward pass: a δ question may be asked now
    ask(presenter, "number", "3.0")
    presenter.post("/ui/phase", headers=HX)  # the loss: still no δ
    r = presenter.post("/ui/phase", headers=HX)
    assert "A question is open: Reveal it (which takes step 1) or cancel it before the backward pass" in r.text
    poll = live(presenter).rooms.get(room).poll
    assert poll.open
    assert "Revealed:" in presenter.post("/ui/live/reveal", headers=HX).text
    assert the_session(presenter).trainer.step_count == 1


def test_bad_polls_say_what_is_wrong_and_change_nothing(presenter, room):
    for kind, choice in (("direction", "9.9.9"), ("largest", "5"), ("number", "x"), ("shrug", "1")):
        r = presenter.post("/ui/live/ask", headers=HX, data={"kind": kind, "choice": choice})
        assert r.status_code == 200 and 'class="field-error"' in r.text
    assert live(presenter).rooms.get(room).poll is None
    r = presenter.post("/ui/live/reveal", headers=HX)
    assert "no open question" in r.text and the_session(presenter).trainer.step_count == 0


# ---- 7. Security ----

PRESENTER_ONLY = ("/ui/live/stop", "/ui/live/ask", "/ui/live/reveal", "/ui/live/close-poll")


def test_a_follower_cannot_act_on_the_room_or_its_session(app, presenter, follower, room):
    """The follower's own cookies against every page action there is: the room's session never changes."""
    presenter.post("/ui/step", headers=HX)
    ask(presenter, "direction", "0.0.0")
    follower.get(f"/live/{room}")
    follower.post(f"/live/{room}/copy", headers=SAME_SITE)  # a session of its own too: the worst case
    there = the_session(presenter)
    before = (there.trainer.step_count, [w.copy() for w in there.trainer.net.weights], there.page.copy())
    posts = sorted({r.path for r in all_routes(app.routes) if "POST" in (getattr(r, "methods", None) or ())
                    and r.path.startswith("/ui/")})
    assert set(PRESENTER_ONLY) <= set(posts) and "/ui/step" in posts
    for path in posts:
        follower.post(path, headers=HX, data={"kind": "direction", "choice": "0.0.0", "step": "0", "speed": "10"})
    there = the_session(presenter)
    assert there.trainer.step_count == before[0]
    assert all(np.array_equal(a, b) for a, b in zip(there.trainer.net.weights, before[1]))
    assert there.page == before[2]
    r = live(presenter).rooms.get(room)
    assert not r.ended and r.poll is not None and r.poll.result is None and r.sid == there.id
    # Without any session the page's actions refresh the page; the API needs the id, which followers never see.
    stranger = TestClient(app)
    for path in PRESENTER_ONLY:
        assert stranger.post(path, headers=HX).headers.get("HX-Refresh") == "true"


def run_alone(main) -> None:
    """asyncio.run(main()) in a thread of its own: the browser tests leave an event loop running in this one."""
    import asyncio
    import threading
    failed = []

    def run():
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's own thread
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if failed:
        raise failed[0]


async def _subscribe(hub, code):
    return hub.subscribe(code, None)


def all_routes(routes):
    """Every route, through the routers the app includes."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        else:
            yield r


def test_joining_is_rate_limited_per_address(app, presenter, room):
    guesser = TestClient(app)
    buckets = app.state.rate_limits
    monkey_clock = [buckets.clock()]
    buckets.clock = lambda: monkey_clock[0]  # no refill while guessing: the burst is all an address gets at once
    codes = [f"ZZZ{a}{b}{c}" for a in "ABC" for b in ALPHABET for c in ALPHABET][:1300]
    statuses = [guesser.get(f"/live/{c}").status_code for c in codes]
    assert statuses[0] == 404 and 429 in statuses
    assert guesser.get(f"/live/{room}").status_code == 429  # refused before the code is even looked at


def test_typed_codes_find_their_room(presenter, follower, room):
    r = follower.get("/live", params={"code": f"{room[:3].lower()}-{room[3:].lower()}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/live/{room}"
    bad = follower.get("/live", params={"code": "nope"})
    assert bad.status_code == 422 and "6 letters and digits" in bad.text
    assert follower.get("/live/ZZZZZZ").status_code == 404
    assert follower.get(f"/live/{room.lower()}", follow_redirects=False).headers["location"] == f"/live/{room}"


def test_times_to_live_read_as_words():
    from app.web.live_render import ttl_words
    assert [ttl_words(s) for s in (10800, 5400, 3600, 600, 90, 5, 1)] == [
        "3 hours", "1.5 hours", "1 hour", "10 minutes", "1.5 minutes", "5 seconds", "1 second"]


def test_event_numbers_read_back():
    from app.live.events import data_lines, sse
    event = sse(42, "frame", data_lines("<p>a\nb</p>"))
    assert event == b"id: 42\nevent: frame\ndata: <p>a\ndata: b</p>\n\n"
    assert event_seq(event) == 42


def test_a_stream_too_far_behind_is_ended_so_that_it_resumes():
    """A follower that reads slower than the room publishes is not allowed to hold memory without bound: once its
    queue is full its stream ends (the browser reconnects with Last-Event-ID and catches up)."""
    import asyncio
    from app.live.hub import QUEUE_LIMIT, Hub

    async def main():
        hub = Hub(rooms=None)
        hub.loop = asyncio.get_running_loop()
        slow, quick = hub.subscribe("ROOM22", None), hub.subscribe("ROOM22", frozenset({"count"}))
        hub.settle("ROOM22", 0)
        for seq in range(1, QUEUE_LIMIT + 10):
            hub._deliver("ROOM22", seq, "frame", b"id: %d\n\n" % seq)
        hub._deliver("ROOM22", 5, "frame", b"old")  # an event already delivered is never delivered twice
        items = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        assert items[-1] is None and slow not in hub.channels["ROOM22"].subscribers
        assert [seq for seq, _ in items[:-1]] == list(range(1, len(items)))
        assert quick.queue.empty()  # it wants counts only
        assert hub.channels["ROOM22"].subscribers == {quick}

    run_alone(main)


def test_events_reach_a_stream_in_order_even_when_announced_out_of_order():
    """Another process's event can be announced after a later one made here (two workers: pub/sub, or the SQLite
    look every 20 ms). The later one waits while the missing ones are read from storage, where every event is kept
    before it is announced; a stream never misses one, nor gets one twice."""
    import asyncio
    from app.live.hub import Hub
    from app.live.events import data_lines, sse

    kept = {n: sse(n, "count" if n % 2 else "frame", data_lines(f"event {n}")) for n in range(1, 9)}

    class Kept:
        def events_after(self, code, seq):
            return [(n, e) for n, e in sorted(kept.items()) if n > seq]

    async def main():
        hub = Hub(Kept())
        hub.loop = asyncio.get_running_loop()
        sub = hub.subscribe("ROOM22", None)
        hub.settle("ROOM22", 2)  # the stream replays 1 and 2 itself
        for n in (3, 6, 5, 7, 3, 8):  # 4 is announced late (or never): read from storage
            hub._deliver("ROOM22", n, "frame", kept[n])
        for _ in range(20):
            await asyncio.sleep(0.01)
            if sub.queue.qsize() == 6:
                break
        got = [sub.queue.get_nowait()[0] for _ in range(sub.queue.qsize())]
        assert got == [3, 4, 5, 6, 7, 8]
        hub._deliver("ROOM22", 4, "count", kept[4])  # the late announcement changes nothing
        assert sub.queue.empty()

    run_alone(main)


def test_reveal_counts_as_a_training_step_and_a_copy_as_a_new_session(app, presenter, room):
    """Reveal takes a step, so it spends the session's training-step tokens like Step; Take a copy makes a session,
    so it spends the address's new-session tokens."""
    from app.ratelimit import CREATE, TRAIN
    from helpers import declares
    assert TRAIN in declares(app, "POST", "/ui/live/reveal")
    assert CREATE in declares(app, "POST", "/live/{code}/copy")
    buckets = app.state.rate_limits
    frozen = buckets.clock()
    buckets.clock = lambda: frozen  # no refill meanwhile
    statuses = [presenter.post("/ui/live/reveal", headers=HX).status_code for _ in range(int(TRAIN.burst) + 5)]
    assert statuses[0] == 200 and statuses[-1] == 429


def test_a_step_cancels_an_open_question_at_once_even_while_frames_are_held_back(app, presenter, room):
    """Found by review: with frames held back (steps in quick succession), a Step left the question open. The check
    now runs on every change, before any frame is held back."""
    import threading
    students = [TestClient(app) for _ in range(8)]
    for s in students:
        s.get(f"/live/{room}")
    for _ in range(3):
        presenter.post("/ui/step", headers=HX)  # frames held back: within the interval of each other
        ask(presenter, "direction", "0.0.0")
        poll = live(presenter).rooms.get(room).poll
        threads = [threading.Thread(target=answer, args=(s, room, "up", poll.id)) for s in students]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        presenter.post("/ui/step", headers=HX)
        assert live(presenter).rooms.get(room).poll.result == {"cancelled": "the network changed before the reveal"}


def test_a_follower_answers_the_delta_question_from_their_own_diagram(app, presenter, room):
    """Issue 23: the δ question is about the row the presenter's diagram shows, and a follower who works it out by
    the chain rule from the numbers on their own diagram (a, t of the output) is marked right."""
    presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    presenter.post("/ui/phase", headers=HX)  # forward
    presenter.post("/ui/phase", headers=HX)  # loss: the outputs' a and t are on the diagram
    assert "field-error" not in presenter.post("/ui/focus-row", headers=HX, data={"row": "4"}).text
    r = ask(presenter, "number", "3.0")  # δ of the output, on row 5 of the batch
    assert "on row 5 of the batch" in r.text
    student = TestClient(app)
    page = student.get(f"/live/{room}").text
    svg = re.search(r'<svg id="network".*?</svg>', page, re.S).group(0)
    assert 'data-batch-row="4"' in svg
    node = re.search(r'<g id="node-3-0"[^>]*>', svg).group(0)
    a, t = (float(re.search(fr'data-{k}="([^"]+)"', node).group(1)) for k in ("activation", "target"))
    delta = (a - t) * (1 - a * a)  # half_sse's ∂L/∂o times tanh's f′(z), from the diagram's own numbers
    assert "Your answer" in answer(student, room, repr(delta)).text
    presenter.post("/ui/live/reveal", headers=HX)
    result = live(presenter).rooms.get(room).poll.result
    assert result["right"] == 1 and result["total"] == 1, result
    assert ": right." in student.get(f"/live/{room}/mine").text



def test_a_delta_question_waits_for_the_diagram_to_show_the_coming_step_and_keeps_its_row(presenter, room):
    """Found by review: after a plain Step the diagram shows the step before, so δ of the coming step cannot be
    worked from it; and picking another row while a δ question is open changes what the class sees."""
    presenter.post("/ui/step", headers=HX)
    r = presenter.post("/ui/live/ask", headers=HX, data={"kind": "number", "choice": "3.0"})
    assert "turn on Detailed step and take Forward" in r.text and live(presenter).rooms.get(room).poll is None
    presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    presenter.post("/ui/phase", headers=HX)
    ask(presenter, "number", "3.0")
    r = presenter.post("/ui/focus-row", headers=HX, data={"row": "3"})
    assert "A question about this row is open" in r.text and 'data-batch-row="0"' in r.text
    assert live(presenter).rooms.get(room).poll.open
