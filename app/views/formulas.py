"""The formulas and names the inspector, the worksheet and the matrix form write beside the numbers: each
activation and its derivative, each loss and its ∂L/∂o, and why a fused output's δ is o − t."""
from app.engine.activations import LEAKY_SLOPE

ACTIVATION_FORMULAS = {
    "sigmoid": "1 / (1 + e^(−z))",
    "tanh": "tanh(z)",
    "relu": "max(0, z)",
    "leaky_relu": f"z if z > 0, else {LEAKY_SLOPE:g}·z",
    "linear": "z",
    "softmax": "e^(z_j) / Σₖ e^(z_k)",
}
DERIVATIVE_FORMULAS = {
    "sigmoid": "a(1 − a)",
    "tanh": "1 − a²",
    "relu": "1 if z > 0, else 0",
    "leaky_relu": f"1 if z > 0, else {LEAKY_SLOPE:g}",
    "linear": "1",
}
LOSS_TITLES = {"half_sse": "½ sum of squared errors", "mse": "mean squared error", "bce": "binary cross-entropy",
               "cross_entropy": "cross-entropy"}
DL_DO_FORMULAS = {"half_sse": "o − t", "mse": "(2/K)(o − t)"}
FUSED_REASONS = {
    "sigmoid": "With a sigmoid output and binary cross-entropy, ∂L/∂o · f′(z) = (o − t)/(o(1 − o)) · o(1 − o) "
               "simplifies to o − t.",
    "softmax": "With softmax outputs and cross-entropy, the chain rule through all the outputs simplifies "
               "to o − t.",
}
