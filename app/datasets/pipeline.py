"""build_dataset: a named data set (generated, a fixed table, iris or an uploaded CSV) checked, shuffled and split.

Rows given in a request are inline_dataset's (inline.py); both become a Dataset through assembly.py.
"""

import math
import numbers
from dataclasses import dataclass, replace

import numpy as np

from app.engine.errors import FieldError

from . import generators, tables
from .assembly import assemble, bounding_box, resolve_scaling
from .csv_upload import parse_csv
from .dataset import Dataset
from .encoding import output_for_task
from .features import DEFAULT_FEATURES, check_features
from .messages import count, quote
from .registry import DATASETS
from .tables import Table
from .units import check_unit, units_of


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
                  target_columns: list[str] | None = None, task: str | None = None, unit: str | None = None,
                  output_activation: str | None = None,
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
    check_options_apply(name, samples=samples, noise=noise, csv=csv, target_columns=target_columns, task=task,
                        unit=unit)
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
            # Regression targets' unit: as given, else read from their column names (price_usd: dollars).
            given = None if unit is None else check_unit(unit)
            if table.classes is None:
                table = replace(table, unit=units_of(table.target_names) if given is None else given)
            elif given:  # a field that would have no effect is refused
                raise FieldError("dataset.unit", "A unit is for a regression target; this CSV's targets are classes, "
                                                 "which have no unit: leave the unit empty.")
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


def check_options_apply(name, *, samples=None, noise=0.0, csv=None, target_columns=None, task=None,
                        unit=None) -> None:
    """FieldError naming the first data option that would have no effect on the named set: samples and noise
    (generated sets only), csv, target_columns and unit (the csv set only), a task other than the set's own."""
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
    if name != "csv" and unit is not None:
        raise FieldError("dataset.unit", f"unit names a CSV's target unit; dataset '{name}' has its own "
                                         "(or none), so leave it out.")
    if info.task is not None and task is not None and task != info.task:
        raise FieldError("dataset.task", f"Dataset '{name}' is {info.task}, so it cannot be trained as {task}; "
                                         "task is for CSV and inline data.")


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
