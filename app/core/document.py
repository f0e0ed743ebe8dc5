"""The exported JSON state: readable, complete, and importable to continue exactly where it was."""
from collections import OrderedDict
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from app.core.recipe import CreateSession, Finite, Strict, from_before_scaled_targets
from app.engine import FieldError
from app.core.evaluation import finite_losses
from app.core.session import MAX_HISTORY, Session, build_session

FORMAT = "backprop-playground/session"


class SessionDocument(Strict):
    """What "Download JSON" saves and import reads. `request` rebuilds the data and the starting network;
    the weights, biases, optimizer state and position then put the training back where it was."""

    format: Literal["backprop-playground/session"]
    version: Literal[1]
    config: dict[str, Any] | None = Field(None, description="The full config, defaults resolved (ignored on import).")
    request: CreateSession
    step: int = Field(ge=0, le=2**53 - 1)
    epoch: int = Field(ge=0, le=2**53 - 1)
    position: int = Field(ge=0, description="Rows of the current epoch already used.")
    weights: list[list[list[Finite]]]
    biases: list[list[Finite]]
    optimizer: dict[str, int | list[Finite] | str] = Field(
        description="name, then its state: velocity (momentum), or t, m and v (adam), flat in parameter order: "
                    "weights[0] row by row, biases[0], weights[1], ...")
    history: list[tuple[int, Finite, Finite | None, Finite | None, Finite | None]] = Field(default_factory=list, max_length=MAX_HISTORY,
                                               description="Loss curve: step, train loss, test loss, train and "
                                                           "test accuracy. The current step's point is recomputed.")
    detailed: bool = False

    @field_validator("request", mode="before")
    @classmethod
    def _older_request(cls, request):
        return from_before_scaled_targets(request) if isinstance(request, dict) else request


def to_document(session: Session) -> dict:
    t = session.trainer
    optimizer = {"name": t.optimizer.name,
                 **{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in t.optimizer.state_dict().items()}}
    return {"format": FORMAT, "version": 1, "config": session.config(),
            "request": session.request.model_dump(mode="json", exclude_none=True),
            "step": int(t.step_count), "epoch": int(t.epoch), "position": int(t.position),
            "weights": [w.tolist() for w in t.net.weights], "biases": [b.tolist() for b in t.net.biases],
            "optimizer": optimizer, "history": [[int(p[0]), *p[1:]] for p in session.history],
            "detailed": session.detailed}


def from_document(doc: SessionDocument, sid: str | None = None) -> Session:
    """A new session at the document's state. Raises FieldError naming the part that does not fit."""
    session = build_session(doc.request, sid)
    t = session.trainer
    net = t.net
    net.set_parameters(doc.weights, doc.biases)  # names the layer and shape of any mismatch
    optimizer = dict(doc.optimizer)
    name = optimizer.pop("name", None)
    if name != t.config.optimizer:
        raise FieldError("optimizer.name", f"the request trains with {t.config.optimizer}, not {name}.")
    expected = {k: v for k, v in t.optimizer.state_dict().items()}
    if set(optimizer) != set(expected):
        raise FieldError("optimizer", f"{name} keeps {', '.join(sorted(expected)) or 'no state'}; "
                                      f"the document has {', '.join(sorted(optimizer)) or 'none'}.")
    for key, value in optimizer.items():
        if isinstance(expected[key], np.ndarray) and (not isinstance(value, list) or len(value) != net.n_params):
            raise FieldError(f"optimizer.{key}", f"needs {net.n_params} numbers, one per parameter.")
        if not isinstance(expected[key], np.ndarray) and not (isinstance(value, int) and 0 <= value <= 10**9):
            raise FieldError(f"optimizer.{key}", "needs a whole number from 0 to 1e9.")
    if name == "adam" and min(optimizer["v"], default=0) < 0:
        raise FieldError("optimizer.v", "Adam's second moments cannot be negative.")
    if doc.position >= len(t.train_x):
        raise FieldError("position", f"the training set has {len(t.train_x)} rows, so the position is 0 to "
                                     f"{len(t.train_x) - 1}.")
    check_counts(doc, len(t.train_x))
    if name == "adam" and optimizer["t"] > doc.step:
        raise FieldError("optimizer.t", f"Adam has counted {optimizer['t']} updates, but the document is at step "
                                        f"{doc.step}: it cannot have made more updates than steps.")
    check_history(doc.history, doc.step, has_test=len(session.dataset.test_x) > 0,
                  classification=session.dataset.task == "classification")
    t.load_state_dict({"params": net.params.copy(), "optimizer_name": name, "optimizer": optimizer, "step": doc.step,
                       "epoch": doc.epoch, "position": doc.position})
    session.detailed = doc.detailed
    evaluation = session.evaluate()
    if not finite_losses(evaluation):
        raise FieldError("weights", "with these weights the loss is infinite; they cannot be trained.")
    # The current point is recomputed, never taken from the document.
    session.history = [tuple(p) for p in doc.history if p[0] < doc.step] + [(doc.step, *evaluation)]
    session.snapshots = OrderedDict()
    session.keep_rewind_point()
    return session


def check_counts(doc: SessionDocument, rows: int) -> None:
    """The step, epoch and position fit together: each step uses 1 to `rows` training rows of one epoch, and
    every epoch ends with a step, whatever the batch sizes were."""
    started = 1 if doc.position else 0  # the epoch under way has had a step
    if doc.epoch + started > doc.step:
        raise FieldError("epoch", f"{doc.step} steps end at most {max(doc.step - started, 0)} epochs"
                                  f"{' before the one under way' if started else ''}, not {doc.epoch}.")
    if doc.step > doc.epoch * rows + doc.position:
        raise FieldError("step", f"each step uses at least one of the {rows} training rows, so {doc.epoch} "
                                 f"epochs and {doc.position} rows come after at most "
                                 f"{doc.epoch * rows + doc.position} steps, not {doc.step}.")


def check_history(history, step: int, *, has_test: bool, classification: bool) -> None:
    """A loss curve that this session could have drawn: steps increasing from 0 up to `step`, losses of 0 or
    more, a test loss exactly when there are test rows, accuracies (from 0 to 1) exactly for classification."""
    last = -1
    for k, (at, train, test, train_accuracy, test_accuracy) in enumerate(history):
        field = f"history.{k}"
        if not last < at <= step:
            raise FieldError(field, f"steps must increase, from 0 up to the step ({step}).")
        last = at
        if train < 0 or (test is not None and test < 0):
            raise FieldError(field, "a loss is 0 or more.")
        if (test is None) == has_test:
            raise FieldError(field, "the test loss is there exactly when the data has test rows "
                                    f"({'it has' if has_test else 'it has none'}).")
        accuracies = (train_accuracy, test_accuracy if has_test else None)
        if not classification:
            if any(a is not None for a in (train_accuracy, test_accuracy)):
                raise FieldError(field, "regression has no accuracy: give null for both.")
        elif train_accuracy is None or not all(a is None or 0 <= a <= 1 for a in accuracies) or (
                (test_accuracy is None) == has_test):
            raise FieldError(field, "classification's accuracies lie from 0 to 1 (the test accuracy only with "
                                    "test rows).")
