"""TF Playground's diverging, colourblind-safe scale: orange for negative, grey near zero, blue for positive."""
import numpy as np

NEGATIVE = np.array([0xF5, 0x93, 0x22], dtype=np.float64)
NEUTRAL = np.array([0xE8, 0xEA, 0xEB], dtype=np.float64)
POSITIVE = np.array([0x08, 0x77, 0xBD], dtype=np.float64)

# The same numbers as Python floats: end - neutral per channel is exact (small integers), so
# neutral + (end - neutral) * |v| below gives bit for bit what the arrays above give.
_NEUTRAL = tuple(float(n) for n in NEUTRAL)
_TO_NEGATIVE = tuple(float(e - n) for e, n in zip(NEGATIVE, NEUTRAL))
_TO_POSITIVE = tuple(float(e - n) for e, n in zip(POSITIVE, NEUTRAL))
_HEX = [f"{i:02x}" for i in range(256)]  # a table: formatting three ints with "02x" cost more than the rest


def rgb(values: np.ndarray) -> np.ndarray:
    """Values in [-1, 1] (clipped) -> uint8 RGB, shape values.shape + (3,).

    Each channel is rint(neutral + (end - neutral) * |v|), end the negative colour where v < 0, else the
    positive one; computed one channel at a time on 1-D temporaries (faster than broadcasting to (..., 3):
    bench/README.md), with the same floating-point operations in the same order, so the same pixels.
    """
    v = np.clip(np.asarray(values, dtype=np.float64), -1.0, 1.0)
    negative = v < 0
    magnitude = np.abs(v)
    out = np.empty(v.shape + (3,))
    for c in range(3):
        channel = np.where(negative, _TO_NEGATIVE[c], _TO_POSITIVE[c])
        channel *= magnitude
        channel += _NEUTRAL[c]
        out[..., c] = channel
    np.rint(out, out=out)
    return out.astype(np.uint8)


def hex_color(value: float) -> str:
    """One value in [-1, 1] (clipped) -> "#rrggbb"; plain Python floats, as it runs for every edge and node."""
    v = min(max(float(value), -1.0), 1.0)
    dr, dg, db = _TO_NEGATIVE if v < 0 else _TO_POSITIVE
    nr, ng, nb = _NEUTRAL
    m = abs(v)
    return "#" + _HEX[round(nr + dr * m)] + _HEX[round(ng + dg * m)] + _HEX[round(nb + db * m)]


def finite(values: np.ndarray) -> np.ndarray:
    """np.nan_to_num(values) for a float array, skipping its copy and passes when every value is finite
    (nearly always: the pictures are drawn on every step)."""
    return values if np.isfinite(values).all() else np.nan_to_num(values)


def display_range(values: np.ndarray, activation: str) -> np.ndarray:
    """Map an activation's outputs onto [-1, 1] for colouring: sigmoid/softmax's (0, 1) is stretched."""
    if activation in ("sigmoid", "softmax"):
        return 2.0 * values - 1.0
    return values
