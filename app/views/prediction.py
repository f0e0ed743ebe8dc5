"""The Predict panel's answer for the typed or clicked input: the output in the data's units, or the predicted
class with its probabilities, computed with the current weights (so it follows every step)."""
import numpy as np

from app.core.session import Session
from app.engine import FieldError, class_threshold, predicted_classes

from .numbers import six_digits
from .shown import node_names
from .units import in_units, scaled


def build(session: Session, raw: list[float] | None) -> dict | None:
    """None without an input, or when the input no longer fits the data (another data set since)."""
    d = session.dataset
    if raw is None or len(raw) != len(d.input_names):
        return None
    try:
        out = session.predict([raw])[-1][0]
    except FieldError as exc:  # so far outside the data that the network overflows
        return {"step": session.trainer.step_count, "error": exc.message}
    answer = {"step": session.trainer.step_count, "error": None,
              "input": ", ".join(f"{n} = {v:g}" for n, v in zip(d.input_names, raw))}
    if d.task == "classification":
        return {**answer, **_classified(session, out)}
    data = d.to_data(out)
    names = node_names(session)[-1]
    answer["outputs"] = [{"name": name, "text": in_units(float(v), d.unit), "value": float(v),
                          "network": six_digits(float(o)) if scaled(d) else None}
                         for name, v, o in zip(names, data, out)]
    return answer


def _classified(session: Session, out: np.ndarray) -> dict:
    """The predicted class, and each class's probability where the output gives one (softmax, sigmoid)."""
    d, activation = session.dataset, session.trainer.config.output_activation
    k = int(predicted_classes(out[None, :], activation)[0])
    answer = {"class": d.classes[k], "probabilities": None, "rule": None}
    if activation == "softmax" or (activation == "sigmoid" and len(out) == len(d.classes)):
        answer["probabilities"] = _shares(d.classes, out)
        if activation == "sigmoid":
            answer["rule"] = "Each output node is its own sigmoid, so these need not add up to 100 %."
    elif activation == "sigmoid":  # one node: P(second class)
        answer["probabilities"] = _shares(d.classes, np.array([1 - out[0], out[0]]))
    elif len(out) == 1:
        threshold = class_threshold(activation)
        answer["rule"] = (f"The output is {six_digits(float(out[0]))}: {'at or above' if k == 1 else 'below'} "
                          f"{threshold:g} means {d.classes[k]}. A {activation} output is a score, not a probability.")
    else:
        answer["rule"] = (f"The largest of the outputs ({', '.join(six_digits(float(v)) for v in out)}) names the "
                          f"class. {activation} outputs are scores, not probabilities.")
    return answer


def _shares(classes, p) -> list[dict]:
    return [{"name": c, "value": float(v), "text": f"{100 * float(v):.1f} %"} for c, v in zip(classes, p)]
