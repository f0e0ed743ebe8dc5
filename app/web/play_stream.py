"""Play as a stream: GET /ui/play/stream pushes light frames (app/web/frames.py) for as long as the session plays, as
fast as the page draws them, and POST /ui/play/drawn is the page telling it that a frame is drawn.

The page opens the stream once POST /ui/play has started Play (its answer shows Pause); the stream never starts Play
itself. It keeps at most WINDOW frames ahead of the last one the page said it drew, so that a slow page gets fewer,
larger frames rather than a queue: frames are trained and sent while the page paints those before. The page says so
every ACK_EVERY frames, and whenever it has drawn all it holds (static/js/transport.js): each word is a request, which
costs the page, the browser and the server more than a frame's patch (bench/README.md). With the window one wider,
a page that keeps up says it twice in five frames (after the fourth, and after the fifth, which empties its queue),
not five times; a wider window would save more words and show more frames' jump at Pause. Each frame takes the
session's lock, trains and is spent from the session's work budget as a Play frame always was (app/quick), so that
the rate limits count the same work. Play ends (a last frame, then `end`) when the session no longer plays: Pause, a
stop condition, an exploding loss, or any other request that moved the session (a Step, Back, a setting), which
the stream sees as the step or the settings it left having changed. A closed page closes the stream, and Play stops.

How many steps a frame trains: app/web/play_pace.py.
"""
import asyncio
import functools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.core.session import Session
from app.deps import BudgetDep, StoreDep
from app.live.events import sse
from app.quick import costs, scheduler
from app.live.streams import RETRY_SECONDS
from app.ratelimit import DRAWN, METER, Budget, Limited, TRAIN, WORK, address

from .csrf import same_site_post
from .deps import Current
from .frames import PageCopy, light_frame
from .live_events import EventStream
from .outcome import played
from .panel_data import PanelData
from .panel_table import ANSWER
from .play_pace import FRAME_SECONDS, Pace, stream_steps
from .training import PICTURE_ROWS, play_outcome
from .view_state import view_of

router = APIRouter(include_in_schema=False)

ACK_EVERY = 4  # the page says it drew a frame every ACK_EVERY frames (static/js/transport.js) ...
WINDOW = ACK_EVERY + 1  # ... and the server keeps at most this many frames ahead of the last one it was told of
# The output plot's picture goes in a frame at most every OUTPUT_SECONDS, the page's own most frequent redraw of it
# (OUTPUT_MS in static/js/charts.js): the frames between would be trained, encoded, sent and parsed for nothing. The
# frame that ends Play always brings it (the whole plot when another request ended Play).
OUTPUT_SECONDS = 0.1
ACK_WAIT = 30.0  # a page that draws nothing for this long has gone (a hidden tab draws nothing)
# The page's word may reach another worker process (several share one port); it notes it in the store, where the
# stream looks when no word came here: first after RELAY_FIRST, then ever less often, up to RELAY_MOST apart.
RELAY_FIRST, RELAY_MOST = 0.005, 0.5


@dataclass
class Link:
    """One page's stream in this process: what it has drawn, and the event that wakes the stream when it says so."""

    sid: str
    drawn: int = 0
    event: asyncio.Event = field(default_factory=asyncio.Event)
    superseded: bool = False  # the session opened another stream (another tab, or the page again): this one ends

    sent: int = 0  # frames sent: a page cannot have drawn more

    def saw(self, frame: int) -> None:
        frame = min(frame, self.sent)
        if frame > self.drawn:
            self.drawn = frame
            self.event.set()

    async def wait(self, sent: int, noted) -> bool:
        """Until the page has drawn all but WINDOW - 1 of the `sent` frames (False: it drew nothing for ACK_WAIT).
        `noted()` reads what another process was told (the store)."""
        waited, pause = 0.0, RELAY_FIRST
        while sent - self.drawn >= WINDOW and not self.superseded:
            self.event.clear()
            try:
                await asyncio.wait_for(self.event.wait(), pause)
                continue
            except TimeoutError:
                waited += pause
            self.saw(await run_in_threadpool(noted))
            if waited >= ACK_WAIT:
                return False
            pause = min(2 * pause, RELAY_MOST)
        return not self.superseded


class Links:
    """The open streams of this process, by their token (a secret the page gets as the stream's first event)."""

    def __init__(self):
        self.open: dict[str, Link] = {}

    def add(self, sid: str) -> tuple[str, Link]:
        """A new stream of session `sid`; the session's older stream here ends (one stream a session)."""
        for older in self.open.values():
            if older.sid == sid:
                older.superseded = True
                older.event.set()
        token = secrets.token_urlsafe(16)
        link = self.open[token] = Link(sid)
        return token, link

    def drawn(self, token: str, sid: str, frame: int) -> bool:
        """The page drew `frame`; False when no stream of that session has the token here."""
        link = self.open.get(token)
        if link is None or link.sid != sid:
            return False
        link.saw(frame)
        return True


LINKS = Links()


def _marks(session: Session) -> tuple:
    """What another request changes when it moves the session: its step, its history and its settings."""
    return (session.trainer.step_count, session.history_generation, session.request, session.detailed)


class Player:
    """One stream's Play: frames under the session's lock, from what its page holds (`copy`)."""

    def __init__(self, store, budget, sid: str, holds: str, clock=time.perf_counter):
        self.store, self.budget, self.sid = store, budget, sid
        self.copy = PageCopy.holding(holds)
        self.pace = Pace()
        self.clock = clock
        self.left: tuple | None = None  # the marks after this stream's last frame
        self.run = None  # the Play run it shows (app/web/view_state.py start_playing)
        self.output_sent: float | None = None  # when the last frame that brought the output plot's picture began

    async def frame(self) -> dict | None:
        """The next frame, or None when the session is gone or plays another run."""
        begun = self.clock()
        session = await scheduler.find(self.store, self.sid)
        if session is None:
            return None
        steps, trained = [0], [0.0]

        def work() -> dict | None:
            view = view_of(session)
            if self.run is None:
                self.run = view.playing
            if view.playing and view.playing != self.run:
                return None  # Play was paused and started again: the new run's stream shows it
            moved = self.left is not None and _marks(session) != self.left
            if not view.playing or moved:
                # Another request ended Play: the page may draw this stream's earlier frames after that request's
                # answer, so the last frame brings the whole curve and output figure.
                view.playing = False
                outcome = played(None)
            else:
                steps[0] = stream_steps(session, self.pace)
                start = self.clock()
                outcome = play_outcome(session, steps=steps[0])
                steps[0] = len(outcome.points or ())  # fewer where Play stopped on the way
                trained[0] = self.clock() - start
            output = not view.playing or self.output_sent is None or begun - self.output_sent >= OUTPUT_SECONDS
            frame = light_frame(PanelData(session, outcome), ANSWER, self.copy, output=output)
            if "output" in frame:
                self.output_sent = begun
            view.gradcheck_shown = False
            self.left = _marks(session)
            return frame

        cost = costs.Steps(stream_steps(session, self.pace), PICTURE_ROWS)
        # Each frame spends and gives back its own work: the stream's Budget would give back its earlier frames'.
        budget = self.budget and Budget(self.budget.buckets, self.budget.limit, self.budget.address)
        try:
            frame = await scheduler.locked(self.store, session, work, cost, budget)
        finally:
            if (meter := METER.get()) is not None:  # charged as a Play frame's own request was
                meter.next_part()
        if steps[0]:  # the frame's whole time here; a long wait (for the lock or the work budget) counts as one frame
            self.pace.learn(steps[0], trained[0], min(self.clock() - begun - trained[0], FRAME_SECONDS))
        return frame

    async def stop(self) -> None:
        """The page went away: Play stops, unless another request moved the session meanwhile or Play is another
        run now."""
        session = await scheduler.find(self.store, self.sid)
        if session is None:
            return

        def work() -> None:
            view = view_of(session)
            if self.run not in (None, view.playing):
                return
            if self.left is None or _marks(session) == self.left:
                view.playing = False

        await scheduler.locked(self.store, session, work, 0)


async def _frames(player: Player, token: str, link: Link):
    yield b"retry: 1000\n\n"
    yield sse(0, "stream", json.dumps({"stream": token}).encode().join((b"data: ", b"\n")))
    sent = 0
    noted = functools.partial(_noted, player.store.backend, link.sid, token)
    while True:
        if not await link.wait(sent, noted):
            return
        try:
            frame = await player.frame()
        except HTTPException as exc:  # over the session's share of work: Play waits as long as it is told to
            await asyncio.sleep(float((exc.headers or {}).get("Retry-After", 1)))
            continue
        if frame is None:
            return
        sent = link.sent = sent + 1
        yield sse(sent, "frame", b"data: " + json.dumps(frame, separators=(",", ":"), allow_nan=False).encode()
                  + b"\n")
        if not frame["playing"]:
            yield sse(sent + 1, "end", b"data: end\n")
            return


def _noted(backend, sid: str, token: str) -> int:
    drawn = getattr(backend, "drawn", None)
    return drawn(sid, token) if drawn is not None else 0


@router.get("/ui/play/stream", dependencies=[Limited(TRAIN, WORK, turn=False)])
async def play_stream(request: Request, store: StoreDep, budget: BudgetDep, session: Current,
                      holds: Annotated[str, Query(max_length=32, pattern=r"^[0-9a-f]*$")] = "") -> Response:
    """Play's frames, as server-sent events: `stream` (the stream's token, for POST /ui/play/drawn), then a `frame`
    (a light frame's JSON) each time the page has drawn all but WINDOW - 1 of those sent, and `end`. A session
    has one stream: a new one ends the one before. Each holds a socket, counted with the live rooms' event streams
    (per address and in all, app/live/streams.py)."""
    slots, client = request.app.state.live.streams, address(request.scope)
    if (full := slots.take(client)) is not None:
        raise HTTPException(429, full, headers={"Retry-After": str(RETRY_SECONDS)})
    token, link = LINKS.add(session.id)
    player = Player(store, budget, session.id, holds)
    ended = [False]

    async def close() -> None:
        LINKS.open.pop(token, None)
        if not ended[0]:
            ended[0] = True
            slots.give_back(client)
            if not link.superseded:  # a newer stream of the session plays on
                await player.stop()

    def on_close() -> None:
        asyncio.get_running_loop().create_task(close())

    return EventStream(_frames(player, token, link), on_close=on_close, media_type="text/event-stream",
                       headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/ui/play/drawn", status_code=204, dependencies=[Depends(same_site_post), Limited(DRAWN, turn=False)])
async def drawn(store: StoreDep, session: Current, stream: Annotated[str, Form(max_length=64)],
                frame: Annotated[int, Form(ge=0, le=10**9)]) -> Response:
    """The page drew `frame` of its Play stream `stream`: the stream is told at once when it is served here, and
    through the store when another process serves it."""
    if not LINKS.drawn(stream, session.id, frame):
        await run_in_threadpool(store.backend.note_drawn, session.id, stream, frame)
    return Response(status_code=204)
