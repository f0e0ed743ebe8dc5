"""Optimizers with torch.optim's update rules and operation order, so numbers carry over to PyTorch.

Each optimizer first `propose`s an update without touching anything, so a step that would produce
NaN or Inf can be refused; `commit` then keeps the proposed optimizer state. Parameters that are not trained
(frozen biases) keep their value and their optimizer state exactly (`hold`).

`rule(params, grad, state)` is the update rule itself, returning its named intermediate terms and the new
"params". It is elementwise, so it gives the same bits on the whole parameter vector (`propose`) and on one
parameter's 1-element slice (the inspector, through Trace.update_terms). `state` is named like `terms()`.
"""
import math

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")


def hold(terms: dict, params: np.ndarray, state: dict, trained: np.ndarray | None) -> dict:
    """A rule's terms with the parameters that are not trained (trained False) held exactly: their value and
    their optimizer state as they were, their step 0, as PyTorch leaves a tensor with requires_grad=False (it has
    no gradient, so its optimizer skips it). Adam's step count t is one number and keeps counting with the
    weights; PyTorch counts each tensor's own. trained=None trains every parameter."""
    if trained is None:
        return terms
    held = {**terms, "params": np.where(trained, terms["params"], params), "step": np.where(trained, terms["step"], 0.0)}
    for name, before in state.items():
        if isinstance(before, np.ndarray):
            held[name] = np.where(trained, terms[name], before)
    return held


class SGD:
    """w <- w - lr * g"""

    name = "sgd"

    def __init__(self, n_params: int, learning_rate: float = 0.03, **_):
        self.learning_rate = learning_rate

    def rule(self, params: np.ndarray, grad: np.ndarray, state: dict) -> dict:
        step = self.learning_rate * grad
        return {"step": step, "params": params - step}

    def propose(self, params: np.ndarray, grad: np.ndarray, trained: np.ndarray | None = None):
        """(new params, new state) of one update, changing nothing; parameters not `trained` are held (hold)."""
        return hold(self.rule(params, grad, {}), params, {}, trained)["params"], None

    def commit(self, state) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def terms(self) -> dict:
        """The current state, by name (arrays are replaced on commit, never changed in place)."""
        return {}

    def describe(self, state) -> dict:
        """A proposed state, named like `terms()`."""
        return {}


class Momentum(SGD):
    """v <- mu v + g, then w <- w - lr v (torch.optim.SGD with momentum, no dampening, no Nesterov)."""

    name = "momentum"

    def __init__(self, n_params: int, learning_rate: float = 0.03, momentum: float = 0.9, **_):
        super().__init__(n_params, learning_rate)
        self.momentum = momentum
        self.velocity = np.zeros(n_params)

    def rule(self, params, grad, state):
        velocity = self.momentum * state["velocity"] + grad
        step = self.learning_rate * velocity
        return {"velocity": velocity, "step": step, "params": params - step}

    def propose(self, params, grad, trained=None):
        terms = hold(self.rule(params, grad, self.terms()), params, self.terms(), trained)
        return terms["params"], terms["velocity"]

    def commit(self, velocity) -> None:
        self.velocity = velocity

    def state_dict(self) -> dict:
        return {"velocity": self.velocity.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.velocity = np.array(state["velocity"], dtype=np.float64)

    def terms(self) -> dict:
        return {"velocity": self.velocity}

    def describe(self, velocity) -> dict:
        return {"velocity": velocity}


class Adam(SGD):
    """Bias-corrected Adam, eps added after the square root, in torch.optim.Adam's operation order:
    m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g²;  w <- w - (lr / (1-b1^t)) m / (sqrt(v) / sqrt(1-b2^t) + eps)
    """

    name = "adam"

    def __init__(self, n_params: int, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, **_):
        super().__init__(n_params, learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.m = np.zeros(n_params)
        self.v = np.zeros(n_params)

    def rule(self, params, grad, state):
        t = state["t"] + 1
        m = state["m"] + (1.0 - self.beta1) * (grad - state["m"])  # torch's lerp form of b1 m + (1-b1) g
        g_squared = grad * grad
        v = self.beta2 * state["v"] + (1.0 - self.beta2) * g_squared
        bc1, bc2 = 1.0 - self.beta1**t, 1.0 - self.beta2**t  # bias corrections
        step_size = self.learning_rate / bc1
        sqrt_v, sqrt_bc2 = np.sqrt(v), math.sqrt(bc2)
        denom = sqrt_v / sqrt_bc2 + self.eps
        step = step_size * (m / denom)
        return {"t": t, "m": m, "v": v, "g_squared": g_squared, "bc1": bc1, "bc2": bc2, "step_size": step_size,
                "sqrt_v": sqrt_v, "sqrt_bc2": sqrt_bc2, "denom": denom, "step": step, "params": params - step}

    def propose(self, params, grad, trained=None):
        terms = hold(self.rule(params, grad, self.terms()), params, self.terms(), trained)
        return terms["params"], (terms["t"], terms["m"], terms["v"])

    def commit(self, state) -> None:
        self.t, self.m, self.v = state

    def state_dict(self) -> dict:
        return {"t": self.t, "m": self.m.copy(), "v": self.v.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])
        self.m = np.array(state["m"], dtype=np.float64)
        self.v = np.array(state["v"], dtype=np.float64)

    def terms(self) -> dict:
        return {"t": self.t, "m": self.m, "v": self.v}

    def describe(self, state) -> dict:
        t, m, v = state
        return {"t": t, "m": m, "v": v}


def make_optimizer(name: str, n_params: int, **settings) -> SGD:
    return {"sgd": SGD, "momentum": Momentum, "adam": Adam}[name](n_params, **settings)
