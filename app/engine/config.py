"""The settings a Trainer trains with, checked against the engine's own choices."""
from dataclasses import dataclass

from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .errors import FieldError
from .losses import LOSSES, incompatibility
from .network import INIT_SCHEMES
from .optimizers import OPTIMIZERS
from .regularization import REGULARIZATIONS

# Settings that can change mid-training without resetting the weights.
HYPERPARAMETERS = ("optimizer", "learning_rate", "momentum", "beta1", "beta2", "eps", "regularization",
                   "regularization_rate", "batch_size", "shuffle", "train_biases")


@dataclass(frozen=True)
class TrainConfig:
    layers: tuple[int, ...] = (2, 4, 2, 1)
    hidden_activation: str = "tanh"
    output_activation: str = "tanh"
    loss: str = "half_sse"
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    regularization: str = "none"
    regularization_rate: float = 0.0
    batch_size: int = 10
    shuffle: bool = True
    train_biases: bool = True
    init: str = "uniform"
    seed: int = 1

    def __post_init__(self):
        choices = {
            "hidden_activation": HIDDEN_ACTIVATIONS, "output_activation": OUTPUT_ACTIVATIONS, "loss": tuple(LOSSES),
            "optimizer": OPTIMIZERS, "regularization": REGULARIZATIONS, "init": INIT_SCHEMES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise FieldError(name, f"Unknown {name} {getattr(self, name)!r}; choose one of {', '.join(allowed)}.")
        reason = incompatibility(self.output_activation, self.loss)
        if reason:
            raise FieldError("loss", f"output_activation {self.output_activation!r} with loss {self.loss!r}: {reason}")
        if len(self.layers) < 2 or min(self.layers) < 1:
            raise FieldError("layers", "layers needs at least an input and an output size, each at least 1.")

    def optimizer_settings(self) -> dict:
        return {k: getattr(self, k) for k in ("learning_rate", "momentum", "beta1", "beta2", "eps")}
