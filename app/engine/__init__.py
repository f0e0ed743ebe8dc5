"""The NumPy backprop engine: numpy and the standard library only, float64 throughout."""
from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, class_threshold, predicted_classes
from .errors import DivergenceError, FieldError
from .losses import LOSSES
from .network import INIT_SCHEMES, MLP, Pass
from .optimizers import OPTIMIZERS, make_optimizer
from .config import HYPERPARAMETERS, TrainConfig
from .regularization import REGULARIZATIONS
from .trace import Trace
from .trainer import Trainer

__all__ = [
    "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "class_threshold", "predicted_classes",
    "DivergenceError", "FieldError", "LOSSES",
    "INIT_SCHEMES", "MLP", "Pass", "OPTIMIZERS", "make_optimizer", "HYPERPARAMETERS", "REGULARIZATIONS",
    "Trace", "TrainConfig", "Trainer",
]
