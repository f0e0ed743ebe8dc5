"""The Jinja2 environment of the page's templates, and the inspector's data for an edge or a node."""
import json
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.engine import FieldError
from app.core.session import Session
from app.views import inspector, network_svg, numbers, shown, units
from app.views.network import without_pass

from .view_state import view_of

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.auto_reload = False  # templates do not change while the server runs; skip the mtime checks
templates.env.filters["short_label"] = numbers.short_label
templates.env.filters["exact"] = numbers.exact
# The network diagram's pictures, edges and nodes, written by app/views/network_svg.py (not a template loop: faster).
templates.env.filters["pictures_svg"] = network_svg.pictures_markup
templates.env.filters["edges_svg"] = network_svg.edges_markup
templates.env.filters["nodes_svg"] = network_svg.nodes_markup


def script_json(value) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can close the element."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


templates.env.filters["tojson_compact"] = script_json

PAGE_MAX_HIDDEN_LAYERS, PAGE_MAX_NEURONS = 6, 8


def inspector_for(session: Session, kind: str, layer, source, to, audience: str = "learner") -> dict | None:
    """The inspector for an edge (kind "weight"/"edge") or a node, from the phase in progress or the last step;
    without one, the parameter's value and words for `audience` (app/views/network.py without_pass)."""
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
            hint = without_pass(session.trainer.step_count, audience)[2]
            if kind in ("edge", "weight"):
                source = int(source)
                return {"kind": "plain", "param": "weight", "layer": layer, "to": to, "source": source,
                        "value": float(net.weights[layer][to, source]), "label": "w", "hint": hint,
                        "title": f"Weight {own + ': ' if (own := shown.weight_name(session, layer, source, to)) else ''}"
                                 f"{names[layer][source]} → {names[layer + 1][to]}"}
            if node_layer == 0:
                return None
            return {"kind": "plain", "param": "bias", "layer": node_layer - 1, "to": to, "source": None,
                    "value": float(net.biases[node_layer - 1][to]), "label": "b", "hint": hint,
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
