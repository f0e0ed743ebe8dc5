"""Jinja2 environment and the context every playground template receives."""
import json
from pathlib import Path

from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from app.datasets import DATASETS, FEATURES
from app.engine import HIDDEN_ACTIVATIONS, INIT_SCHEMES, LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS, REGULARIZATIONS
from app.engine.losses import incompatibility
from app.sessions import Session
from app.views import metrics, network, output

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.filters["fmt"] = network.fmt
templates.env.filters["full"] = lambda v: "" if v is None else repr(float(v))


def script_json(value) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can close the element."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


templates.env.filters["tojson_compact"] = script_json

LEARNING_RATES = ("0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10")
REG_RATES = ("0", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10")
FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1_sq": "x₁²", "x2_sq": "x₂²", "x1_x2": "x₁x₂", "sin_x1": "sin(x₁)",
                  "sin_x2": "sin(x₂)"}
PAGE_MAX_HIDDEN_LAYERS, PAGE_MAX_NEURONS = 6, 8
CHOICES = {
    "datasets": [(name, info.title) for name, info in DATASETS.items() if name != "csv"],
    "features": [(f, FEATURE_LABELS[f]) for f in FEATURES],
    "hidden_activations": HIDDEN_ACTIVATIONS,
    "output_activations": OUTPUT_ACTIVATIONS,
    "losses": tuple(LOSSES),
    "optimizers": OPTIMIZERS,
    "regularizations": REGULARIZATIONS,
    "inits": INIT_SCHEMES,
    "learning_rates": LEARNING_RATES,
    "reg_rates": REG_RATES,
}


def context(session: Session, *, errors: dict | None = None, message: str | None = None,
            loss_points: list | None = None, notice: str | None = None) -> dict:
    """Everything the panels draw. `loss_points` None means a fresh page or network: the whole loss curve and
    output figure. Otherwise only what a step changes is sent: the new loss points and the output update."""
    cfg = session.config()
    info = DATASETS.get(session.dataset.name)
    hidden = cfg["layers"][1:-1]
    return {
        "session": session,
        "cfg": cfg,
        "data_info": info,
        "choices": CHOICES,
        "loss_reasons": {loss: incompatibility(cfg["output_activation"], loss) for loss in LOSSES},
        "diagram": network.build(session),
        "output": output.build(session) if loss_points is None else output.update(session),
        "metrics": metrics.build(session),
        "loss_curve": {"mode": "replace" if loss_points is None else "extend",
                       "points": session.history if loss_points is None else loss_points,
                       "loss": cfg["loss"]},
        "shape": {"hidden": hidden, "can_add_layer": len(hidden) < PAGE_MAX_HIDDEN_LAYERS,
                  "max_neurons": PAGE_MAX_NEURONS},
        "errors": errors or {},
        "message": message,
        "notice": notice,
        "playing": session.playing,
    }
