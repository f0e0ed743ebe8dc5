"""The settings form's view: each control of app/core/options.py that the page offers for this config and data,
with its value as shown, its choices and its error, grouped into fieldsets and rows for
templates/partials/controls.html."""
from dataclasses import dataclass, field
from typing import Any

from app.core.options import FIELDSETS, OPTIONS, PAGE_DATASETS, Option
from app.datasets import DATASETS
from app.datasets.features import DEFAULT_FEATURES, FEATURES
from app.engine.losses import incompatibility

FEATURE_LABELS = {"x1": "x₁", "x2": "x₂", "x1_sq": "x₁²", "x2_sq": "x₂²", "x1_x2": "x₁x₂", "sin_x1": "sin(x₁)",
                  "sin_x2": "sin(x₂)"}


@dataclass
class Choice:
    value: str
    text: str
    reason: str | None = None  # why it cannot be chosen with the rest of the config (then it is disabled)


@dataclass
class ControlView:
    kind: str
    name: str
    label: str
    value: Any  # as the control shows it: a percent for percent controls, the chosen names for chips
    choices: list[Choice] = field(default_factory=list)
    suggestions: tuple[str, ...] = ()
    range: tuple[int, int, int] | None = None
    unit: str = ""
    error: str | None = None


@dataclass
class Fieldset:
    legend: str
    rows: list[list[ControlView]]


def fieldsets(config: dict, dataset_title: str, errors: dict[str, str], page: dict | None = None) -> list[Fieldset]:
    """The controls the page offers for `config` (Session.config()) and the page's settings (`page`, the
    session's), placed as the table says."""
    info = DATASETS.get(config["dataset"].get("name"))
    out = []
    for legend in FIELDSETS:
        placed = sorted((o for o in OPTIONS if o.control and o.control.fieldset == legend
                         and o.control.shown(config, info)), key=lambda o: o.control.at)
        rows: list[list[ControlView]] = []
        keys: list[str | None] = []
        for option in placed:
            view = _control(option, config, info, dataset_title, errors, page or {})
            if option.control.row is not None and keys and keys[-1] == option.control.row:
                rows[-1].append(view)
            else:
                rows.append([view])
                keys.append(option.control.row)
        out.append(Fieldset(legend, rows))
    return out


def _control(option: Option, config: dict, info, dataset_title: str, errors: dict, page: dict) -> ControlView:
    c, name = option.control, option.form_name
    if option.is_page:
        value = page.get(option.name, option.default)
        value = "" if value is None else value  # off: blank
    else:
        value = config["dataset"].get(option.name) if option.is_data else config[option.name]
    view = ControlView(c.kind, name, c.label, value, suggestions=c.suggestions, range=c.range, unit=c.unit,
                       error=errors.get(name))
    if option.field == "dataset.name":
        names = PAGE_DATASETS if value in PAGE_DATASETS else (*PAGE_DATASETS, value)
        view.choices = [Choice(n, DATASETS[n].title if n in PAGE_DATASETS else dataset_title) for n in names]
    elif option.field == "loss":
        for loss in option.choices:
            reason = incompatibility(config["output_activation"], loss)
            text = f"{loss} (not with {config['output_activation']})" if reason else loss
            view.choices.append(Choice(loss, text, reason))
    elif c.kind == "select":
        view.choices = [Choice(v, v) for v in option.choices]
    elif c.kind == "chips":
        view.choices = [Choice(f, FEATURE_LABELS[f]) for f in FEATURES]
        view.value = value or list(DEFAULT_FEATURES)
    if option.field == "dataset.samples" and value is None:
        view.value = info.default_samples
    if option.field == "dataset.train_fraction":
        value = value or (info.default_train_fraction if info else 1)
    if c.percent:
        view.value = int(round(value * 100))
    return view
