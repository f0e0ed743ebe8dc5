"""Turn class ids and regression targets into what the output layer's activation can produce."""

import numbers

import numpy as np

from app.engine.errors import FieldError

from .messages import count

ZERO_ONE = ("sigmoid", "relu", "softmax")  # outputs that cannot go negative: on 1, off 0
PLUS_MINUS = ("tanh", "linear")  # outputs symmetric around 0: on +1, off -1
ACTIVATIONS = PLUS_MINUS + ZERO_ONE


def output_for_task(classes, own_units) -> str:
    """The output activation a data set gets when none is asked for: tanh (TF Playground's), or by task for data
    in its own units: linear for regression, sigmoid for 2 classes, softmax for 3 or more."""
    if not own_units:
        return "tanh"
    if classes is None:
        return "linear"
    return "sigmoid" if len(classes) == 2 else "softmax"


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


# Where scaled regression targets go for the network (Dataset.target_scaling): a linear output takes them
# standardised; a bounded output takes the training rows' range mapped onto the middle 80 % of its own, so that the
# extremes stay reachable without saturating it (relu has no top: it takes sigmoid's [0.1, 0.9]).
BOUNDED_RANGES = {"tanh": (-0.8, 0.8), "sigmoid": (0.1, 0.9), "relu": (0.1, 0.9)}


def check_regression(y, activation, output_size, name):
    """Regression targets (n, T) fit the output layer: not softmax, one node per target column."""
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


def target_scaling(train_y, activation, symmetric, scale):
    """How regression targets in the data's units become the network's: (kind, shift, spread) with
    network = (data − shift) / spread per column, or (None, None, None) when they are taken as they are.

    kind is "standardised" (linear output), "range" (a bounded output's middle 80 %), or "symmetric" (a generated
    set's [-1, 1] moved to [0, 1] for an output that cannot go negative). Computed from the training rows only;
    a constant column is only shifted.
    """
    if scale:
        if activation == "linear":
            shift, spread = train_y.mean(axis=0), train_y.std(axis=0)
            return "standardised", shift, np.where(spread > 0, spread, 1.0)
        lo, hi = BOUNDED_RANGES[activation]
        low, high = train_y.min(axis=0), train_y.max(axis=0)
        spread = np.where(high > low, (high - low) / (hi - lo), 1.0)
        return "range", np.where(high > low, low - lo * spread, low - (lo + hi) / 2), spread
    if symmetric and activation in ZERO_ONE:
        return "symmetric", np.full(train_y.shape[1], -1.0), np.full(train_y.shape[1], 2.0)
    return None, None, None


def encode_targets(y, shift, spread):
    """Regression targets in the data's units (n, T) -> the network's, by target_scaling's shift and spread."""
    if shift is None:
        return y.astype(np.float64, copy=True)
    return (y - shift) / spread
