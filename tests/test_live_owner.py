"""A room belongs to its presenter (issue 22, point 6): no page prints a session's id unless its learner asks for it
(API access), never while presenting; nothing a follower receives carries it; an answer needs a joined follower's
cookie, one vote a browser; event streams per address and per process are capped."""
import re

import pytest
from fastapi.testclient import TestClient

from test_live import app, code_of, presenter, room  # noqa: F401 - the live tests' fixtures

from app.web.live_render import whole_frame

HX = {"HX-Request": "true"}
SAME_SITE = {"Origin": "http://testserver"}
HEX32 = re.compile(r"[0-9a-f]{32}")


def live(client):
    return client.app.state.live


def kept_events(client, code: str) -> list[str]:
    return [e.decode() for _, e in live(client).rooms.events_after(code, 0) or []]


# ---- API access: the id on request, never while presenting ----

def test_the_page_prints_no_session_id_until_the_learner_asks_for_it(presenter):
    sid = presenter.cookies.get("bp_session")
    page = presenter.get("/").text
    assert sid not in page
    assert 'hx-get="/ui/api-access"' in page and "API access" in page  # the control, in Share and export
    for path in ("/ui/step", "/ui/share"):
        assert sid not in presenter.post(path, headers=HX).text
    shown = presenter.get("/ui/api-access", headers=HX)
    assert shown.status_code == 200 and f"/api/sessions/{sid}" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert presenter.get(f"/api/sessions/{sid}").status_code == 200  # the id it shows drives the session
    hidden = presenter.get("/ui/api-access", headers=HX, params={"hide": "1"})
    assert sid not in hidden.text and 'hx-get="/ui/api-access"' in hidden.text


def test_a_presenting_page_never_shows_the_session_id(presenter):
    sid = presenter.cookies.get("bp_session")
    revealed = presenter.get("/ui/api-access", headers=HX).text
    assert sid in revealed
    start = presenter.post("/ui/live/start", headers=HX).text
    # Present replaces the revealed id on the page with the control's "unavailable" state.
    assert sid not in start and 'id="api-access"' in start and "unavailable while presenting" in start
    assert sid not in presenter.get("/").text
    asked = presenter.get("/ui/api-access", headers=HX)
    assert sid not in asked.text and "unavailable while presenting" in asked.text
    stop = presenter.post("/ui/live/stop", headers=HX).text
    assert 'hx-get="/ui/api-access"' in stop and sid not in stop  # available again, still only on request


def test_nothing_a_presenter_shows_or_a_follower_receives_carries_the_session_id(app, presenter, room):
    """Every body of a presenting session's page and of its followers' (page, events, inspector, answers, copy),
    with a step run, a question asked, detailed mode and the inspector open."""
    sid = presenter.cookies.get("bp_session")
    bodies = {}

    def keep(name, r):
        assert r.status_code < 500, (name, r.status_code)
        bodies[name] = r.text + "".join(f"{k}: {v}\n" for k, v in r.headers.items()
                                        if k != "set-cookie" or "bp_session" not in v or name == "copy")

    keep("step", presenter.post("/ui/step", headers=HX))
    keep("inspect", presenter.post("/ui/inspect", headers=HX, data={"kind": "edge", "layer": 0, "from": 0, "to": 0}))
    keep("detailed", presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"}))
    keep("phase", presenter.post("/ui/phase", headers=HX))
    keep("ask", presenter.post("/ui/live/ask", headers=HX, data={"kind": "direction", "choice": "0.0.0"}))
    keep("panel", presenter.get("/ui/live/panel", headers=HX))
    keep("api-access", presenter.get("/ui/api-access", headers=HX))
    keep("page", presenter.get("/"))
    keep("export", presenter.get("/ui/export.json"))
    keep("python", presenter.get("/ui/python", headers=HX))

    student = TestClient(app)
    keep("follow", student.get(f"/live/{room}"))
    keep("follower inspect", student.get(f"/live/{room}/inspect", params={"kind": "edge", "layer": 0, "from": 0,
                                                                            "to": 0}))
    keep("follower node", student.get(f"/live/{room}/inspect", params={"kind": "node", "layer": 1, "to": 0}))
    keep("answer", student.post(f"/live/{room}/answer", headers=HX, data={"poll": "1", "answer": "up"}))
    keep("answer no js", student.post(f"/live/{room}/answer", headers=SAME_SITE, data={"poll": "1", "answer": "up"},
                                      follow_redirects=False))
    keep("mine", student.get(f"/live/{room}/mine"))
    for n, event in enumerate(kept_events(presenter, room)):
        bodies[f"event {n}"] = event
    bodies["whole frame"] = whole_frame(live(presenter), live(presenter).rooms.get(room))[1]
    keep("reveal", presenter.post("/ui/live/reveal", headers=HX))
    keep("stop", presenter.post("/ui/live/stop", headers=HX))
    for n, event in enumerate(kept_events(presenter, room)):
        bodies[f"event after {n}"] = event
    keep("ended page", student.get(f"/live/{room}"))
    copy = student.post(f"/live/{room}/copy", headers=SAME_SITE, follow_redirects=False)
    keep("copy", copy)
    keep("copy page", student.get("/"))

    assert len(bodies) > 20 and any("frame" in name or "event" in name for name in bodies)
    leaks = [name for name, body in bodies.items() if sid in body]
    assert leaks == []
    assert student.cookies.get("bp_session") != sid  # the copy is a session of the follower's own


def test_knowing_everything_a_follower_sees_does_not_drive_the_room(app, presenter, room):
    """Every 32-digit hex string a follower receives (its cookies included), tried as the presenter's cookie and in
    the API's paths: the room and its session stay as they are."""
    presenter.post("/ui/step", headers=HX)
    presenter.post("/ui/live/ask", headers=HX, data={"kind": "direction", "choice": "0.0.0"})
    student = TestClient(app)
    seen = student.get(f"/live/{room}").text
    seen += student.get(f"/live/{room}/inspect", params={"kind": "edge", "layer": 0, "from": 0, "to": 0}).text
    seen += "".join(kept_events(presenter, room)) + whole_frame(live(presenter), live(presenter).rooms.get(room))[1]
    seen += " ".join(student.cookies.values())
    tokens = set(HEX32.findall(seen)) | {room, room.lower()}
    session = live(presenter).store.get(presenter.cookies.get("bp_session"))
    before = session.trainer.step_count
    for token in tokens:
        intruder = TestClient(app, cookies={"bp_session": token})
        for path in ("/ui/step", "/ui/live/ask", "/ui/live/reveal", "/ui/live/close-poll", "/ui/live/stop"):
            intruder.post(path, headers=HX, data={"kind": "direction", "choice": "0.0.0"})
        for path in ("step", "live/stop"):
            assert intruder.post(f"/api/sessions/{token}/{path}", json={}).status_code in (404, 422)
    r = live(presenter).rooms.get(room)
    assert not r.ended and r.poll is not None and r.poll.open
    assert live(presenter).store.get(session.id).trainer.step_count == before


# ---- answers: a joined follower's cookie, one vote a browser ----

def answer(client, room, value="up", poll=1):
    return client.post(f"/live/{room}/answer", headers=HX, data={"poll": str(poll), "answer": value})


def test_answers_without_a_joined_followers_cookie_add_no_vote(app, presenter, room):
    presenter.post("/ui/live/ask", headers=HX, data={"kind": "direction", "choice": "0.0.0"})
    app.state.rate_limits = None  # the answers' rate limit would refuse some of them: here every one is heard
    stuffer = TestClient(app)
    statuses = set()
    for _ in range(800):
        r = answer(stuffer, room)
        statuses.add(r.status_code)
        stuffer.cookies.clear()  # as a script that keeps no cookie would
    assert statuses == {403}
    assert live(presenter).rooms.count(room, 1) == 0
    r = answer(stuffer, room)
    assert r.status_code == 403 and f"/live/{room}" in r.text and "join" in r.text.lower()
    forged = TestClient(app, cookies={"bp_follower": "ab" * 16})  # well formed, never joined
    assert answer(forged, room).status_code == 403
    assert live(presenter).rooms.count(room, 1) == 0
    # Without JavaScript: a page that says so, not a redirect that hides it.
    plain = stuffer.post(f"/live/{room}/answer", headers=SAME_SITE, data={"poll": "1", "answer": "up"},
                         follow_redirects=False)
    assert plain.status_code == 403 and "join" in plain.text.lower()
    assert "1 answer" not in "".join(kept_events(presenter, room))


def test_one_browser_has_one_vote(app, presenter, room):
    presenter.post("/ui/live/ask", headers=HX, data={"kind": "direction", "choice": "0.0.0"})
    student = TestClient(app)
    student.get(f"/live/{room}")
    for value in ("up", "down", "up", "down"):
        assert answer(student, room, value).status_code == 200
    student.get(f"/live/{room}")  # joining again changes nothing
    assert answer(student, room, "up").status_code == 200
    assert live(presenter).rooms.answers(room, 1) == {student.cookies.get("bp_follower"): "up"}


def test_one_address_brings_at_most_a_class_of_voters_to_a_room(app, presenter, room):
    live(presenter).max_followers_per_address = 3
    presenter.post("/ui/live/ask", headers=HX, data={"kind": "direction", "choice": "0.0.0"})
    students = [TestClient(app) for _ in range(5)]
    for s in students:
        assert s.get(f"/live/{room}").status_code == 200  # everyone may watch
    statuses = [answer(s, room).status_code for s in students]
    assert statuses == [200, 200, 200, 403, 403]
    assert live(presenter).rooms.count(room, 1) == 3
    assert "as many followers" in answer(students[4], room).text


# ---- event streams: per address and per process ----

def test_stream_slots_per_address_and_in_all():
    from app.live.streams import StreamSlots
    slots = StreamSlots(per_address=2, total=3)
    assert slots.take("a") is None and slots.take("a") is None
    refused = slots.take("a")
    assert refused is not None and "at most 2 at once" in refused
    assert slots.take("b") is None
    assert "3 event streams" in slots.take("c")  # the process's own cap
    slots.give_back("a")
    assert slots.take("c") is None
    assert slots.open("a") == 1 and slots.open("c") == 1 and slots.total_open == 3


def test_the_process_cap_leaves_file_descriptors_for_everything_else():
    from app.live.streams import StreamSlots, stream_cap
    assert stream_cap(1024) == 768  # a quarter of the limit for pages, the store and everything else
    assert stream_cap(1024) > 400  # a class behind one address fits
    assert stream_cap(256) == 192
    assert stream_cap(-1) == 100_000  # unlimited: a large cap all the same
    assert StreamSlots.from_settings(400).per_address == 400


def test_an_address_over_its_streams_gets_429_with_retry_after(app, presenter, room):
    from app.live.streams import StreamSlots
    slots = live(presenter).streams = StreamSlots(per_address=2, total=100)
    for _ in range(2):
        assert slots.take("testclient") is None  # as two open streams from this address would
    r = presenter.get(f"/live/{room}/events")
    assert r.status_code == 429 and r.headers["retry-after"] == "5"
    assert "event streams" in r.json()["detail"]
    assert slots.open("testclient") == 2  # the refused one took nothing
    assert presenter.get("/live/ZZZZZZ/events").status_code == 429  # refused before the code is looked at


def test_a_stream_that_ends_gives_its_slot_back(app, presenter, room):
    """The stream's slot is given back however its response ends (here: the room ends, which ends every stream;
    a client that goes away ends it too, by cancelling the response)."""
    import asyncio
    from app.web.live_events import EventStream
    from app.live.streams import StreamSlots

    slots = live(presenter).streams = StreamSlots(per_address=5, total=100)
    closed = []

    async def body():
        yield b"retry: 1000\n\n"
        await asyncio.sleep(3600)

    async def main():
        assert slots.take("x") is None
        stream = EventStream(body(), on_close=lambda: (slots.give_back("x"), closed.append(1)))
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            await asyncio.sleep(0.05)
            return {"type": "http.disconnect"}

        await asyncio.wait_for(stream({"type": "http", "asgi": {"spec_version": "2.3"}}, receive, send), 5)
        return sent

    sent = presenter.portal.call(main)
    assert sent[0]["status"] == 200 and closed == [1] and slots.open("x") == 0


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_both_stores_join_followers_up_to_an_addresss_cap(kind, tmp_path):
    from contextlib import nullcontext

    from app.live.model import Room
    from app.live.redis_rooms import RedisRooms
    from app.live.sqlite_rooms import SQLiteRooms
    from test_store_durability import running_redis

    with (running_redis(tmp_path) if kind == "redis" else nullcontext()) as redis_server:
        rooms = RedisRooms(redis_server.url) if kind == "redis" else SQLiteRooms(tmp_path / "rooms.db")
        now = rooms.clock()
        assert rooms.create(Room("ABC234", "s" * 32, now, now + 60))
        assert not rooms.join("ZZZ234", "f1", "10.0.0.1", 2)  # no such room
        assert [rooms.join("ABC234", f, "10.0.0.1", 2) for f in ("f1", "f2", "f3", "f1")] == [True, True, False, True]
        assert rooms.join("ABC234", "f3", "10.0.0.2", 2)  # another address brings its own
        assert rooms.joined("ABC234", "f1") and rooms.joined("ABC234", "f3") and not rooms.joined("ABC234", "f9")
        assert rooms.followers_from("ABC234", "10.0.0.1") == 2 and rooms.followers_from("ABC234", "10.0.0.9") == 0
        rooms.close()
