"""From a table's rows, split by index, to a Dataset: the network's inputs (features, standardised or not), the
targets encoded for the output, and the defaults of the scaling resolved. build_dataset (pipeline.py) and
inline_dataset (inline.py) both end here."""

import numpy as np

from app.engine.errors import FieldError

from .dataset import Dataset, prepare
from .encoding import check_regression, encode_classes, encode_targets, target_scaling


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


def bounding_box(x):
    """The rows' bounding box padded 10% per side, for 2-D raw inputs (n, 2); None otherwise."""
    if x.shape[1] != 2 or len(x) == 0:
        return None
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.where(hi > lo, 0.1 * (hi - lo), 0.5)  # a single point still gets a box around it
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))
