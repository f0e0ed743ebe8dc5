"""The exported JSON state: readable, complete, and importable to continue exactly where it was."""
from collections import OrderedDict
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from app.core.recipe import CreateSession, Finite, Strict, from_before_scaled_targets
from app.engine import FieldError
from app.core.session import MAX_HISTORY, Session, build_session, finite_losses

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
    last = -1
    for k, point in enumerate(doc.history):
        if not last < point[0] <= doc.step:
            raise FieldError(f"history.{k}", f"steps must increase, from 0 up to the step ({doc.step}).")
        last = point[0]
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
