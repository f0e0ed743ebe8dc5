"""The data the panels draw: one builder for each name the panel templates read, run when a panel that reads it is
sent (app/web/panel_table.py), at most once an answer. A step's answer does not pay for the settings form or the
setup link; the whole page runs every builder.

PanelData is the page's (the presenter's, or anyone's own session); FollowerData is what a live room's followers
see of the presenter's session: no selection, no prediction, nothing to change.
"""
from functools import cached_property

from app.core import exercise as exercises
from app.core.detailed_step import PHASES
from app.core.options import OPTIONS, SPEED_WORDS
from app.core.page_state import Tally
from app.core.presets import PRESETS
from app.core.session import MAX_HISTORY, Session
from app.datasets import DATASETS
from app.live.model import spaced
from app.settings import get_settings
from app.views import exercise as exercise_view
from app.views import guess, lesson as lesson_view, matrix_form, metrics, network, output, prediction, shown, units
from app.views import worksheet

from . import controls as settings_form
from .outcome import Outcome
from .render import PAGE_MAX_HIDDEN_LAYERS, PAGE_MAX_NEURONS, inspector_for
from .setup_links import session_query
from .view_state import view_of

OTHER_PANELS = ("csv", "unit", "edit", "predict", "import")  # errors the upload (its file and unit), inspector,
# predict and share panels show beside their fields


def form_errors(errors: dict, config: dict, info) -> list[tuple[str, str]]:
    """Errors with no control on the page to show them beside, shown at the top of the controls form."""
    on_page = {o.form_name for o in OPTIONS if o.control and o.control.shown(config, info)} | set(OTHER_PANELS)
    return [(field, message) for field, message in errors.items() if field not in on_page]


def _open_card_url(session: Session) -> str | None:
    """While a lesson card or an exercise is open, the address bar holds its link instead of the setup's."""
    if (state := session.page.exercise) is not None:
        return f"/?exercise={state.seed}"
    if (card := session.page.lesson.current) is not None:
        return "/lessons/" + card
    return None


def _said(name: str) -> property:
    """What the outcome says, as it says it."""
    return property(lambda data: getattr(data.outcome, name))


def _exercise(session: Session) -> dict | None:
    """The exercise card, while the session has an exercise open."""
    state = session.page.exercise
    if state is None:
        return None
    return exercise_view.build(session, exercises.make(state.seed), state, session.page.tally or Tally())


class PanelData:
    """The panels' data for one answer to `outcome`. Making it applies what the outcome says to the page's view
    state (the inspector's target, the input Predict answers for), whichever panels are then sent."""

    readonly = False  # the network panel and the inspector with their forms

    def __init__(self, session: Session, outcome: Outcome):
        self.session, self.outcome = session, outcome
        self.view = view = view_of(session)
        if outcome.inspect is not None:
            view.selected = outcome.inspect
        if outcome.predicted is not None:
            view.predicted = outcome.predicted
        # The inspector is drawn while something is selected; a target that is no longer in the network is
        # forgotten, and the inspector says so once.
        self.selected = view.selected
        self.found = inspector_for(session, *self.selected) if self.selected else None
        self.gone = None
        if self.selected and self.found is None:
            self.gone = (f"The selected {'edge' if self.selected[0] in ('edge', 'weight') else 'node'} is no longer "
                         "in the network. Click an edge or a node to inspect it.")
            view.selected = None

    def entries(self, names) -> dict:
        return {name: getattr(self, name) for name in names}

    # ---- the training and the toolbar ----

    @cached_property
    def metrics(self):
        return metrics.build(self.session)

    @cached_property
    def rewind(self):
        return dict(zip(("oldest", "newest"), self.session.kept_steps), current=self.session.trainer.step_count)

    playing = property(lambda self: self.view.playing)

    @cached_property
    def speed(self):
        # Each choice as (value, words, title); "Auto" stays one short word, so that the toolbar keeps its one row, and
        # its title says what it trains on this data.
        epochs = self.view.frame_epochs("auto")
        auto = (f"{epochs} epoch{'s' * (epochs != 1)} a frame on this data ({epochs * self.view.steps_per_epoch} "
                "steps): enough to see the loss fall within seconds")
        return {"value": self.view.speed,
                "choices": [(value, words, auto if value == "auto" else None) for value, words in SPEED_WORDS.items()]}

    detailed = property(lambda self: self.session.detailed)
    phase = property(lambda self: self.view.step.phase)
    phases = PHASES

    @cached_property
    def next_phase(self):
        return self.view.step.next_click(self.session.trainer.net.n_layers)

    @cached_property
    def matrix_form(self):
        """None while its toggle is off, so that nothing is computed or drawn for it."""
        view = self.view
        return matrix_form.build(self.session, view.step, view.playing) if view.matrix_form else None

    gradcheck = _said("gradcheck")

    # ---- what the network shows ----

    @cached_property
    def diagram(self):
        view = self.view
        return network.build(self.session, view.display or shown.from_step(self.session), self.session.detailed,
                             view.focus_row, view.selected)

    @cached_property
    def shape(self):
        hidden = list(self.session.trainer.config.layers[1:-1])
        return {"hidden": hidden, "can_add_layer": len(hidden) < PAGE_MAX_HIDDEN_LAYERS,
                "max_neurons": PAGE_MAX_NEURONS}

    @cached_property
    def guess(self):
        o = self.outcome
        return guess.build(self.session, self.view.step, self.view.guesses, o.guess_typed, o.guess_saved)

    @cached_property
    def answer(self):
        """The Predict panel's answer for the input last given (None without one, or when it no longer fits)."""
        return prediction.build(self.session, self.view.predicted)

    @cached_property
    def mark(self):
        """The output plot's marker: the input, and the output the Predict panel computed for it."""
        if self.answer is None:
            return None
        outputs = self.answer.get("outputs")
        return self.view.predicted, outputs[0]["value"] if outputs else None

    @cached_property
    def output(self):
        """The whole figure with the whole loss curve, or for a new prediction; otherwise what a step changes."""
        if self.output_whole:
            return output.build(self.session, self.mark)
        return output.update(self.session, self.mark)

    @property
    def output_whole(self) -> bool:
        """Whether `output` is the whole figure (not a step's update of a part of it), known without drawing it."""
        return (self.outcome.points is None or self.outcome.predicted is not None
                or not output.updated_by_steps(self.session))

    @cached_property
    def loss_curve(self):
        points, config = self.outcome.points, self.session.trainer.config
        return {"mode": "replace" if points is None else "extend",
                "points": self.session.history if points is None else points,
                "loss": config.loss, "scale": units.scale_words(self.session.dataset)}

    loss_max_points = MAX_HISTORY

    @cached_property
    def predict(self):
        marked = self.view.predicted if self.answer is not None else None
        return {"names": list(self.session.dataset.input_names), "answer": self.answer,
                "values": None if marked is None else [format(v, ".15g") for v in marked]}

    # ---- the inspector ----

    inspector = property(lambda self: self.found)
    inspector_gone = property(lambda self: self.gone)
    inspector_step = property(lambda self: self.session.trainer.step_count)

    @cached_property
    def worksheet(self):
        view = self.view
        if view.worksheet and self.found is not None and view.worksheet["target"] == self.selected:
            return worksheet.build(self.session, view.worksheet, view.focus_row, view.step.phase is not None)
        return None

    # ---- what the action says ----

    message, notice = _said("message"), _said("notice")

    @cached_property
    def errors(self):
        return self.outcome.errors or {}

    # ---- lessons, exercises, sharing, live rooms ----

    @cached_property
    def lesson(self):
        """The open lesson card; drawing it checks a Do task against the state now."""
        return lesson_view.panel(self.session)

    @cached_property
    def exercise(self):
        return _exercise(self.session)

    shared, live_present = _said("shared"), _said("live_present")

    @cached_property
    def max_import_bytes(self):
        return get_settings().max_import_bytes

    api_access = None  # the session's API address is only shown on request (GET /ui/api-access)

    @cached_property
    def live_from(self):
        return (code := self.session.page.live_from) and {"code": code, "spaced": spaced(code)}

    # ---- the settings ----

    @cached_property
    def cfg(self):
        return self.session.config()

    @cached_property
    def data_info(self):
        return DATASETS.get(self.session.dataset.name)

    @cached_property
    def controls(self):
        """The settings form's fieldsets (app/web/controls.py)."""
        return settings_form.fieldsets(self.cfg, self.session.dataset.title, self.errors,
                                      self.session.page.transport.settings())

    @cached_property
    def form_errors(self):
        return form_errors(self.errors, self.cfg, self.data_info) if self.errors else []

    @cached_property
    def setup_url(self):
        """The page's setup link ("/?..."), which the address bar shows."""
        url = _open_card_url(self.session)
        if url is None:
            query = session_query(self.session, self.cfg)
            url = "/?" + query if query else "/"
        return url

    @cached_property
    def max_csv_bytes(self):
        return get_settings().max_csv_bytes

    @cached_property
    def presets(self):
        return [(name, p.title) for name, p in PRESETS.items()]


class FollowerData(PanelData):
    """What a live room's followers see of the presenter's session (the caller holds its lock): the diagram
    without the presenter's selection, the output without a prediction's marker, no forms, and the room's status
    line (`room`, app/web/live_render.py status)."""

    readonly = True

    def __init__(self, session: Session, outcome: Outcome, room: dict):
        self.session, self.outcome, self.room = session, outcome, room
        self.view = view_of(session)
        self.selected = self.found = self.gone = None

    @cached_property
    def live(self):
        return self.room

    @cached_property
    def errors(self):
        return {}

    @cached_property
    def diagram(self):
        view = self.view
        return network.build(self.session, view.display or shown.from_step(self.session), self.session.detailed,
                             view.focus_row, audience="ended" if self.room.get("ended") else "follower")

    @cached_property
    def output(self):
        """Whole for a new network or new settings, else updated (a follower's figure follows the steps)."""
        return output.build(self.session) if self.output_whole else output.update(self.session)

    @property
    def output_whole(self) -> bool:
        return self.outcome.change in ("rebuilt", "configured", "loaded") or not output.updated_by_steps(self.session)
