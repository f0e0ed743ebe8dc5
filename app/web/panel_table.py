"""The table of the page's panels: for each, its id, its template, what its template reads (the builders of
app/web/panel_data.py) and the outcomes (app/web/outcome.py) that send it. The page's answers, Play's frames, the
whole page and a live room's frames and page are all drawn from it: `context` runs the builders of the panels a
layout sends, and templates/partials/panels.html draws them out of band.

Why a table of partial templates rather than one template per page with named blocks (jinja2-fragments): each
panel is already one partial whose root id is the panel's, and the same partial is drawn by two pages (the page
and a live room's followers' page), by the page's answers, by the live frames and by routes that answer with one
panel (the inspector, API access, the presenter's live panel). Blocks of one page template would have to be copied
into the other page or included from partials anyway, and a new package would render the same markup. The table
names each partial once; `panels.html` loops over the rows it chose.
"""
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from app.core.session import Session

from .outcome import CHANGES, Outcome
from .panel_data import FollowerData, PanelData

SETUP = frozenset({"rebuilt", "configured"})  # new settings or a new network: the forms are drawn again
# The toolbar: Step (and the phase list), Play, the speed, Back and Redo, the rewind scrubber and the toggles.
TOOLBAR = SETUP | {"played", "phase_taken", "toggled", "refused", "moved"}
ALWAYS = CHANGES
NEVER = frozenset()


@dataclass(frozen=True)
class Panel:
    id: str  # its root element's id (the first of them, for a template with several)
    template: str
    needs: tuple[str, ...]  # the names its template reads, each made by PanelData's builder of that name
    on: frozenset = NEVER  # the outcomes' changes and topics that send it
    when: Callable[[PanelData], bool] | None = None  # ... or what else sends it, read from the panels' data
    unless: frozenset = NEVER  # the changes and topics that never send it
    parts_oob: bool = False  # a part of the network panel, swapped on its own


PANELS = (
    Panel("metrics", "partials/metrics.html", ("metrics", "rewind"), on=ALWAYS),
    Panel("transport", "partials/transport.html", ("detailed", "next_phase", "phase", "phases", "playing", "rewind",
                                                   "speed"), on=TOOLBAR),
    Panel("player", "partials/player.html", ("playing",), on=ALWAYS),
    Panel("rewind", "partials/rewind.html", ("rewind",), on=TOOLBAR),
    Panel("toggles", "partials/toggles.html", ("detailed", "matrix_form"), on=TOOLBAR),
    # Sent once more after it was shown, to empty it.
    Panel("gradcheck", "partials/gradcheck.html", ("gradcheck",), on=frozenset({"gradcheck"}),
          when=lambda d: d.view.gradcheck_shown),
    # While open, except in Play's frames (it says so when Play starts); emptied with the toolbar once closed.
    Panel("matrix-form", "partials/matrix_form.html", ("matrix_form",), on=TOOLBAR,
          when=lambda d: d.view.matrix_form and not d.view.playing),
    # The form only when it may change (typing into it must survive Play's frames); the answer follows every step.
    Panel("predict-panel", "partials/predict.html", ("errors", "output", "predict"), on=SETUP | {"predict"}),
    Panel("predict-answer", "partials/predict_answer.html", ("predict",), when=lambda d: d.answer,
          unless=SETUP | {"predict"}),
    Panel("inspector", "partials/inspector.html", ("errors", "inspector", "inspector_gone", "inspector_step",
                                                   "readonly", "worksheet"), when=lambda d: d.selected is not None),
    Panel("message", "partials/message.html", ("message", "notice"), on=ALWAYS),
    # Do tasks are checked after every action (drawing the card checks it); a typed answer only by its own Check.
    Panel("lesson", "partials/lesson.html", ("lesson",), on=SETUP | {"lesson"},
          when=lambda d: d.lesson and d.lesson["task"]["kind"] == "do"),
    # Only when it changed: what the learner types survives Play's frames.
    Panel("exercise", "partials/exercise.html", ("exercise",), on=SETUP | {"exercise"}),
    Panel("share-panel", "partials/share.html", ("api_access", "errors", "live_present", "max_import_bytes",
                                                 "shared"), on=frozenset({"shared"})),
    Panel("live-present", "partials/live_present.html", ("errors", "live_present"), on=frozenset({"live"})),
    Panel("api-access", "partials/api_access.html", ("api_access", "live_present"), on=frozenset({"live"}),
          unless=frozenset({"shared"})),
    # The network bar and column heads only change with the settings: other answers swap the diagram and its words.
    Panel("network-panel", "partials/network.html", ("diagram", "errors", "guess", "readonly", "shape"), on=SETUP),
    Panel("network", "partials/diagram.html", ("diagram",), on=ALWAYS, unless=SETUP, parts_oob=True),
    Panel("row-picker", "partials/diagram_words.html", ("diagram", "errors", "readonly"), on=ALWAYS, unless=SETUP,
          parts_oob=True),
    Panel("guess", "partials/guess.html", ("errors", "guess"), on=ALWAYS, unless=SETUP),
    Panel("output-panel", "partials/output.html", ("output",), on=ALWAYS),
    Panel("loss-data", "partials/loss_data.html", ("loss_curve",), on=ALWAYS),
    Panel("controls", "partials/controls.html", ("cfg", "controls", "data_info", "errors", "form_errors",
                                                 "max_csv_bytes", "setup_url"), on=SETUP),
    Panel("loss-hint", "partials/loss_hint.html", ("loss_curve",), on=SETUP),
    # Drawn by the whole pages only.
    Panel("live-back", "partials/live_back.html", ("live_from",)),
    Panel("loss-panel", "partials/loss.html", ("loss_curve", "loss_max_points")),
    # A live room's line above its stage: the followers' pages and frames.
    Panel("live-status", "partials/live_status.html", ("live",), on=ALWAYS),
)
BY_ID = {p.id: p for p in PANELS}


@dataclass(frozen=True)
class Layout:
    """What one kind of answer draws: its panels line by line, in order. An answer or frame (`whole` false)
    sends those its outcome sends, and ends each line with a line break (the lines the hand-written templates had,
    so that answers stay byte for byte as they were); a whole page draws every one of them where its template
    places it, and reads `needs` besides."""

    lines: tuple[tuple[str, ...], ...]
    whole: bool = False
    needs: tuple[str, ...] = ()


# The page's answer to an action.
ANSWER = Layout((("metrics",), ("transport",), ("player",), ("rewind", "toggles"),
                 ("gradcheck", "matrix-form", "predict-panel", "predict-answer"), ("inspector",),
                 ("message", "lesson", "exercise"), ("share-panel",),
                 ("live-present", "api-access", "network-panel", "network", "row-picker"), ("guess",),
                 ("output-panel",), ("loss-data",), ("controls", "loss-hint")))
# The whole page (templates/playground.html).
PLAYGROUND = Layout((tuple(p for line in ANSWER.lines for p in line) + ("live-back", "loss-panel"),), whole=True,
                    needs=("presets",))
# A live room's frame, as its followers receive it.
FRAME = Layout((("live-status",), ("metrics",), ("network-panel", "loss-hint", "network", "row-picker"),
                ("output-panel",), ("loss-data",)))
# A follower's whole page (templates/live.html): the frame's panels, the inspector and the loss panel.
FOLLOWING = Layout((("live-status", "metrics", "network-panel", "network", "row-picker", "inspector", "output-panel",
                     "loss-panel", "loss-hint", "loss-data"),), whole=True)


@lru_cache(maxsize=None)
def _plan(layout: Layout, words: frozenset) -> tuple:
    """For each line of `layout`, the panels an outcome of `words` may send: each with None (it is sent) or the
    condition of the panels' data that sends it. Worked out once for each kind of outcome."""
    plan = []
    for line in layout.lines:
        maybe = []
        for panel in map(BY_ID.get, line):
            if layout.whole or (words & panel.on and not words & panel.unless):
                maybe.append((panel, None))
            elif panel.when is not None and not words & panel.unless:
                maybe.append((panel, panel.when))
        plan.append(tuple(maybe))
    return tuple(plan)


def chosen(layout: Layout, data: PanelData) -> list[list[Panel]]:
    """The panels `layout` draws for the data's outcome, line by line."""
    return [[panel for panel, when in line if when is None or when(data)]
            for line in _plan(layout, data.outcome.words)]


def drawn(data: PanelData, layout: Layout) -> dict:
    """The template context of the panels `layout` draws: what they read, and `lines`, the panels themselves."""
    lines = chosen(layout, data)
    names = dict.fromkeys(name for line in lines for panel in line for name in panel.needs)
    return {**data.entries(list(names) + list(layout.needs)), "lines": lines}


def context(session: Session, outcome: Outcome, layout: Layout = ANSWER, room: dict | None = None) -> dict:
    """Everything the panels `layout` draws after `outcome` read. `room` (a live room's status line) draws what
    the room's followers see (FollowerData); the caller holds the session's lock."""
    data = PanelData(session, outcome) if room is None else FollowerData(session, outcome, room)
    return drawn(data, layout)
