"""What a live room shows, as views and HTML: the followers' stage (the panel table's FRAME and FOLLOWING layouts)
and status line, the question and its count, the presenter's panel, and every event's data (the frames are
published by app/web/live_publisher.py: whole frames as HTML, patches as light frames' JSON)."""
import json
from collections import OrderedDict
from functools import lru_cache

import segno

from app.core.session import Session
from app.live import polls
from app.live.events import data_lines
from app.live.model import Room, spaced
from app.live.service import RoomGone
from app.views.diagram_model import Diagram
from app.views.diagram_patch import reset
from app.views.network_svg import edge_values, node_values

from .frames import PageCopy, light_frame
from .outcome import Outcome, moved, rebuilt, stepped
from .panel_data import FollowerData
from .panel_table import FOLLOWING, FRAME, drawn
from .render import templates
from .view_state import view_of


def frame_outcome(full: bool, points: list | None) -> Outcome:
    """What a frame shows happened: new settings or a new network (`full`: the network panel and the whole output
    figure), steps that added `points` to the loss curve, or another step of the history (the whole curve)."""
    return rebuilt() if full else moved() if points is None else stepped(points)


def whole_lines(session: Session, full: bool, points: list | None, room_status: dict, copy: PageCopy) -> bytes:
    """A whole frame's data lines: the panels a follower's view needs after the change (`frame_outcome`), out of
    band; `copy` then holds the diagram they draw. The caller holds the session's lock."""
    data = FollowerData(session, frame_outcome(full, points), room_status)
    ctx = drawn(data, FRAME)
    if any(panel.id in ("network", "network-panel") for line in ctx["lines"] for panel in line):
        reset(data.diagram, copy.drawn)
    return data_lines(render("partials/panels.html", ctx))


def patch_lines(session: Session, points: list, room_status: dict, copy: PageCopy, base: int | None) -> bytes:
    """A patch's data line: the light frame (app/web/frames.py) that brings a follower holding `copy` (the state
    after event `base`) to the session's, after steps that added `points` to the loss curve (none: a phase). The
    caller holds the session's lock."""
    frame = light_frame(FollowerData(session, stepped(points), room_status), FRAME, copy)
    frame["base"] = base
    return data_lines(json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False))


def forget_unlike(copy: PageCopy, diagram: Diagram) -> bool:
    """A follower may hold `diagram` instead of what `copy` says: its values that differ are forgotten, so that the
    next patch sends them. False when it is another picture altogether (the next frame must be whole)."""
    held = copy.drawn
    if held.structure != diagram.structure:
        return False
    for key, values in [(e.id, edge_values(e)) for e in diagram.edges] + [(n.id, node_values(n)) for n in
                                                                           diagram.nodes]:
        if held.values.get(key) != values:
            held.values.pop(key, None)
    copy.html.clear()  # its panels' HTML too: the next patch sends them whole
    return True


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


def ttl_words(seconds: float) -> str:
    """A time-to-live in words: "3 hours", "10 minutes", "5 seconds"."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            amount = round(seconds / size, 1)
            return f"{amount:g} {unit}{'s' * (amount != 1)}"


def expired_status(code: str, ttl: float) -> dict:
    """The line once a room has ended by its time-to-live (nothing of it is kept)."""
    return {"code": code, "step": None, "ended": True,
            "text": f"This live room has ended: its presenter made no change for {ttl_words(ttl)}."}


def render(name: str, ctx: dict) -> str:
    return templates.env.get_template(name).render(ctx)


# The whole stage of a room at an event number, computed once for every follower who joins or resumes there (a
# class joining at once would otherwise wait in line for the presenter's lock, and hold up the presenter): the
# follower's page's context, a whole frame's, and a dict to keep renders of them in.
_stages: OrderedDict = OrderedDict()
STAGES_KEPT = 32


def room_stage(live, room: Room) -> tuple[int, dict, dict, dict]:
    """(event number, the follower's page's context, a whole frame's context, a dict to keep renders in) of the
    room as it is now."""
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
            data = FollowerData(session, frame_outcome(True, None), status(session, room))
            found = (drawn(data, FOLLOWING), drawn(data, FRAME), {})
            if not room.ended:  # the next patch brings this drawing, too, to the room's state
                live.publisher.follower_drawn(session, data.diagram)
        _stages[key] = found
        while len(_stages) > STAGES_KEPT:
            _stages.popitem(last=False)
    return seq, *found


def whole_frame(live, room: Room) -> tuple[int, str]:
    """The room's whole state as one frame's HTML, rendered once per event number."""
    seq, _, ctx, renders = room_stage(live, room)
    if "frame" not in renders:
        renders["frame"] = render("partials/panels.html", ctx)
    return seq, renders["frame"]


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
            "ended": room.ended, "result": poll.result if poll else None, "folded": folded_words(poll)}


def folded_words(poll) -> str | None:
    """A folded result's one line (what its fold opens on is the question and the class's answers); None while the
    result is shown whole, or there is none."""
    if poll is None or not poll.folded or not polls.revealed(poll):
        return None
    return f"Step {poll.step + 1}'s question: the answer was {poll.result['label']}. {poll.result['tally']}"


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
    ctx = {"oob": True, "live": expired_status(code, live.ttl), "poll": None, "result": None, "step": None,
           "code": code, "folded": None}
    # Nothing of it is kept: there is no copy to take any more.
    return (render("partials/live_status.html", ctx) + render("partials/live_poll.html", ctx)
            + '<div id="live-copy" hx-swap-oob="true"></div>')
