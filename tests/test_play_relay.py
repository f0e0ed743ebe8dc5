"""A page's word that a Play frame is drawn, when it reaches another worker process than the stream's: noted in the
store (one record a session), and read by the stream's Link.wait when no word came to its own process."""
import asyncio
import threading

import pytest

from app.store.sqlite_backend import DRAWN_KEPT, SQLiteBackend
from app.web import play_stream
from app.web.play_stream import WINDOW, Link


def in_loop(coro):
    """asyncio.run in a thread of its own: the browser tests' Playwright may leave a loop running in this one."""
    result = {}

    def target():
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the test's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def backend(tmp_path):
    clock = Clock()
    b = SQLiteBackend(tmp_path / "s.db", ttl=3600, clock=clock)
    b.clock_ = clock
    yield b
    b.close()


def test_the_store_keeps_the_newest_frame_of_the_sessions_stream(backend):
    assert backend.drawn("s1", "tok") == 0
    backend.note_drawn("s1", "tok", 3)
    backend.note_drawn("s1", "tok", 2)  # a late word: the newer stands
    assert backend.drawn("s1", "tok") == 3
    assert backend.drawn("s1", "other") == 0  # another stream's token reads nothing
    assert backend.drawn("s2", "tok") == 0  # nor another session


def test_a_word_for_another_stream_replaces_the_sessions_one_record(backend):
    backend.note_drawn("s1", "old", 40)
    backend.note_drawn("s1", "new", 1)
    assert backend.drawn("s1", "new") == 1
    assert backend.drawn("s1", "old") == 0
    rows = backend._db.execute("SELECT count(*) FROM play_drawn").fetchone()[0]
    assert rows == 1  # however many tokens a client makes up, a session has one record


def test_records_go_with_their_session_and_with_time(backend):
    backend.note_drawn("s1", "tok", 1)
    backend.note_drawn("s2", "tok", 1)
    backend.delete("s1")
    assert backend.drawn("s1", "tok") == 0
    backend.clock_.now += DRAWN_KEPT + 1
    backend.expire()
    assert backend.drawn("s2", "tok") == 0


def test_the_stream_reads_the_store_when_no_word_came_here(monkeypatch):
    monkeypatch.setattr(play_stream, "RELAY_FIRST", 0.001)
    link, reads = Link("s1", sent=WINDOW), []

    def noted() -> int:
        reads.append(1)
        return WINDOW if len(reads) >= 3 else 0  # the word arrives in the store after a while

    assert in_loop(link.wait(WINDOW, noted)) is True
    assert link.drawn == WINDOW and len(reads) == 3


def test_a_word_here_wakes_the_stream_without_the_store():
    async def run() -> bool:
        link = Link("s1", sent=WINDOW)
        waiting = asyncio.ensure_future(link.wait(WINDOW, lambda: pytest.fail("the store was read")))
        await asyncio.sleep(0)
        link.saw(1)
        return await waiting

    assert in_loop(run()) is True


def test_a_word_for_a_frame_not_sent_yet_counts_as_the_last_one_sent():
    link = Link("s1", sent=3)
    link.saw(50)  # a page cannot have drawn what it was not sent: the window stays WINDOW frames
    assert link.drawn == 3


def test_a_page_that_draws_nothing_ends_the_stream(monkeypatch):
    monkeypatch.setattr(play_stream, "RELAY_FIRST", 0.001)
    monkeypatch.setattr(play_stream, "RELAY_MOST", 0.002)
    monkeypatch.setattr(play_stream, "ACK_WAIT", 0.02)
    assert in_loop(Link("s1").wait(WINDOW, lambda: 0)) is False


# ---- two app servers on one store (SQLite shared by two processes, or Redis): the stream on one, the word on the other

from tests.test_store_durability import two_servers  # noqa: E402,F401  (the fixture: two servers, one store)


def _events(lines):
    """(kind, id, data) of each server-sent event."""
    kind = seq = None
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("id: "):
            seq = int(line[4:])
        elif line.startswith("data: "):
            yield kind, seq, line[6:]


def test_a_word_that_reaches_the_other_server_moves_the_stream_on(two_servers):
    a, b = two_servers
    with a.client() as ca, b.client() as cb:
        ca.get("/")
        cb.cookies = ca.cookies
        post = {"HX-Request": "true", "Origin": a.url}
        assert ca.post("/ui/speed", data={"speed": "1"}, headers=post).status_code == 200
        assert ca.post("/ui/play", headers=post).status_code == 200
        with ca.stream("GET", "/ui/play/stream") as stream:
            events = _events(stream.iter_lines())
            kind, _, data = next(events)
            assert kind == "stream"
            token = data.split('"')[3]
            frames = [next(events) for _ in range(WINDOW)]  # sent without a word: WINDOW frames ahead
            assert [seq for _, seq, _ in frames] == list(range(1, WINDOW + 1))
            # The word goes to the other server (another process): the stream hears of it through the store.
            word = cb.post("/ui/play/drawn", data={"stream": token, "frame": "1"}, headers={**post, "Origin": b.url})
            assert word.status_code == 204
            kind, seq, _ = next(events)
            assert (kind, seq) == ("frame", WINDOW + 1)
            assert cb.post("/ui/pause", headers={**post, "Origin": b.url}).status_code == 200
            cb.post("/ui/play/drawn", data={"stream": token, "frame": str(WINDOW + 1)},
                    headers={**post, "Origin": b.url})
            rest = list(events)
            assert rest[-1][0] == "end" and '"playing":false' in rest[-2][2]


def test_a_sessions_new_stream_ends_its_older_one_and_leaves_others_be():
    links = play_stream.Links()

    async def run():
        _, first = links.add("s1")
        _, other = links.add("s2")
        waiting = asyncio.ensure_future(first.wait(WINDOW, lambda: 0))
        await asyncio.sleep(0)
        links.add("s1")  # the page opened its stream again (or another tab of the session did)
        return await waiting, first.superseded, other.superseded

    assert in_loop(run()) == (False, True, False)


def test_a_long_request_is_charged_a_part_at_a_time_each_with_its_own_allowance():
    """Play's stream stands for many frame requests: its address pays only what a frame uses beyond a request's
    allowance, as it did when each frame was a request; its session pays all of it."""
    from app.ratelimit.limits import ADDRESS_ALLOWANCE
    from app.ratelimit.meter import Meter

    class Cpu:
        def __init__(self):
            self.session = self.address = 0.0

        def charge(self, session, address, seconds, address_seconds):
            self.session += seconds
            self.address += address_seconds

    cpu = Cpu()
    meter = Meter(cpu, "s1", "10.0.0.1", cpu_clock=lambda: 0.0)
    for _ in range(100):  # a hundred frames of half an allowance each
        meter.on_loop = ADDRESS_ALLOWANCE / 2
        meter.next_part()
    assert cpu.session == pytest.approx(50 * ADDRESS_ALLOWANCE)
    assert cpu.address == 0.0
    meter.on_loop = 3 * ADDRESS_ALLOWANCE  # one frame over its allowance: the address pays the rest
    meter.next_part()
    assert cpu.address == pytest.approx(2 * ADDRESS_ALLOWANCE)
