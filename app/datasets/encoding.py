"""Turn class ids and regression targets into what the output layer's activation can produce."""

import numbers

import numpy as np

from app.engine.errors import FieldError

from .messages import count

ZERO_ONE = ("sigmoid", "relu", "softmax")  # outputs that cannot go negative: on 1, off 0
PLUS_MINUS = ("tanh", "linear")  # outputs symmetric around 0: on +1, off -1
ACTIVATIONS = PLUS_MINUS + ZERO_ONE


def check_activation(activation):
    if activation not in ACTIVATIONS:
        raise FieldError("output_activation", f"The output activation must be one of {', '.join(ACTIVATIONS)}.")


def check_output_size(output_size):
    if output_size is None:
        return
    if isinstance(output_size, bool) or not isinstance(output_size, numbers.Integral) or output_size < 1:
        raise FieldError("layers", "The output layer needs at least one node.")


def encode_classes(labels, n_classes, activation, output_size, name):
    """Class ids (n,) -> targets (n, 1) for two classes on one node, or one-hot (n, C)."""
    check_activation(activation)
    check_output_size(output_size)
    if output_size is None:  # as many nodes as the data needs
        output_size = 1 if n_classes == 2 and activation != "softmax" else n_classes
    off, on = (0.0, 1.0) if activation in ZERO_ONE else (-1.0, 1.0)
    if output_size == 1 and n_classes == 2:
        if activation == "softmax":
            raise FieldError("layers", f"softmax needs one output node per class: dataset '{name}' has 2 classes, "
                                       "so use 2 output nodes, or tanh or sigmoid on 1 node.")
        return np.where(labels == 1, on, off)[:, None]
    if output_size == n_classes:
        y = np.full((len(labels), n_classes), off)
        y[np.arange(len(labels)), labels] = on
        return y
    fix = "use 1 output node or 2" if n_classes == 2 else f"use {count(n_classes, 'output node')}"
    raise FieldError("layers", f"The output layer has {count(output_size, 'node')} but dataset '{name}' "
                               f"has {n_classes} classes: {fix}.")


def encode_targets(y, activation, output_size, symmetric, name):
    """Regression targets (n, T) -> (n, T); symmetric [-1, 1] targets move to [0, 1] for sigmoid or relu."""
    check_activation(activation)
    check_output_size(output_size)
    if output_size is None:  # as many nodes as the data needs
        output_size = y.shape[1]
    if activation == "softmax":
        raise FieldError("output_activation", f"softmax is for classification, but dataset '{name}' is regression; "
                                              "use linear, tanh or sigmoid on the output layer.")
    if output_size != y.shape[1]:
        raise FieldError("layers", f"The output layer has {count(output_size, 'node')} but dataset '{name}' "
                                   f"has {count(y.shape[1], 'target column')}: use {count(y.shape[1], 'output node')}.")
    if symmetric and activation in ZERO_ONE:
        return (y + 1) / 2
    return y.astype(np.float64, copy=True)
