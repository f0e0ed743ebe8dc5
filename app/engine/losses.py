"""Loss functions. Each is defined per sample (summed over the K outputs) and averaged over the batch rows.

`terms(o, t, z) -> (n, K)` is each output's share of the per-sample loss, and `value(o, t, z) -> (n,)` the
per-sample loss, their sum (mse: their mean's exact form); z is the output pre-activation, used for numerically
stable cross-entropies. Each formula is written once and both derive from it with the same operations the loss
always used, so values keep their bits. `grad(o, t) -> (n, K)` is dL_s/do. `fused` names the output activation
whose delta dL_s/dz simplifies to o - t (sigmoid + BCE, softmax + cross-entropy).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

Terms = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Loss:
    name: str
    formula: str
    terms: Terms
    value: Terms
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fused: str | None = None

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"


def _squared_errors(o, t):
    return (t - o) ** 2


def _bce_terms(o, t, z):
    # log(1 + e^z) - t z, written so that neither exp nor log overflows.
    return np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))


def _target_log_probabilities(t, z):
    """t_k log softmax(z)_k, from z without overflow; the loss is minus their sum."""
    zmax = z.max(axis=1, keepdims=True)
    return t * (z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True)))


def _bce_grad(o, t):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (o - t) / (o * (1.0 - o))


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in [
        Loss("half_sse", "½ Σₖ (tₖ − oₖ)²",
             terms=lambda o, t, z: 0.5 * _squared_errors(o, t),
             value=lambda o, t, z: 0.5 * _squared_errors(o, t).sum(axis=1),
             grad=lambda o, t: o - t),
        Loss("mse", "(1/K) Σₖ (tₖ − oₖ)²",
             terms=lambda o, t, z: _squared_errors(o, t) / o.shape[1],
             # The mean, not the sum of the terms: sum/K rounds differently from a sum of x/K.
             value=lambda o, t, z: _squared_errors(o, t).mean(axis=1),
             grad=lambda o, t: (2.0 / o.shape[1]) * (o - t)),
        Loss("bce", "−Σₖ [tₖ log oₖ + (1 − tₖ) log(1 − oₖ)]",
             terms=_bce_terms,
             value=lambda o, t, z: _bce_terms(o, t, z).sum(axis=1),
             grad=_bce_grad, fused="sigmoid"),
        Loss("cross_entropy", "−Σₖ tₖ log oₖ",
             terms=lambda o, t, z: -_target_log_probabilities(t, z),
             # Minus the sum, not the sum of minus the terms: the two differ in a zero's sign.
             value=lambda o, t, z: -_target_log_probabilities(t, z).sum(axis=1),
             grad=lambda o, t: -t / o, fused="softmax"),
    ]
}

# Which output activations each loss accepts, and why the others are refused.
COMPATIBLE_OUTPUTS = {
    "half_sse": ("sigmoid", "tanh", "linear", "relu"),
    "mse": ("sigmoid", "tanh", "linear", "relu"),
    "bce": ("sigmoid",),
    "cross_entropy": ("softmax",),
}


def loss_for(output_activation: str, picked_for_classes: bool) -> str:
    """The loss a network gets when none is asked for: cross_entropy for softmax outputs, bce for a sigmoid
    output that was picked for two classes, else half_sse."""
    if output_activation == "softmax":
        return "cross_entropy"
    return "bce" if picked_for_classes and output_activation == "sigmoid" else "half_sse"


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
