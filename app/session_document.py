"""The exported JSON state: readable, complete, and importable to continue exactly where it was."""
from collections import OrderedDict
from typing import Any, Literal

import numpy as np
from pydantic import Field

from app.api.schemas import CreateSession, Finite, Strict
from app.engine import FieldError
from app.sessions import Session, build_session

FORMAT = "backprop-playground/session"


class SessionDocument(Strict):
    """What "Download JSON" saves and import reads. `request` rebuilds the data and the starting network;
    the weights, biases, optimizer state and position then put the training back where it was."""

    format: Literal["backprop-playground/session"]
    version: Literal[1]
    config: dict[str, Any] | None = Field(None, description="The full config, defaults resolved (ignored on import).")
    request: CreateSession
    step: int = Field(ge=0)
    epoch: int = Field(ge=0)
    position: int = Field(ge=0, description="Rows of the current epoch already used.")
    weights: list[list[list[Finite]]]
    biases: list[list[Finite]]
    optimizer: dict[str, int | list[Finite] | str] = Field(
        description="name, then its state: velocity (momentum), or t, m and v (adam), flat in parameter order: "
                    "weights[0] row by row, biases[0], weights[1], ...")
    history: list[list[Finite | None]] = Field(default_factory=list, description="Loss curve: step, train loss, "
                                                                                  "test loss, train and test accuracy.")
    detailed: bool = False


def to_document(session: Session) -> dict:
    t = session.trainer
    optimizer = {"name": t.optimizer.name,
                 **{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in t.optimizer.state_dict().items()}}
    return {"format": FORMAT, "version": 1, "config": session.config(),
            "request": session.request.model_dump(mode="json", exclude_none=True),
            "step": t.step_count, "epoch": t.epoch, "position": t.position,
            "weights": [w.tolist() for w in t.net.weights], "biases": [b.tolist() for b in t.net.biases],
            "optimizer": optimizer, "history": [list(p) for p in session.history], "detailed": session.detailed}


def from_document(doc: SessionDocument, sid: str | None = None) -> Session:
    """A new session at the document's state. Raises FieldError naming the part that does not fit."""
    session = build_session(doc.request, sid)
    t = session.trainer
    net = t.net
    if len(doc.weights) != len(net.weights) or len(doc.biases) != len(net.biases):
        raise FieldError("weights", f"the network has {len(net.weights)} weight layers; the document has "
                                    f"{len(doc.weights)} weight and {len(doc.biases)} bias layers.")
    params = np.empty_like(net.params)
    for l, ((w_slice, shape, b_slice), w, b) in enumerate(zip(net._layout, doc.weights, doc.biases)):
        w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if w.shape != shape:
            raise FieldError(f"weights.{l}", f"layer {l} needs shape {list(shape)}, not {list(w.shape)}.")
        if b.shape != (shape[0],):
            raise FieldError(f"biases.{l}", f"layer {l} needs {shape[0]} biases, not {list(b.shape)}.")
        params[w_slice], params[b_slice] = w.ravel(), b
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
        if not isinstance(expected[key], np.ndarray) and not isinstance(value, int):
            raise FieldError(f"optimizer.{key}", "needs a whole number.")
    if doc.position > len(t.train_x):
        raise FieldError("position", f"the training set has {len(t.train_x)} rows.")
    for k, point in enumerate(doc.history):
        if len(point) != 5 or point[0] is None or point[1] is None:
            raise FieldError(f"history.{k}", "each point is [step, train loss, test loss, train accuracy, "
                                             "test accuracy].")
    t.load_state_dict({"params": params, "optimizer_name": name, "optimizer": optimizer, "step": doc.step,
                       "epoch": doc.epoch, "position": doc.position})
    session.detailed = doc.detailed
    evaluation = session.evaluate()
    history = [(int(p[0]), *p[1:]) for p in doc.history if p[0] <= doc.step]
    if not history or history[-1][0] != doc.step:
        history.append((doc.step, *evaluation))
    session.history = history
    session.snapshots = OrderedDict()
    session._snapshot()
    return session
