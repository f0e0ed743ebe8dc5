"""Activation functions, each paired with its derivative, as in TF Playground's nn.ts.

`f(z) -> a` and `df(z, a) -> f'(z)`; the derivative may use either argument, whichever is cheaper.
Softmax has no elementwise derivative: it is only used with cross-entropy, whose fused delta is o - t.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

LEAKY_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray, np.ndarray], np.ndarray] | None

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


def _sigmoid(z):
    # exp(-z) overflows to inf for z < -709, and 1 / (1 + inf) is the correct limit 0.
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", _sigmoid, lambda z, a: a * (1.0 - a)),
        Activation("tanh", np.tanh, lambda z, a: 1.0 - a * a),
        # ReLU'(0) = 0 and leaky ReLU'(0) = slope, as in PyTorch.
        Activation("relu", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(np.float64)),
        Activation(
            "leaky_relu",
            lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
            lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE),
        ),
        Activation("linear", lambda z: z.copy(), lambda z, a: np.ones_like(z)),
        Activation("softmax", _softmax, None),
    ]
}

HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
OUTPUT_ACTIVATIONS = ("sigmoid", "tanh", "linear", "relu", "softmax")


def class_threshold(output_activation: str) -> float:
    """The output value from which a single output node predicts class 1: 0.5 for sigmoid and relu outputs
    (trained on 0/1 targets), else 0 (tanh and linear, trained on −1/1)."""
    return 0.5 if output_activation in ("sigmoid", "relu") else 0.0


def predicted_classes(o: np.ndarray, output_activation: str) -> np.ndarray:
    """o: (n, K) -> class ids (n,): the argmax over one node per class, or class_threshold on a single node."""
    if o.shape[1] > 1:
        return o.argmax(axis=1)
    return (o[:, 0] >= class_threshold(output_activation)).astype(np.int64)
