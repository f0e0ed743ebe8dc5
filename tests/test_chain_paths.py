"""A hidden weight's gradient in the inspector as the chain rule's product along each path to an output (issue 13
§5: "each weight's gradient is the product of the chain-rule factors along its path, and the inspector shows it")."""
import html
import re

import pytest

from app.core.session import build_session
from app.views import inspector
from app.core.presets import PRESETS
from helpers import HX


def chain(name: str, layer: int, source: int, target: int, steps: int = 1):
    s = build_session(PRESETS[name].request())
    s.train(steps)
    return s, inspector.for_session(s, "edge", layer, source, target)["chain"]


def values(path) -> list[float]:
    return [f["value"]["value"] for f in path["factors"]]


def test_the_linear_chains_first_weight_is_one_product_of_its_factors():
    s, c = chain("chain-rule", 0, 0, 0)
    trace, net = s.last_trace, s.trainer.net
    o, y = trace.pass_.a[-1][0, 0], trace.targets[0, 0]
    w_out = net.views(trace.params_before)[0][1][0, 0]
    assert len(c["paths"]) == 1
    # ∂L/∂o = (2/1)(o − y) for mse, every slope 1 (identity activations), then w into y and x1's value 1.
    assert values(c["paths"][0]) == [2 * (o - y), 1.0, w_out, 1.0, 1.0]
    assert [f["symbol"] for f in c["paths"][0]["factors"]] == ["∂L/∂o", "f′(z)", "w", "f′(z)", "a"]
    gradient = net.views(trace.pass_.grad)[0][0][0, 0]
    assert c["paths"][0]["product"]["value"] == pytest.approx(gradient, rel=1e-15)


def test_mazurs_w1_sums_its_two_paths_as_the_article_does():
    s, c = chain("mazur", 0, 0, 0)
    assert len(c["paths"]) == 2  # through o1 and through o2
    assert [p["factors"][0]["sub"] for p in c["paths"]] == ["o1", "o2"]
    assert c["total"]["value"] == pytest.approx(0.000438568, rel=1e-6)  # ∂E_total/∂w1 in Mazur's article
    assert c["total"]["value"] == pytest.approx(c["engine"]["value"], rel=1e-13)


def test_output_weights_and_wide_networks_have_no_path_list():
    assert chain("mazur", 1, 0, 0)[1] is None  # δ · a above is already the whole chain
    assert chain("spiral", 0, 0, 0)[1] is None  # 8 × 8 × 1 = 64 paths: too many to spell out


def test_the_inspector_draws_the_product_on_the_page(client):
    client.get("/?preset=chain-rule")
    for _ in range(5):  # forward, loss, backward ×2, update
        client.post("/ui/step", headers=HX)
    r = client.post("/ui/inspect", data={"kind": "edge", "layer": "0", "from": "0", "to": "0"}, headers=HX)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", r.text)))
    assert "The chain rule, factor by factor (training row #0)" in text
    assert re.search(r"∂L/∂oy · f′\(zy\) · wy←h1 · f′\(zh1\) · ax1 = −?[0-9.]+ × 1 × [0-9.]+ × 1 × 1 = ", text)
