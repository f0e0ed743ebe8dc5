"""inline_dataset: rows given in the request itself (inputs, targets and optional test rows), checked and taken
as they are: neither generated nor shuffled."""

import numpy as np

from app.engine.errors import FieldError

from .assembly import assemble, bounding_box, resolve_scaling
from .dataset import Dataset
from .messages import count
from .tables import MAX_ABS_VALUE, Table


# What each data option would do that inline rows do for themselves (inline_dataset).
INLINE_OWN = {
    "train_fraction": "the rows are split as given (training rows in inputs, test rows in test_inputs)",
    "samples": "the rows are those given",
    "noise": "the rows are taken as they are",
    "seed": "the rows are neither generated nor shuffled",
    "features": "the rows are the network's inputs as they are",
    "csv": "the rows are given as inputs and targets",
    "target_columns": "the targets are given as targets",
    "unit": "a unit is read from, or given for, a CSV's target columns",
}


def check_inline_options(**options) -> None:
    """FieldError naming the first data option given beside inline rows (None, or a noise of 0, is not given)."""
    for name, why in INLINE_OWN.items():
        value = options.get(name)
        if value is not None and not (name == "noise" and value == 0):
            raise FieldError(f"dataset.{name}", f"{name} has no effect on inline rows: {why}; leave it out.")


def inline_dataset(inputs, targets, test_inputs=None, test_targets=None, *, standardize=None, scale_targets=None,
                   task=None, output_activation=None, output_size=1, max_nodes: int = 64) -> Dataset:
    """Rows given in the request: inputs (n, d), targets (n, T), optional test rows; no shuffling.

    Regression unless task is "classification" (one-hot target rows, or one column of integer class ids), or the
    targets are one-hot rows and the output is softmax. Raw unless standardize or scale_targets say otherwise.
    The output activation defaults to tanh. At most max_nodes columns and classes (one network node each), checked
    before anything is built from them.
    """
    output_activation = output_activation or "tanh"
    for field, rows in (("dataset.inputs", inputs), ("dataset.targets", targets), ("dataset.test_inputs", test_inputs),
                        ("dataset.test_targets", test_targets)):
        check_width(rows, field, max_nodes)
    x = as_matrix(inputs, "dataset.inputs")
    y = as_matrix(targets, "dataset.targets")
    if len(y) != len(x):
        raise FieldError("dataset.targets", f"There are {count(len(x), 'input row')} but "
                                            f"{count(len(y), 'target row')}; give one target row per input row.")
    if (test_inputs is None) != (test_targets is None):
        missing = "dataset.test_targets" if test_targets is None else "dataset.test_inputs"
        raise FieldError(missing, "Give test inputs and test targets together, one target row per input row.")
    if test_inputs is None:
        tx, ty = np.empty((0, x.shape[1])), np.empty((0, y.shape[1]))
    else:
        tx = as_matrix(test_inputs, "dataset.test_inputs", width=x.shape[1])
        ty = as_matrix(test_targets, "dataset.test_targets", width=y.shape[1])
        if len(ty) != len(tx):
            raise FieldError("dataset.test_targets", f"There are {count(len(tx), 'test input row')} but "
                                                     f"{count(len(ty), 'test target row')}; they must match.")

    def names(prefix, k):
        return (prefix,) if k == 1 else tuple(f"{prefix}{i}" for i in range(1, k + 1))

    if output_activation == "softmax" and y.shape[1] >= 2 and not is_one_hot(np.concatenate([y, ty])):
        raise FieldError("dataset.targets", "A softmax output is trained with cross-entropy on one-hot target rows "
                                            "(all 0 but a single 1, in the column of the row's class).")
    if task is None:
        task = "classification" if output_activation == "softmax" and is_one_hot(y) else "regression"
    x_names, all_x, all_y = names("x", x.shape[1]), np.concatenate([x, tx]), np.concatenate([y, ty])
    if task == "classification":
        labels, classes = class_ids(all_y, len(y), max_nodes)
        table = Table(x_names, ("class",), all_x, labels, classes=classes)
    else:
        table = Table(x_names, names("y", y.shape[1]), all_x, all_y)
    standardize, scale_targets = resolve_scaling(standardize, scale_targets, own_units=True, usually=False,
                                                 classification=task == "classification", name="inline")
    return assemble("inline", "Inline data", table, np.arange(len(x)), np.arange(len(x), len(x) + len(tx)),
                    features=None, standardize=standardize, scale_targets=scale_targets, activation=output_activation,
                    output_size=output_size, symmetric=False, domain=bounding_box(table.x))


def is_one_hot(y) -> bool:
    """Rows of 0s with a single 1, at least two columns."""
    return y.shape[1] >= 2 and bool(np.isin(y, (0.0, 1.0)).all()) and bool((y.sum(axis=1) == 1).all())


def class_ids(y, n_train, max_classes: int = 64) -> tuple[np.ndarray, tuple[str, ...]]:
    """Inline classification targets -> (class ids (n,), class names): one-hot rows, column k being class k, or
    one column of whole numbers 0 … C−1. The training rows (the first n_train) must hold at least two classes.
    The number of classes is checked against max_classes before anything of that size is built."""
    if y.shape[1] >= 2:
        if not is_one_hot(y):
            raise FieldError("dataset.targets", "For classification, give one-hot target rows (all 0 but a single "
                                                "1, in the column of the row's class) or one column of class ids.")
        labels, n_classes = y.argmax(axis=1), y.shape[1]
        if n_classes > max_classes:
            raise FieldError("dataset.targets", f"One-hot rows of {n_classes} columns make {n_classes} classes, one "
                                                f"output node each, but the cap is {max_classes} nodes a layer.")
    else:
        column = y[:, 0]
        if not (np.all(column == np.round(column)) and column.min() >= 0):
            raise FieldError("dataset.targets", "For classification, a single target column holds class ids: "
                                                "whole numbers 0, 1, 2, …")
        n_classes = int(column.max()) + 1
        if n_classes > max_classes:  # before a class id as large as 1e9 becomes a billion class names
            raise FieldError("dataset.targets", f"Class ids 0 to {n_classes - 1} make {n_classes:,} classes, one "
                                                f"output node each, but the cap is {max_classes} nodes a layer.")
        labels = column.astype(np.int64)
    # One-hot rows say how many classes there are even when the training rows hold one (CS231n's softmax example
    # is a single row); a column of class ids says so only through the ids the training rows hold.
    if y.shape[1] < 2 and len(np.unique(labels[:n_train])) < 2:
        raise FieldError("dataset.targets", "Classification needs at least two classes among the training rows "
                                            "(or one-hot target rows, whose width says how many classes there are).")
    return labels.astype(np.int64), tuple(str(k) for k in range(n_classes))


def check_width(rows, field, max_width):
    """Refuse rows wider than max_width (one network node a column) before they become an array."""
    if isinstance(rows, (list, tuple)):
        widest = max((len(row) for row in rows if isinstance(row, (list, tuple))), default=0)
        if widest > max_width:
            raise FieldError(field, f"A row has {widest} numbers, one network node each, but the cap is "
                                    f"{max_width} nodes a layer.")


def as_matrix(rows, field, width=None):
    """Rows of numbers -> (n, k) float64; with width, k must equal it and an empty list gives (0, width)."""
    try:
        a = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise FieldError(field, "Give a list of rows of numbers, every row the same length.") from None
    if width is not None and a.shape == (0,):
        return a.reshape(0, width)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise FieldError(field, "Give a list of rows of numbers: at least one row with at least one number.")
    if width is not None and a.shape[1] != width:
        raise FieldError(field, f"Each row must have {count(width, 'number')}, like the training rows.")
    if not np.all(np.isfinite(a)):
        raise FieldError(field, "Every value must be a finite number.")
    if np.abs(a).max() > MAX_ABS_VALUE:
        raise FieldError(field, f"Every value must lie within ±{MAX_ABS_VALUE:,.0f}; rescale the data.")
    return a
