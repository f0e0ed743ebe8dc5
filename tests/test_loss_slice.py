"""The loss along one weight (issue 14 §4 and §6): app/core/loss_slice.py, GET /api/sessions/{id}/loss-slice, and the
inspector's plot of it (app/views/loss_slice.py, templates/partials/loss_slice.html)."""
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from app import ratelimit
from app.core import loss_slice as core
from app.engine import LOSSES, FieldError
from app.ratelimit import WORK, Limit
from app.views import loss_slice as view
from helpers import HX, everything, mazur_trainer, new_session, state, swap_limit
from test_inspector import random_trainer

W5 = {"layer": 1, "to": 0, "from": 0}


def slice_api(client, sid, **params):
    return client.get(f"/api/sessions/{sid}/loss-slice", params=params)


def edges(net):
    return [(l, j, i) for l in range(net.n_layers) for j in range(net.sizes[l + 1]) for i in range(net.sizes[l])]


# ---------------------------------------------------------------------------------------------------------------
# The JSON API


def test_mazur_w5_through_the_api(client, mazur_json):
    sid = new_session(client, **mazur_json)
    r = slice_api(client, sid, **W5)
    assert r.status_code == 200, r.text
    d = r.json()
    i = d["current_index"]
    assert d["values"][i] == d["current"] == 0.4
    assert d["loss"][i] == d["loss_current"] == pytest.approx(0.298371109, abs=5e-10)  # the article's E_total
    assert d["slope"] == pytest.approx(0.082167041, abs=5e-10)  # its ∂E_total/∂w5
    assert d["after"] == pytest.approx(0.35891648, abs=5e-9)  # its w5⁺
    assert d["after"] == 0.4 - 0.5 * d["slope"]  # sgd: w − η·g, bit for bit
    assert (d["step"], d["rows"], d["layer"], d["to"], d["from"]) == (1, [0], 1, 0, 0)
    assert len(d["values"]) == len(d["loss"]) == core.DEFAULT_POINTS
    # The loss rises with w5 here: lower to the left of the current value, higher to the right.
    assert d["loss"][i - 1] < d["loss"][i] < d["loss"][i + 1]
    assert d["values"][0] < d["after"] < d["current"] < d["values"][-1]
    assert d["loss"][0] < d["loss_after"] < d["loss_current"]
    assert state(client, sid)["step"] == 0


API_SETUPS = [
    {"optimizer": "sgd", "regularization": "l2", "regularization_rate": 0.01, "batch_size": 1, "learning_rate": 0.3},
    {"optimizer": "momentum", "batch_size": 3, "hidden_activation": "relu", "learning_rate": 0.1},
    {"optimizer": "adam", "learning_rate": 0.05, "batch_size": 4, "hidden_activation": "sigmoid",
     "dataset": {"name": "xor-table"}},  # all four rows a step
    {"layers": [4, 5, 3], "output_activation": "softmax", "loss": "cross_entropy", "optimizer": "adam",
     "regularization": "l1", "regularization_rate": 0.001, "batch_size": 7, "dataset": {"name": "iris"}},
]


@pytest.mark.parametrize("setup", API_SETUPS)
def test_the_slice_is_the_next_step_and_changes_nothing(client, setup):
    sid = new_session(client, **setup)
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})  # momentum and Adam with some state
    layers = state(client, sid)["config"]["layers"]
    picked = [(0, 0, 0), (0, len(layers) > 2 and layers[1] - 1, layers[0] - 1), (len(layers) - 2, layers[-1] - 1, 0)]
    before = everything(client, sid)
    slices = {}
    for l, j, i in picked:
        r = slice_api(client, sid, layer=l, to=j, **{"from": i})
        assert r.status_code == 200, r.text
        slices[l, j, i] = r.json()
    assert everything(client, sid) == before  # no step, no weight, no optimizer state, no loss point changed
    trace = client.post(f"/api/sessions/{sid}/step").json()["trace"]
    for (l, j, i), d in slices.items():
        assert (d["step"], d["rows"]) == (trace["step"], trace["rows"])
        assert d["current"] == trace["weights_before"][l][j][i]
        assert d["slope"] == trace["grad_weights"][l][j][i]
        assert d["after"] == trace["weights_after"][l][j][i]
        assert d["loss_current"] == trace["loss_before"] == d["loss"][d["current_index"]]
    if setup.get("regularization") == "l2":  # the optimizer's real step: the penalty's gradient moves it too
        d = slices[0, 0, 0]
        assert d["after"] != d["current"] - setup["learning_rate"] * d["slope"]
        assert d["after"] == pytest.approx(d["current"] - setup["learning_rate"] * (d["slope"] + 0.01 * d["current"]))


def test_points_and_an_explicit_range(client, session, monkeypatch):
    sid = session["id"]
    d = slice_api(client, sid, layer=0, to=0, **{"from": 0}, points=2).json()
    assert len(d["values"]) == 2 and d["values"][d["current_index"]] == d["current"]
    d = slice_api(client, sid, layer=0, to=0, **{"from": 0}, points=401).json()
    assert len(d["values"]) == 401
    d = slice_api(client, sid, layer=0, to=0, **{"from": 0}, lo=-1, hi=1, points=5).json()
    assert d["values"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert d["current_index"] is None and d["loss_current"] == client.post(
        f"/api/sessions/{sid}/step").json()["trace"]["loss_before"]
    # Each point is a forward pass over the batch: a network and batch too large for the default take fewer.
    net_work = 25 * 10  # the default network's 25 parameters, its batch of 10 rows
    monkeypatch.setattr(core, "MAX_WORK", net_work * 11)
    d = slice_api(client, sid, layer=0, to=0, **{"from": 0}).json()
    assert len(d["values"]) == 10 and d["values"][d["current_index"]] == d["current"]
    r = slice_api(client, sid, layer=0, to=0, **{"from": 0}, points=11)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "points" and "at most 10" in r.text
    monkeypatch.setattr(core, "MAX_WORK", net_work * 2)
    r = slice_api(client, sid, layer=0, to=0, **{"from": 0})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "points" and "too large" in r.text


@pytest.mark.parametrize("params, field", [
    ({"layer": 3, "to": 0, "from": 0}, "layer"),  # the default network [2, 4, 2, 1] has weight layers 0 to 2
    ({"layer": -1, "to": 0, "from": 0}, "layer"),
    ({"layer": "one", "to": 0, "from": 0}, "layer"),
    ({"to": 0, "from": 0}, "layer"),
    ({"layer": 0, "to": 4, "from": 0}, "to"),
    ({"layer": 2, "to": 1, "from": 0}, "to"),
    ({"layer": 0, "to": 0, "from": 2}, "from"),
    ({"layer": 1, "to": 0, "from": 4}, "from"),
    ({"layer": 0, "to": 0}, "from"),
    ({"layer": 0, "to": 0, "from": 0, "points": 1}, "points"),
    ({"layer": 0, "to": 0, "from": 0, "points": 402}, "points"),
    ({"layer": 0, "to": 0, "from": 0, "points": "many"}, "points"),
    ({"layer": 0, "to": 0, "from": 0, "lo": 1}, "hi"),
    ({"layer": 0, "to": 0, "from": 0, "hi": 1}, "lo"),
    ({"layer": 0, "to": 0, "from": 0, "lo": 1, "hi": 1}, "hi"),
    ({"layer": 0, "to": 0, "from": 0, "lo": "nan", "hi": 1}, "lo"),
    ({"layer": 0, "to": 0, "from": 0, "lo": 0, "hi": "inf"}, "hi"),
])
def test_bad_arguments_are_a_422_naming_the_field(client, session, params, field):
    r = slice_api(client, session["id"], **params)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == [field]
    assert r.json()["detail"][0]["msg"].startswith(f"{field}: ")


def test_a_step_that_would_diverge_is_a_409(client):
    sid = new_session(client, layers=[1, 1, 1], hidden_activation="linear", output_activation="linear",
                      weights=[[[1e153]], [[10.0]]], biases=[[0.0], [0.0]], learning_rate=100,
                      dataset={"inputs": [[1.0], [1.0]], "targets": [[0.0], [1.0]]})
    r = slice_api(client, sid, layer=1, to=0, **{"from": 0})
    assert r.status_code == 409 and "diverged" in r.json()["detail"]
    assert state(client, sid)["step"] == 0


def test_unknown_session_and_openapi(client):
    assert slice_api(client, "0" * 32, layer=0, to=0, **{"from": 0}).status_code == 404
    op = client.get("/openapi.json").json()["paths"]["/api/sessions/{session_id}/loss-slice"]["get"]
    assert {"200", "404", "409", "422", "429"} <= set(op["responses"])
    assert {p["name"] for p in op["parameters"]} == {"session_id", "layer", "to", "from", "points", "lo", "hi"}
    schema = client.get("/openapi.json").json()["components"]["schemas"]["LossSliceResult"]
    assert {"values", "loss", "current", "slope", "after"} <= set(schema["properties"])


def test_slices_spend_the_sessions_work_budget(client, monkeypatch):
    small = Limit("training work", 1e3, 1e4, "session", counts="work")
    swap_limit(client.app, monkeypatch, WORK, small)

    async def no_wait(seconds):
        pass

    client.app.state.rate_limits.sleep = no_wait
    sid, other = new_session(client), new_session(client)
    # 401 points on the default network's batch: (401 + 4) × 10 rows × 25 parameters = 101,250 multiply-adds.
    codes = [slice_api(client, sid, layer=0, to=0, **{"from": 0}, points=401).status_code for _ in range(3)]
    assert codes == [200, 429, 429]
    r = slice_api(client, sid, layer=0, to=0, **{"from": 0})
    assert r.status_code == 429 and "training work" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
    assert slice_api(client, other, layer=0, to=0, **{"from": 0}).status_code == 200  # another session's budget


# ---------------------------------------------------------------------------------------------------------------
# The engine's numbers on random networks

CASES = [(seed, hidden, output, loss, optimizer, batch)
         for seed, (hidden, output, loss) in enumerate([("tanh", "linear", "half_sse"), ("sigmoid", "sigmoid", "bce"),
                                                         ("relu", "softmax", "cross_entropy"),
                                                         ("leaky_relu", "tanh", "mse"), ("linear", "relu", "mse")])
         for optimizer in ("sgd", "momentum", "adam") for batch in (1, 3, 12)]


@pytest.mark.parametrize("seed, hidden, output, loss, optimizer, batch", CASES)
def test_every_point_is_the_engines_batch_loss_and_the_slope_its_gradient(seed, hidden, output, loss, optimizer, batch):
    trainer = random_trainer(seed, hidden, output, loss, optimizer, "l2" if seed % 2 else "none", batch, True)
    trainer.run(2)
    trace = trainer.propose().trace
    net, fn = trainer.net, LOSSES[loss]
    x, t, params = trace.pass_.a[0], trace.targets, trace.params_before
    for l, j, i in edges(net):
        s = core.slice_of(trace, l, j, i)
        k = net.flat_index("weight", l, j, i)
        assert s.values[s.index] == s.current == params[k]
        assert s.loss[s.index] == s.loss_current == net.loss(fn, x, t) == trace.loss_before
        assert s.slope == trace.pass_.grad[k] and s.after == trace.params_after[k]
        for w, value in list(zip(s.values, s.loss))[::8] + [(s.after, s.loss_after)]:
            moved = params.copy()
            moved[k] = w
            assert value == net.loss(fn, x, t, moved)  # bit for bit MLP.loss with that one weight moved
        h = 1e-6 * max(1.0, abs(s.current))
        below, above = core.losses_along(net, fn, x, t, params, k, [s.current - h, s.current + h])
        assert (above - below) / (2 * h) == pytest.approx(s.slope, rel=1e-5, abs=1e-8)


def test_the_default_range_shows_both_values_with_room_beyond():
    for current, after in [(0.4, 0.35), (0.4, -2.0), (-3.0, 5.0), (1.0, 1.0), (0.0, 1e-9), (12.0, 11.0)]:
        for points in (2, 3, 41, 401):
            values, index = core.default_values(current, after, points)
            assert values[index] == current and len(values) == points
            assert np.allclose(np.diff(values), (values[-1] - values[0]) / (points - 1))
            span = values[-1] - values[0]
            assert span >= core.MIN_SPAN * (1 - 1e-12)
            step = abs(after - current)
            spacing = span / (points - 1)
            # Beyond both ends by the step's own length (less the grid's rounding, at most half a spacing).
            assert values[0] <= min(current, after) - step + spacing / 2 + 1e-12
            assert values[-1] >= max(current, after) + step - spacing / 2 - 1e-12
            hidden, at = core.default_values(current, after, points, reveal_step=False)
            assert hidden[at] == current and np.array_equal(hidden, core.default_values(current, -after, points,
                                                                                         False)[0])
    assert core.default_values(0.4, 0.35, 41)[0][0] == pytest.approx(0.375 - 0.5, abs=0.013)


def test_the_default_slice_needs_no_more_work_than_allowed():
    trainer = mazur_trainer()
    trace = trainer.propose().trace
    with pytest.raises(FieldError) as caught:
        core.slice_of(trace, 1, 0, 0, points=core.MAX_POINTS, work=core.point_work(trainer.net, 1) * 100)
    assert caught.value.field == "points"
    assert len(core.slice_of(trace, 1, 0, 0, work=core.point_work(trainer.net, 1) * 10).values) == 9


# ---------------------------------------------------------------------------------------------------------------
# The inspector's plot

def plot_of(text: str) -> ET.Element | None:
    m = re.search(r'<svg class="ls-plot".*?</svg>', text, re.S)
    return None if m is None else ET.fromstring(m.group(0))


def inspect(client, layer, to, source) -> str:
    return client.get("/ui/inspect", params={"kind": "edge", "layer": layer, "to": to, "from": source}).text


def curve(svg: ET.Element) -> list[tuple[float, float]]:
    d = svg.find("path[@class='ls-curve']").get("d")
    return [tuple(map(float, p.split(","))) for p in re.findall(r"[-\d.]+,[-\d.]+", d)]


def circle(svg, name) -> tuple[float, float] | None:
    c = svg.find(f"circle[@class='{name}']")
    return None if c is None else (float(c.get("cx")), float(c.get("cy")))


def page_step(client, preset: str, **config) -> tuple[str, dict]:
    """The page's session on a preset (its settings changed by the page's form), one whole step taken; its trace."""
    client.get(f"/?preset={preset}")
    if config:
        client.post("/ui/config", headers=HX, data=config)
    sid = client.cookies["bp_session"]
    return sid, client.post(f"/api/sessions/{sid}/step").json()["trace"]


def test_the_inspector_plots_the_last_steps_loss_along_the_edge(client):
    _, trace = page_step(client, "mazur")
    text = inspect(client, 1, 0, 0)
    svg = plot_of(text)
    assert svg is not None and svg.get("role") == "img"
    label = svg.get("aria-label")
    for words in ("w5 = 0.4", "loss is 0.29837", "∂L/∂w5 is 0.082167", "moves w5 to 0.35892"):
        assert words in label
    assert svg.find("title").text == label
    # The inspector's own numbers: the last step's weight before, gradient and weight after.
    assert float(svg.get("data-current")) == trace["weights_before"][1][0][0]
    assert float(svg.get("data-slope")) == trace["grad_weights"][1][0][0]
    assert float(svg.get("data-after")) == trace["weights_after"][1][0][0]
    assert float(svg.get("data-loss")) == trace["loss_before"]
    for part in ("path[@class='ls-curve']", "line[@class='ls-tangent']", "g[@class='ls-arrow']/line",
                 "g[@class='ls-arrow']/polygon", "circle[@class='ls-now']", "circle[@class='ls-new']"):
        assert svg.find(part) is not None, part
    assert len(curve(svg)) == 41
    ticks = [t.text for t in svg.findall("text[@class='ls-tick']")]
    assert len(ticks) >= 6 and "0.4" in ticks
    caption = re.search(r"<figcaption.*?</figcaption>", text, re.S).group(0)
    assert "the last step&#39;s batch (1 row)" in caption and "every other weight as before the update" in caption
    # The arrow runs from the current value to the new one, leftwards (w5 went down).
    now, new = circle(svg, "ls-now"), circle(svg, "ls-new")
    shaft = svg.find("g[@class='ls-arrow']/line")
    assert float(shaft.get("x1")) == now[0] and float(shaft.get("x2")) > new[0]
    assert svg.find("g[@class='ls-arrow']/polygon").get("points").startswith(f"{new[0]:.1f},")
    # A node has no such plot.
    assert plot_of(client.get("/ui/inspect", params={"kind": "node", "layer": 2, "to": 0}).text) is None


def test_the_drawn_tangent_and_points_are_the_slices_numbers():
    trainer = mazur_trainer(learning_rate=4.0)
    trace = trainer.step()
    d = view.Plot(trace, 1, 0, 0).drawn(True)
    xs = [(t["x"], float(t["text"].replace("−", "-"))) for t in d["xticks"]]
    ys = [(t["y"], float(t["text"].replace("−", "-"))) for t in d["yticks"]]
    per_w = (xs[-1][0] - xs[0][0]) / (xs[-1][1] - xs[0][1])
    per_loss = (ys[-1][0] - ys[0][0]) / (ys[-1][1] - ys[0][1])  # negative: the loss goes up the screen
    t = d["tangent"]
    drawn_slope = (t["y2"] - t["y1"]) / (t["x2"] - t["x1"]) / per_loss * per_w
    k = trace.net.flat_index("weight", 1, 0, 0)
    assert drawn_slope == pytest.approx(float(trace.pass_.grad[k]), rel=0.02)
    now = d["now"]
    on_tangent = t["y1"] + (now["x"] - t["x1"]) * (t["y2"] - t["y1"]) / (t["x2"] - t["x1"])
    assert on_tangent == pytest.approx(now["y"], abs=0.2)
    assert now["x"] == pytest.approx(xs[0][0] + (trace.params_before[k] - xs[0][1]) * per_w, abs=0.2)
    assert d["new"]["x"] == pytest.approx(xs[0][0] + (trace.params_after[k] - xs[0][1]) * per_w, abs=0.2)
    assert now["y"] == pytest.approx(ys[0][0] + (trace.loss_before - ys[0][1]) * per_loss, abs=0.2)


def test_a_large_learning_rate_overshoots_the_valley(client):
    # The chain-rule preset is linear, so the loss along each weight is a parabola: along w from h1 to y its
    # valley is at 0.54, and the step from 0.1 with gradient −0.22 lands at 0.1 + 0.22·η.
    positions = {}
    for lr in ("1", "3.5"):
        _, trace = page_step(client, "chain-rule", learning_rate=lr)
        assert trace["weights_after"][1][0][0] == pytest.approx(0.1 + 0.22 * float(lr))
        svg = plot_of(inspect(client, 1, 0, 0))
        points = curve(svg)
        lowest = max(points, key=lambda p: p[1])  # the lowest loss is the lowest point: SVG's y grows downwards
        positions[lr] = (circle(svg, "ls-now"), circle(svg, "ls-new"), lowest, points)
    now, new, lowest, points = positions["3.5"]
    assert (now[0] - lowest[0]) * (new[0] - lowest[0]) < 0  # past the minimum, on the other side
    assert abs(new[0] - lowest[0]) > 30  # far past it
    assert new[1] < lowest[1] - 6  # higher up the other side than the valley's floor
    assert new[1] > now[1]  # yet lower than where it started (η = 3.5 is below the 4 that diverges)
    assert points[0][0] < min(now[0], new[0]) and points[-1][0] > max(now[0], new[0])
    now, new, lowest, _ = positions["1"]
    assert (now[0] - lowest[0]) * (new[0] - lowest[0]) > 0  # η = 1 stays on the near side


def test_the_detailed_step_shows_the_curve_after_backward_and_the_arrow_after_update(client):
    renders = {}
    for lr in ("0.5", "10"):
        client.get("/?preset=mazur")
        client.post("/ui/config", headers=HX, data={"learning_rate": lr})
        client.post("/ui/inspect", data={"kind": "edge", "layer": "1", "to": "0", "from": "0"}, headers=HX)
        seen = []
        for _ in range(5):  # forward, loss, backward (output), backward (hidden 1), update
            client.post("/ui/phase", headers=HX)
            seen.append(inspect(client, 1, 0, 0))
        renders[lr] = seen
        assert plot_of(seen[0]) is None and plot_of(seen[1]) is None
        for text in seen[2:4]:
            svg = plot_of(text)
            assert svg.find("line[@class='ls-tangent']") is not None and svg.find("g[@class='ls-arrow']") is None
            assert svg.get("data-after") is None and "moves" not in svg.get("aria-label")
            assert "this step&#39;s batch" in text and "The update's arrow comes in the Update phase." in text
        svg = plot_of(seen[4])
        assert svg.find("g[@class='ls-arrow']") is not None and circle(svg, "ls-new") is not None
    # Before the update the plot tells nothing of the step: the same picture whatever the learning rate.
    assert ET.tostring(plot_of(renders["0.5"][2])) == ET.tostring(plot_of(renders["10"][2]))
    assert ET.tostring(plot_of(renders["0.5"][4])) != ET.tostring(plot_of(renders["10"][4]))


def test_a_step_too_small_to_see_is_said_and_a_batch_too_large_is_not_drawn(client, monkeypatch):
    _, trace = page_step(client, "mazur", learning_rate="0.0001")
    text = inspect(client, 1, 0, 0)
    svg = plot_of(text)
    assert svg.find("g[@class='ls-arrow']") is None and circle(svg, "ls-new") is None
    assert "too small to see at this scale" in text
    assert float(svg.get("data-after")) == trace["weights_after"][1][0][0]
    monkeypatch.setattr(view, "PAGE_WORK", core.point_work(mazur_trainer().net, 1) * (view.MIN_PAGE_POINTS - 1))
    text = inspect(client, 1, 0, 0)
    assert plot_of(text) is None and "too large to evaluate at every step" in text


def test_the_penalty_is_named_when_regularisation_is_on(client):
    client.get("/?preset=xor")
    client.post("/ui/config", headers=HX, data={"regularization": "l2", "regularization_rate": "0.1"})
    client.post("/ui/step", headers=HX)
    text = inspect(client, 0, 0, 0)
    assert plot_of(text) is not None and "penalty" in text and "sgd step, penalty included" in text


def test_clip_keeps_the_part_of_a_segment_inside_the_box():
    box = {"x0": 0, "y0": 0, "x1": 10, "y1": 10}
    assert view.clip((-5, 5), (15, 5), box) == {"x1": 0, "y1": 5, "x2": 10, "y2": 5}
    assert view.clip((-10, -10), (20, 20), box) == {"x1": 0, "y1": 0, "x2": 10, "y2": 10}
    assert view.clip((2, 2), (3, 4), box) == {"x1": 2, "y1": 2, "x2": 3, "y2": 4}
    assert view.clip((-5, 20), (15, 20), box) is None
    assert view.clip((0, float("nan")), (1, 1), box) is None


def test_nice_ticks():
    def texts(lo, hi, count):
        return view.tick_texts(*view.nice_ticks(lo, hi, count))

    assert texts(-0.12, 0.88, 5) == ["0", "0.2", "0.4", "0.6", "0.8"]
    assert texts(0.2461, 0.3061, 4) == ["0.26", "0.28", "0.30"]
    assert texts(-2.3, 1.1, 4) == ["−2", "−1", "0", "1"]
    assert texts(0.02360012, 0.02360047, 3) == ["0.0236002", "0.0236004"]  # a flat curve's long labels
    assert texts(-2.1e-9, 2.1e-9, 4) == ["−2×10⁻⁹", "0", "2×10⁻⁹"]  # a flat curve around 0


def test_a_flat_curve_is_drawn_as_a_level_line():
    # A dead ReLU unit: the loss does not depend on the weight out of it, whose gradient is 0 and which stays put.
    from app.engine import TrainConfig, Trainer

    trainer = Trainer(TrainConfig(layers=(1, 1, 1), hidden_activation="relu", output_activation="linear",
                                  batch_size=2), np.array([[1.0], [2.0]]), np.array([[0.5], [1.0]]),
                      weights=[[[-1.0]], [[0.7]]], biases=[[-1.0], [0.2]])
    d = view.Plot(trainer.step(), 1, 0, 0).drawn(True)
    assert d["tangent"]["y1"] == d["tangent"]["y2"] == d["now"]["y"]
    assert d["small_step"] and d["arrow"] is None
    assert len({y for _, y in re.findall(r"([-\d.]+),([-\d.]+)", d["curve"])}) == 1
    labels = [t["text"] for t in d["yticks"]]
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
