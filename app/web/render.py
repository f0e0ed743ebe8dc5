"""Jinja2 environment and the context every playground template receives."""
import json
from collections.abc import Mapping
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from app.core.detailed_step import PHASES
from app.core.options import OPTIONS, SPEED_WORDS
from app.datasets import DATASETS
from app.engine import FieldError
from app.core.session import MAX_HISTORY, Session
from app.settings import get_settings
from app.core import exercise
from app.views import exercise as exercise_view
from app.views import lesson as lesson_view
from app.core.page_state import Tally
from app.live.model import spaced
from app.views import guess, inspector, metrics, network, numbers, output, prediction, shown, units, worksheet
from app.views import matrix_form

from . import controls
from app.core.presets import PRESETS
from .setup_links import session_query
from .view_state import view_of

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.auto_reload = False  # templates do not change while the server runs; skip the mtime checks
templates.env.filters["short_label"] = numbers.short_label
templates.env.filters["exact"] = numbers.exact


def script_json(value) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can close the element."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


templates.env.filters["tojson_compact"] = script_json

PAGE_MAX_HIDDEN_LAYERS, PAGE_MAX_NEURONS = 6, 8


def inspector_for(session: Session, kind: str, layer, source, to) -> dict | None:
    """The inspector for an edge (kind "weight"/"edge") or a node, from the phase in progress or the last step."""
    step = view_of(session).step
    trace = step.trace if step.phase else session.last_trace
    names = shown.node_names(session)
    net = session.trainer.net
    try:
        layer, to = int(layer), int(to)
        if layer < 0 or to < 0 or (source is not None and int(source) < 0):
            return None
        # Edges and biases name their weight layer l; a node names its own layer, l + 1 for its bias.
        node_layer = layer + 1 if kind == "bias" else layer
        if trace is None:
            if kind in ("edge", "weight"):
                source = int(source)
                return {"kind": "plain", "param": "weight", "layer": layer, "to": to, "source": source,
                        "value": float(net.weights[layer][to, source]), "label": "w",
                        "title": f"Weight {own + ': ' if (own := shown.weight_name(session, layer, source, to)) else ''}"
                                 f"{names[layer][source]} → {names[layer + 1][to]}"}
            if node_layer == 0:
                return None
            return {"kind": "plain", "param": "bias", "layer": node_layer - 1, "to": to, "source": None,
                    "value": float(net.biases[node_layer - 1][to]), "label": "b",
                    "title": f"Bias of {names[node_layer][to]}"}
        # During a detailed step the trace is a proposal, so the edit form starts from the current value, and
        # only what the phases so far have computed is shown.
        if kind in ("edge", "weight"):
            found = inspector.edge(trace, names, layer, int(source), to, view_of(session).focus_row)
            found["current"] = float(net.weights[layer][to, int(source)])
            found["own_name"] = shown.weight_name(session, layer, int(source), to)
            if found["own_name"]:  # w5 rather than w with the subscript o1←h1
                found["symbol_sub"] = found["own_name"][1:]
            found["computed"] = step.computed(layer)
        else:
            found = inspector.node(trace, names, node_layer, to, view_of(session).focus_row)
            if node_layer:
                found["current"] = float(net.biases[node_layer - 1][to])
            found["computed"] = step.computed(max(node_layer - 1, 0))
            if node_layer == net.n_layers:
                found["scale_note"] = units.output_note(session.dataset, trace, to)
        found["phase"] = step.phase
        return found
    except (TypeError, ValueError, IndexError, FieldError):
        return None


class LazyConfig(Mapping):
    """session.config(), made when a template first reads it. Only the controls, the code view and the setup
    link read it, and a step's answer has none of them, so a step does not pay for it."""

    def __init__(self, session: Session):
        self._session, self._config = session, None

    def _get(self) -> dict:
        if self._config is None:
            self._config = self._session.config()
        return self._config

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class LazyControls:
    """The settings form's fieldsets (app/web/controls.py), made when a template first draws them."""

    def __init__(self, session: Session, cfg: LazyConfig, errors: dict):
        self._session, self._cfg, self._errors = session, cfg, errors

    def __iter__(self):
        return iter(controls.fieldsets(self._cfg, self._session.dataset.title, self._errors,
                                         self._session.page.transport.settings()))


def _open_card_url(session: Session) -> str | None:
    """While a lesson card or an exercise is open, the address bar holds its link instead of the setup's."""
    if (state := session.page.exercise) is not None:
        return f"/?exercise={state.seed}"
    if (card := session.page.lesson.current) is not None:
        return "/lessons/" + card
    return None


class LazySetupUrl:
    """The page's setup link ("/?..."), made when a template first prints it (see LazyConfig)."""

    def __init__(self, session: Session, cfg: LazyConfig):
        self._session, self._cfg, self._text = session, cfg, None

    def __str__(self) -> str:
        if self._text is None:
            self._text = _open_card_url(self._session)
        if self._text is None:
            query = session_query(self._session, self._cfg)
            self._text = "/?" + query if query else "/"
        return self._text

    def __html__(self) -> str:
        return str(escape(str(self)))


OTHER_PANELS = ("csv", "edit", "predict", "import")  # errors the upload, inspector, predict and share panels show


def form_errors(errors: dict, config: dict, info) -> list[tuple[str, str]]:
    """Errors with no control on the page to show them beside, shown at the top of the controls form."""
    on_page = {o.form_name for o in OPTIONS if o.control and o.control.shown(config, info)} | set(OTHER_PANELS)
    return [(field, message) for field, message in errors.items() if field not in on_page]


def _exercise(session: Session) -> dict | None:
    """The exercise card, while the session has an exercise open."""
    state = session.page.exercise
    if state is None:
        return None
    return exercise_view.build(session, exercise.make(state.seed), state, session.page.tally or Tally())


def context(session: Session, *, errors: dict | None = None, message: str | None = None,
            loss_points: list | None = None, notice: str | None = None, gradcheck: dict | None = None,
            predicted: list | None = None, inspect: tuple | None = None, shared: dict | None = None,
            guess_typed: str = "", guess_saved: str | None = None, exercise_changed: bool = False,
            lesson_changed: bool = False, with_controls: bool = False, live_present: dict | None = None,
            live_changed: bool = False) -> dict:
    """Everything the panels draw. `loss_points` None means a fresh page or network: the whole loss curve and
    output figure. Otherwise only what a step changes is sent: the new loss points and the output update."""
    cfg = LazyConfig(session)
    config = session.trainer.config
    view = view_of(session)
    if inspect is not None:
        view.selected = inspect
    selected = view.selected
    found = inspector_for(session, *selected) if selected else None
    gone = None
    if selected and found is None:
        gone = (f"The selected {'edge' if selected[0] in ('edge', 'weight') else 'node'} is no longer in the "
                "network. Click an edge or a node to inspect it.")
        view.selected = None
    info = DATASETS.get(session.dataset.name)
    hidden = list(config.layers[1:-1])
    if predicted is not None:
        view.predicted = predicted
    answer = prediction.build(session, view.predicted)
    marked = view.predicted if answer is not None else None
    # The output plot's marker: the input, and the output the Predict panel just computed for it.
    outputs = (answer or {}).get("outputs")
    mark = None if marked is None else (marked, outputs[0]["value"] if outputs else None)
    return {
        "session": session,
        "cfg": cfg,
        "data_info": info,
        "controls": LazyControls(session, cfg, errors or {}),
        "diagram": network.build(session, view.display or shown.from_step(session), session.detailed, view.focus_row,
                                 view.selected),
        "output": (output.build(session, mark) if loss_points is None or predicted is not None
                   else output.update(session, mark)),
        "metrics": metrics.build(session),
        "loss_curve": {"mode": "replace" if loss_points is None else "extend",
                       "points": session.history if loss_points is None else loss_points,
                       "loss": config.loss, "scale": units.scale_words(session.dataset)},
        "loss_max_points": MAX_HISTORY,
        "shape": {"hidden": hidden, "can_add_layer": len(hidden) < PAGE_MAX_HIDDEN_LAYERS,
                  "max_neurons": PAGE_MAX_NEURONS},
        "errors": errors or {},
        "form_errors": form_errors(errors, cfg, info) if errors else [],
        "message": message,
        "notice": notice,
        "playing": view.playing,
        "speed": {"value": view.speed, "choices": SPEED_WORDS.items()},
        "detailed": session.detailed,
        "phase": view.step.phase,
        "phases": PHASES,
        "next_phase": view.step.next_click(session.trainer.net.n_layers),
        "rewind": dict(zip(("oldest", "newest"), session.kept_steps), current=session.trainer.step_count),
        "gradcheck": gradcheck,
        # The Matrix form panel: None while its toggle is off, so that nothing is computed or drawn for it.
        "matrix_form": matrix_form.build(session, view.step, view.playing) if view.matrix_form else None,
        "predict": {"names": list(session.dataset.input_names), "answer": answer,
                    "values": None if marked is None else [format(v, ".15g") for v in marked],
                    "typed": predicted is not None},
        "guess": guess.build(session, view.step, view.guesses, guess_typed, guess_saved),
        "lesson": lesson_view.panel(session),
        "lesson_changed": lesson_changed,
        # Drawn only with the settings, its own actions, or the whole page (panels.html): not in Play's frames.
        "exercise": _exercise(session) if with_controls or exercise_changed or loss_points is None else None,
        "exercise_changed": exercise_changed,
        "with_controls": with_controls,
        "inspector": found,
        "worksheet": (worksheet.build(session, view.worksheet, view.focus_row, view.step.phase is not None)
                      if view.worksheet and found is not None and view.worksheet["target"] == selected else None),
        "inspector_gone": gone,
        "inspector_step": session.trainer.step_count,
        "with_inspector": selected is not None,
        "presets": [(name, p.title) for name, p in PRESETS.items()],
        "shared": shared,
        "max_csv_bytes": get_settings().max_csv_bytes,
        "max_import_bytes": get_settings().max_import_bytes,
        "setup_url": LazySetupUrl(session, cfg),
        # A live room this session presents (app/web/live_render.py present), drawn by the page and live actions.
        "live_present": live_present,
        "live_changed": live_changed,
        "live_from": (code := session.page.live_from) and {"code": code, "spaced": spaced(code)},
    }
