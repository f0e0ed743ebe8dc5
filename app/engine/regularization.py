"""Regularisation: the penalty's gradient that a step adds to the data loss's (none, l1 or l2)."""
import numpy as np

REGULARIZATIONS = ("none", "l1", "l2")


def regularization_terms(kind: str, rate: float, w: np.ndarray) -> dict:
    """The penalty's gradient, "term": rate·w for l2 (of rate·½Σw²), rate·sign(w) for l1 (of rate·Σ|w|), with
    l1's "sign". `w` is the weights with the biases zeroed, whole or one element's slice."""
    if kind == "l2":
        return {"term": rate * w}
    sign = np.sign(w)
    return {"sign": sign, "term": rate * sign}
