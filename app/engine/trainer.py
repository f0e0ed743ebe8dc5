"""Mini-batch training: batch order, regularisation, frozen biases, refusal of diverging steps (a step's numbers
are its Trace, trace.py; the settings its TrainConfig, config.py)."""
import math
from dataclasses import dataclass, replace

import numpy as np

from .config import HYPERPARAMETERS, TrainConfig
from .errors import DivergenceError, FieldError
from .gradcheck import GradientCheck, check_gradients
from .losses import LOSSES
from .network import MLP
from .optimizers import make_optimizer
from .regularization import regularization_terms
from .trace import Trace

INIT_STREAM, ORDER_STREAM = 0, 1


@dataclass
class Proposal:
    """A computed but unapplied step: its trace, the optimizer's new state, and where the batch ended."""

    trace: Trace
    state: object
    end: int


class Trainer:
    """Trains an MLP on fixed training rows, one mini-batch per step."""

    def __init__(self, config: TrainConfig, train_x: np.ndarray, train_y: np.ndarray, weights=None, biases=None):
        if len(train_x) == 0:
            raise FieldError("dataset", "The dataset has no training rows.")
        if train_x.shape[1] != config.layers[0]:
            raise FieldError("layers", f"layers starts with {config.layers[0]} inputs but the data has "
                                       f"{train_x.shape[1]} input columns.")
        if train_y.shape[1] != config.layers[-1]:
            raise FieldError("layers", f"layers ends with {config.layers[-1]} outputs but the data has "
                                       f"{train_y.shape[1]} target columns.")
        self.config = config
        self.train_x, self.train_y = train_x, train_y
        self.net = MLP(list(config.layers), config.hidden_activation, config.output_activation)
        self.net.initialize(config.init, np.random.default_rng([config.seed, INIT_STREAM]))
        self.net.set_parameters(weights, biases)
        self.loss = LOSSES[config.loss]
        self._weight_mask = 1.0 - self.net.bias_mask()
        self._trained = self._weight_mask > 0  # the weights: what is trained when the biases are frozen
        self.optimizer = make_optimizer(config.optimizer, self.net.n_params, **config.optimizer_settings())
        self.step_count = 0
        self.epoch = 0
        self.position = 0
        self._order_epoch = None

    def reconfigure(self, **changes) -> None:
        """Change hyperparameters without touching the weights. A new optimizer type starts with fresh state."""
        unknown = set(changes) - set(HYPERPARAMETERS)
        if unknown:
            raise FieldError(sorted(unknown)[0], "Changing this setting needs a new network.")
        new = replace(self.config, **changes)
        if new.optimizer != self.config.optimizer:
            self.optimizer = make_optimizer(new.optimizer, self.net.n_params, **new.optimizer_settings())
        else:
            for k, v in new.optimizer_settings().items():
                setattr(self.optimizer, k, v)
        self.config = new

    @property
    def batch_size(self) -> int:
        return min(self.config.batch_size, len(self.train_x))

    def _epoch_rows(self) -> None:
        """The row order of the current epoch, derived from (seed, epoch) so any position can be restored."""
        if self._order_epoch == (self.epoch, self.config.shuffle):
            return
        n = len(self.train_x)
        if self.config.shuffle:
            self._order = np.random.default_rng([self.config.seed, ORDER_STREAM, self.epoch]).permutation(n)
        else:
            self._order = np.arange(n)
        self._x, self._y = self.train_x[self._order], self.train_y[self._order]
        self._order_epoch = (self.epoch, self.config.shuffle)

    def propose(self) -> Proposal:
        """Everything the next step computes, applying nothing. Raises DivergenceError for a NaN/Inf update."""
        self._epoch_rows()
        lo, hi = self.position, min(self.position + self.batch_size, len(self.train_x))
        x, t = self._x[lo:hi], self._y[lo:hi]
        net, cfg = self.net, self.config
        zs, acts = net.forward(x)
        pass_ = net.backward(self.loss, zs, acts, t)
        grad, reg_grad = pass_.grad, None
        if cfg.regularization != "none" and cfg.regularization_rate:
            w = net.params * self._weight_mask
            reg_grad = regularization_terms(cfg.regularization, cfg.regularization_rate, w)["term"]
            grad = grad + reg_grad
        if not cfg.train_biases:
            grad = grad * self._weight_mask
        # Frozen biases keep their values and their optimizer state (velocity, m, v) exactly.
        new_params, opt_state = self.optimizer.propose(net.params, grad, None if cfg.train_biases else self._trained)
        # A sum of finite parameters is finite unless they are astronomically large, which is divergence too.
        if not math.isfinite(np.add.reduce(new_params)):
            raise DivergenceError(
                self.step_count + 1,
                f"Training diverged at step {self.step_count + 1}: lower the learning rate or go Back. The update "
                f"would have made the weights NaN or infinite (learning rate {cfg.learning_rate:g}); it was not "
                "applied.",
            )
        trace = Trace(self.step_count + 1, self.epoch + (hi == len(self.train_x)), self._order[lo:hi], t, pass_,
                      reg_grad, grad, net.params.copy(), new_params, net, cfg, self.optimizer.terms(),
                      self.optimizer.describe(opt_state))
        return Proposal(trace, opt_state, hi)

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows, inputs and targets the next step will use."""
        self._epoch_rows()
        lo, hi = self.position, min(self.position + self.batch_size, len(self.train_x))
        return self._order[lo:hi], self._x[lo:hi], self._y[lo:hi]

    def check_gradients(self) -> GradientCheck:
        """Backprop's data-loss gradient on the next batch against finite differences, at the current weights."""
        _, x, t = self.next_batch()
        return check_gradients(self.net, self.loss, x, t)

    def set_parameter(self, kind: str, layer: int, node: int, source: int | None, value: float) -> float:
        """Set weights[layer][node, source] or biases[layer][node]; returns the old value."""
        if not 0 <= layer < self.net.n_layers:
            raise FieldError("layer", f"layer must be 0 to {self.net.n_layers - 1} (the weight layers).")
        target = self.net.weights[layer] if kind == "weight" else self.net.biases[layer]
        index = (node, source) if kind == "weight" else (node,)
        for axis, (i, size) in enumerate(zip(index, target.shape)):
            if i is None or not 0 <= i < size:
                name = ("to", "from")[axis] if kind == "weight" else "node"
                raise FieldError(name, f"{name} must be 0 to {size - 1} for layer {layer}.")
        if not math.isfinite(value):
            raise FieldError("value", "value must be a finite number.")
        old = float(target[index])
        target[index] = value
        return old

    def commit(self, proposal: Proposal) -> Trace:
        """Apply a proposal made from the current state."""
        self.net.params[:] = proposal.trace.params_after
        self.optimizer.commit(proposal.state)
        self.step_count += 1
        self.position = proposal.end
        if proposal.end == len(self.train_x):
            self.epoch += 1
            self.position = 0
        return proposal.trace

    def step(self) -> Trace:
        """One optimizer update on the next batch_size rows; the final partial batch is its own step."""
        return self.commit(self.propose())

    def run(self, steps: int, after_step=None) -> Trace:
        """Run `steps` steps and return the last trace. All or nothing: if any step diverges, or `after_step`
        raises, none is kept.

        `after_step(trainer)` is called after every step, for example to record the loss curve; when it returns
        True the run stops after that step.
        """
        saved = self.state_dict()
        try:
            with np.errstate(all="ignore"):
                for _ in range(steps):
                    trace = self.step()
                    if after_step is not None and after_step(self):
                        break
        except Exception:
            self.load_state_dict(saved)
            raise
        return trace

    def steps_to_epoch_end(self) -> int:
        return math.ceil((len(self.train_x) - self.position) / self.batch_size)

    def state_dict(self) -> dict:
        return {
            "params": self.net.params.copy(),
            "optimizer_name": self.optimizer.name,
            "optimizer": self.optimizer.state_dict(),
            "step": self.step_count,
            "epoch": self.epoch,
            "position": self.position,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a state_dict. State saved under another optimizer type is dropped: the current optimizer
        (a setting, which a restore keeps) starts fresh, as after choosing it."""
        if state.get("optimizer_name", self.optimizer.name) == self.optimizer.name:
            self.optimizer.load_state_dict(state["optimizer"])
        else:
            self.optimizer = make_optimizer(self.config.optimizer, self.net.n_params,
                                            **self.config.optimizer_settings())
        self.net.params[:] = state["params"]
        self.step_count, self.epoch, self.position = state["step"], state["epoch"], state["position"]

    def __repr__(self) -> str:
        return f"Trainer({self.net!r}, step={self.step_count}, epoch={self.epoch})"
