"""Random test problems shared by the engine and inspector tests."""
import numpy as np


def random_targets(rng: np.random.Generator, loss: str, rows: int, k: int) -> np.ndarray:
    """Targets a loss accepts: 0/1 for bce, one-hot for cross-entropy, anything for squared errors."""
    if loss == "bce":
        return rng.integers(0, 2, (rows, k)).astype(float)
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, rows)]
    return rng.normal(0, 1, (rows, k))
