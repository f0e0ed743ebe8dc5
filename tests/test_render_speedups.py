"""The faster ways the views draw give exactly what the slower ones gave: the same markup, numbers and bytes."""
import os
import zlib

import numpy as np
import pytest
from jinja2 import Environment
from markupsafe import escape

from app.api.schemas import CreateSession
from app.core.session import build_session
from app.views import network
from app.views.colors import _NEUTRAL, _TO_NEGATIVE, _TO_POSITIVE, hex_color
from app.views.numbers import short_label
from app.views.png import STORED_MAX, _stored, encode_png
from app.views.shown import from_forward, from_phase, from_step

MAZUR = CreateSession(
    layers=[2, 2, 2], hidden_activation="sigmoid", output_activation="sigmoid", learning_rate=0.5, batch_size=1,
    train_biases=False, weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    biases=[[0.35, 0.35], [0.60, 0.60]], dataset={"name": "mazur"})

# The loop templates/partials/network.html drew the edges and nodes with before network.edges_svg and
# network.nodes_svg took it over, in its {% autoescape false %} block.
OLD_LOOPS = """    {% for e in d.edges %}
      <g id="{{ e.id }}" class="edge{% if e.changed %} changed{% endif %}" tabindex="0" role="img" aria-label="{{ e.description | e }}"
         data-layer="{{ e.layer }}" data-from="{{ e.source }}" data-to="{{ e.target }}"
         data-weight="{{ e.weight | full }}" data-grad="{{ e.grad | full }}" data-change="{{ e.change | full }}">
        <title>{{ e.description | e }}</title>
        {% if e.changed %}<path class="halo" d="{{ e.path }}" stroke-width="{{ e.width + 7 }}"/>{% endif %}
        <path class="hit" d="{{ e.path }}"/>
        <path class="line" d="{{ e.path }}" stroke="{{ e.color }}" stroke-width="{{ '%.2f' | format(e.width) }}"/>
        <text class="num{% if e.label_always %} always{% endif %}" x="{{ '%.1f' | format(e.label_x) }}" y="{{ '%.1f' | format(e.label_y) }}">{{ e.label }}</text>
      </g>
    {% endfor %}
|
    {% for n in d.nodes %}
      {% set x, y = n.corner %}
      <g id="{{ n.id }}" class="node" tabindex="0" role="img" style="--layer: {{ n.layer }}"
         aria-label="{{ n.description | e }}"
         data-layer="{{ n.layer }}" data-index="{{ n.index }}" data-activation="{{ n.activation | full }}"
         data-delta="{{ n.delta | full }}" data-bias="{{ n.bias | full }}">
        <title>{{ n.description | e }}</title>
        {% if n.heatmap %}
        <image href="{{ n.heatmap }}" x="{{ x }}" y="{{ y }}" width="34" height="34" preserveAspectRatio="none"/>
        {% else %}
        <rect x="{{ x }}" y="{{ y }}" width="34" height="34" rx="4" class="plain"/>
        {% endif %}
        <rect class="ring" x="{{ x - 2 }}" y="{{ y - 2 }}" width="38" height="38" rx="5"
              stroke="{{ n.ring_color }}" stroke-width="{{ '%.2f' | format(n.ring_width) }}"/>
        {% if n.layer == 0 %}
        <text class="node-name left" x="{{ x - 8 }}" y="{{ y + 21 }}">{{ n.name | e }}</text>
        {% elif loop.revindex <= d.columns[-1].size %}
        <text class="node-name right" x="{{ x + 44 }}" y="{{ y + 21 }}">{{ n.name | e }}</text>
        {% endif %}
        {% for cls, text in n.lines %}<text class="{{ cls }}" x="{{ n.x }}" y="{{ y + 47 + 11 * loop.index0 }}">{{ text }}</text>
        {% endfor %}
      </g>
    {% endfor %}
    """


def old_loops(diagram) -> str:
    env = Environment(autoescape=False)
    env.filters["full"] = lambda v: "" if v is None else repr(float(v))
    return env.from_string(OLD_LOOPS).render(d=diagram)


def new_loops(diagram) -> str:
    # The template puts each inside "    {{ ... }}\n"; the old loops began and ended with that indentation.
    return f"    {diagram.edges_svg}\n|\n    {diagram.nodes_svg}\n    "


def sessions():
    """Diagrams of every kind: before a step, after steps, each phase of a detailed step, a prediction, no
    heatmaps (1-D data), a one-hot output layer."""
    fresh = build_session(CreateSession(seed=5))
    yield fresh
    stepped = build_session(CreateSession(seed=5, hidden_activation="relu", output_activation="sigmoid",
                                          loss="bce"))
    stepped.train(7)
    yield stepped
    mazur = build_session(MAZUR)
    mazur.detailed = True
    mazur.train(1)
    yield mazur
    trace = mazur.trainer.propose().trace
    for phase, layer in (("forward", None), ("loss", None), ("backward", 1), ("backward", 0), ("update", None)):
        mazur.display = from_phase(mazur, phase, layer, trace)
        yield mazur
    mazur.display = from_forward(mazur, "predict", np.array([[0.3, -1.2]]), "x")
    yield mazur
    sine = build_session(CreateSession(dataset={"name": "sine"}))
    sine.train(3)
    yield sine
    iris = build_session(CreateSession(dataset={"name": "iris"}, output_activation="softmax", loss="cross_entropy"))
    iris.train(2)
    yield iris


def test_the_diagrams_markup_is_what_the_template_loop_drew():
    for session in sessions():
        d = network.build(session, session.display or from_step(session), session.detailed)
        assert new_loops(d) == old_loops(d)


def test_names_are_escaped_as_the_template_escaped_them(monkeypatch):
    odd = ["a<b", 'q"&\'']

    def names(session):
        sizes = session.trainer.net.sizes
        return [[odd[j % 2] + str(j) for j in range(n)] for n in sizes]

    monkeypatch.setattr(network, "node_names", names)
    session = build_session(CreateSession(seed=2))
    session.train(2)
    d = network.build(session, session.display or from_step(session), session.detailed)
    markup = new_loops(d)
    assert markup == old_loops(d) and "a<b" not in markup and str(escape("a<b0")) in markup


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
