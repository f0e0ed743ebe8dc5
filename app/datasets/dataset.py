"""The Dataset a network trains on, and the one function that turns raw inputs into network inputs."""

from dataclasses import dataclass

import numpy as np

from app.engine.errors import FieldError

from .features import expand


def prepare(raw_x, input_scale, features, mean, std):
    """Raw inputs (n, d) -> network inputs (n, F): divide by input_scale, expand features, standardise."""
    x = np.asarray(raw_x, dtype=np.float64)
    if input_scale is not None:
        x = x / input_scale
    if features is not None:
        x = expand(x, features)
    if mean is not None:
        x = (x - mean) / std
    return x


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Split, encoded data: train_x (n, F), train_y (n, K), test_x (m, F), test_y (m, K), all float64."""

    name: str
    title: str
    task: str  # "classification" or "regression"
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    raw_train_x: np.ndarray  # (n, d) before normalisation, features and standardisation
    raw_test_x: np.ndarray
    train_labels: np.ndarray | None  # (n,) int class ids, classification only
    test_labels: np.ndarray | None
    classes: list[str] | None
    input_names: list[str]  # the d raw input columns
    feature_names: list[str]  # the F network input columns
    target_names: list[str]  # the K output columns
    domain: tuple[tuple[float, float], tuple[float, float]] | None  # plotting box for 2-D raw inputs
    input_scale: np.ndarray | None = None
    features: tuple[str, ...] | None = None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None  # zero spreads are stored as 1, so those columns are only centred
    hidden_names: tuple[tuple[str, ...], ...] = ()  # a worked example's own names (app/datasets/tables.py Table)
    numbered_weights: bool = False
    # Regression: the targets in the data's own units, (n, T) and (m, T), and how the network's targets were made
    # from them (app/datasets/encoding.py target_scaling): network = (data − target_shift) / target_spread.
    raw_train_y: np.ndarray | None = None
    raw_test_y: np.ndarray | None = None
    target_scaling: str | None = None  # "standardised", "range", "symmetric", or None: taken as they are
    target_shift: np.ndarray | None = None
    target_spread: np.ndarray | None = None
    unit: str = ""  # the targets' unit, "$" for dollars; "" when they have none
    output_activation: str = "tanh"  # the output activation the targets are encoded for

    @property
    def input_size(self):
        return self.train_x.shape[1]

    @property
    def target_size(self):
        return self.train_y.shape[1]

    def transform(self, raw_x: np.ndarray) -> np.ndarray:
        """New raw inputs (n, d), or one row (d,), -> network inputs (n, F), or (F,)."""
        x = np.asarray(raw_x, dtype=np.float64)
        d = len(self.input_names)
        if x.ndim not in (1, 2) or x.shape[-1] != d:
            raise FieldError("inputs", f"Dataset '{self.name}' takes {d} raw input "
                                       f"{'value' if d == 1 else 'values'} per row ({', '.join(self.input_names)}).")
        if x.ndim == 1:
            return prepare(x[None, :], self.input_scale, self.features, self.mean, self.std)[0]
        return prepare(x, self.input_scale, self.features, self.mean, self.std)

    def to_data(self, outputs: np.ndarray) -> np.ndarray:
        """Network outputs (..., T) -> the data's own units: the inverse of the targets' scaling."""
        if self.target_shift is None:
            return outputs
        return outputs * self.target_spread + self.target_shift

    def __repr__(self):
        return (f"Dataset({self.name!r}, {len(self.train_x)} train + {len(self.test_x)} test, "
                f"{self.input_size} -> {self.target_size})")
