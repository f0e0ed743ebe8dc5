"""Loss functions. Each is defined per sample (summed over the K outputs) and averaged over the batch rows.

`value(o, t, z) -> (n,)` per-sample loss; z is the output pre-activation, used for numerically stable
cross-entropies. `grad(o, t) -> (n, K)` is dL_s/do. `fused` names the output activation whose
delta dL_s/dz simplifies to o - t (sigmoid + BCE, softmax + cross-entropy).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Loss:
    name: str
    formula: str
    value: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fused: str | None = None

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


def _bce(o, t, z):
    # log(1 + e^z) - t z, written so that neither exp nor log overflows.
    return (np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))).sum(axis=1)


def _cross_entropy(o, t, z):
    zmax = z.max(axis=1, keepdims=True)
    log_softmax = z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))
    return -(t * log_softmax).sum(axis=1)


def _bce_grad(o, t):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (o - t) / (o * (1.0 - o))


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in [
        Loss("half_sse", "½ Σₖ (tₖ − oₖ)²", lambda o, t, z: 0.5 * ((t - o) ** 2).sum(axis=1), lambda o, t: o - t),
        Loss(
            "mse",
            "(1/K) Σₖ (tₖ − oₖ)²",
            lambda o, t, z: ((t - o) ** 2).mean(axis=1),
            lambda o, t: (2.0 / o.shape[1]) * (o - t),
        ),
        Loss("bce", "−Σₖ [tₖ log oₖ + (1 − tₖ) log(1 − oₖ)]", _bce, _bce_grad, fused="sigmoid"),
        Loss("cross_entropy", "−Σₖ tₖ log oₖ", _cross_entropy, lambda o, t: -t / o, fused="softmax"),
    ]
}

# Which output activations each loss accepts, and why the others are refused.
COMPATIBLE_OUTPUTS = {
    "half_sse": ("sigmoid", "tanh", "linear", "relu"),
    "mse": ("sigmoid", "tanh", "linear", "relu"),
    "bce": ("sigmoid",),
    "cross_entropy": ("softmax",),
}


def output_terms(name: str, o: np.ndarray, t: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Each output's share of the per-sample loss, (n, K); the loss of a row is their sum."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "half_sse":
            return 0.5 * (t - o) ** 2
        if name == "mse":
            return (t - o) ** 2 / o.shape[1]
        if name == "bce":
            return np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
        zmax = z.max(axis=1, keepdims=True)
        return -t * (z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True)))


def incompatibility(output_activation: str, loss: str) -> str | None:
    """Why this output/loss pair cannot be trained, or None if it can."""
    if output_activation in COMPATIBLE_OUTPUTS[loss]:
        return None
    if output_activation == "softmax":
        return ("softmax outputs must be trained with cross_entropy: their derivative couples all outputs, "
                "and cross-entropy turns the delta into the simple o − t.")
    if loss == "bce":
        return "bce (binary cross-entropy) needs sigmoid outputs, which lie in (0, 1) like probabilities."
    return "cross_entropy needs softmax outputs, which form a probability distribution over the classes."
