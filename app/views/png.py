"""A minimal PNG encoder (zlib from the standard library) for heatmaps sent as data: URIs.

These images are re-sent on every step, so speed counts more than size: level 1 by default (level 6 costs more
time than it saves bytes). Level 0 (stored) is written without zlib's set-up, which is most of the cost of a tiny
image; the nodes' pictures were sixteen-by-sixteen images of their own until they became one column, now at level 1.
"""
import base64
import struct
import zlib

import numpy as np


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# Up to this size zlib.compress(data, 0) is one stored block, which _stored writes without zlib's set-up
# (its window and hash tables: most of the cost of a 16 x 16 picture, bench/README.md). Same bytes.
STORED_MAX = 16384
_IEND = _chunk(b"IEND", b"")


def _stored(data: bytes) -> bytes:
    """zlib.compress(data, 0) for len(data) <= STORED_MAX: header, one final stored block, Adler-32."""
    n = len(data)
    return b"\x78\x01\x01" + struct.pack("<HH", n, n ^ 0xFFFF) + data + struct.pack(">I", zlib.adler32(data))


def _png(rows: np.ndarray, width: int, level: int) -> bytes:
    """rows: (height, 1 + width * 3) uint8, each a filter byte then its pixels -> PNG bytes."""
    data = rows.tobytes()
    idat = _stored(data) if level == 0 and len(data) <= STORED_MAX else zlib.compress(data, level)
    header = struct.pack(">IIBBBBB", width, rows.shape[0], 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _IEND


def _filtered_rows(pixels: np.ndarray) -> np.ndarray:
    """(..., height, width, 3) -> (..., height, 1 + width * 3): filter type 0 before each row."""
    *lead, height, width, _ = pixels.shape
    rows = np.zeros((*lead, height, 1 + width * 3), np.uint8)
    rows[..., 1:] = pixels.reshape(*lead, height, width * 3)
    return rows


def encode_png(pixels: np.ndarray, level: int = 1) -> bytes:
    """pixels: (height, width, 3) uint8, top row first -> PNG bytes, compressed at zlib `level`."""
    return _png(_filtered_rows(pixels), pixels.shape[1], level)


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def data_uri(pixels: np.ndarray, level: int = 1) -> str:
    return _uri(encode_png(pixels, level))
