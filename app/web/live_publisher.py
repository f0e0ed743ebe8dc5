"""The Publisher: every release of a presenting session's lock (app/store working_set) calls on_release; when the
request changed what the room shows (a step, a phase, a rewind, a setting), the followers' panels are rendered once,
as out-of-band swaps (the panel table's FRAME layout), and published as one server-sent event for every stream.
While the presenter plays, frames go out at most every FRAME_INTERVAL: the last state then, with every loss point
since the last frame.
"""
import logging
import threading
import time
from dataclasses import dataclass

from app.core.session import Session
from app.live.hub import Hub
from app.live.model import Room
from app.live.events import data_lines

from .live_render import frame_html, frame_outcome, status
from .view_state import view_of

log = logging.getLogger(__name__)

FRAME_INTERVAL = 0.1  # seconds: at most 10 frames a second per room reach the followers while the presenter plays
ROOM_TOUCH = 60.0  # a room's expiry moves on with the presenter's changes at most this often


def frame_marks(session: Session) -> tuple:
    """What a follower's frame depends on; compared by identity for objects and by value for numbers."""
    view = view_of(session)
    t = session.trainer
    return (session.request, t, t.config, t.step_count, session.changes, len(session.history),
            session.history_generation, session.detailed, view.drawn_at, view.drawn, view.step.phase, view.step.layer)


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x == y if isinstance(x, (int, str, bool, type(None))) else x is y
                                    for x, y in zip(a, b))


@dataclass
class Sent:
    """What this process last published for a room."""

    marks: tuple
    history: list
    generation: int
    points: int
    request: object
    config: object
    at: float
    pending: bool = False


class Publisher:
    def __init__(self, store, rooms, hub: Hub, clock=time.monotonic):
        self.store, self.rooms, self.hub, self.clock = store, rooms, hub, clock
        self.sent: dict[str, Sent] = {}
        self._guard = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._before: dict[str, tuple] = {}  # per session holding its lock: its marks when the lock was taken
        self._due: set[str] = set()  # rooms whose held-back frame is due
        self.live = None  # the rooms' service (app/live/service.py Live), once made
        self.closed = False

    def on_acquire(self, session: Session) -> None:
        """Called once a request holds the session's lock: what followers see now, to compare at release."""
        if session.page.live is not None:
            self._before[session.id] = frame_marks(session)

    def on_release(self, session: Session) -> None:
        """Called with the session's lock held, after every request that used it: a request that changed what the
        room shows publishes a frame (a follower's read, which changes nothing, publishes none)."""
        before = self._before.pop(session.id, None)
        code = session.page.live_code
        if code is None:
            return
        try:
            self._changed(session, code, before)
        except Exception:  # noqa: BLE001 - followers miss a frame; the presenter's request must not fail for it
            log.exception("live room %s: could not publish a frame", code)

    def _changed(self, session: Session, code: str, before: tuple | None) -> None:
        marks = frame_marks(session)
        with self._guard:
            if code not in self._due and before is not None and _same(before, marks):
                return  # this request changed nothing the followers see
        room = self.rooms.get(code)
        if room is None or room.ended or room.sid != session.id:
            session.page.live = None  # the room ended (elsewhere, or by its time-to-live)
            self.sent.pop(code, None)
            return
        # Before any frame is held back: a change of the state an open question was asked in cancels it now.
        self.live.cancel_if_moved(session, room)
        self.live.fold_if_moved(session, room)  # ... and a revealed result folds away once the room moves on
        with self._guard:
            sent = self.sent.get(code)
            if sent is not None and _same(sent.marks, marks):
                self._due.discard(code)
                return
            now = self.clock()
            if sent is not None and now - sent.at < FRAME_INTERVAL:
                if not sent.pending and not self.closed:
                    sent.pending = True
                    timer = threading.Timer(sent.at + FRAME_INTERVAL - now, self._flush, (session.id,))
                    timer.daemon = True
                    self._timers.add(timer)
                    timer.start()
                return
        self.publish_frame(session, room, sent)
        now = self.live.clock()
        if room.expires - now < self.live.ttl - ROOM_TOUCH:  # the presenter is active: the room lasts longer
            room.expires = now + self.live.ttl
            self.rooms.save(room)

    def close(self) -> None:
        """No more frames: the app is stopping (the store closes next)."""
        with self._guard:
            self.closed = True
            for timer in self._timers:
                timer.cancel()

    def _flush(self, sid: str) -> None:
        """The frame held back while playing: the session's state now, once the interval has passed."""
        with self._guard:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
            if self.closed:
                return
        session = self.store.get(sid)
        if session is None:
            return
        with session.lock:
            code = session.page.live_code
            sent = self.sent.get(code)
            if sent is not None:
                sent.pending = False
                sent.at = 0.0  # due now: the release that follows publishes it
                self._due.add(code)

    def publish_frame(self, session: Session, room: Room, sent: Sent | None) -> int | None:
        """Render the followers' panels once and publish them (the caller holds the session's lock)."""
        t = session.trainer
        full = sent is None or sent.request is not session.request or sent.config is not t.config
        extend = (not full and sent.history is session.history and sent.generation == session.history_generation
                  and sent.points <= len(session.history))
        points = session.history[sent.points:] if extend else None
        html = frame_html(session, frame_outcome(full, points), status(session, room))
        seq = self.hub.publish(room.code, "frame", data_lines(html))
        self._due.discard(room.code)
        self.sent[room.code] = Sent(frame_marks(session), session.history, session.history_generation,
                                    len(session.history), session.request, t.config, self.clock())
        return seq

    def forget(self, code: str) -> None:
        self.sent.pop(code, None)
