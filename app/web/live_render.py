"""What followers of a live room see, rendered once per change in the presenter's process and fanned out.

Every release of a presenting session's lock (app/store working_set) calls Publisher.on_release: when what the room
shows changed (a step, a phase, a rewind, a setting), the follower's panels are rendered once, as out-of-band swaps
(templates/partials/live_frame.html), and published as one server-sent event for every stream. While the presenter
plays, frames go out at most every FRAME_INTERVAL: the last state then, with every loss point since the last frame.
"""
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import segno

from app.core.session import MAX_HISTORY, Session
from app.live import polls
from app.live.hub import Hub
from app.live.model import Room, spaced
from app.live.service import RoomGone
from app.live.storage import data_lines
from app.views import metrics, network, output, shown, units

from .render import templates
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


def stage(session: Session, full: bool, loss_points: list | None, status: dict) -> dict:
    """The context of the follower's panels: `full` draws the network panel and the whole output figure (a new
    network or data set); `loss_points` None sends the whole loss curve, else the points to add."""
    view = view_of(session)
    oldest, newest = session.kept_steps
    return {
        "metrics": metrics.build(session),
        "rewind": {"oldest": oldest, "newest": newest, "current": session.trainer.step_count},
        "diagram": network.build(session, view.display or shown.from_step(session), session.detailed),
        "output": output.build(session) if full else output.update(session),
        "loss_curve": {"mode": "replace" if loss_points is None else "extend",
                       "points": session.history if loss_points is None else loss_points,
                       "loss": session.trainer.config.loss, "scale": units.scale_words(session.dataset)},
        "loss_max_points": MAX_HISTORY,
        "full": full,
        "live": status,
    }


PHASE_WORDS = {"forward": "the forward pass", "loss": "the loss", "backward": "the backward pass"}


def status(session: Session, room: Room) -> dict:
    """The room's line above the stage, in words: the step, or the step in progress and its phase."""
    step = session.trainer.step_count
    phase = view_of(session).step.phase
    if room.ended:
        text = f"The presenter stopped presenting at step {step}."
    elif phase in PHASE_WORDS:
        text = f"Live: step {step + 1} in progress, {PHASE_WORDS[phase]}"
    else:
        text = f"Live: step {step}"
    return {"code": room.code, "step": step, "ended": room.ended, "text": text}


def expired_status(code: str, hours: float) -> dict:
    """The line once a room has ended by its time-to-live (nothing of it is kept)."""
    return {"code": code, "step": None, "ended": True,
            "text": f"This live room has ended: its presenter made no change for {hours:g} hours."}


def render(name: str, ctx: dict) -> str:
    return templates.env.get_template(name).render(ctx)


# The whole stage of a room at an event number, computed once for every follower who joins or resumes there (a
# class joining at once would otherwise wait in line for the presenter's lock, and hold up the presenter).
_stages: OrderedDict = OrderedDict()
STAGES_KEPT = 32


def room_stage(live, room: Room) -> tuple[int, dict, dict]:
    """(event number, the stage's context, a dict to keep renders of it in) of the room as it is now."""
    seq = live.rooms.latest([room.code]).get(room.code, 0)
    key = (room.code, room.started, seq, room.ended)
    found = _stages.get(key)
    if found is None:
        session = live.shown_session(room)
        if session is None:
            raise RoomGone(room.code)
        with session.lock:
            seq = live.rooms.latest([room.code]).get(room.code, 0)
            key = (room.code, room.started, seq, room.ended)
            found = (stage(session, True, None, status(session, room)), {})
        _stages[key] = found
        while len(_stages) > STAGES_KEPT:
            _stages.popitem(last=False)
    return seq, *found


def whole_frame(live, room: Room) -> tuple[int, str]:
    """The room's whole state as one frame's HTML, rendered once per event number."""
    seq, ctx, renders = room_stage(live, room)
    if "frame" not in renders:
        renders["frame"] = render("partials/live_frame.html", ctx)
    return seq, renders["frame"]


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
        if session.page.get("live"):
            self._before[session.id] = frame_marks(session)

    def on_release(self, session: Session) -> None:
        """Called with the session's lock held, after every request that used it: a request that changed what the
        room shows publishes a frame (a follower's read, which changes nothing, publishes none)."""
        before = self._before.pop(session.id, None)
        live = session.page.get("live")
        if not live:
            return
        try:
            self._changed(session, live["code"], before)
        except Exception:  # noqa: BLE001 - followers miss a frame; the presenter's request must not fail for it
            log.exception("live room %s: could not publish a frame", live.get("code"))

    def _changed(self, session: Session, code: str, before: tuple | None) -> None:
        marks = frame_marks(session)
        with self._guard:
            sent = self.sent.get(code)
            due = code in self._due
            if not due and before is not None and _same(before, marks):
                return  # this request changed nothing the followers see
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
        room = self.rooms.get(code)
        if room is None or room.ended or room.sid != session.id:
            session.page.pop("live", None)  # the room ended (elsewhere, or by its time-to-live)
            self.sent.pop(code, None)
            return
        self.live.cancel_if_moved(session, room)
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
            code = (session.page.get("live") or {}).get("code")
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
        html = render("partials/live_frame.html", stage(session, full, points, status(session, room)))
        seq = self.hub.publish(room.code, "frame", data_lines(html))
        self._due.discard(room.code)
        self.sent[room.code] = Sent(frame_marks(session), session.history, session.history_generation,
                                    len(session.history), session.request, t.config, self.clock())
        return seq

    def forget(self, code: str) -> None:
        self.sent.pop(code, None)


# ---- the room's own panels: the join card, the poll, the count ----

@lru_cache(maxsize=64)
def qr_svg(url: str) -> str:
    """The join link as a QR code (segno), an inline SVG that scales with its box."""
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=1, border=2, dark="#1b1b1b", omitsize=True, title=f"QR code for {url}")


def poll_view(room: Room, count: int) -> dict:
    """The question as followers see it: its choices as buttons ("Up"), the count, and the result once revealed."""
    poll = room.poll
    choices = [(c, c.capitalize() if poll.kind == "direction" else c) for c in poll.choices] if poll else []
    return {"code": room.code, "poll": poll, "choices": choices, "count": count, "count_text": answers_text(count),
            "ended": room.ended, "result": poll.result if poll else None}


def answers_text(count: int) -> str:
    return f"{count} answer{'s' * (count != 1)}"


def present(live, session: Session) -> dict | None:
    """The presenter's panel: the join card, the open poll and its live count, or what to ask next. None when the
    session does not present (the caller holds its lock)."""
    room = live.room_of(session)
    if room is None:
        return None
    url = room.extra.get("url", f"/live/{room.code}")
    count = live.rooms.count(room.code, room.poll.id) if room.poll else 0
    return {"code": room.code, "spaced": spaced(room.code), "url": url, "qr": qr_svg(url),
            "poll": poll_view(room, count), "questions": polls.questions(session),
            "step": session.trainer.step_count, "next_step": session.trainer.step_count + 1,
            "asked_step": room.poll.step + 1 if room.poll else None}


def event_html(kind: str, room: Room, live, session: Session | None) -> str:
    """The HTML of a room's event other than a frame: the poll card, the count of answers, or the end."""
    count = live.rooms.count(room.code, room.poll.id) if room.poll else 0
    # Every event carries a step: the presenter's, or for a count (sent from a follower's answer) the question's.
    step = session.trainer.step_count if session is not None else room.poll.step if room.poll else None
    ctx = {"oob": True, **poll_view(room, count), "step": step}
    if kind == "count":
        return render("partials/live_count.html", ctx)
    if kind == "end":
        ctx["live"] = {"code": room.code, "step": step, "ended": True,
                       "text": f"The presenter stopped presenting at step {step}."}
        return render("partials/live_status.html", ctx) + render("partials/live_poll.html", ctx)
    return render("partials/live_poll.html", ctx)


def expired_html(live, code: str) -> str:
    """The end event of a room that timed out: its status line, its question (none now) and nothing else."""
    ctx = {"oob": True, "live": expired_status(code, live.ttl / 3600), "poll": None, "result": None, "step": None,
           "code": code}
    return render("partials/live_status.html", ctx) + render("partials/live_poll.html", ctx)
