"""Central finite differences, to check backpropagation's gradients against the definition."""
from dataclasses import dataclass

import numpy as np

from .losses import Loss
from .network import MLP

# Below this size a gradient is compared on an absolute scale: finite differences carry about 1e-12 of
# rounding error, which would make the relative error of a 1e-9 gradient meaningless.
SMALL_GRADIENT = 1e-5
DISAGREE = 1e-4


def numerical_gradient(net: MLP, loss: Loss, x: np.ndarray, t: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """(L(p + h e_i) - L(p - h e_i)) / 2h for every parameter i, flat like `net.params`."""
    grad = np.empty(net.n_params)
    p = net.params.copy()
    for i in range(net.n_params):
        p[i] += h
        up = net.loss(loss, x, t, p)
        p[i] -= 2 * h
        down = net.loss(loss, x, t, p)
        p[i] += h
        grad[i] = (up - down) / (2 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a - n‖ / (‖a‖ + ‖n‖) over all parameters: near 0 when they agree, 1 when they are unrelated."""
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale else 0.0


def numerical_gradient_4pt(net: MLP, loss: Loss, x: np.ndarray, t: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """The fourth-order central difference (-L(p+2h) + 8L(p+h) - 8L(p-h) + L(p-2h)) / 12h per parameter."""
    grad = np.empty(net.n_params)
    p = net.params.copy()
    for i in range(net.n_params):
        original = p[i]
        values = []
        for offset in (2 * h, h, -h, -2 * h):
            p[i] = original + offset
            values.append(net.loss(loss, x, t, p))
        p[i] = original
        grad[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


@dataclass
class GradientCheck:
    """Backprop against finite differences on one batch, per parameter (flat, like `MLP.params`)."""

    analytic: np.ndarray
    numeric: np.ndarray
    errors: np.ndarray  # |a - n| / max(|a|, |n|, SMALL_GRADIENT)

    @property
    def max_relative_error(self) -> float:
        return float(self.errors.max()) if len(self.errors) else 0.0

    @property
    def disagreeing(self) -> np.ndarray:
        """Indices of the parameters whose relative error exceeds DISAGREE."""
        return np.flatnonzero(self.errors > DISAGREE)

    def disagreements(self, net: MLP) -> list[dict]:
        """Each disagreeing parameter, named by where it sits (kind, layer, to, from), with both gradients and
        their relative error."""
        found = []
        for k in self.disagreeing:
            kind, layer, to, source = net.locate(int(k))
            found.append({"kind": kind, "layer": layer, "to": to, "from": source, "analytic": float(self.analytic[k]),
                          "numeric": float(self.numeric[k]), "relative_error": float(self.errors[k])})
        return found


def check_gradients(net: MLP, loss: Loss, x: np.ndarray, t: np.ndarray) -> GradientCheck:
    with np.errstate(all="ignore"):
        zs, acts = net.forward(x)
        analytic = net.backward(loss, zs, acts, t).grad
        numeric = numerical_gradient_4pt(net, loss, x, t)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), SMALL_GRADIENT)
    return GradientCheck(analytic, numeric, np.abs(analytic - numeric) / scale)
