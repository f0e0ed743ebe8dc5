"""A minimal PNG encoder (zlib from the standard library) for heatmaps sent as data: URIs.

These images are re-sent on every step, so speed counts more than size: level 1 by default (level 6 costs more
time than it saves bytes), and level 0 (stored) for tiny images, where zlib's set-up is most of the cost.
"""
import base64
import struct
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels: np.ndarray, level: int = 1) -> bytes:
    """pixels: (height, width, 3) uint8, top row first -> PNG bytes, compressed at zlib `level`."""
    height, width, _ = pixels.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
            + _chunk(b"IEND", b""))


def data_uri(pixels: np.ndarray, level: int = 1) -> str:
    return "data:image/png;base64," + base64.b64encode(encode_png(pixels, level)).decode("ascii")
