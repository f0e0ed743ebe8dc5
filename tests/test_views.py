import zlib

import numpy as np
import pytest

from app.api.schemas import CreateSession
from app.core.session import build_session
from app.views import metrics, network, output, shown
from app.views.colors import hex_color, rgb
from app.views.numbers import exact, short_label, significant, six_digits, value_and_text
from app.views.png import encode_png

MAZUR = CreateSession(
    layers=[2, 2, 2], hidden_activation="sigmoid", output_activation="sigmoid", learning_rate=0.5, batch_size=1,
    train_biases=False, weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    biases=[[0.35, 0.35], [0.60, 0.60]], dataset={"name": "mazur"})


def test_diverging_scale_is_tf_playgrounds():
    assert [hex_color(v) for v in (-1, 0, 1, -7, 7)] == ["#f59322", "#e8eaeb", "#0877bd", "#f59322", "#0877bd"]
    assert rgb(np.array([0.5])).tolist() == [[round((0xE8 + 0x08) / 2), round((0xEA + 0x77) / 2),
                                              round((0xEB + 0xBD) / 2)]]


@pytest.mark.parametrize("level", [0, 1])
def test_png_encoder_round_trips_pixels(level):
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    png = encode_png(pixels, level)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    idat = png[png.index(b"IDAT") + 4: png.index(b"IEND") - 8]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(2, 1 + 9)
    assert (rows[:, 0] == 0).all() and (rows[:, 1:].reshape(2, 3, 3) == pixels).all()


def test_short_label_rounds_for_display_only():
    assert short_label(0.59326999) == "0.5933" and short_label(None) == "–"
    assert short_label(5.8e-5) == "5.80e-05" and short_label(0.1) == "0.1" and short_label(2.0) == "2"
    assert short_label(0.59326999, 6) == "0.59327" and short_label(-12345.6) == "-1.23e+04"
    assert short_label(0.0) == "0" and short_label(-0.0) == "-0" and short_label(1e-3, 3) == "0.001"


def test_exact_reads_back_as_the_same_float():
    for v in (0.1 + 0.2, -1e-300, 5e-324, 123456789.123, np.float64(0.593269992110187)):
        assert float(exact(v)) == v and exact(v) == repr(float(v))
    assert exact(None) == "" and exact(np.float64(2)) == "2.0"


def test_six_digits_and_the_inspectors_value_and_text():
    assert six_digits(0.593269992) == "0.59327" and six_digits(2.0) == "2" and six_digits(1.5e-7) == "1.5e-07"
    assert six_digits(np.float64(-0.298371109)) == "-0.298371"
    n = value_and_text(np.float64(-2.5e-5))
    assert n == {"value": -2.5e-5, "text": "−2.5×10⁻⁵"} and type(n["value"]) is float
    assert significant(0.123456789, 3) == "0.123" and significant(float("nan")) == "NaN"
    assert significant(-float("inf")) == "−∞"


def test_diagram_before_any_step_has_weights_but_no_pass_values():
    d = network.build(build_session(MAZUR), None, False)
    assert d.step == 0 and len(d.nodes) == 6 and len(d.edges) == 8
    assert all(n.activation is None and n.delta is None for n in d.nodes)
    assert "No step yet" in d.caption
    edge = next(e for e in d.edges if e.id == "edge-1-0-0")
    assert (edge.weight, edge.grad, edge.color) == (0.40, None, hex_color(0.40))


def test_diagram_after_mazur_step_carries_the_engines_numbers():
    session = build_session(MAZUR)
    session.train(1)
    d = network.build(session, session.display or shown.from_step(session), session.detailed)
    nodes = {n.id: n for n in d.nodes}
    edges = {e.id: e for e in d.edges}
    assert nodes["node-1-0"].activation == pytest.approx(0.593269992, abs=1e-9)
    assert nodes["node-2-0"].delta == pytest.approx(0.138498562, abs=1e-9)
    assert nodes["node-0-0"].delta is None and nodes["node-1-0"].bias == 0.35
    w5 = edges["edge-1-0-0"]  # h1 -> o1
    assert w5.weight == pytest.approx(0.35891648, abs=1e-8)
    assert w5.grad == pytest.approx(0.082167041, abs=1e-9)
    assert w5.change == pytest.approx(-0.5 * 0.082167041, abs=1e-9)
    assert 1.0 < w5.width <= network.MAX_EDGE_WIDTH
    assert sum(e.changed for e in d.edges) >= 1
    assert "training row #0 (i1 = 0.05, i2 = 0.1)" in d.caption
    assert d.nodes[0].heatmap is not None and d.nodes[0].heatmap.startswith("data:image/png;base64,")


def test_output_view_depends_on_the_data():
    assert output.build(build_session(CreateSession()))["kind"] == "boundary"
    assert output.build(build_session(CreateSession(dataset={"name": "sine"})))["kind"] == "curve"
    assert output.build(build_session(CreateSession(dataset={"name": "iris"})))["kind"] == "scatter"


def test_metrics_report_accuracy_for_classification_only():
    m = metrics.build(build_session(CreateSession()))
    assert m["step"] == 0 and 0 <= m["train_accuracy"] <= 1 and m["batch_loss"] is None
    assert metrics.build(build_session(CreateSession(dataset={"name": "sine"})))["train_accuracy"] is None


def test_the_narration_names_the_biggest_change_even_when_only_biases_moved():
    from app.views import shown

    s = build_session(MAZUR)
    s.train(1)
    assert shown.from_step(s).narration.endswith("The biggest change: the weight h1.2 → o1 went down by 0.0413338, "
                                                 "from 0.45 to 0.408666.")  # Mazur's w6
    # All-zero weights: tanh(0) = 0 hides every input, so only the biases get a gradient.
    s = build_session(CreateSession(init="zeros"))
    s.train(1)
    words = shown.from_step(s).narration
    assert "No weight changed; the biggest change: the bias of " in words and " went " in words, words
    frozen = build_session(CreateSession(init="zeros", train_biases=False))
    frozen.train(1)
    assert shown.from_step(frozen).narration.endswith("No weight or bias changed.")
