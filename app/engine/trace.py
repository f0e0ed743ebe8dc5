"""What one step computed (a Trace): the batch, the forward and backward pass, the gradient applied and the
parameters and optimizer state before and after, with each parameter's update term by term."""
from dataclasses import dataclass, field

import numpy as np

from .config import TrainConfig
from .losses import LOSSES
from .network import MLP, Pass
from .optimizers import hold, make_optimizer
from .regularization import regularization_terms


@dataclass
class Trace:
    """Everything one step computed. Per-sample arrays have one row per batch row; gradients are batch means.

    `pass_.grad` is the data-loss gradient; `reg_grad` the regularisation term, kept separate (None when off);
    `applied_grad` what the optimizer was given: their sum, with the biases' zeroed when biases are frozen.
    `params_before` / `params_after` are flat, laid out like `MLP.params`.
    """

    step: int
    epoch: int
    rows: np.ndarray
    targets: np.ndarray
    pass_: Pass
    reg_grad: np.ndarray | None
    applied_grad: np.ndarray
    params_before: np.ndarray
    params_after: np.ndarray
    net: MLP = field(repr=False)
    config: TrainConfig = field(repr=False)
    optimizer_before: dict = field(default_factory=dict, repr=False)  # velocity, or Adam's t, m, v, as flat arrays
    optimizer_after: dict = field(default_factory=dict, repr=False)

    @property
    def loss_name(self) -> str:
        return self.config.loss

    @property
    def loss_before(self) -> float:
        """Batch-mean data loss before the update (regularisation penalty excluded)."""
        o, z = self.pass_.a[-1], self.pass_.z[-1]
        return float(LOSSES[self.loss_name].value(o, self.targets, z).mean())

    def update_terms(self, k: int) -> dict:
        """How flat parameter k moved, as Python numbers by name: "before", "after", "data_grad", "reg" (None when
        regularisation is off, else regularization_terms of this parameter), "grad" (the gradient applied), then
        the optimizer rule's terms ("step"; "velocity"; Adam's "t", "m", "v", "step_size", "denom", ...). The rule
        runs again on this one parameter, which gives the step's own bits (the rule is elementwise)."""
        at = slice(k, k + 1)
        before = {name: value[at] if isinstance(value, np.ndarray) else value
                  for name, value in self.optimizer_before.items()}
        optimizer = make_optimizer(self.config.optimizer, 0, **self.config.optimizer_settings())
        frozen = not self.config.train_biases and self.net.locate(k)[0] == "bias"
        terms = hold(optimizer.rule(self.params_before[at], self.applied_grad[at], before), self.params_before[at],
                     before, np.array([False]) if frozen else None)
        reg = None
        if self.reg_grad is not None:
            weight = self.params_before[at] * (1.0 if self.net.locate(k)[0] == "weight" else 0.0)
            reg = _floats(regularization_terms(self.config.regularization, self.config.regularization_rate, weight))
        return {"before": float(self.params_before[k]), "after": float(self.params_after[k]),
                "data_grad": float(self.pass_.grad[k]), "reg": reg, "grad": float(self.applied_grad[k]),
                **_floats(terms)}

    def as_dict(self) -> dict:
        net = self.net
        w_before, b_before = net.views(self.params_before)
        w_after, b_after = net.views(self.params_after)
        grad_w, grad_b = net.views(self.pass_.grad)
        out = {
            "step": self.step,
            "epoch": self.epoch,
            "rows": self.rows.tolist(),
            "targets": self.targets.tolist(),
            "z": [z.tolist() for z in self.pass_.z],
            "a": [a.tolist() for a in self.pass_.a],
            "delta": [d.tolist() for d in self.pass_.delta],
            "grad_weights": [g.tolist() for g in grad_w],
            "grad_biases": [g.tolist() for g in grad_b],
            "reg_grad_weights": None,
            "weights_before": [w.tolist() for w in w_before],
            "biases_before": [b.tolist() for b in b_before],
            "weights_after": [w.tolist() for w in w_after],
            "biases_after": [b.tolist() for b in b_after],
            "loss_before": self.loss_before,
            "optimizer": {"name": self.config.optimizer, "before": self._optimizer_terms(self.optimizer_before),
                          "after": self._optimizer_terms(self.optimizer_after)},
        }
        if self.reg_grad is not None:
            out["reg_grad_weights"] = [g.tolist() for g in net.views(self.reg_grad)[0]]
        return out

    def _optimizer_terms(self, terms: dict) -> dict:
        """Flat optimizer arrays split like the parameters: {"velocity": {"weights": ..., "biases": ...}}."""
        out = {}
        for name, value in terms.items():
            if isinstance(value, np.ndarray):
                w, b = self.net.views(value)
                out[name] = {"weights": [m.tolist() for m in w], "biases": [v.tolist() for v in b]}
            else:
                out[name] = value
        return out


def _floats(terms: dict) -> dict:
    """1-element arrays as Python floats; other values as they are."""
    return {name: float(value[0]) if isinstance(value, np.ndarray) else value for name, value in terms.items()}
