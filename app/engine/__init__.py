"""The NumPy backprop engine: numpy and the standard library only, float64 throughout."""
from .activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, class_threshold, predicted_classes
from .errors import DivergenceError, FieldError
from .losses import LOSSES
from .network import INIT_SCHEMES, MLP, Pass
from .optimizers import OPTIMIZERS, make_optimizer
from .trainer import HYPERPARAMETERS, REGULARIZATIONS, Trace, TrainConfig, Trainer

__all__ = [
    "ACTIVATIONS", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "class_threshold", "predicted_classes",
    "DivergenceError", "FieldError", "LOSSES",
    "INIT_SCHEMES", "MLP", "Pass", "OPTIMIZERS", "make_optimizer", "HYPERPARAMETERS", "REGULARIZATIONS",
    "Trace", "TrainConfig", "Trainer",
]
