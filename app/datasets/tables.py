"""Small fixed tables: the XOR truth table, Mazur's worked example, the chain-rule example, the test-score tutorial,
iris."""

import csv
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

# The largest magnitude a value of the user's own data (CSV or inline rows) may have. Far beyond any real
# measurement in these units, and small enough that squares, sums and the plots' ranges stay finite.
MAX_ABS_VALUE = 1e9


@dataclass(frozen=True, eq=False)
class Table:
    """Raw rows: x (n, d) float64; y (n, T) float64 targets, or (n,) int class ids when classes is set."""

    input_names: tuple[str, ...]
    target_names: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...] | None = None
    # A worked example's own names for its network: hidden nodes per hidden layer (used when the network has those
    # layers), and whether its weights are numbered w1, w2, ... (target by target, layer by layer).
    hidden_names: tuple[tuple[str, ...], ...] = ()
    numbered_weights: bool = False
    unit: str = ""  # the targets' unit: "$" for dollars


def xor_table():
    """The four rows of XOR: x (4, 2), classes (4,)."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return Table(("x1", "x2"), ("x1 xor x2",), x, y, classes=("0", "1"))


def mazur_table():
    """Matt Mazur's step-by-step backprop example: x (1, 2), targets (1, 2)."""
    x = np.array([[0.05, 0.10]], dtype=np.float64)
    y = np.array([[0.01, 0.99]], dtype=np.float64)
    return Table(("i1", "i2"), ("o1", "o2"), x, y, hidden_names=(("h1", "h2"),), numbered_weights=True)


def chain_rule_table():
    """One row for the chain rule through a 2-3-1 network with identity activations: x (1, 2), target (1, 1).

    The article has no numbers, so these are small round ones. Its hidden nodes a²₁, a²₂, a²₃ are h1, h2, h3."""
    x = np.array([[1.0, 2.0]], dtype=np.float64)
    y = np.array([[1.0]], dtype=np.float64)
    return Table(("x1", "x2"), ("y",), x, y, hidden_names=(("h1", "h2", "h3"),))


def score_table():
    """Hours studied and slept -> test score: x (3, 2) raw hours, as the tutorial's forward pass uses them,
    targets (3, 1) as score / 100. Its hidden nodes are h1, h2, h3."""
    x = np.array([[2, 9], [1, 5], [3, 6]], dtype=np.float64)
    y = np.array([[92], [86], [89]], dtype=np.float64) / 100
    return Table(("hours_studied", "hours_slept"), ("test_score",), x, y, hidden_names=(("h1", "h2", "h3"),))


IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def iris_table():
    """Fisher's iris flowers from iris.csv: x (150, 4) in cm, classes (150,) of 3."""
    text = resources.files(__package__).joinpath("iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], [r for r in rows[1:] if r]
    x = np.array([[float(v) for v in r[:4]] for r in body], dtype=np.float64)
    y = np.array([IRIS_CLASSES.index(r[4].removeprefix("Iris-")) for r in body], dtype=np.int64)
    return Table(tuple(header[:4]), (header[4],), x, y, classes=IRIS_CLASSES)


def house_table():
    """Twelve houses in dollars (seed 003's example: a house worth $100,000): size in m² and rooms -> price.

    price = $20,000 + $1,000 per m² + $5,000 per room, give or take up to $5,000. The first house is worth
    exactly $100,000, and the mean price is exactly $150,000: the guess of a network whose output weights and
    bias are zero, so the first step predicts $150,000 for it.
    """
    rows = [(70, 2, 100_000), (120, 3, 158_000), (95, 2, 123_000), (150, 4, 194_000), (60, 1, 84_000),
            (180, 5, 220_000), (110, 3, 147_000), (85, 2, 116_000), (140, 4, 177_000), (200, 5, 249_000),
            (75, 2, 103_000), (95, 3, 129_000)]
    values = np.array(rows, dtype=np.float64)
    return Table(("size_m2", "rooms"), ("price",), values[:, :2], values[:, 2:], unit="$")
