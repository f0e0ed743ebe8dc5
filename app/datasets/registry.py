"""What each named data set is: its title, task, raw inputs, classes and defaults."""

from dataclasses import dataclass

from .tables import IRIS_CLASSES


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of the DATASETS registry."""

    name: str
    title: str
    task: str | None  # None for csv: the upload decides
    input_names: tuple[str, ...]  # empty for csv
    dims: int | None  # number of raw inputs; None for csv
    classes: tuple[str, ...] | None
    fixed: bool  # a fixed table: `samples` is ignored
    default_samples: int | None
    default_train_fraction: float
    symmetric_targets: bool = False  # targets lie in [-1, 1]; moved to [0, 1] for sigmoid or relu outputs
    # Regression targets in the data's own units (dollars, say), far from any output's range: the inputs are
    # standardised and the targets scaled for the network by default (app/datasets/assembly.py resolve_scaling).
    own_units: bool = False

    @property
    def takes_features(self):
        """Input features (x₁², sin x₁, ...) are for the generated 2-D plane sets; a fixed table's inputs are its
        own (Mazur's i1 and i2), taken as they are."""
        return self.dims == 2 and not self.fixed


XY = ("x1", "x2")
TF_CLASSES = ("negative", "positive")  # TF Playground's orange (-1) and blue (+1)


def generated(name, title, task, classes=None, symmetric=False, input_names=XY):
    return DatasetInfo(name, title, task, input_names, len(input_names), classes, fixed=False,
                       default_samples=500, default_train_fraction=0.5, symmetric_targets=symmetric)


DATASETS = {info.name: info for info in [
    generated("circle", "Circle", "classification", TF_CLASSES),
    generated("xor", "Exclusive or", "classification", TF_CLASSES),
    generated("gauss", "Two Gaussians", "classification", TF_CLASSES),
    generated("spiral", "Spiral", "classification", TF_CLASSES),
    generated("plane", "Plane", "regression", symmetric=True),
    generated("multi-gauss", "Multiple Gaussians", "regression", symmetric=True),
    generated("moons", "Two moons", "classification", ("upper moon", "lower moon")),
    generated("sine", "Sine wave", "regression", symmetric=True, input_names=("x",)),
    DatasetInfo("xor-table", "XOR truth table", "classification", XY, 2, ("0", "1"),
                fixed=True, default_samples=4, default_train_fraction=1.0),
    DatasetInfo("mazur", "Mazur's worked example", "regression", ("i1", "i2"), 2, None,
                fixed=True, default_samples=1, default_train_fraction=1.0),
    DatasetInfo("chain-rule", "The chain rule through a linear 2-3-1 network", "regression", XY, 2, None,
                fixed=True, default_samples=1, default_train_fraction=1.0),
    DatasetInfo("test-score", "Test score from hours studied and slept", "regression",
                ("hours_studied", "hours_slept"), 2, None, fixed=True, default_samples=3, default_train_fraction=1.0),
    DatasetInfo("house-price", "House prices in dollars", "regression", ("size_m2", "rooms"), 2, None, fixed=True,
                default_samples=12, default_train_fraction=1.0, own_units=True),
    DatasetInfo("iris", "Iris flowers", "classification",
                ("sepal_length", "sepal_width", "petal_length", "petal_width"), 4, IRIS_CLASSES,
                fixed=True, default_samples=150, default_train_fraction=0.7),
    DatasetInfo("csv", "Uploaded CSV", None, (), None, None, fixed=True, default_samples=None,
                default_train_fraction=0.8, own_units=True),
]}
