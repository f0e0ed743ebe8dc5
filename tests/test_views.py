import base64
import os
import struct
import zlib
from xml.etree import ElementTree

import numpy as np
import pytest

from helpers import mazur_setup
from app.api.schemas import CreateSession
from app.core.session import build_session
from app.views import diagram_layout, metrics, network, node_heatmaps, output, shown
from app.views.colors import hex_color, rgb
from app.views.numbers import exact, short_label, significant, six_digits, value_and_text
from app.views.network_svg import edges_markup, nodes_markup, pictures_markup
from app.views.png import STORED_MAX, _stored, encode_png

MAZUR = CreateSession(**mazur_setup())


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
    d = network.build(session, shown.from_step(session), session.detailed)
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
    assert d.pictures.startswith("data:image/png;base64,")
    assert [n.picture for n in d.nodes] == list(range(len(d.nodes)))  # node k shows the k-th slice


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
    assert shown.from_step(s).narration.endswith("The biggest change: the weight w6 (h2 → o1) went down by 0.0413338, "
                                                 "from 0.45 to 0.408666.")  # Mazur's w6
    # All-zero weights: tanh(0) = 0 hides every input, so only the biases get a gradient.
    s = build_session(CreateSession(init="zeros"))
    s.train(1)
    words = shown.from_step(s).narration
    assert "No weight changed; the biggest change: the bias of " in words and " went " in words, words
    frozen = build_session(CreateSession(init="zeros", train_biases=False))
    frozen.train(1)
    assert shown.from_step(frozen).narration.endswith("No weight or bias changed.")


def svg_of(diagram):
    """The diagram's pictures, edges and nodes as the page holds them, parsed."""
    return ElementTree.fromstring(f'<svg>{pictures_markup(diagram)}<g class="edges">{edges_markup(diagram.edges)}</g>'
                                  f'<g class="nodes">{nodes_markup(diagram.nodes)}</g></svg>')


def mazur_after_a_step(detailed=False):
    session = build_session(MAZUR)
    session.detailed = detailed
    session.train(1)
    return session, session.last_trace


def test_the_diagram_is_one_tab_stop():
    session, _ = mazur_after_a_step()
    svg = svg_of(network.build(session, shown.from_step(session), False))
    stops = [g.get("id") for g in svg.iter() if g.get("tabindex") == "0"]
    assert stops == ["node-0-0"]
    assert len([g for g in svg.iter() if g.get("tabindex") == "-1"]) == 8 + 6 - 1


def test_each_edge_is_drawn_with_its_id_and_the_engines_full_numbers():
    session, trace = mazur_after_a_step()
    d = network.build(session, shown.from_step(session), False)
    net, names = trace.net, shown.node_names(session)
    grads = net.views(trace.pass_.grad)[0]
    before, after = net.views(trace.params_before)[0], net.views(trace.params_after)[0]
    edges = svg_of(d).find("g[@class='edges']")
    assert len(edges) == 8
    for g in edges:
        l, i, j = (int(g.get(k)) for k in ("data-layer", "data-from", "data-to"))
        # The diagram is one tab stop, its first node: edges are reached with the arrow keys.
        assert g.get("id") == f"edge-{l}-{i}-{j}" and g.get("tabindex") == "-1" and g.get("role") == "img"
        # Full floats: the attribute reads back as the engine's number, bit for bit.
        assert g.get("data-weight") == repr(float(after[l][j, i]))
        assert g.get("data-grad") == repr(float(grads[l][j, i]))
        assert g.get("data-change") == repr(float(after[l][j, i] - before[l][j, i]))
        hit, line = g.find("path[@class='hit']"), g.find("path[@class='line']")
        assert hit.get("d") == line.get("d") and line.get("d").startswith("M")
        assert line.get("stroke") == hex_color(after[l][j, i])
        assert g.find("title").text == g.get("aria-label")
        # Mazur's own weight names: w1 … w4 into the hidden layer, w5 … w8 out of it, target by target.
        assert g.get("aria-label").startswith(f"w{4 * l + 2 * j + i + 1}: {names[l][i]} → {names[l + 1][j]}: w = ")
        label = g.find("text")
        assert label.get("class") == "num" and label.text == f"w{4 * l + 2 * j + i + 1} {short_label(float(after[l][j, i]), 3)}"
    w5 = edges.find("g[@id='edge-1-0-0']")
    assert w5.get("aria-label") == ("w5: h1 → o1: w = 0.3589, ∂L/∂w = 0.0822, "
                                    "changed by -0.0411 in the last update")


def test_each_node_is_drawn_with_its_id_picture_ring_name_and_numbers():
    session, trace = mazur_after_a_step()
    d = network.build(session, shown.from_step(session), False)
    p, net = trace.pass_, trace.net
    scale = max(float(np.abs(d.mean(axis=0)).max()) for d in p.delta)  # the largest |δ| gets the darkest ring
    nodes = svg_of(d).find("g[@class='nodes']")
    assert [g.get("id") for g in nodes] == ["node-0-0", "node-0-1", "node-1-0", "node-1-1", "node-2-0", "node-2-1"]
    for g in nodes:
        l, j = int(g.get("data-layer")), int(g.get("data-index"))
        assert g.get("style") == f"--layer: {l}" and g.find("title").text == g.get("aria-label")
        assert g.get("data-activation") == repr(float(p.a[l].mean(axis=0)[j]))
        assert g.get("data-delta") == ("" if l == 0 else repr(float(p.delta[l - 1].mean(axis=0)[j])))
        assert g.get("data-bias") == ("" if l == 0 else repr(float(net.biases[l - 1][j])))
        picture = g.find("rect[@class='picture']")
        assert picture.get("width") == picture.get("height") == "34"
        assert picture.get("fill").startswith("url(#node-pictures-")
        ring = g.find("rect[@class='ring']")
        delta = None if l == 0 else float(p.delta[l - 1].mean(axis=0)[j])
        assert ring.get("stroke") == ("#9aa5b1" if delta is None else hex_color(delta / scale))
        names = g.findall("text[@class]")
        side = {0: "node-name left", 2: "node-name right"}.get(l, "node-name hidden")  # every node is named
        assert [t.get("class") for t in names if t.get("class").startswith("node-name")] == [side]
        numbers = [t.text for t in g.findall("text[@class='lines']/tspan") if t.get("class").startswith("val")]
        assert numbers[0] == f"a {short_label(float(p.a[l].mean(axis=0)[j]), 3)}"
        if l == 2:  # an output shows the row's target
            assert numbers[1] == f"t {short_label(float(trace.targets[0][j]), 3)}"
            assert g.get("data-target") == repr(float(trace.targets[0][j]))
            numbers.pop(1)
        assert len(numbers) == (1 if l == 0 else 3) and (l == 0 or numbers[1].startswith("δ "))
    assert nodes.find("g[@id='node-0-0']/text[@class='node-name left']").text == "i1"  # Mazur's own name
    assert nodes.find("g[@id='node-1-1']/text[@class='node-name hidden']").text == "h2"
    assert nodes.find("g[@id='node-2-1']/text[@class='node-name right']").text == "o2"


def test_no_picture_without_2d_inputs_and_dashes_before_the_first_step():
    session = build_session(CreateSession(dataset={"name": "sine"}))
    nodes = svg_of(network.build(session, None, False)).find("g[@class='nodes']")
    assert nodes.find(".//image") is None and len(nodes.findall(".//rect[@class='plain']")) == len(nodes)
    assert all(g.get("data-activation") == "" and g.find("text[@class='lines']/tspan[@class='val']").text == "a –" for g in nodes)


def test_the_edges_the_update_changed_most_have_a_halo():
    session = build_session(CreateSession(seed=3))
    session.train(2)
    trace = session.last_trace
    d = network.build(session, shown.from_step(session), False)
    change = [after - before for before, after in zip(*(trace.net.views(p)[0] for p in (trace.params_before,
                                                                                           trace.params_after)))]
    biggest = max(float(np.abs(c).max()) for c in change)
    halos = 0
    for g in svg_of(d).find("g[@class='edges']"):
        l, i, j = (int(g.get(k)) for k in ("data-layer", "data-from", "data-to"))
        most = abs(change[l][j, i]) >= 0.6 * biggest
        halo = g.find("path[@class='halo']")
        assert (g.get("class") == "edge changed") == most == (halo is not None)
        if most:
            halos += 1
            line = g.find("path[@class='line']")
            assert halo.get("d") == line.get("d") and float(halo.get("stroke-width")) > float(line.get("stroke-width"))
    assert 1 <= halos < len(d.edges)


def w(e) -> str:
    """Mazur's own name of an edge: w1 … w4 into the hidden layer, w5 … w8 out of it, target by target."""
    return f"w{4 * e.layer + 2 * e.target + e.source + 1}"


def test_the_update_phase_labels_every_edge_old_to_new_and_the_backward_phase_its_gradients():
    session = build_session(MAZUR)
    proposal = session.trainer.propose()
    trace, net = proposal.trace, proposal.trace.net
    d = network.build(session, shown.from_phase(session, "backward", 1, trace), True)
    grads = net.views(trace.pass_.grad)[0]
    for e in d.edges:
        if e.layer == 1:
            # the weight stays in view beside its gradient
            assert e.label == f"{w(e)} {short_label(e.weight, 6)} · ∂ {short_label(float(grads[1][e.target, e.source]), 6)}"
            assert e.label_always
        else:
            assert e.grad is None and e.label == f"{w(e)} {short_label(e.weight, 6)}" and not e.label_always
    d = network.build(session, shown.from_phase(session, "forward", None, trace), True)
    h1 = next(n for n in d.nodes if n.id == "node-1-0")
    assert [cls for cls, _ in h1.lines] == ["val z", "val", "val bias"]
    assert h1.lines[0][1] == f"z {short_label(float(trace.pass_.z[0][0, 0]), 6)}"
    d = network.build(session, shown.from_phase(session, "loss", None, trace), True)
    o1 = next(n for n in d.nodes if n.id == "node-2-0")
    assert [text for cls, text in o1.lines if cls == "val target"] == ["t 0.01", "E 0.274811"]
    session.trainer.commit(proposal)
    d = network.build(session, shown.from_phase(session, "update", None, trace), True)
    for e in d.edges:
        old, new = (float(net.views(p)[0][e.layer][e.target, e.source]) for p in (trace.params_before,
                                                                                     trace.params_after))
        assert e.label == f"{short_label(old, 6)} → {short_label(new, 6)}" and e.label_always
    svg = svg_of(d)
    assert {t.get("class") for t in svg.findall("g[@class='edges']/g/text")} == {"num always"}
    assert svg.find("g[@class='edges']/g[@id='edge-1-0-0']/text").text == "0.4 → 0.358916"  # Mazur's w5
    biases = [t.text for t in svg.findall("g[@class='nodes']/g/text[@class='lines']/tspan[@class='val bias']")]
    assert biases == ["b 0.35", "b 0.35", "b 0.6", "b 0.6"]  # frozen biases: no arrow


def test_hostile_names_are_escaped_everywhere_they_are_drawn(monkeypatch):
    hostile = ['<script>alert(1)</script>', 'say "hi" & \'bye\'']

    def names(session):
        return [[hostile[j % 2] + str(j) for j in range(n)] for n in session.trainer.net.sizes]

    monkeypatch.setattr(diagram_layout, "node_names", names)
    session = build_session(CreateSession(seed=2))
    session.train(2)
    d = network.build(session, shown.from_step(session), False)
    markup = edges_markup(d.edges) + nodes_markup(d.nodes)
    assert "<script>" not in markup and '"hi"' not in markup and "&lt;script&gt;" in markup
    svg = svg_of(d)  # parses: no name broke out of its attribute or element
    assert svg.find("g[@class='nodes']/g[@id='node-0-0']/text[@class='node-name left']").text == hostile[0] + "0"
    assert svg.find("g[@class='nodes']/g[@id='node-0-1']").get("aria-label").startswith(hostile[1] + "1: a = ")
    edge = svg.find("g[@class='edges']/g[@id='edge-0-1-0']")
    assert edge.find("title").text.startswith(f"{hostile[1]}1 → {hostile[0]}0: w = ")


@pytest.mark.parametrize("size", [0, 1, 49, 16 * 49, 64 * 193, STORED_MAX])
def test_stored_deflate_is_zlibs_level_0(size):
    data = os.urandom(size)
    assert _stored(data) == zlib.compress(data, 0)


def test_png_bytes_do_not_depend_on_the_image_layout():
    pixels = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    strided = np.repeat(pixels, 2, axis=1)[:, ::2]  # the same pixels, not contiguous
    assert encode_png(strided, 0) == encode_png(pixels, 0)
    assert zlib.decompress(encode_png(pixels, 0)[41:-16]) == zlib.decompress(encode_png(pixels, 1)[41:-16])


def test_colours_round_to_the_nearest_shade_between_grey_and_each_end():
    # Grey e8eaeb to blue 0877bd, a quarter of the way: (232 - 56, 234 - 28.75, 235 - 11.5) -> 176, 205, 224 (half
    # to even); to orange f59322: (232 + 3.25, 234 - 21.75, 235 - 50.25) -> 235, 212, 185.
    assert hex_color(0.25) == "#b0cde0" and hex_color(-0.25) == "#ebd4b9" and hex_color(-0.0) == "#e8eaeb"
    assert hex_color(float("inf")) == "#0877bd" and hex_color(-2.0) == "#f59322"
    assert rgb(np.array([0.25, -0.25])).tolist() == [[176, 205, 224], [235, 212, 185]]


def test_finite_is_nan_to_num():
    from app.views.colors import finite

    for values in (np.array([0.5, -0.0, 1e300]), np.array([[np.nan, 1.0], [np.inf, -np.inf]])):
        assert finite(values).tobytes() == np.nan_to_num(values).tobytes()


def test_after_back_the_narration_says_the_state_is_restored_not_that_no_step_ran():
    session = build_session(CreateSession())
    session.train(3)
    session.back()
    d = network.build(session, shown.from_step(session), False)
    assert d.narration.startswith("Back at step 2: the weights, biases, optimizer state and loss curve are exactly")
    assert "press Step to compute step 3's" in d.narration and "No step yet" not in d.caption


def test_the_forward_narration_names_every_hidden_layer_and_the_loss_narration_every_output():
    session = build_session(CreateSession())  # 2-4-2-1
    trace = session.trainer.propose().trace
    forward = shown.from_phase(session, "forward", None, trace).narration
    assert "h1.4 = " in forward and "; h2.1 = " in forward and "h2.2 = " in forward
    mazur = build_session(MAZUR)
    loss = shown.from_phase(mazur, "loss", None, mazur.trainer.propose().trace).narration
    assert loss.startswith("Loss: the outputs o1 = 0.751365 (target 0.01), o2 = 0.772928 (target 0.99).")


def _pictures(uri: str) -> np.ndarray:
    """The nodes' pictures (one PNG data URI) as pixels: (rows, 16, rgb)."""
    png = base64.b64decode(uri.split(",", 1)[1])
    width, height = struct.unpack(">II", png[16:24])
    idat = png[png.index(b"IDAT") + 4: png.index(b"IEND") - 8]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * 3)
    assert width == node_heatmaps.HEATMAP_GRID and (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, 3)


def test_each_node_shows_its_slice_of_one_picture_with_its_edges_repeated():
    session = build_session(CreateSession(seed=3))  # the circle: x1, x2 -> 4 -> 2 -> 1
    session.train(5)
    d = network.build(session, shown.from_step(session), False)
    grid, pitch = node_heatmaps.HEATMAP_GRID, node_heatmaps.SLICE
    pixels = _pictures(d.pictures)
    assert pixels.shape[0] == pitch * len(d.nodes) == pitch * 9
    slices = [pixels[pitch * k + 1: pitch * k + 1 + grid] for k in range(len(d.nodes))]
    for k, picture in enumerate(slices):  # the rows above and below a picture repeat its own edges
        assert (pixels[pitch * k] == picture[0]).all() and (pixels[pitch * k + grid + 1] == picture[-1]).all()
    # x1 grows to the right and is the same down a column; x2 grows upwards and is the same along a row
    x1, x2 = slices[0].astype(int), slices[1].astype(int)
    assert (x1 == x1[:1]).all() and not (x1 == x1[:, :1]).all()
    assert (x2 == x2[:, :1]).all() and not (x2 == x2[:1]).all()
    hidden = {tuple(map(tuple, s.reshape(-1, 3))) for s in slices[2:6]}
    assert len(hidden) == 4  # four hidden nodes, four pictures
    svg = svg_of(d)
    image = svg.find("defs/image")
    assert image.get("href") == d.pictures and image.get("height") == str(pitch * 9)
    for n in d.nodes:  # each node's square is filled with a pattern whose viewport is its picture's 16 rows
        square = svg.find(f"g[@class='nodes']/g[@id='{n.id}']/rect[@class='picture']")
        assert (square.get("width"), square.get("height")) == ("34", "34")
        pattern = svg.find(f"defs/pattern[@id='{square.get('fill')[5:-1]}']")
        assert pattern.get("viewBox") == f"0 {pitch * n.picture + 1} {grid} {grid}"
        assert (pattern.get("width"), pattern.get("height")) == ("1", "1")  # one tile: the whole square
        assert pattern.find("use").get("href") == "#" + image.get("id")


def test_a_network_without_two_raw_inputs_has_no_pictures():
    session = build_session(CreateSession(seed=3, dataset={"name": "sine"}, output_activation="linear", loss="mse",
                                          layers=[1, 4, 1]))
    d = network.build(session, None, False)
    assert d.pictures is None and pictures_markup(d) == "" and all(n.picture is None for n in d.nodes)
    assert svg_of(d).find(".//rect[@class='picture']") is None
