"""The gradient check (app/engine/gradcheck.py): analytic against numeric gradients."""
import numpy as np
import pytest

from app.engine import LOSSES, MLP
from app.engine.gradcheck import check_gradients


@pytest.mark.parametrize("seed", range(6))
def test_gradient_check_below_1e_6_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    hidden = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"][seed % 5]
    output, loss = [("sigmoid", "bce"), ("softmax", "cross_entropy"), ("tanh", "half_sse"), ("linear", "mse")][seed % 4]
    sizes = [int(rng.integers(1, 5)), *[int(rng.integers(1, 6)) for _ in range(seed % 3)], 3]
    net = MLP(sizes, hidden, output)
    net.params[:] = rng.normal(0, 1, net.n_params)
    x = rng.normal(size=(8, sizes[0]))
    t = np.eye(3)[rng.integers(0, 3, 8)] if loss in ("bce", "cross_entropy") else rng.normal(size=(8, 3))
    check = check_gradients(net, LOSSES[loss], x, t)
    assert check.max_relative_error < 1e-6 and len(check.disagreeing) == 0


def test_gradient_check_names_a_wrong_gradient():
    net = MLP([2, 3, 1], "tanh", "tanh")
    net.params[:] = np.linspace(-1, 1, net.n_params)
    x, t = np.array([[0.3, -0.7], [1.0, 0.2]]), np.array([[1.0], [-1.0]])
    original = net.backward

    def broken(*args):
        p = original(*args)
        p.grad[4] *= 1.05
        return p

    net.backward = broken
    check = check_gradients(net, LOSSES["half_sse"], x, t)
    assert check.disagreeing.tolist() == [4] and check.max_relative_error > 1e-3
