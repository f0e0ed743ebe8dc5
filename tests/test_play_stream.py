"""Play as a stream (app/web/play_stream.py): GET /ui/play/stream pushes light frames while the session plays, at most
WINDOW ahead of the page's draw acks (POST /ui/play/drawn), and ends with a last frame and `end` when Play stops.
The TestClient reads the stream as it comes; every test waits for the stream's own events, none times the machine
(the one wait on a clock, ACK_WAIT, is shortened only where no ack is ever sent)."""
import asyncio
import json
import re
import time
from contextlib import contextmanager

import pytest

from app.core.session import build_session
from app.quick import costs
from app.ratelimit import WORK, Budget, Limit
from app.web import play_pace, play_stream
from app.web.play_pace import Pace
from app.web.play_stream import WINDOW, Player
from app.web.training import PICTURE_ROWS
from helpers import HX, browser, swap_limit

STRUCTURE = re.compile(r'<svg id="network"[^>]* data-structure="([0-9a-f]+)"')


class Stream:
    """One open Play stream: its token, then its events one at a time. Every frame is checked against the acks
    sent so far: never more than WINDOW frames ahead of the last one the page said it drew."""

    def __init__(self, client, response):
        self.client, self.response = client, response
        self.acked = 0
        self.frames: list[dict] = []
        self._events = self._read()
        kind, data = self.next()
        assert kind == "stream"
        self.token = json.loads(data)["stream"]

    def _read(self):
        buffer = b""
        for chunk in self.response.iter_bytes():
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                fields: dict[str, list[str]] = {}
                for line in block.decode().split("\n"):
                    name, _, value = line.partition(": ")
                    fields.setdefault(name, []).append(value)
                if "event" in fields:
                    yield int(fields["id"][0]), fields["event"][0], "\n".join(fields["data"])

    def next(self) -> tuple[str, object]:
        """The next event: ("frame", the frame), ("end", "end") or ("stream", its data); StopIteration once the
        stream has closed."""
        seq, kind, data = next(self._events)
        if kind != "frame":
            return kind, data
        assert seq == len(self.frames) + 1, "frames are numbered from 1, one by one"
        assert seq - self.acked <= WINDOW, f"frame {seq} sent with only {self.acked} drawn"
        frame = json.loads(data)
        self.frames.append(frame)
        return kind, frame

    def frame(self) -> dict:
        kind, frame = self.next()
        assert kind == "frame", (kind, frame)
        return frame

    def window(self) -> list[dict]:
        """The WINDOW frames sent before the page says it drew any: then the stream waits."""
        return [self.frame() for _ in range(WINDOW)]

    def ack(self, frame: int) -> None:
        r = self.client.post("/ui/play/drawn", headers=HX, data={"stream": self.token, "frame": frame})
        assert r.status_code == 204, r.text
        self.acked = max(self.acked, frame)

    def rest(self) -> list[tuple[str, object]]:
        """The events left until the stream closes (it must close by itself)."""
        events = []
        while True:
            try:
                events.append(self.next())
            except StopIteration:
                return events


@contextmanager
def streaming(client, holds: str = ""):
    with client.stream("GET", "/ui/play/stream", params={"holds": holds}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        yield Stream(client, r)


def session_of(client):
    return client.app.state.sessions.get(client.cookies["bp_session"])


def playing(client, setup: str = "/?speed=1") -> str:
    """A page of `setup` that pressed Play (its first frame trained); the structure its diagram then has."""
    client.get(setup)
    r = client.post("/ui/play", headers=HX)
    assert r.status_code == 200 and 'data-playing="1"' in r.text
    return STRUCTURE.search(r.text)[1]


def wait_until(test, what: str, timeout: float = 30.0) -> None:
    """A guard against a hang: returns as soon as `test()` holds."""
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------------------------
# Frames and acks

def test_the_stream_sends_its_token_then_a_frame_per_ack(client):
    holds = playing(client)
    with streaming(client, holds) as s:
        first, *others = s.window()  # WINDOW frames before any ack
        assert [f["step"] for f in s.frames] == list(range(2, WINDOW + 2)) and all(f["playing"] for f in s.frames)
        # The page holds the picture POST /ui/play drew: patches only, from the first frame on.
        assert first["diagram"]["structure"] == holds and '<svg id="network"' not in first["html"]
        s.ack(1)
        assert s.frame()["step"] == WINDOW + 2
        s.ack(3)  # two more drawn: two more
        assert [s.frame()["step"], s.frame()["step"]] == [WINDOW + 3, WINDOW + 4]
        s.ack(4)
        last_playing = s.frame()["step"]
        assert last_playing == WINDOW + 5
        assert [p[0] for f in s.frames for p in f["loss"]["points"]] == list(range(2, WINDOW + 6))  # every point
        assert client.post("/ui/pause", headers=HX).status_code == 200
        s.ack(len(s.frames))
        last = s.frame()
        assert last["playing"] is False and last["step"] == last_playing
        assert s.rest() == [("end", "end")]
    assert session_of(client).trainer.step_count == WINDOW + 5


def test_without_acks_the_stream_sends_its_window_and_ends(client, monkeypatch):
    monkeypatch.setattr(play_stream, "ACK_WAIT", 0.05)  # no ack ever comes: the page has gone
    playing(client)
    with streaming(client) as s:
        events = s.rest()
    assert [kind for kind, _ in events] == ["frame"] * WINDOW
    assert session_of(client).trainer.step_count == 1 + WINDOW
    wait_until(lambda: not session_of(client).page.transport.playing, "a stream that ended stops Play")


def test_pause_ends_the_stream_with_a_last_frame(client):
    playing(client, "/?speed=10")
    with streaming(client) as s:
        s.window()
        r = client.post("/ui/pause", headers=HX)
        assert 'data-playing="1"' not in r.text
        s.ack(WINDOW)
        last = s.frame()
        assert last["playing"] is False and last["step"] == 10 * (1 + WINDOW)  # nothing trained after the pause
        assert ">Play</button>" in last["html"]  # the toolbar shows Play again
        assert s.rest() == [("end", "end")]


def test_a_stream_of_an_earlier_run_ends_without_stopping_the_new_one(client):
    """Pause then Play at once: the first stream's next frame finds another run of Play; it ends, sends nothing
    more, and leaves the new run playing (its own stream shows it)."""
    playing(client)
    with streaming(client) as s:
        s.window()
        assert client.post("/ui/pause", headers=HX).status_code == 200
        r = client.post("/ui/play", headers=HX)
        assert 'data-playing="1"' in r.text
        s.ack(WINDOW)
        assert s.rest() == []
    run = session_of(client).page.transport.playing
    assert run and run is not True  # the new run's number
    with streaming(client) as t:
        assert t.frame()["playing"]


def test_a_step_from_the_same_page_ends_the_stream_at_the_next_frame(client):
    playing(client)
    with streaming(client) as s:
        s.window()  # steps 2 to WINDOW + 1
        assert client.post("/ui/step", headers=HX).status_code == 200  # the page's own
        s.ack(1)
        last = s.frame()
        assert last["playing"] is False and last["step"] == WINDOW + 2  # where the Step left it: Play trained no more
        assert s.rest() == [("end", "end")]
    assert not session_of(client).page.transport.playing and session_of(client).trainer.step_count == WINDOW + 2


@pytest.mark.parametrize("action, data", [("/ui/back", {}), ("/ui/detailed", {"detailed": "on"})])
def test_back_or_a_setting_ends_the_stream(client, action, data):
    playing(client)
    with streaming(client) as s:
        s.window()
        assert client.post(action, headers=HX, data=data).status_code == 200
        s.ack(WINDOW)
        assert s.frame()["playing"] is False
        assert s.rest() == [("end", "end")]
    assert not session_of(client).page.transport.playing


def test_the_stream_never_starts_play(client):
    client.get("/?speed=1")
    client.post("/ui/step", headers=HX)
    with streaming(client) as s:
        last = s.frame()
        assert last["playing"] is False and last["step"] == 1
        assert s.rest() == [("end", "end")]
    assert session_of(client).trainer.step_count == 1 and not session_of(client).page.transport.playing


def test_closing_the_stream_stops_play(client):
    playing(client)
    with streaming(client) as s:
        s.frame()
    wait_until(lambda: not session_of(client).page.transport.playing, "a closed stream stops Play")
    assert client.post("/ui/play-frame", headers=HX).text.count('data-playing="1"') == 0


def test_a_stream_that_another_play_replaced_does_not_stop_it(client):
    """A page that paused and pressed Play again before its old stream closed keeps playing."""
    playing(client)
    with streaming(client) as s:
        s.window()  # the window is full: the old stream waits for an ack that never comes
        client.post("/ui/pause", headers=HX)
        client.post("/ui/play", headers=HX)  # moves the session: the old stream's Play is not this one
    with streaming(client) as again:
        assert again.frame()["playing"] is True
    wait_until(lambda: not session_of(client).page.transport.playing, "the second stream, closed, stops Play")


# ---------------------------------------------------------------------------------------------------------------
# Stop conditions and an exploding loss

def _run(s: Stream, most: int = 200) -> dict:
    """Ack every frame until one says Play stopped; that frame."""
    for _ in range(most):
        frame = s.frame()
        if not frame["playing"]:
            return frame
        s.ack(len(s.frames))
    raise AssertionError(f"still playing after {most} frames")


def test_the_stop_step_ends_the_stream_with_its_notice(client):
    playing(client, "/?speed=1&stop_step=6")
    with streaming(client) as s:
        last = _run(s)
        assert last["step"] == 6 and "Play stopped at step 6, as set." in last["html"]
        assert [f["step"] for f in s.frames] == [2, 3, 4, 5, 6]
        assert s.rest() == [("end", "end")]
    assert not session_of(client).page.transport.playing


def test_the_stop_loss_ends_the_stream_at_the_first_step_below_it(client):
    client.get("/?seed=7&speed=1")
    twin = build_session(session_of(client).request)
    assert twin.history == session_of(client).history
    losses = [twin.history[0][1]]
    for _ in range(40):
        losses.append(twin.train(1)[0][1])
    # The first step after the third whose loss is below every loss before it, and a stop loss between.
    k = next(k for k in range(4, 40) if losses[k] < min(losses[:k]))
    stop = float(f"{(losses[k] + min(losses[:k])) / 2:.6g}")
    assert losses[k] < stop < min(losses[:k])
    holds = playing(client, f"/?seed=7&speed=1&stop_loss={stop!r}")
    assert holds
    with streaming(client) as s:
        last = _run(s)
        assert last["step"] == k and not last["playing"]
        assert f"Play stopped: the train loss {losses[k]:.3g} fell below {stop:g} at step {k}" in last["html"]
        assert [p[1] for f in s.frames for p in f["loss"]["points"]] == losses[2:k + 1]
        assert s.rest() == [("end", "end")]


def test_an_exploding_loss_pauses_the_stream_with_the_message(client):
    playing(client, "/?dataset=plane&activation=relu&output=linear&lr=10&speed=1")
    with streaming(client) as s:
        last = _run(s, 60)
        assert "Play paused: the loss grew from" in last["html"] and "lower the learning rate or go Back" in last["html"]
        assert s.rest() == [("end", "end")]
    assert not session_of(client).page.transport.playing


# ---------------------------------------------------------------------------------------------------------------
# What the routes refuse

@pytest.mark.parametrize("holds", ["xyz", "ABCDEF", "0" * 33, "12 34"])
def test_a_bad_holds_is_refused_naming_it(client, holds):
    client.get("/")
    r = client.get("/ui/play/stream", params={"holds": holds})
    assert r.status_code == 422 and "holds" in r.text


def test_draw_acks_need_the_sessions_own_stream_and_a_frame_number(client):
    playing(client)
    backend = client.app.state.sessions.backend
    with streaming(client) as s:
        s.frame()
        # A token this process does not serve is noted in the store, under the session that sent it, for the process
        # that may serve it (app/web/play_stream.py): one record a session, and it moves no other session's stream.
        assert client.post("/ui/play/drawn", headers=HX, data={"stream": "no-such-token", "frame": 1}).status_code \
            == 204
        with browser(client) as other:
            other.get("/")
            r = other.post("/ui/play/drawn", headers=HX, data={"stream": s.token, "frame": 1})
            assert r.status_code == 204
            assert backend.drawn(session_of(other).id, s.token) == 1  # noted as the other session's word ...
        assert backend.drawn(session_of(client).id, s.token) == 0  # ... not this one's
        for frame in ("x", "-1", "", "1.5", str(10 ** 10)):
            r = client.post("/ui/play/drawn", headers=HX, data={"stream": s.token, "frame": frame})
            assert r.status_code == 422 and "frame" in r.text, frame
        r = client.post("/ui/play/drawn", headers={"Origin": "https://evil.example"},
                        data={"stream": s.token, "frame": 1})
        assert r.status_code == 403 and "Cross-site" in r.text
        assert s.frame()["step"] == 3
        s.ack(1)
        assert s.frame()["step"] == 4


# ---------------------------------------------------------------------------------------------------------------
# Pace: the steps of an "auto" frame

def test_pace_fits_the_steps_in_what_the_rest_of_a_frame_leaves_of_the_servers_share():
    assert play_pace.SERVER_SHARE == 0.5  # of a 60 Hz frame: 8.33 ms
    pace = Pace()
    assert pace.steps(100) == 1 and pace.steps(0) == 0  # nothing learned yet: one step
    pace.learn(1, 0.0005, 0.004)  # a step took 0.5 ms, the rest 4 ms: (8.33 - 4) / 0.5 = 8.7 steps fit
    assert (pace.step, pace.rest) == (0.0005, 0.004)
    assert pace.steps(100) == 8 and pace.steps(5) == 5
    pace.learn(6, 0.0006, 0.004)  # faster steps: the average follows
    assert pace.step == pytest.approx(0.7 * 0.0005 + 0.3 * 0.0001) and pace.rest == pytest.approx(0.004)
    assert pace.steps(100) == int((1 / 120 - 0.004) / 0.00038)
    pace.learn(0, 0.0, 0.05)  # a rest longer than the share: still a step a frame
    assert pace.steps(100) == 1


class ScriptedClock:
    """A clock that reads the times given, one per call."""

    def __init__(self):
        self.times: list[float] = []

    def add(self, *times: float) -> None:
        self.times.extend(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_an_auto_frame_trains_the_steps_its_clock_says_fit(client):
    """Auto trains its whole epochs (4 of the circle's 25 steps), fewer where the frame would not fit in the
    server's share of a display frame, one at least; the pace is learned from the frames before, on the stream's own
    clock."""
    client.get("/?seed=2")  # the default speed: auto
    session = session_of(client)
    session.page.transport.playing = True
    clock = ScriptedClock()
    player = Player(client.app.state.sessions, None, session.id, "", clock=clock)
    steps, expected = [], []
    # Each frame reads the clock as it begins, before and after training, and as it ends (the rest of the frame is
    # before and after training): first 2 ms a step, then 10 us a step (100 steps take 1 ms), then a rest that
    # fills the server's share.
    frames = [(0.002, 0.004)] + [(1e-5, 0.004)] * 14 + [(1e-5, 0.030)] * 4
    for begun, (step_time, rest) in enumerate(frames):
        before = session.trainer.step_count
        expected.append(min(100, 25 * max(1, player.pace.steps(100) // 25)))
        start = begun + rest / 2
        trained = start + expected[-1] * step_time
        clock.add(begun, start, trained, trained + rest / 2)
        frame = client.portal.call(player.frame)
        steps.append(session.trainer.step_count - before)
        assert frame["playing"] and frame["step"] == session.trainer.step_count and not clock.times
    # a rest over a display frame (30 ms) counts as one frame: one slow frame (a wait for the lock) is soon forgotten
    assert steps == expected and play_pace.FRAME_SECONDS * play_pace.SERVER_SHARE < player.pace.rest <= 1 / 60
    # Unknown pace: one epoch; as the steps prove quick, all 4 epochs; once the rest fills the share, one epoch,
    # the least a frame trains.
    assert steps[0] == 25 and 100 in steps[1:15] and steps[-1] == 25


def test_a_frame_brings_the_output_picture_at_most_every_output_seconds(client):
    """The output plot's picture goes in a Play frame at most every OUTPUT_SECONDS of the stream's clock (the page
    redraws it no more often): the frames between leave it out, and the stream's last frame (Pause) brings the whole
    plot."""
    client.get("/?seed=2&speed=1")
    session = session_of(client)
    session.page.transport.playing = True
    clock = ScriptedClock()
    player = Player(client.app.state.sessions, None, session.id, "", clock=clock)
    gap, brought = play_stream.OUTPUT_SECONDS, []
    for begun in (0.0, 0.3 * gap, 0.99 * gap, 1.0 * gap, 1.5 * gap, 2.2 * gap, 2.5 * gap):
        clock.add(begun, begun, begun, begun)  # as it begins, before and after training, as it ends
        frame = client.portal.call(player.frame)
        assert frame["playing"] and not clock.times
        brought.append("output" in frame)
        if brought[-1]:
            assert frame["output"]["step"] == frame["step"] and frame["output"]["image"].startswith("data:image/png")
    assert brought == [True, False, False, True, False, True, False]
    session.page.transport.playing = False  # Pause
    clock.add(2.6 * gap)
    last = client.portal.call(player.frame)
    assert not last["playing"] and 'id="output-data"' in last["html"] and '"figure"' in last["html"] and not clock.times


def test_a_frame_that_stops_play_brings_the_output_picture_however_soon(client):
    """A stop condition met within a frame (here the stop step, a hundredth of OUTPUT_SECONDS after the frame
    before brought the picture): that frame, the stream's last, brings the picture of the step Play stopped at."""
    client.get("/?seed=2&speed=1")
    session = session_of(client)
    session.page.transport.set(stop_step=2)
    session.page.transport.playing = True
    clock = ScriptedClock()
    player = Player(client.app.state.sessions, None, session.id, "", clock=clock)
    clock.add(0.0, 0.0, 0.0, 0.0)
    assert "output" in client.portal.call(player.frame)
    clock.add(*[play_stream.OUTPUT_SECONDS / 100] * 4)
    last = client.portal.call(player.frame)
    assert not last["playing"] and last["step"] == 2 and not clock.times
    assert last["output"]["step"] == 2 and last["output"]["image"].startswith("data:image/png")


def test_an_auto_frame_stops_at_the_stop_step():
    from app.core.recipe import CreateSession
    from app.web.view_state import view_of
    session = build_session(CreateSession(seed=2))
    pace = Pace()
    pace.learn(1, 1e-6, 0.0)  # thousands of steps would fit
    session.page.transport.set(stop_step=3)
    assert play_pace.stream_steps(session, pace) == 3
    session.train(3)
    assert play_pace.stream_steps(session, pace) == 0
    session.page.transport.set(stop_step=None)
    assert play_pace.stream_steps(session, pace) == 100  # 4 epochs of 25: auto's own, however many would fit
    view_of(session).speed = "10"
    assert play_pace.stream_steps(session, pace) == 10


# ---------------------------------------------------------------------------------------------------------------
# The work budget

def _frozen_buckets(client, monkeypatch):
    buckets = client.app.state.rate_limits
    monkeypatch.setattr(buckets, "clock", lambda: 0.0)
    return buckets


def test_each_frame_spends_its_work_from_the_sessions_budget(client, monkeypatch):
    buckets = _frozen_buckets(client, monkeypatch)
    playing(client)
    sid = client.cookies["bp_session"]
    session = session_of(client)
    frame_cost = costs.step_cost(session, 1, PICTURE_ROWS)
    before = buckets.tokens(WORK, sid)
    with streaming(client) as s:
        s.window()
        spent = before - buckets.tokens(WORK, sid)
        assert spent == pytest.approx(WINDOW * frame_cost)
        client.post("/ui/pause", headers=HX)
        s.ack(WINDOW)
        assert s.frame()["playing"] is False
        s.rest()
    # The last frame trained nothing and paid only for its pictures; the frames before are not given back.
    pictures = costs.step_cost(session, 0, PICTURE_ROWS)
    assert before - buckets.tokens(WORK, sid) == pytest.approx(WINDOW * frame_cost + pictures)


# A fourth frame waits 2 s for its work; or would wait 10 s, more than MAX_DELAY, and is refused for 5 s.
@pytest.mark.parametrize("refill", [0.25, 0.05])
def test_a_stream_over_its_work_budget_waits_as_long_as_it_is_told(client, monkeypatch, refill):
    buckets = _frozen_buckets(client, monkeypatch)
    playing(client)
    frame_cost = costs.step_cost(session_of(client), 1, PICTURE_ROWS)
    # Room for three and a half frames' work (the clock does not move: it never refills by itself).
    swap_limit(client.app, monkeypatch, WORK, Limit("training work", refill * frame_cost, 3.5 * frame_cost,
                                                    "session", counts="work"))
    waits = []

    async def budget_wait(seconds):  # the budget's own wait, within MAX_DELAY
        waits.append(seconds)

    monkeypatch.setattr(buckets, "sleep", budget_wait)

    class Asyncio:
        """play_stream's asyncio, but a sleep that records the wait and, the wait over, gives the budget back."""

        def __getattr__(self, name):
            return getattr(asyncio, name)

        async def sleep(self, seconds):
            waits.append(seconds)
            client.app.state.rate_limits.give(WORK, client.cookies["bp_session"], 10 * frame_cost)

    monkeypatch.setattr(play_stream, "asyncio", Asyncio())
    with streaming(client) as s:
        steps = [f["step"] for f in s.window()]  # the fourth waited for its work
        assert steps == list(range(2, WINDOW + 2)) and WINDOW >= 4
        # the fourth frame's wait (the fifth may wait as well: the window is five frames)
        assert waits[0] == pytest.approx(2.0) if refill == 0.25 else waits[0] in (5, 6)
        client.post("/ui/pause", headers=HX)
        s.ack(4)
        assert s.frame()["playing"] is False
        assert s.rest() == [("end", "end")]


def test_a_refused_frame_gives_back_only_its_own_work(client, monkeypatch):
    """A stream's budget lives as long as the stream: a refusal or a frame that trained less gives back what that
    frame took, never the work of the frames before it."""
    buckets = _frozen_buckets(client, monkeypatch)
    client.get("/?speed=1")
    session = session_of(client)
    session.page.transport.playing = True
    frame_cost = costs.step_cost(session, 1, PICTURE_ROWS)
    limit = Limit("training work", 1e-3, 2.5 * frame_cost, "session", counts="work")
    budget = Budget(buckets, limit, "testclient")
    player = Player(client.app.state.sessions, budget, session.id, "")
    client.portal.call(player.frame)
    client.portal.call(player.frame)
    left = buckets.tokens(limit, session.id)
    assert left == pytest.approx(0.5 * frame_cost)
    with pytest.raises(Exception) as refused:
        client.portal.call(player.frame)
    assert getattr(refused.value, "status_code", None) == 429
    assert buckets.tokens(limit, session.id) == pytest.approx(left)  # the refused frame's own: nothing
    session.page.transport.playing = False
    buckets.give(limit, session.id, frame_cost)
    assert client.portal.call(player.frame)["playing"] is False  # trained nothing: its steps' work comes back
    pictures = costs.step_cost(session, 0, PICTURE_ROWS)
    assert 0 < pictures < frame_cost and buckets.tokens(limit, session.id) == pytest.approx(left + frame_cost - pictures)
