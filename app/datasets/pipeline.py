"""build_dataset and inline_dataset: the one way the app gets data to train on."""

import math
import numbers
from dataclasses import dataclass

import numpy as np

from app.engine.errors import FieldError

from . import generators, tables
from .csv_upload import parse_csv
from .dataset import Dataset, prepare
from .encoding import check_regression, encode_classes, encode_targets, output_for_task, target_scaling
from .features import DEFAULT_FEATURES, check_features
from .messages import count, quote
from .registry import DATASETS
from .tables import MAX_ABS_VALUE, Table


@dataclass(frozen=True)
class Limits:
    """Caps on what one request may ask for."""

    max_samples: int = 5000
    max_csv_bytes: int = 1_000_000
    max_columns: int = 64


GENERATORS = {
    "circle": generators.circle,
    "xor": generators.xor,
    "gauss": generators.gauss,
    "spiral": generators.spiral,
    "plane": generators.plane,
    "multi-gauss": generators.multi_gauss,
    "moons": generators.moons,
    "sine": generators.sine,
}
FIXED_TABLES = {"xor-table": tables.xor_table, "mazur": tables.mazur_table, "chain-rule": tables.chain_rule_table,
                "test-score": tables.score_table, "house-price": tables.house_table}
PLANE_DOMAIN = ((-6.0, 6.0), (-6.0, 6.0))  # TF Playground's plotting box


def build_dataset(name: str, *, samples: int | None = None, noise: float = 0.0, train_fraction: float | None = None,
                  seed: int = 1, standardize: bool | None = None, scale_targets: bool | None = None,
                  features: list[str] | None = None, csv: str | bytes | None = None,
                  target_columns: list[str] | None = None, task: str | None = None, output_activation: str | None = None,
                  output_size: int | None = 1, limits: Limits = Limits()) -> Dataset:
    """Generate or load a named data set, shuffle and split it, expand features, standardise, encode targets.

    standardize and scale_targets default to true for data in its own units (a CSV, the house prices) and false
    for the rest (see resolve_scaling); output_activation=None picks one (encoding.output_for_task).
    output_size=None means as many output nodes as the data needs.
    """
    if not isinstance(name, str) or name not in DATASETS:
        shown = f" {quote(name)}" if isinstance(name, str) else ""
        raise FieldError("dataset.name", f"Unknown dataset{shown}; choose one of {', '.join(DATASETS)}.")
    info = DATASETS[name]
    check_options_apply(name, samples=samples, noise=noise, csv=csv, target_columns=target_columns, task=task)
    check_seed(seed)
    fraction = check_fraction(info.default_train_fraction if train_fraction is None else train_fraction)
    if info.takes_features:
        features = check_features(DEFAULT_FEATURES if features is None else features)
    elif features is not None:
        # Records made when every 2-D table took features carry a fixed table's raw inputs as ["x1", "x2"].
        if not (info.dims == 2 and isinstance(features, (list, tuple)) and tuple(features) == DEFAULT_FEATURES):
            raise FieldError("dataset.features", f"Input features (x1, x1_sq, sin_x1, ...) are for the generated "
                                                 f"2-D sets; dataset '{name}' takes its own inputs as they are, "
                                                 "so leave features out.")
        features = None

    if name in GENERATORS:
        n = check_samples(info.default_samples if samples is None else samples, limits.max_samples)
        check_noise(noise)
        rng = np.random.default_rng(seed)
        x, y = GENERATORS[name](n, float(noise), rng)
        target_names = ("class",) if info.task == "classification" else ("y",)
        table = Table(info.input_names, target_names, x, y, classes=info.classes)
        order = rng.permutation(n)
    elif name in FIXED_TABLES:
        table = FIXED_TABLES[name]()
        order = np.arange(len(table.x))  # these tutorials list their rows in a meaningful order
    else:
        if name == "iris":
            table = tables.iris_table()
        elif csv is None:
            raise FieldError("dataset.csv", "Upload a CSV file to use the 'csv' dataset.")
        else:
            table = parse_csv(csv, target_columns or [], task or "regression", limits.max_csv_bytes,
                              limits.max_columns, limits.max_samples)
        order = np.random.default_rng(seed).permutation(len(table.x))

    n_train = split_point(len(order), fraction)
    if name in GENERATORS and info.dims == 2:
        domain = PLANE_DOMAIN
    else:
        domain = bounding_box(table.x)
    standardize, scale_targets = resolve_scaling(standardize, scale_targets, own_units=info.own_units,
                                                 usually=info.own_units, classification=table.classes is not None,
                                                 name=name)
    activation = output_activation or output_for_task(table.classes, info.own_units)
    return assemble(name, info.title, table, order[:n_train], order[n_train:], features=features,
                    standardize=standardize, scale_targets=scale_targets, activation=activation,
                    output_size=output_size, symmetric=info.symmetric_targets, domain=domain)


def check_options_apply(name, *, samples=None, noise=0.0, csv=None, target_columns=None, task=None) -> None:
    """FieldError naming the first data option that would have no effect on the named set: samples and noise
    (generated sets only), csv and target_columns (the csv set only), a task other than the set's own."""
    info = DATASETS[name]
    if info.fixed and samples is not None:
        rows = f"the rows of its file" if name in ("csv", "iris") else count(info.default_samples, "fixed row")
        raise FieldError("dataset.samples", f"Dataset '{name}' has {rows}; samples is for the generated sets, so "
                                            "leave it out.")
    if info.fixed and noise not in (None, 0):
        raise FieldError("dataset.noise", f"Dataset '{name}' is a fixed table, taken as it is; noise is for the "
                                          "generated sets, so leave it out.")
    if name != "csv" and csv is not None:
        raise FieldError("dataset.csv", f"A CSV is the data of dataset 'csv', but this request names '{name}', which "
                                        "has its own rows: leave out the name (or give 'csv'), or leave out csv.")
    if name != "csv" and target_columns is not None:
        raise FieldError("dataset.target_columns", f"target_columns picks a CSV's columns to predict; dataset "
                                                   f"'{name}' has its own targets, so leave it out.")
    if info.task is not None and task is not None and task != info.task:
        raise FieldError("dataset.task", f"Dataset '{name}' is {info.task}, so it cannot be trained as {task}; "
                                         "task is for CSV and inline data.")


# What each data option would do that inline rows do for themselves (inline_dataset).
INLINE_OWN = {
    "train_fraction": "the rows are split as given (training rows in inputs, test rows in test_inputs)",
    "samples": "the rows are those given",
    "noise": "the rows are taken as they are",
    "seed": "the rows are neither generated nor shuffled",
    "features": "the rows are the network's inputs as they are",
    "csv": "the rows are given as inputs and targets",
    "target_columns": "the targets are given as targets",
}


def check_inline_options(**options) -> None:
    """FieldError naming the first data option given beside inline rows (None, or a noise of 0, is not given)."""
    for name, why in INLINE_OWN.items():
        value = options.get(name)
        if value is not None and not (name == "noise" and value == 0):
            raise FieldError(f"dataset.{name}", f"{name} has no effect on inline rows: {why}; leave it out.")


def resolve_scaling(standardize, scale_targets, *, own_units, usually, classification, name) -> tuple[bool, bool]:
    """Whether to standardise the inputs and to scale the targets, defaults resolved; `usually` is the default
    of standardize.

    Data in its own units (a CSV, the house prices, inline rows) scales its targets as it standardises its
    inputs; the CSV and the house prices standardise by default, inline rows do not (worked examples need their
    exact numbers). The other named sets keep their targets, which already suit the outputs. Class labels are
    never scaled.
    """
    if standardize is None:
        standardize = usually
    if classification:
        if scale_targets:
            raise FieldError("dataset.scale_targets", f"Dataset '{name}' is classification: its targets are classes, "
                                                      "which are never scaled; leave scale_targets out.")
        return standardize, False
    if scale_targets is None:
        scale_targets = standardize and own_units
    return standardize, scale_targets


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


def feature_names(features, input_names) -> list[str]:
    """The network's input columns: a feature that passes a raw input on as it is ("x1") goes by that input's
    own name ("i1" in Mazur's table, "hours_studied" in the test-score one)."""
    if features is None:
        return list(input_names)
    plain = {f"x{k + 1}": name for k, name in enumerate(input_names)}
    return [plain.get(f, f) for f in features]


def assemble(name, title, table, train_idx, test_idx, *, features, standardize, scale_targets, activation,
             output_size, symmetric, domain):
    """Split table rows by index, build network inputs and encoded targets, and wrap them in a Dataset."""
    raw_train, raw_test = table.x[train_idx], table.x[test_idx]
    input_scale = None
    mean = std = None
    if standardize:
        x = prepare(raw_train, input_scale, features, None, None)
        mean = x.mean(axis=0)
        std = np.where(x.max(axis=0) > x.min(axis=0), x.std(axis=0), 1.0)  # constant columns are only centred

    classes = list(table.classes) if table.classes is not None else None
    scaling = {}
    if classes is not None:
        train_y = encode_classes(table.y[train_idx], len(classes), activation, output_size, name)
        test_y = encode_classes(table.y[test_idx], len(classes), activation, output_size, name)
        target_names = list(table.target_names) if train_y.shape[1] == 1 else classes
    else:
        raw_train_y, raw_test_y = table.y[train_idx], table.y[test_idx]
        check_regression(raw_train_y, activation, output_size, name)
        kind, shift, spread = target_scaling(raw_train_y, activation, symmetric, scale_targets)
        train_y, test_y = encode_targets(raw_train_y, shift, spread), encode_targets(raw_test_y, shift, spread)
        target_names = list(table.target_names)
        scaling = dict(raw_train_y=raw_train_y, raw_test_y=raw_test_y, target_scaling=kind, target_shift=shift,
                       target_spread=spread)

    return Dataset(
        name=name,
        title=title,
        task="classification" if classes is not None else "regression",
        train_x=prepare(raw_train, input_scale, features, mean, std),
        train_y=train_y,
        test_x=prepare(raw_test, input_scale, features, mean, std),
        test_y=test_y,
        raw_train_x=raw_train,
        raw_test_x=raw_test,
        train_labels=table.y[train_idx] if classes is not None else None,
        test_labels=table.y[test_idx] if classes is not None else None,
        classes=classes,
        input_names=list(table.input_names),
        feature_names=feature_names(features, table.input_names),
        target_names=target_names,
        domain=domain,
        input_scale=input_scale,
        features=features,
        mean=mean,
        std=std,
        hidden_names=table.hidden_names,
        numbered_weights=table.numbered_weights,
        unit=table.unit,
        output_activation=activation,
        **scaling,
    )


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_seed(seed):
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise FieldError("dataset.seed", "The seed must be a whole number, 0 or more.")


def check_samples(samples, max_samples):
    if not isinstance(samples, numbers.Integral) or isinstance(samples, bool) or not 2 <= samples <= max_samples:
        raise FieldError("dataset.samples", f"The number of samples must be a whole number from 2 to {max_samples:,}.")
    return int(samples)


def check_noise(noise):
    if not is_number(noise) or not 0 <= noise <= 1:
        raise FieldError("dataset.noise", "Noise must be a number from 0 to 1.")


def check_fraction(fraction):
    if not is_number(fraction) or not 0 < fraction <= 1:
        raise FieldError("dataset.train_fraction", "The training fraction must be more than 0 and at most 1.")
    return float(fraction)


def split_point(n, fraction):
    """Training rows: floor(n * fraction), at least 1."""
    n_train = math.floor(n * fraction + 1e-9)  # so 0.29 * 100 gives 29, not 28
    if n_train < 1:
        raise FieldError("dataset.train_fraction", f"A training fraction of {fraction:g} leaves no training rows "
                                                   f"out of {n}; use at least {1 / n:.3g}.")
    return n_train


def bounding_box(x):
    """The rows' bounding box padded 10% per side, for 2-D raw inputs (n, 2); None otherwise."""
    if x.shape[1] != 2 or len(x) == 0:
        return None
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.where(hi > lo, 0.1 * (hi - lo), 0.5)  # a single point still gets a box around it
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


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
