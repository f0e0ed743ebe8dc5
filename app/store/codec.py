"""Bytes for storage: JSON in which float64 arrays travel as base64 of their exact bytes."""
import base64
import json

import numpy as np


def _default(value):
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value, dtype="<f8")
        return {"__f8__": base64.b64encode(data.tobytes()).decode(), "shape": list(value.shape)}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def _hook(obj: dict):
    if "__f8__" in obj:
        return np.frombuffer(base64.b64decode(obj["__f8__"]), dtype="<f8").reshape(obj["shape"]).copy()
    return obj


def pack(obj) -> bytes:
    return json.dumps(obj, default=_default, separators=(",", ":")).encode()


def unpack(data: bytes | str):
    return json.loads(data, object_hook=_hook)


def pack_points(points: list[tuple]) -> bytes:
    """Loss-curve points (step, train, test, train accuracy, test accuracy), None stored as NaN."""
    return points_array(points).tobytes()


def unpack_points(chunks: list[bytes]) -> list[tuple]:
    if not chunks:
        return []
    return array_points(np.frombuffer(b"".join(chunks), dtype="<f8"))


def points_array(points: list[tuple]) -> np.ndarray:
    """Loss-curve points as an (n, 5) array, None as NaN; array_points turns it back."""
    return np.array([[_nan_for_none(v) for v in p] for p in points], dtype="<f8").reshape(-1, 5)


def array_points(rows: np.ndarray) -> list[tuple]:
    return [(int(r[0]), *(None if v != v else float(v) for v in r[1:])) for r in rows.reshape(-1, 5).tolist()]


def _nan_for_none(value):
    return float("nan") if value is None else value
