"""A training session: its recipe, dataset and trainer behind a lock, with the loss curve and rewind points; and
build_session, which makes one from a request.

This is the state the page and the JSON API share. It knows nothing of either: the page keeps its own view state
in `page` (stored with the session) and `view` (this process only), and the API shapes its answers itself.
Going back and forth (rewind, redo, Back past a rebuild) is app/core/history.py's; the training loop is
app/core/training.py's, and the loss over all the data app/core/evaluation.py's.
"""
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from app.core import training
from app.core.evaluation import evaluate_under, finite_losses
from app.core.history import Replaced, Rewinding
from app.core.page_state import PageState
from app.core.recipe import CreateSession
from app.datasets import DATASETS, Dataset, Limits, build_dataset, inline_dataset
from app.datasets.features import DEFAULT_FEATURES
from app.datasets.inline import INLINE_OWN, check_inline_options
from app.engine import FieldError, Trace, TrainConfig, Trainer
from app.engine.gradcheck import GradientCheck
from app.engine.losses import loss_for
from app.settings import get_settings

DEFAULT_HIDDEN = (4, 2)
TRAINED = {f.name for f in fields(TrainConfig)}
# How app/engine/gradcheck.py checks, in words (its h, and SMALL_GRADIENT as the floor of the relative error).
GRADIENT_CHECK_METHOD = ("fourth-order central differences (h = 1e-4) of the batch-mean data loss on the next batch; "
                         "relative error |a - n| / max(|a|, |n|, 1e-5)")
# The loss curve keeps at most this many points; beyond it every other old point is dropped.
MAX_HISTORY = 4000
# The train loss explodes when, within the last EXPLOSION_WINDOW steps, it has grown EXPLOSION_GROWTH times over
# and stands EXPLOSION_OVER_START times above where training started (so that a tiny loss rising is not one).
EXPLOSION_WINDOW, EXPLOSION_GROWTH, EXPLOSION_OVER_START = 10, 100.0, 10.0


@dataclass
class Session(Rewinding):
    id: str
    request: CreateSession
    dataset: Dataset
    trainer: Trainer
    last_trace: Trace | None = None
    # The loss curve: (step, train loss, test loss, train accuracy, test accuracy) after each step.
    history: list[tuple] = field(default_factory=list)
    # Bumped by every change to the curve other than appending points (storage then rewrites it).
    history_generation: int = 0
    # Rewind points: step -> the trainer's state after that step, oldest first. Steps after the current one are
    # those a rewind or Back undid: they can be returned to until a new step, an edit or a rebuild discards them.
    snapshots: OrderedDict = field(default_factory=OrderedDict, repr=False)
    # The loss curve's points after the current step, kept while those steps can be returned to.
    future: list[tuple] = field(default_factory=list)
    # The networks rebuilds replaced, oldest first (at most history.MAX_REPLACED): Back returns to the newest.
    replaced: list[Replaced] = field(default_factory=list, repr=False)
    # Detailed-step mode: a step is taken one phase at a time. Shares and exports keep it.
    detailed: bool = False
    # Bumped by every change of the trainer's state; what was drawn from an older state is stale.
    changes: int = 0
    # The page's own state, which this module never reads: `page` what storage keeps with the session
    # (app/core/page_state.py), `view` what lives in this process only (app.web.view_state).
    page: PageState = field(default_factory=PageState)
    view: object = field(default=None, repr=False)
    # A plain lock until a SessionStore takes the session; its lock also loads and saves (app.store).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Steps this process has run on the session, kept or thrown away (what a request's work budget is charged).
    steps_ran: int = field(default=0, repr=False, compare=False)
    # The clock of a request's time cap (max_request_seconds); tests inject their own.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self):
        if not self.history:
            self.history.append((self.trainer.step_count, *self.evaluate()))
        if not self.snapshots:
            self.keep_rewind_point()

    def set_parameter(self, kind: str, layer: int, to: int, source: int | None, value: float) -> float:
        """Edit one weight or bias in place; the loss curve's current point and the rewind point follow."""
        old = self.trainer.set_parameter(kind, layer, to, source, value)
        evaluation = self.evaluate()
        if not finite_losses(evaluation):
            self.trainer.set_parameter(kind, layer, to, source, old)
            raise FieldError("value", f"{value:g} makes the loss infinite; choose a smaller value.")
        self.discard_future()
        point = (self.trainer.step_count, *evaluation)
        if self.history and self.history[-1][0] == point[0]:
            self.history[-1] = point
            self.history_generation += 1
        else:
            self.history.append(point)
        self.last_trace = None
        self.changes += 1
        self.keep_rewind_point()
        return old

    def reconfigure(self, **changes) -> None:
        """Change settings that keep the weights (app/core/options.py: those that do not rebuild), from the next
        step on; the recipe follows, so that a reset or a share keeps them."""
        changes = {k: v for k, v in changes.items() if v != getattr(self.trainer.config, k)}
        if not changes:
            return
        self.trainer.reconfigure(**changes)
        self.request = self.request.model_copy(update=changes)
        self.changes += 1

    def gradient_check(self) -> tuple[GradientCheck, np.ndarray]:
        """Backprop's gradient on the next batch against finite differences, and the batch's rows. Raises
        FieldError when it would take more work than one request may do."""
        rows, _, _ = self.trainer.next_batch()
        work = 4 * self.trainer.net.n_params * len(rows)
        cap = get_settings().max_sample_passes_per_request
        if work > cap:
            raise FieldError("batch_size", f"a gradient check here needs {work} sample passes (4 per parameter "
                                           f"per batch row), more than the {cap} one request may run; use a "
                                           "smaller batch or network.")
        return self.trainer.check_gradients(), rows

    def config(self) -> dict:
        """The full current config, defaults resolved, from which this session's initial state rebuilds."""
        cfg = asdict(self.trainer.config)
        cfg["layers"] = list(cfg["layers"])
        spec = self.request.dataset
        cfg["dataset"] = spec.model_dump(exclude_none=True)
        info = DATASETS.get(self.dataset.name)
        if info is not None:
            cfg["dataset"].update(name=info.name, seed=self.dataset_seed,
                                  train_fraction=spec.train_fraction or info.default_train_fraction)
            if not info.fixed:
                cfg["dataset"]["samples"] = spec.samples or info.default_samples
            if info.takes_features:
                cfg["dataset"]["features"] = list(self.dataset.features or DEFAULT_FEATURES)
            else:
                cfg["dataset"].pop("features", None)  # an older record's ["x1", "x2"] for a fixed table
        return cfg

    @property
    def dataset_seed(self) -> int:
        seed = self.request.dataset.seed
        return self.request.seed if seed is None else seed

    def evaluate(self) -> tuple[float, float | None, float | None, float | None]:
        """Mean data loss and accuracy over all training rows and all test rows, one forward pass per set.
        Test values are None without test rows; accuracies are None for regression."""
        return evaluate_under(self.trainer, self.dataset, self.trainer.net.params[None])[0]

    def loss_explosion(self) -> tuple[float, float, int] | None:
        """(from, to, steps) when the train loss has grown by orders of magnitude over the last few steps: the
        lowest loss of the window, the loss now, and the steps between them. None otherwise."""
        recent = self.history[-(EXPLOSION_WINDOW + 1):]
        low_at = min(range(len(recent)), key=lambda k: recent[k][1])
        low, now = recent[low_at][1], recent[-1][1]
        if now >= EXPLOSION_GROWTH * low and now >= EXPLOSION_OVER_START * self.history[0][1]:
            return low, now, recent[-1][0] - recent[low_at][0]
        return None

    def current_evaluation(self) -> tuple:
        """evaluate() for the current weights: the loss curve's last point when it is this step's."""
        if self.history and self.history[-1][0] == self.trainer.step_count:
            return self.history[-1][1:]
        return self.evaluate()

    def current_losses(self) -> tuple[float, float | None]:
        return self.current_evaluation()[:2]

    def accuracy(self) -> tuple[float | None, float | None]:
        return self.current_evaluation()[2:]

    def check_steps(self, steps: int) -> None:
        """Raise FieldError when `steps` steps are more sample passes than one request may run."""
        training.check_steps(self.trainer, steps, get_settings().max_sample_passes_per_request)

    def train(self, steps: int | None, until: Callable[[tuple], bool] | None = None) -> list[tuple]:
        """Run `steps` steps, or to the end of the epoch when None, within the caps of one request (the settings'
        max_sample_passes_per_request and max_request_seconds, on this session's clock); return the new loss-curve
        points. With `until`, stop after the first step whose loss-curve point it is true of (Play's stop
        conditions). The loss curve keeps at most MAX_HISTORY points.

        The caller holds the lock. On any error nothing changes, the loss curve included.
        """
        settings = get_settings()
        caps = training.Caps(settings.max_sample_passes_per_request, settings.max_request_seconds, self.clock)
        points = training.train(self, steps, caps, until)
        if len(self.history) > MAX_HISTORY:
            half = len(self.history) // 2
            self.history[:half] = self.history[:half:2]
            self.history_generation += 1
        return points

    def predict(self, raw_inputs: list[list[float]]) -> list[np.ndarray]:
        """Every layer's activations for raw dataset inputs (the data's features and scaling applied first)."""
        width = len(self.dataset.input_names)
        if any(len(row) != width for row in raw_inputs):
            raise FieldError("inputs", f"each row of inputs needs {width} values ({', '.join(self.dataset.input_names)}).")
        with np.errstate(all="ignore"):
            _, acts = self.trainer.net.forward(self.dataset.transform(np.asarray(raw_inputs, dtype=np.float64)))
        # Inputs far outside the data can overflow the features or the network: no prediction at all.
        finite = np.logical_and.reduce([np.isfinite(a).all(axis=1) for a in acts])
        if not finite.all():
            raise FieldError("inputs", f"row {int(np.argmin(finite))} is so far outside the data that the network "
                                       "overflows: its values become infinite.")
        return acts


def build_session(req: CreateSession, session_id: str | None = None, hidden: list[int] | None = None) -> Session:
    """Build the dataset, then the network; every bad combination raises FieldError naming the field.

    Without `req.layers`, the input and output sizes come from the data, around `hidden` (default 4, 2).
    """
    caps = get_settings()
    spec = req.dataset
    seed = req.seed if spec.seed is None else spec.seed
    # Without explicit layers the output layer takes the size the data asks for.
    output_size = req.layers[-1] if req.layers else None
    common = dict(standardize=spec.standardize, scale_targets=spec.scale_targets, task=spec.task,
                  output_activation=req.output_activation, output_size=output_size)
    if spec.inputs is not None:
        check_inline_options(**spec.model_dump(include=set(INLINE_OWN)))
        dataset = inline_dataset(spec.inputs, spec.targets, spec.test_inputs, spec.test_targets,
                                 max_nodes=caps.max_neurons, **common)
    else:
        dataset = build_dataset(
            spec.name, samples=spec.samples, noise=spec.noise, train_fraction=spec.train_fraction, seed=seed,
            features=spec.features, csv=spec.csv, target_columns=spec.target_columns, unit=spec.unit,
            limits=Limits(max_samples=caps.max_samples, max_csv_bytes=caps.max_csv_bytes,
                          max_columns=caps.max_neurons + 8),
            **common,
        )
    # The recipe keeps what the defaults resolved to, so that a stored, shared or exported session rebuilds the
    # same data even if a default changes (and one stored before scale_targets existed is told apart).
    output = dataset.output_activation
    loss = req.loss or loss_for(output, req.output_activation is None and dataset.task == "classification")
    if loss == "bce":
        check_probabilities(dataset, "dataset.targets" if spec.inputs is not None else "loss")
    req = req.model_copy(update={"dataset": spec.model_copy(update=resolved_data(dataset)),
                                 "output_activation": output, "loss": loss})
    layers = req.layers or [dataset.input_size, *(DEFAULT_HIDDEN if hidden is None else hidden), dataset.target_size]
    if dataset.input_size > caps.max_neurons:
        raise FieldError("dataset", f"the data has {dataset.input_size} inputs but the cap is {caps.max_neurons}.")
    if dataset.target_size > caps.max_neurons:
        what = "classes" if dataset.task == "classification" else "targets"
        raise FieldError("dataset", f"the data has {dataset.target_size} {what}, one output node each, but the cap "
                                    f"is {caps.max_neurons} nodes a layer.")
    # Every setting the engine trains with comes from the request (app/core/options.py declares them).
    config = TrainConfig(layers=tuple(layers), **req.model_dump(include=TRAINED - {"layers"}))
    trainer = Trainer(config, dataset.train_x, dataset.train_y, req.weights, req.biases)
    session = Session(session_id or secrets.token_hex(16), req, dataset, trainer)
    if not finite_losses(session.history[0][1:]):
        raise FieldError("weights" if req.weights or req.biases else "init",
                         "with these starting weights the loss is already infinite; use smaller weights.")
    return session


def check_probabilities(dataset: Dataset, field: str) -> None:
    """bce scores a sigmoid output against targets in [0, 1]: beyond them the loss falls without bound."""
    targets = np.concatenate([dataset.train_y.ravel(), dataset.test_y.ravel()])
    if len(targets) and not (targets.min() >= 0 and targets.max() <= 1):
        where = "the targets" if field == "dataset.targets" else "the network's targets"
        raise FieldError(field, f"bce needs targets between 0 and 1 (probabilities), but {where} run from "
                                f"{targets.min():g} to {targets.max():g}: with them the loss falls without bound. "
                                "Use targets in [0, 1], or the half_sse or mse loss.")


def resolved_data(dataset: Dataset) -> dict:
    """The data settings whose defaults depend on the data, as the dataset resolved them."""
    resolved = {"standardize": dataset.mean is not None, "task": dataset.task,
                "scale_targets": dataset.target_scaling in ("standardised", "range")}
    return {**resolved, "unit": dataset.unit} if dataset.name == "csv" else resolved
