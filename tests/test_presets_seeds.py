"""The seeds' worked examples as presets (issue 13 §5), what each preset's blurb says, and input-feature chips only
for the generated 2-D sets (§6).

Test score (004_4def46379b548534.txt): the article's weights on raw hours give ".85" for 2 hours studied and 9 slept.
Chain rule (002_edb31fbcff49cc35.txt): in a 2-3-1 network with identity activations each weight's gradient is the
product of the chain-rule factors along its path.
"""
import copy
import html
import math
import re

import numpy as np
import pytest

from app.core.recipe import CreateSession
from app.core.session import build_session
from app.datasets import build_dataset
from app.engine import FieldError
from app.core.presets import PRESETS
from helpers import HX, new_session


def config(name: str, **changes) -> dict:
    """A preset's config (a fresh copy), with changes."""
    return {**copy.deepcopy(PRESETS[name].config), **changes}


def session(name: str, **changes):
    return build_session(CreateSession(**config(name, **changes)))


def run_to(s, steps: int):
    while s.trainer.step_count < steps:
        s.trainer.step()
    return s


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# ---------------------------------------------------------------------------------------------
# Test score: the article's forward pass


def score_forward(studied: float, slept: float) -> tuple[list[float], float]:
    """The article's network by hand: hidden h1, h2, h3 and the output, sigmoid everywhere, no biases."""
    into_hidden = [(0.2, 0.8), (0.6, 0.3), (0.1, 0.7)]  # (from hours studied, from hours slept)
    hidden = [sigmoid(w_studied * studied + w_slept * slept + 0.0) for w_studied, w_slept in into_hidden]
    out = sigmoid(0.4 * hidden[0] + 0.5 * hidden[1] + 0.9 * hidden[2] + 0.0)
    return hidden, out


def test_score_by_hand_is_the_articles_85():
    hidden, out = score_forward(2, 9)
    assert round(out, 4) == 0.8567 and str(out).startswith("0.85")
    assert [round(h, 4) for h in hidden] == [0.9995, 0.9802, 0.9985]


def test_score_preset_gives_the_articles_forward_pass_through_the_api(client):
    hidden, out = score_forward(2, 9)
    sid = new_session(client, **config("test-score"))
    body = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[2, 9]]}).json()
    assert body["a"][0] == [[2.0, 9.0]]  # raw hours, not divided by anything
    assert body["a"][1][0] == hidden and body["outputs"][0][0] == out and round(body["outputs"][0][0], 4) == 0.8567
    trace = client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()["trace"]
    assert trace["rows"] == [0] and trace["a"][0] == [[2.0, 9.0]] and trace["targets"] == [[0.92]]
    assert trace["a"][1][0] == hidden and trace["a"][2][0][0] == out


def test_score_preset_gives_the_articles_forward_pass_on_the_page(client):
    _, out = score_forward(2, 9)
    page = client.get("/?preset=test-score").text
    assert "Test score from hours studied and slept." in page
    r = client.post("/ui/step", headers=HX)
    node = re.search(r'<g id="node-2-0"[^>]*aria-label="([^"]*)"[^>]*data-activation="([^"]*)"', r.text)
    assert node[1].startswith("test_score: a = 0.8567,") and float(node[2]) == out
    narration = re.search(r'<p class="narration" id="narration"[^>]*>(.*?)</p>', r.text, re.S)[1]
    assert narration.startswith("Step 1 used training row #0 (hours_studied = 2, hours_slept = 9): the output "
                                "test_score was 0.856747 but the target is 0.92")
    assert [re.search(rf'<g id="node-1-{j}"[^>]*aria-label="(\w+):', r.text)[1] for j in range(3)] == ["h1", "h2", "h3"]


def test_score_preset_trains_its_loss_falling_every_epoch():
    s = session("test-score")
    losses = [s.evaluate()[0]]
    for _ in range(1000):
        for _ in range(3):  # one student a step, in the table's order
            s.trainer.step()
        losses.append(s.evaluate()[0])
    assert np.all(np.diff(losses) < 0)
    outputs = s.trainer.net.forward(s.dataset.train_x)[1][-1][:, 0]
    assert np.abs(outputs - [0.92, 0.86, 0.89]).max() < 1e-3 and losses[-1] < losses[0] / 10_000


# ---------------------------------------------------------------------------------------------
# The chain rule through a linear 2-3-1 network


W1 = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]  # w¹[j][k]: input k into hidden node j
W2 = [0.1, 0.2, 0.3]  # w²[j]: hidden node j into the output
X, Y = [1.0, 2.0], 1.0


def chain_factors() -> dict:
    """The forward pass by hand and the chain rule's factors for C = (a³ − y)², every activation the identity."""
    hidden = [W1[j][0] * X[0] + W1[j][1] * X[1] + 0.0 for j in range(3)]
    out = W2[0] * hidden[0] + W2[1] * hidden[1] + W2[2] * hidden[2] + 0.0
    return {"hidden": hidden, "out": out, "dC_da": 2.0 * (out - Y), "da_dz": 1.0}


def test_chain_rule_first_step_gradients_are_the_products_along_each_path(client):
    f = chain_factors()
    dC_da, da_dz = f["dC_da"], f["da_dz"]
    sid = new_session(client, **config("chain-rule"))
    trace = client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()["trace"]
    assert trace["a"] == [[X], [f["hidden"]], [[f["out"]]]] and f["out"] == 0.78
    # ∂C/∂w²₁ⱼ = ∂C/∂a³ · ∂a³/∂z³ · ∂z³/∂w²₁ⱼ, the last factor being a²ⱼ.
    assert trace["grad_weights"][1] == [[dC_da * da_dz * f["hidden"][j] for j in range(3)]]
    # ∂C/∂w¹ⱼₖ = ∂C/∂a³ · ∂a³/∂z³ · ∂z³/∂a²ⱼ · ∂a²ⱼ/∂z²ⱼ · ∂z²ⱼ/∂w¹ⱼₖ = … · w²ⱼ · 1 · xₖ.
    assert trace["grad_weights"][0] == [[dC_da * da_dz * W2[j] * 1.0 * X[k] for k in range(2)] for j in range(3)]
    assert trace["grad_weights"][0][0][0] == pytest.approx(-0.044, abs=1e-15)
    assert trace["delta"] == [[[dC_da * da_dz * W2[j] * 1.0 for j in range(3)]], [[dC_da * da_dz]]]
    # The update: w − η · ∂C/∂w, learning rate 0.01.
    weights = client.get(f"/api/sessions/{sid}").json()["weights"]
    assert weights[0] == [[W1[j][k] - 0.01 * (dC_da * da_dz * W2[j] * 1.0 * X[k]) for k in range(2)]
                          for j in range(3)]


def inspector_equations(text: str) -> list[list[float]]:
    """The inspector's lines (equations and table rows), each as the exact numbers it shows, in order."""
    section = re.search(r'<section id="inspector".*?</section>', text, re.S)[0]
    lines = re.findall(r'<p class="insp-eq">.*?</p>|<tr>.*?</tr>', section, re.S)
    return [[float(v) for v in re.findall(r'data-value="([^"]*)"', line)] for line in lines]


def test_chain_rule_inspector_shows_a_first_layer_gradient_as_its_factors(client):
    f = chain_factors()
    delta_out = f["dC_da"] * f["da_dz"]
    delta_h1 = 1.0 * (W2[0] * delta_out)
    client.get("/?preset=chain-rule")
    for _ in range(5):  # detailed: forward, loss, backward (output), backward (hidden 1), update
        client.post("/ui/phase", headers=HX)
    r = client.post("/ui/inspect", data={"kind": "edge", "layer": "0", "from": "0", "to": "0"}, headers=HX)
    assert "Weight x1 → h1" in r.text
    lines = inspector_equations(r.text)
    assert [delta_h1, X[0], delta_h1 * X[0]] in lines  # ∂C/∂w = δ_h1 · a_x1
    assert [W2[0], delta_out, W2[0] * delta_out] in lines  # the path's next weight and the output's δ
    assert [1.0] in lines and [1.0, W2[0] * delta_out, delta_h1] in lines  # f′(z_h1) = 1, δ_h1 = 1 × Σ w·δ
    # The output's δ, from the output node: ∂C/∂a³ = (2/1)(o − y), times f′ = 1.
    r = client.post("/ui/inspect", data={"kind": "node", "layer": "2", "to": "0"}, headers=HX)
    lines = inspector_equations(r.text)
    assert [f["out"], Y, 2.0, f["out"] - Y, f["dC_da"]] in lines and [f["dC_da"], 1.0, delta_out] in lines


# ---------------------------------------------------------------------------------------------
# What each blurb says to try, as the engine computes it


def minus(text: str) -> str:
    return text.replace("-", "−")


def mazur_numbers() -> list[str]:
    s = session("mazur")
    trace = s.trainer.step()
    net = s.trainer.net
    (w_after, _), grad = net.views(trace.params_after), net.views(trace.pass_.grad)[0]
    return [f"out_o1 = {trace.pass_.a[-1][0, 0]:.5f}", f"E_total = {trace.loss_before:.5f}",
            f"δ_o1 = {trace.pass_.delta[-1][0, 0]:.5f}", f"∂E/∂w5 = {grad[1][0, 0]:.6f}",
            f"w5 from 0.4 to {w_after[1][0, 0]:.5f}", f"w1 from 0.15 to {w_after[0][0, 0]:.5f}",
            f"by step 10,000 E_total is {run_to(s, 10_000).evaluate()[0]:.9f}"]


def chain_rule_numbers() -> list[str]:
    s = session("chain-rule")
    trace = s.trainer.step()
    out, grads = trace.pass_.a[-1][0, 0], s.trainer.net.views(trace.pass_.grad)[0]
    outputs = s.trainer.net.forward(run_to(s, 20).dataset.train_x)[1][-1]
    return [f"the output is {out:.2f}", minus(f"2 × ({out:.2f} − 1) = {trace.pass_.delta[-1][0, 0]:.2f}"),
            minus(f"× x₁ (1) = {grads[0][0, 0]:.3f}"), minus(f"× a²₁ (0.5) = {grads[1][0, 0]:.2f}"),
            f"by step 20 the output is {outputs[0, 0]:.5f}"]


def xor_numbers() -> list[str]:
    s = session("xor")
    plateau = run_to(s, 1000).evaluate()[0]
    while s.evaluate()[0] >= 0.12:
        s.trainer.step()
    left = s.trainer.step_count
    accuracy = run_to(s, 2250).evaluate()[2]
    return [f"plateau near {plateau:.3f} for about {round(left, -2):,} steps",
            "by step 2,250 all four rows are right" if accuracy == 1 else f"by step 2,250 {accuracy:.0%} are right",
            f"by step 3,000 the loss is {run_to(s, 3000).evaluate()[0]:.4f}"]


def score_numbers() -> list[str]:
    s = session("test-score")
    net, raw = s.trainer.net, np.array([[2.0, 9.0]])
    _, (_, hidden, out) = net.forward(s.dataset.transform(raw))
    h1 = hidden[0, 0]
    scores = net.forward(run_to(s, 3000).dataset.train_x)[1][-1][:, 0]
    predicted = net.forward(s.dataset.transform(np.array([[4.0, 8.0]])))[1][-1][0, 0]
    return [f"gives {out[0, 0]:.5f}, the article's \".85\"", f"h1 = {h1:.5f}, slope {h1 * (1 - h1):.5f}",
            f"by step 3,000 the network gives {scores[0]:.5f}, {scores[1]:.5f} and {scores[2]:.5f}",
            f"Predict gives {predicted:.5f} for 4 hours studied and 8 slept"]


def spiral_numbers() -> list[str]:
    s = session("spiral")
    at_3000 = run_to(s, 3000).evaluate()[2]
    _, _, train, test = run_to(s, 5000).evaluate()
    raw = run_to(session("spiral", layers=[2, 8, 8, 8, 1], dataset={"name": "spiral", "features": ["x1", "x2"]}),
                 3000).evaluate()[2]
    return [f"reach {at_3000:.0%} train accuracy by step 3,000", f"and {train:.0%} ({test:.1%} on the test rows)",
            f"the same network has {raw:.0%} by step 3,000"]


def sine_numbers() -> list[str]:
    s = session("sine")
    at_2000, at_10000 = run_to(s, 2000).evaluate()[1], run_to(s, 10_000).evaluate()[1]
    straight = run_to(session("sine", hidden_activation="linear"), 2000).evaluate()[1]
    return [f"the test loss is {at_2000:.3f} by step 2,000 and {at_10000:.4f} by step 10,000",
            f"the test loss stays at {straight:.3f}"]


def house_price_numbers() -> list[str]:
    s = session("house-price")
    d = s.dataset

    def dollars(v: float) -> str:
        return f"${v:,.0f}"

    def rmse_at(steps: int) -> float:
        run_to(s, steps)
        error = d.to_data(s.trainer.net.predict(d.train_x)) - d.raw_train_y
        return float(np.sqrt(np.mean(error ** 2)))

    first = d.to_data(s.trainer.net.predict(d.train_x[:1]))[0, 0]
    worth = d.raw_train_y[0, 0]
    start, at_120, at_600 = rmse_at(0), rmse_at(120), rmse_at(600)
    rule = 20_000 + 1_000 * 100 + 5_000 * 3  # the rule house_table's prices follow, give or take $5,000
    fast = session("house-price", learning_rate=1.0)
    run_to(fast, 60)
    assert fast.evaluate()[0] > 1e6 * fast.history[0][1]  # the loss explodes
    return [f"guesses the mean price, {dollars(d.raw_train_y.mean())}", f"worth {dollars(worth)}",
            f"is predicted at {dollars(first)}, an error of {dollars(first - worth)}",
            f"the RMSE falls from {dollars(start)} to {dollars(at_120)} by step 120 and {dollars(at_600)} by step 600",
            f"says {dollars(rule)}", "Try a learning rate of 1"]


BLURB_NUMBERS = {"mazur": mazur_numbers, "chain-rule": chain_rule_numbers, "xor": xor_numbers,
                 "test-score": score_numbers, "house-price": house_price_numbers, "spiral": spiral_numbers,
                 "sine": sine_numbers}


def test_every_preset_has_its_numbers_checked():
    assert set(BLURB_NUMBERS) == set(PRESETS), "add a function that computes the new preset's blurb numbers"


@pytest.mark.parametrize("name", BLURB_NUMBERS)
def test_each_blurb_says_what_to_try_with_the_engines_numbers(name):
    blurb = PRESETS[name].blurb.replace(" %", "%")
    assert re.search(r"\btry\b", blurb, re.IGNORECASE)
    for words in BLURB_NUMBERS[name]():
        assert words.replace(" %", "%") in blurb, words


def test_the_page_shows_a_presets_blurb(client):
    page = html.unescape(client.get("/?preset=chain-rule").text)
    assert "The chain rule through a linear 2-3-1 network. The article's 2-3-1 network" in page


# ---------------------------------------------------------------------------------------------
# Input-feature chips only for the generated 2-D sets


def has_feature_chips(text: str) -> bool:
    return 'name="features"' in text


@pytest.mark.parametrize("link", ["/?preset=mazur", "/?preset=test-score", "/?preset=chain-rule",
                                  "/?dataset=xor-table", "/?dataset=mazur", "/?dataset=iris"])
def test_no_feature_chips_for_tables(client, link):
    r = client.get(link)
    assert r.status_code == 200 and "cannot be used" not in r.text and not has_feature_chips(r.text)
    sid = client.cookies["bp_session"]
    assert "features" not in client.get(f"/api/sessions/{sid}").json()["config"]["dataset"]


@pytest.mark.parametrize("link", ["/?dataset=circle", "/?preset=spiral", "/?dataset=moons"])
def test_feature_chips_for_generated_plane_sets(client, link):
    assert has_feature_chips(client.get(link).text)


def test_an_older_recipe_with_a_tables_raw_inputs_as_features_still_builds(client):
    plain = client.post("/api/sessions", json=config("mazur"))
    older = client.post("/api/sessions", json=config("mazur", dataset={"name": "mazur", "features": ["x1", "x2"]}))
    assert older.status_code == 201, older.text
    assert "features" not in older.json()["config"]["dataset"]
    first = [client.post(f"/api/sessions/{r.json()['id']}/step", json={}).json()["trace"] for r in (plain, older)]
    assert first[0] == first[1]
    d = build_dataset("test-score", features=("x1", "x2"))
    assert d.features is None and d.feature_names == ["hours_studied", "hours_slept"]


def test_an_older_export_with_a_tables_raw_inputs_as_features_imports(client):
    sid = new_session(client, **config("mazur"))
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    doc["request"]["dataset"]["features"] = ["x1", "x2"]
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 201, r.text
    assert r.json()["weights"] == client.get(f"/api/sessions/{sid}").json()["weights"] and r.json()["step"] == 3


def test_an_older_link_with_a_tables_raw_inputs_as_features_opens(client):
    r = client.get("/?dataset=mazur&features=x1,x2")
    assert "cannot be used" not in r.text and not has_feature_chips(r.text)
    text = html.unescape(client.get("/?dataset=mazur&features=x1,x1_sq").text)
    assert ("This link's setup cannot be used, so it was not applied. features: dataset mazur takes its own inputs as "
            "they are (features are for the generated 2-D sets).") in text


@pytest.mark.parametrize("name, features", [("mazur", ["x1", "x1_sq"]), ("mazur", ["x2", "x1"]),
                                            ("xor-table", ["x1"]), ("test-score", ["sin_x1", "sin_x2"]),
                                            ("chain-rule", ["x1", "x2", "x1_x2"]), ("sine", ["x1", "x2"])])
def test_other_features_on_a_table_are_refused_naming_dataset_features(client, name, features):
    r = client.post("/api/sessions", json={"dataset": {"name": name, "features": features}})
    assert r.status_code == 422, r.text
    [detail] = r.json()["detail"]
    assert detail["field"] == "dataset.features"
    assert f"dataset '{name}' takes its own inputs as they are" in detail["msg"]
    with pytest.raises(FieldError) as e:
        build_dataset(name, features=features)
    assert e.value.field == "dataset.features"
