"""TF Playground's diverging, colourblind-safe scale: orange for negative, grey near zero, blue for positive."""
import numpy as np

NEGATIVE = np.array([0xF5, 0x93, 0x22], dtype=np.float64)
NEUTRAL = np.array([0xE8, 0xEA, 0xEB], dtype=np.float64)
POSITIVE = np.array([0x08, 0x77, 0xBD], dtype=np.float64)


def rgb(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (clipped) -> uint8 RGB, shape values.shape + (3,)."""
    v = np.clip(np.asarray(values, dtype=np.float64), -1.0, 1.0)[..., None]
    end = np.where(v < 0, NEGATIVE, POSITIVE)
    return np.rint(NEUTRAL + (end - NEUTRAL) * np.abs(v)).astype(np.uint8)


def hex_color(value: float) -> str:
    """One value in [-1, 1] (clipped) -> "#rrggbb"; plain Python, as it runs for every edge and node."""
    v = min(max(float(value), -1.0), 1.0)
    end = NEGATIVE if v < 0 else POSITIVE
    r, g, b = (round(float(n + (e - n) * abs(v))) for n, e in zip(NEUTRAL, end))
    return f"#{r:02x}{g:02x}{b:02x}"


def display_range(values: np.ndarray, activation: str) -> np.ndarray:
    """Map an activation's outputs onto [-1, 1] for colouring: sigmoid/softmax's (0, 1) is stretched."""
    if activation in ("sigmoid", "softmax"):
        return 2.0 * values - 1.0
    return values
