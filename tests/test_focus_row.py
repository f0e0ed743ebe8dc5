"""The focus row (issue 23): the diagram's nodes show one row of the batch, and every number on them follows from the
diagram's own numbers by the chain rule. These tests read only what the page sends (the SVG's data attributes),
never the engine's arrays."""
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from app.engine.activations import ACTIVATIONS
from app.engine.losses import LOSSES
from helpers import HX

SETUPS = {
    "circle": "/",  # the default: 2-4-2-1 tanh, batch 10
    "xor": "/?dataset=xor-table&layers=2,2,1&activation=sigmoid&output=sigmoid&loss=bce&batch=4",
    "iris": "/?dataset=iris&activation=relu&output=softmax&loss=cross_entropy&batch=5",
    "mazur": "/?preset=mazur",
}


def diagram(html: str) -> tuple[dict, dict, dict]:
    """The svg#network of a page or an answer: its attributes, nodes[(l, j)] and edges[(l, i, j)] as floats."""
    svg = re.search(r'<svg id="network".*?</svg>', html, re.S).group(0)
    root = ET.fromstring(svg)
    number = lambda v: None if v in (None, "") else float(v)  # noqa: E731
    groups = [g for g in root.iter() if g.tag.rsplit("}", 1)[-1] == "g"]
    nodes = {(int(g.get("data-layer")), int(g.get("data-index"))): {
        k: number(g.get(f"data-{k}")) for k in ("activation", "z", "delta", "bias", "bias-before", "target")}
        for g in groups if (g.get("class") or "").split()[:1] == ["node"]}
    edges = {(int(g.get("data-layer")), int(g.get("data-from")), int(g.get("data-to"))): {
        k: number(g.get(f"data-{k}")) for k in ("weight", "weight-before", "grad")}
        for g in groups if (g.get("class") or "").split()[:1] == ["edge"]}
    return root.attrib, nodes, edges


def config(client) -> dict:
    sid = client.cookies["bp_session"]
    return client.get(f"/api/sessions/{sid}").json()["config"]


def check_chain(html: str, cfg: dict) -> int:
    """Every node's a = f(z), z = Σ w·a + b, and δ by the chain rule, from the diagram's numbers alone (the weights
    and biases the pass used: data-*-before where an update followed it). Returns how many δ were checked."""
    _, nodes, edges = diagram(html)
    layers = 1 + max(l for l, _ in nodes)
    size = [sum(1 for l, _ in nodes if l == k) for k in range(layers)]
    used_w = lambda l, i, j: (edges[l, i, j]["weight-before"] if edges[l, i, j]["weight-before"] is not None  # noqa
                              else edges[l, i, j]["weight"])
    used_b = lambda l, j: (nodes[l, j]["bias-before"] if nodes[l, j]["bias-before"] is not None  # noqa: E731
                           else nodes[l, j]["bias"])
    acts = [ACTIVATIONS[cfg["hidden_activation"]]] * (layers - 2) + [ACTIVATIONS[cfg["output_activation"]]]
    for l in range(1, layers):
        z = np.array([sum(used_w(l - 1, i, j) * nodes[l - 1, i]["activation"] for i in range(size[l - 1]))
                      + used_b(l, j) for j in range(size[l])])
        shown_z = np.array([nodes[l, j]["z"] for j in range(size[l])])
        assert shown_z == pytest.approx(z, rel=1e-9, abs=1e-12), f"z of layer {l}"
        a = np.array([nodes[l, j]["activation"] for j in range(size[l])])
        assert a == pytest.approx(acts[l - 1].f(shown_z[None, :])[0], rel=1e-9, abs=1e-12), f"a of layer {l}"
    checked = 0
    out = layers - 1
    if nodes[out, 0]["delta"] is not None:
        a = np.array([[nodes[out, j]["activation"] for j in range(size[out])]])
        z = np.array([[nodes[out, j]["z"] for j in range(size[out])]])
        t = np.array([[nodes[out, j]["target"] for j in range(size[out])]])
        loss, act = LOSSES[cfg["loss"]], acts[-1]
        delta = a - t if loss.fused == act.name else loss.grad(a, t) * act.df(z, a)
        shown = [nodes[out, j]["delta"] for j in range(size[out])]
        assert shown == pytest.approx(delta[0].tolist(), rel=1e-9, abs=1e-12), "δ of the outputs"
        checked += size[out]
    for l in range(out - 1, 0, -1):
        if nodes[l, 0]["delta"] is None:
            break
        for j in range(size[l]):
            back = sum(used_w(l, j, k) * nodes[l + 1, k]["delta"] for k in range(size[l + 1]))
            z, a = np.array([[nodes[l, j]["z"]]]), np.array([[nodes[l, j]["activation"]]])
            want = float(acts[l - 1].df(z, a)[0, 0]) * back
            assert nodes[l, j]["delta"] == pytest.approx(want, rel=1e-9, abs=1e-12), f"δ of node {l}.{j}"
            checked += 1
    return checked


@pytest.mark.parametrize("name", SETUPS)
def test_after_a_step_every_node_follows_from_the_diagrams_own_numbers(client, name):
    client.get(SETUPS[name])
    cfg = config(client)
    html = client.post("/ui/step", headers=HX).text
    attrs, nodes, _ = diagram(html)
    assert check_chain(html, cfg) == len([k for k in nodes if k[0] > 0])
    size = int(attrs.get("data-batch-size", "1"))
    assert attrs["data-batch-row"] == "0" and size == cfg["batch_size"] or name in ("xor", "mazur")
    # Every row of the batch, each its own chain.
    for r in range(1, size):
        html = client.post("/ui/focus-row", headers=HX, data={"row": str(r)}).text
        attrs, _, _ = diagram(html)
        assert attrs["data-batch-row"] == str(r)
        check_chain(html, cfg)


@pytest.mark.parametrize("name", SETUPS)
def test_every_phase_of_a_detailed_step_follows_from_the_diagrams_own_numbers(client, name):
    client.get(SETUPS[name])
    client.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    cfg = config(client)
    client.post("/ui/focus-row", headers=HX, data={"row": "1"})  # before the first step: refused, row 0 stays
    deltas = 0
    for _ in range(2 + cfg["layers"].__len__()):  # forward, loss, a backward per weight layer, update
        html = client.post("/ui/phase", headers=HX).text
        deltas = max(deltas, check_chain(html, cfg))
    assert deltas == sum(cfg["layers"][1:])


def test_the_narration_and_caption_speak_of_the_focus_row_never_of_a_mean(client):
    client.get("/")
    html = client.post("/ui/step", headers=HX).text
    assert "Row 1 of 10" in html and "training row #" in html
    assert "averaged" not in html and "mean target" not in html
    html = client.post("/ui/focus-row", headers=HX, data={"row": "3"}).text
    attrs, _, _ = diagram(html)
    assert "Row 4 of 10" in html and attrs["data-batch-row"] == "3"
    assert re.search(r"row 4 of the batch&#39;s 10|row 4 of the batch's 10", html)


def test_a_row_outside_the_batch_is_refused_next_to_the_picker_and_changes_nothing(client):
    client.get("/")
    client.post("/ui/step", headers=HX)
    before = client.post("/ui/focus-row", headers=HX, data={"row": "2"}).text
    for bad in ("10", "-1", "x", "", "--1", "²", "9" * 5000):  # the last three were 500s (found by review)
        r = client.post("/ui/focus-row", headers=HX, data={"row": bad})
        html = r.text
        assert r.status_code == 200 and "Pick a row of the batch: rows 1 to 10." in html
        assert diagram(html)[0]["data-batch-row"] == "2"
    assert diagram(before)[0]["data-batch-row"] == "2"


def test_the_focus_row_is_kept_with_the_session_and_followed_by_the_next_step(client):
    client.get("/")
    client.post("/ui/step", headers=HX)
    client.post("/ui/focus-row", headers=HX, data={"row": "5"})
    html = client.post("/ui/step", headers=HX).text
    assert diagram(html)[0]["data-batch-row"] == "5"
    assert diagram(client.get("/").text)[0]["data-batch-row"] == "5"


def test_hidden_nodes_carry_their_names_and_the_inspected_one_is_marked(client):
    client.get("/")
    client.post("/ui/step", headers=HX)
    client.post("/ui/inspect", headers=HX, data={"kind": "node", "layer": "1", "to": "2"})
    html = client.get("/").text
    assert re.findall(r'class="node-name hidden"[^>]*>([^<]*)<', html) == ["h1.1", "h1.2", "h1.3", "h1.4", "h2.1",
                                                                          "h2.2"]
    assert re.findall(r'<g id="(node-\d-\d)" class="node selected"', html) == ["node-1-2"]
    client.post("/ui/inspect", headers=HX, data={"kind": "edge", "layer": "2", "from": "1", "to": "0"})
    html = client.post("/ui/focus-row", headers=HX, data={"row": "1"}).text  # any answer that draws the diagram
    assert re.findall(r'<g id="([\w-]+)" class="(?:node|edge)[^"]* selected"', html) == ["edge-2-1-0"]
