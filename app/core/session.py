"""A training session: its recipe, dataset and trainer behind a lock, with the loss curve and rewind points.

This is the state the page and the JSON API share. It knows nothing of either: the page keeps its own view state
in `page` (stored with the session) and `view` (this process only), and the API shapes its answers itself.
"""
import bisect
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from app.core.page_state import PageState
from app.core.recipe import CreateSession
from app.datasets import DATASETS, Dataset, Limits, build_dataset, inline_dataset
from app.datasets.features import DEFAULT_FEATURES
from app.datasets.pipeline import INLINE_OWN, check_inline_options
from app.engine import DivergenceError, FieldError, Trace, TrainConfig, Trainer, predicted_classes
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
EVALUATION_VALUES = 1_000_000  # a stacked evaluation's largest layer, in float64s (8 MB)
# The train loss explodes when, within the last EXPLOSION_WINDOW steps, it has grown EXPLOSION_GROWTH times over
# and stands EXPLOSION_OVER_START times above where training started (so that a tiny loss rising is not one).
EXPLOSION_WINDOW, EXPLOSION_GROWTH, EXPLOSION_OVER_START = 10, 100.0, 10.0
# Back after a rebuild (Reset, New seed, a setting that starts a new network) returns to the network it replaced:
# the last MAX_REPLACED of them are kept, and (the newest always) only while their rewind points together take
# at most the settings' rewind_bytes.
MAX_REPLACED = 5


@dataclass
class Session:
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
    # The networks rebuilds replaced, oldest first (at most MAX_REPLACED): Back returns to the newest.
    replaced: list["Replaced"] = field(default_factory=list, repr=False)
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

    def keep_rewind_point(self) -> dict:
        """Keep the current state as the rewind point of the current step (replacing an older one); return it.

        At most rewind_steps points, and at most rewind_bytes of them: a large network keeps fewer.
        """
        step = self.trainer.step_count
        state = self.trainer.state_dict()
        self.snapshots.pop(step, None)
        self.snapshots[step] = state
        if next(reversed(self.snapshots)) != step:  # kept while later steps can still be returned to
            self.snapshots = OrderedDict(sorted(self.snapshots.items()))
        settings = get_settings()
        keep = max(1, min(settings.rewind_steps, settings.rewind_bytes // max(point_size(state), 1)))
        while len(self.snapshots) > keep:
            self.snapshots.popitem(last=False)
        return state

    @property
    def kept_steps(self) -> tuple[int, int]:
        """The oldest and newest step that rewind can return to (the newest may be after the current step)."""
        return next(iter(self.snapshots)), next(reversed(self.snapshots))

    @property
    def redo_steps(self) -> tuple[int, int] | None:
        """The first and last kept step after the current one (undone by a rewind or Back), or None."""
        later = [k for k in self.snapshots if k > self.trainer.step_count]
        return (later[0], later[-1]) if later else None

    def rewind(self, step: int) -> None:
        """Return exactly to the state after `step`, earlier or later than now: weights, optimizer state, batch
        position, loss curve. The steps after it stay kept (an undo, not a truncation) until a new step, an edit
        or a rebuild. Settings stay as they are now. The caller holds the lock."""
        if step not in self.snapshots:
            oldest, newest = self.kept_steps
            raise FieldError("step", f"step {step} is not kept; rewind reaches steps {oldest} to {newest}.")
        self.trainer.load_state_dict(self.snapshots[step])
        points = self.history + self.future
        cut = bisect.bisect_right(points, step, key=lambda point: point[0])
        self.history, self.future = points[:cut], points[cut:]
        self.history_generation += 1
        self.last_trace = None
        self.changes += 1

    def back(self) -> "Replaced | None":
        """Undo one step (to the newest kept step before the current one). At the first kept step, undo the last
        rebuild instead, and return what it was (None after an undone step)."""
        earlier = [k for k in self.snapshots if k < self.trainer.step_count]
        if earlier:
            self.rewind(earlier[-1])
            return None
        if not self.replaced:
            raise FieldError("step", "there is no earlier step to go back to.")
        last = self.replaced[-1]
        rest = self.replaced[:-1]
        self.become(last.state())
        self.replaced = rest
        return last

    def forward(self) -> None:
        """Redo one step that a rewind or Back undid (to the next kept step after the current one)."""
        later = self.redo_steps
        if later is None:
            raise FieldError("step", "there is no later step to go forward to: a new step or edit discards the "
                                     "steps that were undone.")
        self.rewind(later[0])

    def discard_future(self) -> None:
        """Forget the steps after the current one: what changes the weights starts a new future."""
        step = self.trainer.step_count
        if self.future or next(reversed(self.snapshots)) > step:
            self.future = []
            self.snapshots = OrderedDict((k, v) for k, v in self.snapshots.items() if k <= step)

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

    def gradient_report(self) -> dict:
        """The gradient check as the page and the API show it (GradientCheckResult in app/api/schemas.py): the
        largest relative error, and every parameter whose error is above the engine's DISAGREE."""
        check, rows = self.gradient_check()
        net = self.trainer.net
        disagreeing = []
        for k in check.disagreeing:
            kind, layer, to, source = net.locate(int(k))
            disagreeing.append({"kind": kind, "layer": layer, "to": to, "from": source,
                                "analytic": float(check.analytic[k]), "numeric": float(check.numeric[k]),
                                "relative_error": float(check.errors[k])})
        return {"max_relative_error": check.max_relative_error, "parameters": int(net.n_params),
                "rows": rows.tolist(), "disagreeing": disagreeing, "method": GRADIENT_CHECK_METHOD}

    def become(self, fresh: "Session", replacing: str | None = None) -> Callable[[], None]:
        """Take over a fresh build's data, network, curve and rewind points, keeping this object, its id and its
        lock, so that requests already waiting on the lock train the new network. The caller holds the lock.

        A rebuild names itself in `replacing` ("Reset"): the state it replaces is kept for Back (see
        MAX_REPLACED). Without it, `fresh`'s own replaced networks come too (a newer copy from storage).
        Returns a function that undoes it, for a request that fails after the change."""
        before = (self.request, self.dataset, self.trainer, self.history, self.history_generation, self.future,
                  self.snapshots, self.replaced, self.last_trace, self.changes)

        def undo() -> None:
            (self.request, self.dataset, self.trainer, self.history, self.history_generation, self.future,
             self.snapshots, self.replaced, self.last_trace, self.changes) = before

        if replacing is None:
            self.replaced = fresh.replaced
        else:
            kept = Session(self.id, self.request, self.dataset, self.trainer, history=self.history,
                           future=self.future, snapshots=self.snapshots)
            number = self.replaced[-1].number + 1 if self.replaced else 1
            self.replaced = bounded([*self.replaced, Replaced(replacing, number, kept)])
        self.request, self.dataset, self.trainer = fresh.request, fresh.dataset, fresh.trainer
        self.history, self.future, self.snapshots, self.last_trace = fresh.history, fresh.future, fresh.snapshots, None
        self.changes += 1
        return undo

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
        return self.evaluate_under(self.trainer.net.params[None])[0]

    def evaluate_under(self, params: np.ndarray) -> list[tuple[float, float | None, float | None, float | None]]:
        """evaluate() under each of S parameter vectors, params (S, n_params), one stacked pass per set of rows:
        the same numbers as S evaluate() calls (MLP.outputs_under), for a fraction of their overhead."""
        t, d = self.trainer, self.dataset
        count = len(params)
        classify = d.task == "classification"
        columns = []
        for x, y, labels in ((d.train_x, d.train_y, d.train_labels), (d.test_x, d.test_y, d.test_labels)):
            if not len(x):
                columns.append(([None] * count, [None] * count))
                continue
            with np.errstate(all="ignore"):
                z, a = t.net.outputs_under(x, params)
                losses = t.loss.value(a, np.tile(y, (count, 1)), z).reshape(count, len(x)).mean(axis=1)
            accuracies = [None] * count
            if classify:
                right = predicted_classes(a, t.config.output_activation).reshape(count, len(x)) == labels
                accuracies = right.mean(axis=1).tolist()
            columns.append((losses.tolist(), accuracies))
        (train, train_accuracy), (test, test_accuracy) = columns
        return list(zip(train, test, train_accuracy, test_accuracy))

    def _evaluation_chunk(self) -> int:
        """How many steps' points to evaluate in one stacked pass: up to EVALUATION_VALUES numbers per layer."""
        rows = max(len(self.dataset.train_x), len(self.dataset.test_x), 1)
        return max(1, EVALUATION_VALUES // (rows * max(self.trainer.net.sizes)))

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
        cap, batch = get_settings().max_sample_passes_per_request, self.trainer.batch_size
        if steps * batch > cap:
            raise FieldError("steps", f"{steps} steps of {batch} rows is more than the {cap} sample passes one "
                                      "request may run; ask for fewer steps.")

    def train(self, steps: int | None, until: Callable[[tuple], bool] | None = None) -> list[tuple]:
        """Run `steps` steps, or to the end of the epoch when None; return the new loss-curve points. With
        `until`, stop after the first step whose loss-curve point it is true of (Play's stop conditions).

        The caller holds the lock. On any error nothing changes, the loss curve included.
        """
        trainer = self.trainer
        n = trainer.steps_to_epoch_end() if steps is None else steps
        settings = get_settings()
        deadline = self.clock() + settings.max_request_seconds
        self.check_steps(n)
        points = []
        # Each step's loss-curve point is evaluated in chunks of steps, one stacked pass per chunk: the same
        # numbers as one evaluate() per step. A stop condition needs each step's point at once.
        last, chunk = trainer.step_count + n, 1 if until is not None else self._evaluation_chunk()
        pending = []  # (step, its parameters) still to evaluate

        def evaluate_pending() -> None:
            evaluations = self.evaluate_under(np.array([params for _, params in pending]))
            for (step, _), evaluation in zip(pending, evaluations):
                if not finite_losses(evaluation):  # the run is rolled back: no step of it is applied
                    raise DivergenceError(step, f"Training diverged at step {step}: lower the learning rate or go "
                                          "Back. The loss would have become infinite (learning rate "
                                          f"{trainer.config.learning_rate:g}); the step was not applied.")
                points.append((step, *evaluation))
                self.history.append(points[-1])
            pending.clear()

        def record(t: Trainer) -> bool:
            pending.append((t.step_count, self.keep_rewind_point()["params"]))  # the rewind point's own copy
            self.steps_ran += 1
            if self.clock() > deadline:
                raise FieldError("steps", f"this request would run longer than {settings.max_request_seconds:g} s "
                                          f"(it had done {len(points) + len(pending)} of {n} steps, none of which "
                                          "were kept); ask for fewer steps.")
            if len(pending) >= chunk or t.step_count == last:
                evaluate_pending()
            return until is not None and until(points[-1])

        history_len, snapshots, future = len(self.history), OrderedDict(self.snapshots), self.future
        self.discard_future()
        self.changes += 1
        try:
            try:
                self.last_trace = trainer.run(n, after_step=record)
            except DivergenceError:  # the engine's own check: an earlier step's loss may have diverged first
                if pending:
                    evaluate_pending()
                raise
        except Exception:  # diverged, over the time cap, or anything else: the trainer rolled back, so do we
            del self.history[history_len:]
            self.history_generation += 1
            self.snapshots, self.future = snapshots, future
            raise
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


class Replaced:
    """A network that a rebuild replaced, kept exactly as it was so that Back can return to it: its request, data,
    trainer, loss curve, rewind points and steps to redo. Storage may hand over a function that loads it."""

    def __init__(self, what: str, number: int, state: "Session | Callable[[], Session]", size: int | None = None):
        self.what = what  # the rebuild that replaced it, in words ("Reset")
        self.number = number  # counts the session's kept rebuilds up from 1; storage keys it by this
        self._state = state
        # Bytes of its rewind points, which bound how many replaced networks are kept.
        self.size = sum(point_size(s) for s in state.snapshots.values()) if size is None else size

    def state(self) -> Session:
        if not isinstance(self._state, Session):
            self._state = self._state()
        return self._state

    def __repr__(self) -> str:
        return f"Replaced by {self.what} ({self.size} bytes of rewind points)"


def bounded(replaced: list[Replaced]) -> list[Replaced]:
    """The newest MAX_REPLACED replaced networks, fewer when their rewind points would take more than
    rewind_bytes (the newest is always kept)."""
    kept, size = [], 0
    for r in reversed(replaced[-MAX_REPLACED:]):
        size += r.size
        if kept and size > get_settings().rewind_bytes:
            break
        kept.append(r)
    return kept[::-1]


def point_size(state: dict) -> int:
    """The memory a trainer state (a rewind point) takes: its parameters and optimizer arrays."""
    return state["params"].nbytes + sum(v.nbytes for v in state["optimizer"].values() if hasattr(v, "nbytes"))


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
            features=spec.features, csv=spec.csv, target_columns=spec.target_columns,
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
    return {"standardize": dataset.mean is not None, "task": dataset.task,
            "scale_targets": dataset.target_scaling in ("standardised", "range")}


def finite_losses(evaluation: tuple) -> bool:
    """Whether the train and test losses of an evaluate() result are finite (a missing test set is)."""
    return all(loss is None or math.isfinite(loss) for loss in evaluation[:2])
