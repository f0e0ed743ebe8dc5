"""The Publisher: every release of a presenting session's lock (app/store working_set) calls on_release; when the
request changed what the room shows (a step, a phase, a rewind, a setting), what the followers see is rendered once
and published as one server-sent event for every stream:
- a `patch` when the change goes on from what the followers were last sent (steps, a detailed step's phases): a
  light frame (app/web/frames.py) of the panel table's FRAME layout, made from the room's PageCopy (what every
  follower who applied every event holds): the diagram's changed values, the panels whose HTML changed, the new loss
  points and the output plot's update;
- a whole `frame` otherwise (new settings or a new network, a rewind or Back, a room's first frame, or the first
  this process makes): the FRAME layout's panels as out-of-band HTML. It starts the room's copy anew and the room's
  epoch (Room.epoch): a patch is made only from the copy of the room's current epoch, which one process holds.
A follower's page, or the whole frame a stream starts with, is drawn from the session as it is then, which may be
ahead of the last frame (one is held back while playing): `follower_drawn` makes the next patch bring it, too, to
the room's state. While the presenter plays, frames go out at most every FRAME_INTERVAL: the last state then, with
every loss point since the last frame.
"""
import bisect
import logging
import threading
import time
from dataclasses import dataclass

from app.core.session import Session
from app.live.hub import Hub
from app.live.model import Room
from app.views.diagram_model import Diagram

from .frames import PageCopy
from .live_render import forget_unlike, patch_lines, status, whole_lines
from .view_state import view_of

log = logging.getLogger(__name__)

FRAME_INTERVAL = 0.1  # seconds: at most 10 frames a second per room reach the followers while the presenter plays
ROOM_TOUCH = 60.0  # a room's expiry moves on with the presenter's changes at most this often
CLOSE_WAIT = 5.0  # seconds the app's stop waits for a held-back frame's flush under way (it holds a session's lock)


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
    copy: PageCopy | None = None  # what every follower holds after it (None: the next frame is whole)
    epoch: int = -1  # the room's epoch it belongs to
    seq: int | None = None  # its event number
    last: tuple | None = None  # the loss curve's last point then


def new_points(session: Session, sent: Sent) -> list | None:
    """The loss-curve points after those `sent` (its curve is this session's): the steps' new points, also once the
    curve was thinned (its older half, MAX_HISTORY; the followers' charts thin theirs as the presenter's does);
    None when the curve changed otherwise (its last point sent is gone or changed)."""
    history = session.history
    if sent.generation == session.history_generation and sent.points <= len(history):
        return history[sent.points:]
    if sent.last is None:
        return None
    after = bisect.bisect_right(history, sent.last[0], key=lambda point: point[0])
    return history[after:] if after and history[after - 1] == sent.last else None


class Publisher:
    def __init__(self, store, rooms, hub: Hub, clock=time.monotonic):
        self.store, self.rooms, self.hub, self.clock = store, rooms, hub, clock
        self.sent: dict[str, Sent] = {}
        self._guard = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._flushing = 0  # timers' flushes under way (past the closed check)
        self._idle = threading.Condition(self._guard)  # notified as each ends
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
                    timer = threading.Timer(sent.at + FRAME_INTERVAL - now, self._flush, (session.id, sent))
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
        """No more frames: the app is stopping (the store closes next). A timer's flush already under way is waited
        for: it takes and releases a session's lock, which the closed store could no longer release."""
        with self._guard:
            self.closed = True
            for timer in self._timers:
                timer.cancel()
            if not self._idle.wait_for(lambda: not self._flushing, CLOSE_WAIT):
                log.warning("a held-back live frame's flush still runs after %g s; the store closes anyway", CLOSE_WAIT)

    def _flush(self, sid: str, held: Sent) -> None:
        """The frame held back while playing, after the frame `held`: the session's state now, once the interval has
        passed. A timer late on a busy machine, when a frame went out since (a change after the interval), does
        nothing: that frame's own interval holds back what followed it."""
        with self._guard:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
            if self.closed:
                return
            self._flushing += 1
        try:
            session = self.store.get(sid)
            if session is None:
                return
            with session.lock:
                code = session.page.live_code
                sent = self.sent.get(code)
                if sent is not None and sent is held:
                    sent.pending = False
                    sent.at = 0.0  # due now: the release that follows publishes it
                    self._due.add(code)
        finally:
            with self._guard:
                self._flushing -= 1
                self._idle.notify_all()

    def publish_frame(self, session: Session, room: Room, sent: Sent | None) -> int | None:
        """Render what the followers see once, as a patch on the last frame or a whole frame, and publish it (the
        caller holds the session's lock)."""
        t = session.trainer
        full = sent is None or sent.request is not session.request or sent.config is not t.config
        points = None if full or sent.history is not session.history else new_points(session, sent)
        room_status = status(session, room)
        try:
            if points is not None and sent.copy is not None and sent.epoch == room.epoch:
                copy = sent.copy
                kind, lines = "patch", patch_lines(session, points, room_status, copy, sent.seq)
            else:
                copy = PageCopy()
                kind, lines = "frame", whole_lines(session, full, points, room_status, copy)
                room.epoch += 1
                self.rooms.save(room)
            seq = self.hub.publish(room.code, kind, lines)
        except BaseException:
            self.sent.pop(room.code, None)  # the copy may be ahead of what the followers got: start anew
            raise
        self._due.discard(room.code)
        self.sent[room.code] = Sent(frame_marks(session), session.history, session.history_generation,
                                    len(session.history), session.request, t.config, self.clock(), copy=copy,
                                    epoch=room.epoch, seq=seq, last=session.history[-1] if session.history else None)
        return seq

    def follower_drawn(self, session: Session, diagram: Diagram) -> None:
        """A follower's page, or the whole frame a stream starts with, was drawn from the session as it is now (the
        caller holds its lock): the next patch must bring it, too, to the room's state. The process that holds the
        room's copy forgets the values the drawing shows otherwise (they are sent again); elsewhere the room's
        frames start anew (the epoch moves on, so the next frame is whole)."""
        code = session.page.live_code
        room = self.rooms.get(code) if code else None
        if room is None or room.ended or room.sid != session.id:
            return
        sent = self.sent.get(code)
        if sent is not None and sent.copy is not None and sent.epoch == room.epoch:
            if not forget_unlike(sent.copy, diagram):
                sent.copy = None  # another picture altogether: the next frame is whole
            return
        room.epoch += 1
        self.rooms.save(room)

    def forget(self, code: str) -> None:
        self.sent.pop(code, None)
