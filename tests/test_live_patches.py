"""A live room's steps and phases as patches (issue 26 §3): each goes on from the frame or patch before it, and a
follower who applies every event from wherever it started (the first frame, its page, a resume point) holds the
room's diagram exactly, value for value (app/views/network_svg.py edge_values, node_values); a page drawn ahead of
the last frame (one is held back while playing) is brought to the room's state by the next patch, in the process
that made the patches or in another one. The follower's page doing the same in a browser: tests/browser/test_live.py.
"""
import json
import threading
from dataclasses import replace
from unittest.mock import ANY

import pytest

from app.views.diagram_patch import svg_values
from app.views.network_svg import edge_values, node_values
from app.web import live_publisher
from app.web.live_events import EVENT_KINDS, ONLY
from app.web.live_render import room_stage, status
from app.web.outcome import stepped
from app.web.panel_data import FollowerData
from test_live import HX, events, live, the_session
from test_live import app, presenter, room  # noqa: F401  (the live tests' fixtures)

HOUR = 3600.0


def picture(diagram) -> dict:
    """What a follower's diagram shows, as a patch writes it: its structure, the <svg>'s values and every edge's
    and node's (JSON, as sent)."""
    values = {e.id: edge_values(e) for e in diagram.edges} | {n.id: node_values(n) for n in diagram.nodes}
    return json.loads(json.dumps({"structure": diagram.structure, "svg": svg_values(diagram), "values": values}))


@pytest.fixture
def room_clock(presenter, room, monkeypatch):
    """The publisher's clock, moved by the test: changes within FRAME_INTERVAL of the last frame are held back
    (the interval is an hour, so that no timer publishes one by itself); `advance()` lets the next change out."""
    publisher = live(presenter).publisher
    now = [publisher.clock() + HOUR]
    monkeypatch.setattr(publisher, "clock", lambda: now[0])
    monkeypatch.setattr(live_publisher, "FRAME_INTERVAL", HOUR)

    def advance():
        now[0] += 2 * HOUR
    return advance


@pytest.fixture
def truth(presenter, room, monkeypatch) -> dict:
    """Event number -> the room's picture when that frame or patch was published (read under the same lock)."""
    publisher = live(presenter).publisher
    real, seen = publisher.publish_frame, {}
    session = the_session(presenter)
    for seq, _, _ in [e for e in events(presenter, room) if e[1] in ("frame", "patch")][-1:]:
        with session.lock:  # the room's first frame, published before: the session has not changed since
            seen[seq] = picture(FollowerData(session, stepped([]), status(session, live(presenter).rooms.get(room)))
                                .diagram)

    def publish(session, room, sent):
        seq = real(session, room, sent)
        seen[seq] = picture(FollowerData(session, stepped([]), status(session, room)).diagram)
        return seq
    monkeypatch.setattr(publisher, "publish_frame", publish)
    return seen


def follow(held: dict | None, shown: list, truth: dict) -> dict:
    """A follower holding `held` (None: nothing yet) applies `shown`, the room's frames and patches after it, in
    order, as the page does; after each it must hold the room's picture of that event."""
    last = None
    for seq, kind, data in shown:
        if kind == "frame":
            assert 'id="network"' in data  # a whole frame draws the picture: the room's, then
            held = truth[seq]
        else:
            frame = json.loads(data)
            assert last is None or frame["base"] == last  # on the event before it
            if "diagram" in frame:
                patch = frame["diagram"]
                assert held is not None and patch["structure"] == held["structure"]
                held = {**held, "svg": patch["svg"], "values": {**held["values"], **patch["edges"], **patch["nodes"]}}
            else:
                assert '<svg id="network"' in frame["html"]  # another picture: its markup, whole
                held = truth[seq]
        assert held == truth[seq], f"event {seq} ({kind}) left the follower off the room's picture"
        last = seq
    return held


def shown_after(presenter, room: str, after: int = 0) -> list:
    return [e for e in events(presenter, room, after) if e[1] in ("frame", "patch")]


def test_steps_and_phases_are_patches_on_the_event_before(presenter, room, truth, room_clock):
    changes = [("/ui/step", {})] * 3 + [("/ui/detailed", {"detailed": "on"})] + [("/ui/phase", {})] * 5 + [
        ("/ui/detailed", {"detailed": ""}), ("/ui/focus-row", {"row": "2"}), ("/ui/epoch", {}),
        ("/ui/rewind", {"step": "2"}), ("/ui/step", {}), ("/ui/step", {})]
    for path, data in changes:
        room_clock()  # each change goes out at once
        presenter.post(path, headers=HX, data=data)
    shown = shown_after(presenter, room)
    kinds = [kind for _, kind, _ in shown]
    assert kinds[0] == "frame" and kinds[-2:] == ["patch", "patch"] and json.loads(shown[-1][2])["step"] == 4
    assert kinds.count("frame") == 2  # the first, and the rewind's
    # From the first frame, and from any event on (a follower resuming there): exact after every one.
    for start in range(len(shown)):
        follow(truth[shown[start][0]], shown[start + 1:], truth)


def test_a_page_drawn_ahead_of_the_last_frame_is_brought_to_the_rooms_state(presenter, room, truth, room_clock):
    """The session can be ahead of what the followers were last sent (a frame held back while playing; a change
    that sends none, such as the focus row). A follower's page drawn then shows the presenter's row 3; back on row
    0, the next frame's picture is the last one's: a patch made only from the last frame would be empty, and leave
    this page's nodes on row 3."""
    room_clock()
    presenter.post("/ui/step", headers=HX)
    sent = shown_after(presenter, room)
    assert sent[-1][1] == "patch"
    presenter.post("/ui/focus-row", headers=HX, data={"row": "3"})
    seq, page, _, _ = room_stage(live(presenter), live(presenter).rooms.get(room))  # the follower's page
    held = picture(page["diagram"])
    assert held["structure"] == truth[sent[-1][0]]["structure"] and held != truth[sent[-1][0]]
    presenter.post("/ui/focus-row", headers=HX, data={"row": "0"})
    publisher, session = live(presenter).publisher, the_session(presenter)
    with session.lock:  # the room's next frame
        publisher.publish_frame(session, live(presenter).rooms.get(room), publisher.sent[room])
    after = shown_after(presenter, room, seq)
    assert [kind for _, kind, _ in after] == ["patch"] and truth[after[0][0]] == {**truth[sent[-1][0]], "svg": ANY}
    follow(held, after, truth)
    # The followers who were there hold the last patch's picture: the same patch fits it too.
    follow(truth[sent[-1][0]], after, truth)


def test_a_page_drawn_at_another_picture_gets_a_whole_frame_next(presenter, room, truth, room_clock):
    """A follower's page drawn at another picture than the room's copy holds (another structure) gets a whole frame
    next, whatever the next change. Only a new network or data changes the structure, and those go out as whole
    frames anyway (a phase or the first step from the initial weights is a patch), so this is the publisher's
    safeguard, driven here with the page's diagram one pixel wider."""
    room_clock()
    presenter.post("/ui/step", headers=HX)
    room_clock()
    presenter.post("/ui/step", headers=HX)
    sent = shown_after(presenter, room)
    assert sent[-1][1] == "patch"
    seq, page, _, _ = room_stage(live(presenter), live(presenter).rooms.get(room))  # a page drawn at the room's state
    publisher, session = live(presenter).publisher, the_session(presenter)
    assert publisher.sent[room].copy is not None  # ... the same picture: the room's patches go on from it
    other = replace(page["diagram"], width=page["diagram"].width + 1)
    assert other.structure != page["diagram"].structure
    with session.lock:
        publisher.follower_drawn(session, other)
    assert publisher.sent[room].copy is None
    room_clock()
    presenter.post("/ui/step", headers=HX)
    after = shown_after(presenter, room, seq)
    assert [kind for _, kind, _ in after] == ["frame"]
    follow(picture(other), after, truth)


def test_a_page_drawn_in_another_process_starts_the_frames_anew(presenter, room, truth, room_clock):
    """The process that draws a follower's page may not be the one that made the room's patches (several workers):
    it cannot note what the page holds, so the room's epoch moves on and the next change is a whole frame."""
    publisher = live(presenter).publisher
    room_clock()
    presenter.post("/ui/step", headers=HX)
    room_clock()
    presenter.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    presenter.post("/ui/phase", headers=HX)  # held back
    epoch = live(presenter).rooms.get(room).epoch
    ours = publisher.sent.pop(room)  # drawn where this process's copy is not
    seq, page, _, _ = room_stage(live(presenter), live(presenter).rooms.get(room))
    publisher.sent[room] = ours
    assert live(presenter).rooms.get(room).epoch == epoch + 1
    room_clock()
    presenter.post("/ui/detailed", headers=HX, data={"detailed": ""})
    after = shown_after(presenter, room, seq)
    assert [kind for _, kind, _ in after] == ["frame"]
    follow(picture(page["diagram"]), after, truth)
    presenter.post("/ui/step", headers=HX)  # then patches again, on that frame
    room_clock()
    presenter.post("/ui/step", headers=HX)
    after = shown_after(presenter, room, seq)
    assert [kind for _, kind, _ in after] == ["frame", "patch"]
    follow(None, after, truth)


def test_a_frame_made_by_another_process_ends_this_ones_patches(presenter, room, truth, room_clock):
    """Two workers take turns with the presenter's requests: a whole frame made elsewhere starts a new epoch, and
    this process's copy, made before it, makes no more patches."""
    room_clock()
    presenter.post("/ui/step", headers=HX)
    other = live_publisher.Publisher(live(presenter).store, live(presenter).rooms, live(presenter).hub)
    session = the_session(presenter)
    with session.lock:
        seq = other.publish_frame(session, live(presenter).rooms.get(room), None)
        truth[seq] = picture(FollowerData(session, stepped([]), status(session, live(presenter).rooms.get(room))).diagram)
    room_clock()
    presenter.post("/ui/step", headers=HX)
    room_clock()
    presenter.post("/ui/step", headers=HX)
    shown = shown_after(presenter, room)
    assert [kind for _, kind, _ in shown] == ["frame", "patch", "frame", "frame", "patch"]
    follow(None, shown, truth)


def test_a_thinned_loss_curve_goes_on_in_patches(presenter, room, truth, room_clock, monkeypatch):
    """Past MAX_HISTORY points the session thins its curve's older half; the followers' charts thin theirs as the
    presenter's page does, so patches go on with the new points only (a whole frame would carry the whole curve)."""
    from app.core import session as sessions
    monkeypatch.setattr(sessions, "MAX_HISTORY", 6)
    for _ in range(12):
        room_clock()
        presenter.post("/ui/step", headers=HX)
    assert len(the_session(presenter).history) <= 6 + 1  # thinned
    shown = shown_after(presenter, room)
    assert [kind for _, kind, _ in shown] == ["frame"] + ["patch"] * 12
    points = [p[0] for _, _, data in shown[1:] for p in json.loads(data)["loss"]["points"]]
    assert points == list(range(1, 13))  # each step's point, once
    follow(None, shown, truth)


def test_a_late_timer_sends_no_frame_after_a_newer_one(presenter, room, room_clock):
    """A frame held back waits for a timer; on a busy machine the timer can fire after a later change has gone out
    by itself (the interval had passed). Then the late timer sends nothing: what changed since waits for the newer
    frame's timer, so that followers get at most one frame an interval."""
    publisher, sid = live(presenter).publisher, the_session(presenter).id
    room_clock()
    presenter.post("/ui/step", headers=HX)
    first = publisher.sent[room]
    presenter.post("/ui/step", headers=HX)  # held back: its timer (an hour here) has not fired
    assert first.pending
    room_clock()
    presenter.post("/ui/step", headers=HX)  # after the interval: out at once, with the step before it
    presenter.post("/ui/step", headers=HX)  # held back again, within the new frame's interval
    sent = shown_after(presenter, room)
    newer = publisher.sent[room]
    assert json.loads(sent[-1][2])["step"] == 3 and newer is not first and newer.pending
    publisher._flush(sid, first)  # the first timer, late
    assert shown_after(presenter, room) == sent
    publisher._flush(sid, newer)  # the newer frame's timer
    assert json.loads(shown_after(presenter, room)[-1][2])["step"] == 4


def test_the_apps_stop_waits_for_a_held_frames_flush_under_way(presenter, room, room_clock, monkeypatch):
    """The app's stop closes the publisher, then the store. A held-back frame's timer that fired just before runs on:
    it takes the session's lock and releases it, which a closed store could not do (its lock file is gone: the
    error was a thread's "Bad file descriptor" at the end of a CI run). close() returns once that flush has ended."""
    publisher, session = live(presenter).publisher, the_session(presenter)
    room_clock()
    presenter.post("/ui/step", headers=HX)
    presenter.post("/ui/step", headers=HX)  # held back: its timer is an hour away
    held = publisher.sent[room]
    assert held.pending
    inside, go = threading.Event(), threading.Event()

    class Store:  # the flush, past its check that the publisher is open, waits here until close() waits for it
        def get(self, sid):
            inside.set()
            assert go.wait(30)
            return presenter.app.state.sessions.get(sid)

    monkeypatch.setattr(publisher, "store", Store())
    flush = threading.Thread(target=publisher._flush, args=(session.id, held))
    flush.start()
    assert inside.wait(30)
    waits = publisher._idle.wait_for

    def wait_for(*args):  # close() waits for the flushes under way: this one may go on now
        go.set()
        return waits(*args)

    monkeypatch.setattr(publisher._idle, "wait_for", wait_for)
    try:
        publisher.close()
        assert publisher._flushing == 0  # the flush had ended when close() returned (it counts itself out first)
        assert not held.pending  # and had done its work: the held frame is due
    finally:  # a failure leaves no thread behind to fail later, on the closed store
        go.set()
        flush.join(30)
    assert not flush.is_alive()


def test_only_lists_and_docs_name_the_patch_event(presenter, room):
    import re
    assert "patch" in EVENT_KINDS and re.fullmatch(ONLY, "patch") and re.fullmatch(ONLY, "frame,patch,end")
    doc = presenter.get("/openapi.json").json()["paths"]["/live/{code}/events"]["get"]
    description = doc["responses"]["200"]["description"]
    assert "`patch` (a step or a detailed step's phase" in description and "`base`" in description
    with open("docs/live.md") as f:
        assert "`patch`" in f.read()
