"""Central finite differences, to check backpropagation's gradients against the definition."""
import numpy as np

from .losses import Loss
from .network import MLP


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


def relative_errors(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """|a - n| / max(|a|, |n|, floor), elementwise; the floor keeps near-zero gradients from dividing by 0."""
    return np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a - n‖ / (‖a‖ + ‖n‖) over all parameters: near 0 when they agree, 1 when they are unrelated."""
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / scale) if scale else 0.0
