"""A live room's event stream through real servers: every step arrives with its number, a reconnecting follower
resumes (Last-Event-ID, or one whole frame when it is too far behind), and with two servers on one store (Redis
pub/sub, or the SQLite file of one host's workers) a follower on one sees the steps made on the other."""
import json
import re
import threading
import time

import httpx
import pytest

from test_store_durability import ok, server_starter, two_servers  # noqa: F401 (fixtures)

STEP = re.compile(r'id="live-status"[^>]*data-step="(\d+)"')


class Stream:
    """GET /live/{code}/events in a thread: (id, event, data) of every event, as they arrive."""

    def __init__(self, url: str, headers: dict | None = None):
        self.url, self.headers = url, headers or {}
        self.events: list[tuple[int | None, str, str]] = []
        self.status: int | None = None
        self.retry: int | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._read()
        except httpx.TransportError:  # the server stopped at the end of the test
            pass

    def _read(self) -> None:
        with httpx.stream("GET", self.url, headers=self.headers, timeout=httpx.Timeout(10, read=120)) as r:
            self.status = r.status_code
            buffer = ""
            for text in r.iter_text():
                buffer += text
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    fields: dict[str, list[str]] = {}
                    for line in block.split("\n"):
                        if line.startswith(":"):
                            continue
                        name, _, value = line.partition(": ")
                        fields.setdefault(name, []).append(value)
                    if "retry" in fields:
                        self.retry = int(fields["retry"][0])
                    if "event" in fields:
                        self.events.append((int(fields["id"][0]), fields["event"][0], "\n".join(fields["data"])))

    def steps(self) -> list[int]:
        """The step of each frame (its status line) and patch (its JSON)."""
        return [json.loads(data)["step"] if kind == "patch" else int(m.group(1)) for _, kind, data in self.events
                if kind == "patch" or kind == "frame" and (m := STEP.search(data))]

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.events]

    def wait(self, test, what: str, timeout: float = 120.0):  # a guard against a hang: ends on the event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if test(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"{what}: got {[(i, k, d[:120]) for i, k, d in self.events]} (status {self.status})")


@pytest.fixture
def server(tmp_path):
    with server_starter(tmp_path) as start:
        (s,) = start(f"sqlite:///{tmp_path}/store.db")
        yield s


def presenting(client: httpx.Client) -> tuple[str, str]:
    sid = ok(client.post("/api/sessions", json={}), 201)["id"]
    return sid, ok(client.post(f"/api/sessions/{sid}/live"), 201)["code"]


def test_every_step_reaches_the_stream_with_its_number(server):
    with server.client() as c:
        sid, code = presenting(c)
        stream = Stream(f"{server.url}/live/{code}/events")
        stream.wait(lambda s: s.steps() == [0], "a new follower first gets the whole state")
        assert stream.retry == 1000 and 'id="network-panel"' in stream.events[0][2]
        for n in range(1, 6):
            ok(c.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
            stream.wait(lambda s, n=n: s.steps()[-1:] == [n], f"step {n}")
            time.sleep(0.12)  # slower than the frame interval: every step is its own frame
        assert stream.steps() == [0, 1, 2, 3, 4, 5] and stream.kinds() == ["frame"] + ["patch"] * 5
        ids = [i for i, _, _ in stream.events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_reconnecting_follower_resumes_where_it_left(server):
    with server.client() as c:
        sid, code = presenting(c)
        first = Stream(f"{server.url}/live/{code}/events")
        first.wait(lambda s: s.steps() == [0], "the whole state")
        last_id = first.events[-1][0]
        for _ in range(3):
            ok(c.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
            time.sleep(0.12)
        again = Stream(f"{server.url}/live/{code}/events", {"Last-Event-ID": str(last_id)})
        again.wait(lambda s: s.steps() == [1, 2, 3], "the missed frames, replayed in order")
        assert '"mode":"extend"' in again.events[0][2]  # only what it missed: the curve's new points
        stale = Stream(f"{server.url}/live/{code}/events?after=0")
        stale.wait(lambda s: s.steps() == [0, 1, 2, 3], "after=0 replays from the first event")
        # Far behind (more events than are kept): one whole frame instead.
        ok(c.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
        from app.live.events import KEPT_EVENTS
        ok(c.post(f"/api/sessions/{sid}/live"))  # the same room
        behind = Stream(f"{server.url}/live/{code}/events", {"Last-Event-ID": str(10 * KEPT_EVENTS)})
        behind.wait(lambda s: s.steps()[-1:] == [4] and 'id="network-panel"' in s.events[0][2],
                    "an unknown position gets the whole state")


def test_only_some_kinds_and_unknown_rooms(server):
    with server.client() as c:
        sid, code = presenting(c)
        counts = Stream(f"{server.url}/live/{code}/events?only=count")
        patches = Stream(f"{server.url}/live/{code}/events?only=patch")
        frames = Stream(f"{server.url}/live/{code}/events?only=frame")
        frames.wait(lambda s: s.steps() == [0], "the whole state first")
        time.sleep(0.3)
        ok(c.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
        patches.wait(lambda s: s.steps() == [1], "the step's patch")  # out before the rewind is made
        ok(c.post(f"/api/sessions/{sid}/rewind", json={"step": 0}))
        frames.wait(lambda s: s.steps() == [0, 0], "the rewind's frame")
        assert frames.kinds() == ["frame", "frame"] and patches.kinds() == ["patch"]  # no patch; no whole frame
        assert counts.status == 200 and counts.events == []  # frames are not what it asked for
        assert c.get(f"/live/{code}/events", params={"only": "gossip"}).status_code == 422
        assert c.get("/live/ZZZZZZ/events").status_code == 404
        r = c.get("/live/ZZZZZZ")
        assert r.status_code == 404 and "no live room" in r.text


def test_a_server_with_open_streams_still_stops_promptly(server):
    """The streams never end by themselves; `serve` gives them a few seconds, then closes them."""
    import signal
    from app.cli import SHUTDOWN_SECONDS
    with server.client() as c:
        _, code = presenting(c)
        streams = [Stream(f"{server.url}/live/{code}/events") for _ in range(3)]
        for s in streams:
            s.wait(lambda s: s.steps() == [0], "the whole state")
        start = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=SHUTDOWN_SECONDS + 10)
        assert time.monotonic() - start < SHUTDOWN_SECONDS + 5


def test_two_servers_one_store_a_follower_on_one_sees_steps_made_on_the_other(two_servers):  # noqa: F811
    a, b = two_servers
    with a.client() as ca:
        sid, code = presenting(ca)
        stream = Stream(f"{b.url}/live/{code}/events")
        stream.wait(lambda s: s.steps() == [0], "the whole state, rendered by the follower's server")
        for n in range(1, 4):
            ok(ca.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
            stream.wait(lambda s, n=n: s.steps()[-1:] == [n], f"step {n} made on the other server")
            time.sleep(0.12)
        assert stream.steps() == [0, 1, 2, 3]
        # The presenter's requests may reach either server: a step through B reaches a follower on A.
        on_a = Stream(f"{a.url}/live/{code}/events", {"Last-Event-ID": str(stream.events[-1][0])})
        ok(b.client().post(f"/api/sessions/{sid}/step", json={"steps": 1}))
        on_a.wait(lambda s: s.steps()[-1:] == [4], "step 4 made on B, followed on A")
        stream.wait(lambda s: s.steps()[-1:] == [4], "and on B itself")
        # The whole state this stream started with was drawn on B, where A's copy is not: A's next change was whole.
        # Then patches; B, which holds no copy of A's frames, made a whole frame too.
        assert stream.kinds() == ["frame", "frame", "patch", "patch", "frame"]
        # A page drawn on B, ahead of what A last sent or not: A's next change is a whole frame, then patches (each
        # step made once the one before reached the stream).
        ok(ca.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
        stream.wait(lambda s: s.steps()[-1:] == [5], "step 5, made on A")
        assert b.client().get(f"/live/{code}").status_code == 200
        for n in (6, 7):
            ok(ca.post(f"/api/sessions/{sid}/step", json={"steps": 1}))
            stream.wait(lambda s, n=n: s.steps()[-1:] == [n], f"step {n}, made on A")
        assert stream.kinds()[-3:] == ["frame", "frame", "patch"]


def test_events_from_both_servers_reach_every_stream_in_order(two_servers):  # noqa: F811
    """Answers counted on both servers, interleaved: a stream on either server gets every event once, in order (an
    event of the other server's can be announced after a later one of this server's)."""
    a, b = two_servers
    with a.client() as ca, b.client() as cb:
        sid, code = presenting(ca)
        ca.cookies.set("bp_session", sid)
        on_a = Stream(f"{a.url}/live/{code}/events?after=0")
        on_b = Stream(f"{b.url}/live/{code}/events?after=0")
        hx = {"HX-Request": "true"}
        assert ca.post("/ui/live/ask", headers=hx, data={"kind": "direction", "choice": "0.0.0"}).status_code == 200
        for n in range(12):
            student = httpx.Client(base_url=(a, b)[n % 2].url, timeout=30)
            assert student.get(f"/live/{code}").status_code == 200  # joins: its cookie may answer, on either server
            r = student.post(f"/live/{code}/answer", headers=hx, data={"poll": "1", "answer": "up"})
            assert "Your answer: up" in r.text
            time.sleep(0.1 * (n % 3))  # some counts go out at once, some are held back for a moment
        newest = None
        for stream in (on_a, on_b):
            stream.wait(lambda s: s.events and "12 answers" in s.events[-1][2], "the last count")
            ids = [i for i, _, _ in stream.events]
            assert ids == list(range(1, ids[-1] + 1)), ids  # every event, once, in order
            newest = newest or ids[-1]
            assert ids[-1] == newest


def test_streams_past_an_addresss_cap_are_refused_until_one_closes(tmp_path):
    """PLAYGROUND_MAX_STREAMS_PER_ADDRESS streams from one address at once, through a real server: the next gets 429
    with Retry-After, and a stream whose client went away gives its place back."""
    with server_starter(tmp_path) as start:
        (server,) = start(f"sqlite:///{tmp_path}/store.db", settings={"PLAYGROUND_MAX_STREAMS_PER_ADDRESS": "2"})
        with server.client() as c:
            sid, code = presenting(c)
            first, second = (httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=120)) for _ in range(2))
            opened = [client.stream("GET", f"/live/{code}/events") for client in (first, second)]
            for stream in opened:
                assert stream.__enter__().status_code == 200
            refused = c.get(f"/live/{code}/events")
            assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
            assert "at most 2 at once" in refused.json()["detail"]
            assert c.get("/healthz").status_code == 200  # everything else is served
            opened[0].__exit__(None, None, None)
            first.close()
            deadline = time.monotonic() + 30  # the server finds the closed socket on its next write (a ping at worst)
            while True:
                with c.stream("GET", f"/live/{code}/events") as r:  # closed unread once its status is known
                    if r.status_code == 200:
                        break
                    assert r.status_code == 429 and time.monotonic() < deadline
                ok(c.post(f"/api/sessions/{sid}/step", json={"steps": 1}))  # a write to every stream
                time.sleep(0.2)
            opened[1].__exit__(None, None, None)
            second.close()
