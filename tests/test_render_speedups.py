"""The faster ways the views draw give exactly what the slower ones gave: the same numbers and bytes. (The diagram's
markup is tested for what it means in test_views.py.)"""
import os
import zlib

import numpy as np
import pytest
from markupsafe import escape

from app.api.schemas import CreateSession
from app.core.session import build_session
from app.views import network
from app.views.colors import _NEUTRAL, _TO_NEGATIVE, _TO_POSITIVE, hex_color
from app.views.numbers import short_label
from app.views.png import STORED_MAX, _stored, encode_png


@pytest.mark.parametrize("size", [0, 1, 49, 16 * 49, 64 * 193, STORED_MAX])
def test_stored_deflate_is_zlibs_level_0(size):
    data = os.urandom(size)
    assert _stored(data) == zlib.compress(data, 0)


def test_png_bytes_do_not_depend_on_the_image_layout():
    pixels = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    strided = np.repeat(pixels, 2, axis=1)[:, ::2]  # the same pixels, not contiguous
    assert encode_png(strided, 0) == encode_png(pixels, 0)
    assert zlib.decompress(encode_png(pixels, 0)[41:-16]) == zlib.decompress(encode_png(pixels, 1)[41:-16])


def test_column_means_are_numpys():
    rng = np.random.default_rng(3)
    for shape in ((1, 3), (10, 4), (7, 1), (4096, 2), (33, 5)):
        a = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
        assert network._column_means(a).tobytes() == a.mean(axis=0).tobytes()


def _old_fmt(value, digits=4):
    if value is None:
        return "–"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f"{value:.2e}"
    text = format(value, f".{digits}f")
    return text.rstrip("0").rstrip(".") if "." in text else f"{value}"


def _old_hex(value):
    v = min(max(float(value), -1.0), 1.0)
    to_end = _TO_NEGATIVE if v < 0 else _TO_POSITIVE
    r, g, b = (round(n + d * abs(v)) for n, d in zip(_NEUTRAL, to_end))
    return f"#{r:02x}{g:02x}{b:02x}"


def test_labels_and_colours_are_unchanged():
    rng = np.random.default_rng(4)
    values = [0.0, -0.0, 1e-3, -1e-3, 9.99999e3, 1e4, float("nan"), float("inf"), -float("inf"), 0.5, -0.5, 1.0]
    values += (rng.normal(size=3000) * 10.0 ** rng.integers(-6, 6, size=3000)).tolist()
    for v in values:
        for digits in (3, 4, 6):
            assert short_label(v, digits) == _old_fmt(v, digits)
        if v == v:
            assert hex_color(v) == _old_hex(v)


def test_the_contexts_lazy_config_and_setup_link_are_the_sessions():
    from app.web.render import context
    from app.web.setup_links import session_query

    session = build_session(CreateSession(seed=9, learning_rate=0.1))
    session.train(3)
    ctx = context(session, loss_points=[])
    assert dict(ctx["cfg"]) == session.config() and ctx["cfg"]["dataset"] == session.config()["dataset"]
    assert str(ctx["setup_url"]) == "/?" + session_query(session)
    assert ctx["setup_url"].__html__() == str(escape("/?" + session_query(session)))
    assert ctx["shape"]["hidden"] == session.config()["layers"][1:-1]
    assert ctx["loss_curve"]["loss"] == session.config()["loss"]


@pytest.mark.parametrize("level", [0, 1])
def test_many_pictures_at_once_are_each_alone(level):
    from app.views.png import data_uri, data_uris

    pixels = np.random.default_rng(5).integers(0, 256, (256, 7, 3), dtype=np.uint8)
    stack = pixels.transpose(1, 0, 2).reshape(-1, 16, 16, 3)
    assert data_uris(stack, level) == [data_uri(pixels[:, k].reshape(16, 16, 3), level) for k in range(7)]


def test_finite_is_nan_to_num():
    from app.views.colors import finite

    for values in (np.array([0.5, -0.0, 1e300]), np.array([[np.nan, 1.0], [np.inf, -np.inf]])):
        assert finite(values).tobytes() == np.nan_to_num(values).tobytes()
