"""A live room's event stream, GET /live/{code}/events (text/event-stream): the page's followers and its presenter's
panel listen to it, and it is documented in the OpenAPI schema with the API's live routes."""
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.deps import ErrorMessage
from app.live.hub import kind_of
from app.live.model import normal_code
from app.live.service import RoomGone
from app.live.events import data_lines, sse
from app.live.streams import RETRY_SECONDS
from app.ratelimit import FOLLOW, Limited, address

from .live import JOIN, too_many
from .live_render import whole_frame

router = APIRouter(tags=["live"])
EVENT_KINDS = ("frame", "patch", "poll", "count", "end")
ONLY = rf"^({'|'.join(EVENT_KINDS)})(,({'|'.join(EVENT_KINDS)}))*$"
RETRY_MS = 1000  # how soon a browser reconnects after the stream drops


@router.get("/live/{code}/events", dependencies=[Limited(FOLLOW, turn=False)], response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {}}, "description": (
        "Server-sent events, each with `id:` (the room's event number, increasing by one) and `event:`: `frame` "
        "(a change of the presenter's network: HTML of the panels it changed, swapped out of band; its "
        '`<p id="live-status" data-step="N">` carries the step number; steps and phases come as patches, so a '
        "frame is a change no patch carries: the room's first, new settings or a new network, a rewind or Back, or "
        "the whole state for a client with nothing to resume), `patch` (a step or a detailed step's phase, relative "
        "to the frame or patch before it: one line of JSON, a light frame as the page's Step gets it with "
        "`X-BP-Frame`, "
        '`{"step", "playing", "base", "html", "diagram", "loss", "output"}`: `base` is the number of the event it '
        "applies to, `html` the panels whose HTML changed, out of band, `diagram` the changed values of the "
        "diagram's edges and nodes, `loss` the new loss points, `output` the output plot's new picture; apply every "
        "one in order, or ask for `frame` only and get the whole ones), `poll` (the question, or its result once "
        "revealed), `count` (how many have answered) and `end` (the presenter stopped); each carries a step: a "
        "patch in `step`, the others in a `data-step` attribute (a count's is the step its question was asked "
        "at). A comment line every 15 s keeps the stream open.")},
    404: {"model": ErrorMessage, "description": "No such room."},
    429: {"model": ErrorMessage, "description": "Too many joins from this address, or too many event streams open at "
                                                "once: from this address (PLAYGROUND_MAX_STREAMS_PER_ADDRESS, default "
                                                "400) or in this process (three quarters of its open-file limit). "
                                                "Retry-After says when to try again."}})
async def events(request: Request, code: str,
                 after: Annotated[int | None, Query(ge=0, description=(
                     "The last event this client has (the page's render says which); a client without one first "
                     "gets a `frame` with the whole state."))] = None,
                 only: Annotated[str | None, Query(pattern=ONLY, description="Event kinds to send, comma-separated "
                                                                             "(default all).")] = None,
                 last_event_id: Annotated[str | None, Header()] = None) -> Response:
    """The room's events, live. A reconnecting browser sends Last-Event-ID and resumes after it: the events it
    missed are replayed, or, when they are no longer kept, one `frame` brings it to the latest state."""
    if (refused := too_many(request, JOIN)) is not None:
        return refused
    live = request.app.state.live
    kinds = None if only is None else frozenset(only.split(","))
    # Each stream holds a file descriptor as long as it is open: an address gets a class's worth, and the process
    # keeps a quarter of its open-file limit for everything else.
    client = address(request.scope)
    if (full := live.streams.take(client)) is not None:
        raise HTTPException(429, full, headers={"Retry-After": str(RETRY_SECONDS)})
    sub = None

    def close() -> None:
        live.streams.give_back(client)
        if sub is not None:
            live.hub.unsubscribe(code, sub)

    try:
        if normal_code(code) != code:
            raise HTTPException(404, "No live room with this code.")
        resume = max((v for v in (after, _int(last_event_id)) if v is not None), default=None)
        # Subscribe first, then read storage: every event is either in what is read or arrives on the queue (or
        # both, and is sent once).
        sub = live.hub.subscribe(code, kinds)
        try:
            newest, missed = await run_in_threadpool(_catch_up, live, code, resume)
        except RoomGone:
            raise HTTPException(404, "No live room with this code; it may have ended.") from None
        live.hub.settle(code, newest)
    except BaseException:
        close()
        raise
    return EventStream(_stream(live, code, sub, kinds, missed), on_close=close, media_type="text/event-stream",
                       headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


class EventStream(StreamingResponse):
    """A stream that calls `on_close` once it has ended, however it ended: the room ended it, the client went away
    (the response is cancelled, perhaps before its first byte), or it failed."""

    def __init__(self, content, on_close, **kwargs):
        super().__init__(content, **kwargs)
        self._on_close = on_close

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close, self._on_close = self._on_close, None
            if close is not None:
                close()


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) <= 18 else None


def _catch_up(live, code: str, resume: int | None) -> tuple[int, list | None]:
    """The room's newest event number, and the kept events after `resume` (None: start with a whole frame, for a
    client with nothing to resume, too far behind, or ahead of this room)."""
    live.room(code)
    newest = live.rooms.latest([code]).get(code, 0)
    if resume is None or resume > newest:
        return newest, None
    return newest, live.rooms.events_after(code, resume) if resume < newest else []


async def _stream(live, code: str, sub, kinds, missed: list | None):
    try:
        yield b"retry: %d\n\n" % RETRY_MS
        sent = -1
        if missed is None:
            if kinds is None or "frame" in kinds:
                latest = await run_in_threadpool(_whole_frame, live, code)
                if latest is not None:
                    sent, event = latest
                    yield event
        for seq, event in missed or []:
            if seq > sent:
                sent = seq
                if kinds is None or kind_of(event) in kinds:
                    yield event
        while True:
            item = await sub.queue.get()  # an event, the hub's ping (number 0), or None: the end
            if item is None:
                return
            seq, event = item
            if seq == 0:
                yield event
            elif seq > sent:
                sent = seq
                yield event
    finally:
        live.hub.unsubscribe(code, sub)


def _whole_frame(live, code: str) -> tuple[int, bytes] | None:
    """The room's whole state as one `frame` (numbered as the newest event), for a client with nothing to resume."""
    try:
        seq, html = whole_frame(live, live.room(code))
    except RoomGone:
        return None
    return seq, sse(seq, "frame", data_lines(html))
