"""TensorFlow Playground's input features for 2-D data: x, y, x^2, y^2, xy, sin x, sin y."""

import numpy as np

from app.engine.errors import FieldError

from .messages import quote

FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_sq": lambda x1, x2: x1 * x1,
    "x2_sq": lambda x1, x2: x2 * x2,
    "x1_x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}
DEFAULT_FEATURES = ("x1", "x2")


def check_features(features):
    """The feature ids as a tuple, or FieldError if any is unknown, repeated, or none are given."""
    choices = ", ".join(FEATURES)
    if isinstance(features, str) or not isinstance(features, (list, tuple)):
        raise FieldError("dataset.features", f"Features must be a list of feature ids from {choices}.")
    if not features:
        raise FieldError("dataset.features", f"Choose at least one input feature from {choices}.")
    for f in features:
        if not (isinstance(f, str) and f in FEATURES):
            shown = f" {quote(f)}" if isinstance(f, str) else ""
            raise FieldError("dataset.features", f"Unknown feature{shown}; choose from {choices}.")
    if len(set(features)) != len(features):
        raise FieldError("dataset.features", "Each input feature can be chosen only once.")
    return tuple(features)


def expand(x, features):
    """x (n, 2) -> (n, len(features)), one column per feature id."""
    x1, x2 = x[:, 0], x[:, 1]
    return np.stack([FEATURES[f](x1, x2) for f in features], axis=1)
