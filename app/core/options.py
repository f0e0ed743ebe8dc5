"""Every training and data setting, declared once: its type, default, bounds, help, form control, setup-link name,
and whether changing it builds a new network.

Everything else is derived from this table: the request model (app/core/recipe.py), the page's controls and the
parsing of their form (app/web/controls.py, app/web/forms.py), setup links (app/web/setup_links.py) and the
table in docs/settings.md (`python -m app.core.options`). Adding a setting touches this table and the code that uses
the setting, nothing else. TF Playground's `State.PROPS` (src/state.ts) is the model.

The rows are in the order of a setup link's parameters and of the request model's fields.
"""
import json
from dataclasses import dataclass, field, fields
from types import UnionType
from typing import Any, Callable, Literal, Union, get_args, get_origin

from app.datasets import DATASETS
from app.datasets.features import DEFAULT_FEATURES, FEATURES
from app.engine import (HIDDEN_ACTIVATIONS, HYPERPARAMETERS, INIT_SCHEMES, LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS,
                        REGULARIZATIONS, TrainConfig)

SEED_MAX = 2**32 - 1
# The data sets the page offers: CSV data arrives through the upload form instead.
PAGE_DATASETS = tuple(name for name in DATASETS if name != "csv")
# The engine's defaults: a training setting takes the default of TrainConfig's field of the same name.
ENGINE_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


def always(config: dict, info) -> bool:
    return True


@dataclass(frozen=True)
class Control:
    """A setting's control in the page's settings form.

    `fieldset` and `at` place it (controls sort by `at` within their fieldset); controls sharing a `row` sit side
    by side. `shown(config, info)` says whether the page offers it for this config and data set (info is the
    DATASETS entry, None for inline data). A `percent` control shows the value times 100.
    """

    kind: Literal["select", "number", "range", "chips", "checkbox"]
    label: str
    fieldset: str
    at: int
    name: str | None = None  # the form field's name, when it is not the setting's own
    row: str | None = None
    suggestions: tuple[str, ...] = ()  # a number's datalist
    percent: bool = False
    range: tuple[int, int, int] | None = None  # a range's min, max and step, as shown
    unit: str = ""  # after a range's value
    shown: Callable[[dict, Any], bool] = always


@dataclass(frozen=True)
class Option:
    """One setting. `field` is its name in the request; data settings are `dataset.<name>`.

    A setup link leaves a setting out when it has its usual value: `usual(config, info)` when given, else the
    default; and always leaves it out when it does not apply (`applies`), e.g. Adam's betas under sgd. Settings
    in `ALWAYS_IN_LINKS` are always written.
    """

    field: str
    type: Any
    default: Any
    help: str
    bounds: dict = field(default_factory=dict)  # pydantic's ge, gt, le, lt
    link: str | None = None
    rebuilds: bool = True  # False: applies from the next step and keeps the weights
    control: Control | None = None
    applies: Callable[[dict, Any], bool] = always
    usual: Callable[[dict, Any], Any] | None = None
    default_words: str | None = None  # the default in words, where it is not one value (for docs/settings.md)

    @property
    def name(self) -> str:
        """The field's own name, without `dataset.` (or `page.`)."""
        return self.field.split(".")[-1]

    @property
    def choices(self) -> tuple[str, ...]:
        """The values a choice allows (a Literal's, optional or not); () for other settings."""
        kinds = get_args(self.type) if get_origin(self.type) in (Union, UnionType) else (self.type,)
        for kind in kinds:
            if get_origin(kind) is Literal:
                return get_args(kind)
        return ()

    @property
    def is_data(self) -> bool:
        return self.field.startswith("dataset.")

    @property
    def is_page(self) -> bool:
        """A setting of the page, not of training: kept with the session's page state, carried by setup links."""
        return self.field.startswith("page.")

    @property
    def form_name(self) -> str | None:
        """The name of its control's form field (None without a control)."""
        if self.control is None:
            return None
        return self.control.name or self.name


def trained(name: str, type_, help: str, **kw) -> Option:
    """A setting the engine trains with: its default is TrainConfig's, and it rebuilds the network unless the
    engine can change it mid-training (HYPERPARAMETERS)."""
    return Option(name, type_, ENGINE_DEFAULTS[name], help, rebuilds=name not in HYPERPARAMETERS, **kw)


def _generated(config: dict, info) -> bool:
    return info is not None and not info.fixed


def _two_d(config: dict, info) -> bool:
    return info is not None and info.takes_features


def _optimizer(name: str) -> Callable[[dict, Any], bool]:
    return lambda config, info: config["optimizer"] == name


# Play's speeds, per frame: "auto" (the default: whole epochs of at least AUTO_STEPS steps), steps ("1", "10") or
# epochs ("epoch", "2-epochs", "3-epochs"); of the fixed speeds the last is the fastest.
SPEEDS = ("auto", "1", "10", "epoch", "2-epochs", "3-epochs")
SPEED_WORDS = {"auto": "Auto", "1": "1 step", "10": "10 steps", "epoch": "1 epoch", "2-epochs": "2 epochs",
               "3-epochs": "3 epochs"}
# "auto" makes at least this many steps (mini-batch updates) a frame, in whole epochs, one at least, and fewer epochs
# where they would not fit in a display frame (app/web/play_stream.py). TF Playground makes 25 every animation frame
# (an epoch of its 250 training points in batches of 10), 60 frames a second; here the loss falls within a second.
AUTO_STEPS = 100
LEARNING_RATES = ("0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10")
REG_RATES = ("0", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10")

OPTIONS: tuple[Option, ...] = (
    # The data.
    Option("dataset.name", str | None, None,
           f"{', '.join(list(DATASETS)[:-1])} or {list(DATASETS)[-1]}.",
           link="dataset", control=Control("select", "Dataset", "Data", 0, name="dataset"), default_words="circle"),
    Option("dataset.samples", int | None, None, "Rows to generate (generated sets only). Default 500.",
           bounds={"ge": 2}, link="samples", applies=_generated, usual=lambda config, info: info.default_samples,
           default_words="500",
           control=Control("number", "Samples", "Data", 2, suggestions=("100", "200", "500", "1000", "2000"),
                           shown=_generated)),
    Option("dataset.noise", float, 0.0, "TF Playground's noise fraction; its slider's 0–50 is 0–0.5.",
           bounds={"ge": 0, "le": 1}, link="noise", applies=_generated,
           control=Control("range", "Noise", "Data", 1, percent=True, range=(0, 50, 5), shown=_generated)),
    Option("dataset.train_fraction", float | None, None, "Share of rows used for training.",
           bounds={"gt": 0, "le": 1}, link="train", usual=lambda config, info: info.default_train_fraction,
           default_words="0.5 generated, 0.7 iris, 0.8 CSV, 1 the worked examples",
           control=Control("range", "Training share", "Data", 3, name="train_percent", percent=True,
                           range=(10, 90, 10), unit="%",
                           # The worked examples' small tables train on every row.
                           shown=lambda config, info: info is None or info.default_train_fraction < 1)),
    Option("dataset.seed", int | None, None, "Defaults to the session's seed.", bounds={"ge": 0, "le": SEED_MAX},
           link="data_seed", usual=lambda config, info: config["seed"], default_words="`seed`"),
    Option("dataset.features", list[str] | None, None,
           f"Generated 2-D sets: {', '.join(FEATURES)}.", link="features", applies=_two_d,
           usual=lambda config, info: list(DEFAULT_FEATURES), default_words=", ".join(DEFAULT_FEATURES),
           control=Control("chips", "Input features", "Data", 4, shown=_two_d)),
    Option("dataset.standardize", bool | None, None, "Scale each network input to mean 0, std 1 (training rows).",
           link="standardize", usual=lambda config, info: info.own_units, default_words="true for CSV data and the "
           "house prices, false otherwise"),
    Option("dataset.scale_targets", bool | None, None,
           "Regression: scale the targets for the network from the training rows (standardised for a linear output, "
           "mapped into the middle 80 % of a bounded one's range); what you read stays in the data's units.",
           default_words="as `standardize` for CSV data, the house prices and inline rows; false otherwise"),
    Option("dataset.csv", str | None, None, "CSV text: a header row, then numeric rows."),
    Option("dataset.target_columns", list[str] | None, None, "CSV columns to predict."),
    Option("dataset.unit", str | None, None, "CSV data: the targets' unit as the page writes it (\"$\", \"kg\", "
           "\"points\"; up to 12 printable characters); \"\" for none. Units only change the page's words, never "
           "a number.", bounds={"max_length": 12},
           default_words="read from the target column's name: price_usd → $, cost_eur → €, weight_kg → kg "
                         "(app/datasets/units.py); none otherwise"),
    Option("dataset.task", Literal["regression", "classification"] | None, None,
           "CSV and inline data: classification reads one integer target column as class ids (inline rows may "
           "also be one-hot).", default_words="regression; inline one-hot targets under softmax: classification"),
    # The network and its training.
    Option("layers", list[int] | None, None,
           "Sizes from input to output, e.g. [2, 4, 2, 1]. Default: 4 and 2 hidden nodes, with input and output "
           "sizes taken from the dataset.", link="layers", default_words="data inputs, 4, 2, data outputs"),
    trained("hidden_activation", Literal[HIDDEN_ACTIVATIONS], "The hidden layers' activation function.",
            link="activation", control=Control("select", "Hidden activation", "Functions", 0)),
    # These two default by the data (app/datasets/encoding.py output_for_task, app/engine/losses.py loss_for).
    Option("output_activation", Literal[OUTPUT_ACTIVATIONS] | None, None, "The output layer's activation function.",
           link="output", control=Control("select", "Output activation", "Functions", 1),
           default_words="tanh; for CSV data and the house prices, by task: linear for regression, sigmoid for 2 "
                         "classes, softmax for 3 or more"),
    Option("loss", Literal[tuple(LOSSES)] | None, None, "The error each output row is scored by: half_sse = "
           "½ Σ (t − o)², mse, bce (sigmoid outputs) or cross_entropy (softmax outputs).",
           link="loss", control=Control("select", "Loss", "Functions", 2),
           default_words="half_sse; cross_entropy for softmax outputs, bce for sigmoid outputs picked for 2 classes"),
    trained("optimizer", Literal[OPTIMIZERS], "sgd: w ← w − η·g; momentum; or adam.",
            link="optimizer", control=Control("select", "Optimizer", "Training", 0)),
    trained("learning_rate", float, "η, the step size of every update.", bounds={"gt": 0, "le": 100}, link="lr",
            control=Control("number", "Learning rate η", "Training", 1, suggestions=LEARNING_RATES)),
    trained("momentum", float, "μ of the momentum optimizer: v ← μ·v + g.", bounds={"ge": 0, "lt": 1},
            link="momentum", applies=_optimizer("momentum"),
            control=Control("number", "Momentum μ", "Training", 2, suggestions=("0.5", "0.9", "0.99"),
                            shown=_optimizer("momentum"))),
    trained("beta1", float, "Adam's decay of the mean gradient m.", bounds={"ge": 0, "lt": 1}, link="beta1",
            applies=_optimizer("adam"),
            control=Control("number", "β₁", "Training", 3, row="adam", shown=_optimizer("adam"))),
    trained("beta2", float, "Adam's decay of the mean squared gradient v.", bounds={"ge": 0, "lt": 1},
            link="beta2", applies=_optimizer("adam"),
            control=Control("number", "β₂", "Training", 4, row="adam", shown=_optimizer("adam"))),
    trained("eps", float, "Adam's ε, added to √v.", bounds={"gt": 0, "le": 1}, link="eps",
            applies=_optimizer("adam"),
            control=Control("number", "ε", "Training", 5, row="adam", shown=_optimizer("adam"))),
    trained("batch_size", int, "Rows per step; a batch larger than the training set is the whole set.",
            bounds={"ge": 1}, link="batch",
            control=Control("number", "Batch size", "Training", 6, suggestions=("1", "10", "30", "100"))),
    trained("regularization", Literal[REGULARIZATIONS], "A penalty on the weights (never the biases): l1 or l2.",
            link="regularization", control=Control("select", "Regularisation", "Training", 7, row="penalty")),
    trained("regularization_rate", float, "λ, the penalty's weight.", bounds={"ge": 0, "le": 10}, link="reg_rate",
            applies=lambda config, info: config["regularization"] != "none",
            control=Control("number", "Rate λ", "Training", 8, row="penalty", suggestions=REG_RATES)),
    trained("shuffle", bool, "Shuffle the training rows each epoch.", link="shuffle",
            control=Control("checkbox", "Shuffle rows each epoch", "Training", 11)),
    trained("train_biases", bool, "Update the biases (off: they keep their values, and the optimizer keeps its "
            "state for them).",
            link="train_biases", control=Control("checkbox", "Train biases", "Training", 12)),
    trained("init", Literal[INIT_SCHEMES], "How the starting weights are drawn.", link="init",
            control=Control("select", "Initialisation", "Training", 9, row="start")),
    trained("seed", int, "Seeds the starting weights, the batch order and (unless dataset.seed is set) the data.",
            bounds={"ge": 0, "le": SEED_MAX}, link="seed",
            control=Control("number", "Seed", "Training", 10, row="start")),
    # The page.
    Option("page.speed", Literal[SPEEDS], "auto", "How much Play trains between two pictures. auto (the default): "
           f"whole epochs, as many as make at least {AUTO_STEPS} steps (4 epochs of 25 on the default circle), fewer "
           "(one at least) where they would not fit in a display frame, so that the loss visibly falls within a "
           "second, as TF Playground's does: it trains an epoch every animation frame, 60 a second. 1 step or 10 "
           "steps to watch single updates; 1, 2 or 3 epochs. Step is always one mini-batch, and every step adds its "
           "point to the loss curve.",
           link="speed", rebuilds=False, control=Control("select", "Speed", "Transport", 0)),
    # Play's stop conditions, as in the seeds' loop ("is the error small enough? then stop"); blank: off.
    Option("page.stop_loss", float | None, None, "Play stops at the first step whose train loss is below this.",
           bounds={"gt": 0}, link="stop_loss", rebuilds=False, default_words="off",
           control=Control("number", "Stop when train loss <", "Play", 0, suggestions=("0.1", "0.05", "0.01"))),
    Option("page.stop_step", int | None, None, "Play stops at this step.", bounds={"ge": 1}, link="stop_step",
           rebuilds=False, default_words="off",
           control=Control("number", "Stop at step", "Play", 1, suggestions=("100", "500", "1000"))),
)
BY_FIELD = {option.field: option for option in OPTIONS}
BY_LINK = {option.link: option for option in OPTIONS if option.link}
# Written in every setup link, so that a link says what it builds even where that is the default.
ALWAYS_IN_LINKS = ("dataset", "layers", "activation", "output", "loss", "optimizer", "lr", "batch", "seed")
FIELDSETS = ("Data", "Functions", "Training", "Play")  # the settings form's, in order


def data_options() -> list[Option]:
    return [o for o in OPTIONS if o.is_data]


def training_options() -> list[Option]:
    return [o for o in OPTIONS if not o.is_data and not o.is_page]


def page_options() -> list[Option]:
    return [o for o in OPTIONS if o.is_page]


def unused_settings(config: dict) -> list[str]:
    """The training settings of a Session.config() that have no effect under the rest of it: the optimizer
    settings the optimizer does not use, and the rate of a penalty that is off. They are kept (switching back
    uses them), and the API's answers list them as `unused`."""
    return [o.field for o in training_options() if not o.applies(config, None)]


def keeps_weights() -> tuple[str, ...]:
    """The settings that change without a new network."""
    return tuple(o.field for o in OPTIONS if not o.rebuilds)


def markdown() -> str:
    """The settings table of docs/settings.md: one row per setting."""
    rows = ["| setting | link | default | allowed | new network | what it is |", "|---|---|---|---|---|---|"]
    for o in OPTIONS:
        allowed = _allowed(o)
        default = o.default_words or ("—" if o.default is None else f"`{json.dumps(o.default)}`")
        rows.append(f"| `{o.field}` | {f'`{o.link}`' if o.link else '—'} | {default} | {allowed} | "
                    f"{'yes' if o.rebuilds else 'no'} | {o.help} |")
    return "\n".join(rows)


def _allowed(o: Option) -> str:
    if o.choices:
        return ", ".join(o.choices)
    if o.field == "dataset.name":
        return ", ".join(DATASETS)
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "max_length": "characters ≤"}
    return ", ".join(f"{words[k]} {v:,}" for k, v in o.bounds.items()) or "—"


if __name__ == "__main__":
    print(markdown())
