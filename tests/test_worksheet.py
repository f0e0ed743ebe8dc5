"""Checking a learner's own numbers (issue 14 §1, §6, §7): POST …/check and the page's worksheet."""
import html
import re

import numpy as np
import pytest

from app.core.recipe import CreateSession
from app.core.session import build_session
from app.core.marking import digits_typed, mark
from app.core.quantities import Ask, expected, next_trace
from app.core.worksheet import chain
from app.engine import FieldError
from app.core.presets import PRESETS
from helpers import HX


def mazur(client) -> str:
    return client.post("/api/sessions", json=PRESETS["mazur"].config).json()["id"]


def check(client, sid, *answers):
    return client.post(f"/api/sessions/{sid}/check", json={"answers": list(answers)})


# --- the API ----------------------------------------------------------------------------------------------------


def test_mazurs_numbers_are_marked_as_the_issue_says(client):
    sid = mazur(client)
    r = check(client, sid, {"quantity": "delta", "layer": 2, "node": 0, "value": 0.1385},
              {"quantity": "delta", "layer": 2, "node": 0, "value": 0.1395},
              {"quantity": "grad_weight", "layer": 1, "to": 0, "from": 0, "value": 0.08217})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["step"] == 1 and body["rows"] == [0]
    assert [m["correct"] for m in body["marks"]] == [True, False, True]
    assert body["marks"][0]["expected"] == pytest.approx(0.138498562, abs=1e-9)
    assert body["marks"][2]["expected"] == pytest.approx(0.082167041, abs=1e-9)
    # Nothing is applied.
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0


def test_every_quantity_of_mazurs_first_step(client):
    sid = mazur(client)
    answers = {("z", 1, 0): "0.3775", ("a", 1, 0): "0.593270", ("a", 2, 0): "0.751365", ("loss", None, None): "0.298371",
               ("dloss_da", 2, 0): "0.741365", ("dact", 2, 0): "0.186816", ("delta", 1, 0): "0.00877135"}
    body = [{"quantity": q, "value": v, **({"layer": l, "node": n} if l is not None else {})}
            for (q, l, n), v in answers.items()]
    body += [{"quantity": "weight_after", "layer": 0, "to": 0, "from": 0, "value": "0.149781"},
             {"quantity": "weight_after", "layer": 1, "to": 0, "from": 0, "value": "0.358916"},
             {"quantity": "grad_bias", "layer": 1, "to": 0, "value": "0.138499"},
             {"quantity": "bias_after", "layer": 1, "to": 0, "value": "0.600"}]  # Mazur's biases are frozen
    marks = check(client, sid, *body).json()["marks"]
    assert all(m["correct"] for m in marks), marks


def test_digits_rules():
    assert digits_typed("0.1385") == 4 and digits_typed("1.50") == 3 and digits_typed("-2e-3") == 1
    assert mark("0.1385", 0.13849856).correct and not mark("0.1386", 0.13849856).correct
    assert mark("0.13850", 0.13849856).correct and not mark("0.138500", 0.13849856).correct  # 6 digits: 0.138499
    short = mark("0.14", 0.13849856)  # read as 0.140: wrong, and checked
    assert not short.correct and short.reason is None
    assert mark("7.6", 7.6000000000000005).correct and mark("0.6", 0.6).correct  # exact short answers
    assert not mark("0.5", 0.5012).correct
    assert mark(0.5, 0.5).correct and mark("0", 0.0).correct and not mark("0.001", 0.0).correct
    assert mark("$50,000", 50000.0).correct and mark("1,234.5", 1234.49).correct
    assert mark("0,5", 0.5).reason == "not a number"  # a decimal comma is not read as thousands
    assert mark("1e400", 1.0).reason == "not a number"
    assert mark("−0.0381", -0.0380982).correct  # a real minus sign, as the page prints it
    assert mark("abc", 1.0).reason == "not a number"


@pytest.mark.parametrize("answer, field", [
    ({"quantity": "zeta", "value": 1}, "answers.0.quantity"),
    ({"quantity": "z", "layer": 9, "node": 0, "value": 1}, "answers.0.layer"),
    ({"quantity": "z", "layer": 1, "node": 7, "value": 1}, "answers.0.node"),
    ({"quantity": "z", "layer": 0, "node": 0, "value": 1}, "answers.0.layer"),
    ({"quantity": "z", "layer": 1, "value": 1}, "answers.0.node"),
    ({"quantity": "grad_weight", "layer": 1, "to": 0, "value": 1}, "answers.0.from"),
    ({"quantity": "grad_weight", "layer": 2, "to": 0, "from": 0, "value": 1}, "answers.0.layer"),
    ({"quantity": "grad_bias", "layer": 0, "to": 0, "from": 1, "value": 1}, "answers.0.from"),
    ({"quantity": "dloss_da", "layer": 1, "node": 0, "value": 1}, "answers.0.layer"),
    ({"quantity": "loss", "layer": 1, "value": 1}, "answers.0.layer"),
    ({"quantity": "z", "layer": 1, "node": 0, "row": 1, "value": 1}, "answers.0.row"),
    ({"quantity": "weight_after", "layer": 0, "to": 0, "from": 0, "row": 0, "value": 1}, "answers.0.row"),
    ({"quantity": "z", "layer": 1, "node": 0, "value": 1, "extra": 2}, "answers.0.extra"),
])
def test_a_bad_answer_is_a_422_naming_its_field_and_nothing_changes(client, answer, field):
    sid = mazur(client)
    r = check(client, sid, answer)
    assert r.status_code == 422 and field in r.text, r.text
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0


def test_softmax_has_no_single_f_prime(client):
    sid = client.post("/api/sessions", json={"dataset": {"name": "iris"}, "layers": [4, 3, 3],
                                             "output_activation": "softmax"}).json()["id"]
    r = check(client, sid, {"quantity": "dact", "layer": 2, "node": 0, "value": 1})
    assert r.status_code == 422 and "answers.0.quantity" in r.text and "Jacobian" in r.text


# --- agreement with the engine on random networks ---------------------------------------------------------------


CONFIGS = [dict(optimizer=o, batch_size=b, hidden_activation=h, seed=s, layers=layers, output_activation=out, loss=loss)
           for s, (o, b, h, layers, out, loss) in enumerate([
               ("sgd", 1, "tanh", [2, 3, 1], "tanh", "half_sse"),
               ("momentum", 4, "relu", [2, 4, 3, 1], "sigmoid", "bce"),
               ("adam", 7, "sigmoid", [2, 2, 2], "softmax", "cross_entropy"),
               ("sgd", 10, "leaky_relu", [2, 5, 1], "linear", "mse"),
           ])]


@pytest.mark.parametrize("config", CONFIGS, ids=[f"{c['optimizer']}-{c['batch_size']}" for c in CONFIGS])
def test_the_marks_agree_with_the_engines_trace_of_the_step_then_taken(client, config):
    """Every quantity, at every node, edge and row, as the step's own trace reports it once the step is taken."""
    dataset = {"name": "xor" if config["output_activation"] != "softmax" else "circle", "samples": 40}
    sid = client.post("/api/sessions", json={**config, "dataset": dataset}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})  # a few steps in: optimizer state matters
    state = client.get(f"/api/sessions/{sid}").json()
    layers = state["config"]["layers"]
    rng = np.random.default_rng(config["seed"])
    answers, truth = [], []
    n = min(config["batch_size"], 20)

    def ask(value, **fields):
        answers.append({**fields, "value": float(value)})  # a JSON number: compared at 3 digits or more
        truth.append(float(value))

    taken = None
    probe = client.post(f"/api/sessions/{sid}/check", json={"answers": [{"quantity": "loss", "value": 0}]}).json()
    rows = len(probe["rows"])
    # The step, taken on a copy, to read its trace.
    doc = client.get(f"/api/sessions/{sid}/export").json()
    copy = client.post("/api/sessions/import", json=doc).json()["id"]
    taken = client.post(f"/api/sessions/{copy}/step", json={}).json()["trace"]
    assert taken["rows"] == probe["rows"]
    for L in range(1, len(layers)):
        for j in range(layers[L]):
            r = int(rng.integers(rows))
            ask(taken["z"][L - 1][r][j], quantity="z", layer=L, node=j, row=r)
            ask(taken["a"][L][r][j], quantity="a", layer=L, node=j, row=r)
            ask(taken["delta"][L - 1][r][j], quantity="delta", layer=L, node=j, row=r)
            ask(np.mean([row[j] for row in taken["delta"][L - 1]]), quantity="delta", layer=L, node=j)
            ask(taken["grad_biases"][L - 1][j], quantity="grad_bias", layer=L - 1, to=j)
            ask(taken["biases_after"][L - 1][j], quantity="bias_after", layer=L - 1, to=j)
            for i in range(layers[L - 1]):
                ask(taken["grad_weights"][L - 1][j][i], quantity="grad_weight", layer=L - 1, to=j, **{"from": i})
                ask(taken["weights_after"][L - 1][j][i], quantity="weight_after", layer=L - 1, to=j, **{"from": i})
    ask(taken["loss_before"], quantity="loss")
    body = client.post(f"/api/sessions/{sid}/check", json={"answers": answers}).json()
    assert body["step"] == taken["step"]
    for answer, m, want in zip(answers, body["marks"], truth):
        assert m["correct"], (answer, m)
        assert m["expected"] == pytest.approx(want, rel=1e-12, abs=1e-15), answer
    # And a value off in its fourth significant digit is wrong.
    off = [{**a, "value": f"{t * 1.003:.3e}"} for a, t in zip(answers, truth) if abs(t) > 1e-3]
    marks = client.post(f"/api/sessions/{sid}/check", json={"answers": off}).json()["marks"]
    assert not [(a, m) for a, m in zip(off, marks) if m["correct"]]


# --- the chain, its feedback and its hints (page) -------------------------------------------------------------


def test_mazurs_w1_chain_in_order():
    s = build_session(CreateSession(**PRESETS["mazur"].config))
    links = chain(next_trace(s), ("edge", 0, 0, 0), 0)
    assert [l.ask.key() for l in links] == ["z.1.0", "a.1.0", "wdelta.1.0", "dact.1.0", "delta.1.0",
                                             "grad_weight.0.0.0", "weight_after.0.0.0"]
    trace = next_trace(s)
    assert expected(trace, Ask("grad_weight", layer=0, to=0, source=0)) == pytest.approx(0.000438568, abs=1e-9)
    out = chain(trace, ("node", 2, 0), 0)
    assert [l.ask.quantity for l in out] == ["z", "a", "loss_term", "dloss_da", "dact", "delta", "grad_bias",
                                             "bias_after"]
    assert expected(trace, out[2].ask) == pytest.approx(0.274811083, abs=1e-9)  # Mazur's E_o1


def open_w1(client):
    client.get("/?preset=mazur")
    client.post("/ui/inspect", data={"kind": "edge", "layer": "0", "from": "0", "to": "0"}, headers=HX)
    return client.post("/ui/worksheet", data={"kind": "edge", "layer": "0", "from": "0", "to": "0"}, headers=HX)


def marks_of(text: str) -> dict:
    return dict(re.findall(r'data-quantity="(\w+)" data-key="[^"]+" data-row="[^"]+" data-correct="(\w+)"', text))


def test_the_worksheet_opens_from_the_inspector_and_marks_each_input(client):
    client.get("/?preset=mazur")
    r = client.post("/ui/inspect", data={"kind": "edge", "layer": "0", "from": "0", "to": "0"}, headers=HX)
    assert "Check my calculation</button>" in r.text
    r = open_w1(client)
    text = html.unescape(r.text)
    assert "Check my calculation: weight w1 (i1 → h1)" in text and "Step 1, about to be taken" in text and "The step's one row (training row #0)" in text
    assert re.findall(r'data-quantity="(\w+)"', r.text) == ["z", "a", "wdelta", "dact", "delta", "grad_weight",
                                                             "weight_after"]
    r = client.post("/ui/worksheet/check", headers=HX, data={
        "q:z.1.0": "0.3775", "q:a.1.0": "0.5933", "q:wdelta.1.0": "0.03635", "q:dact.1.0": "0.2413",
        "q:delta.1.0": "0.00878", "q:grad_weight.0.0.0": "0.0004386", "q:weight_after.0.0.0": ""})
    assert marks_of(r.text) == {"z": "true", "a": "true", "wdelta": "true", "dact": "true", "delta": "false",
                                "grad_weight": "true"}
    text = html.unescape(r.text)
    assert "Its factors are right, so the product itself is wrong" in text and "5 of 6 right" in text
    assert client.get(f"/api/sessions/{client.cookies['bp_session']}").json()["step"] == 0  # nothing applied


def test_a_wrong_factor_is_named_as_the_first_wrong_link(client):
    open_w1(client)
    r = client.post("/ui/worksheet/check", headers=HX, data={
        "q:z.1.0": "0.3775", "q:a.1.0": "0.5933", "q:wdelta.1.0": "0.0400", "q:dact.1.0": "0.2413",
        "q:delta.1.0": "0.00965"})
    assert marks_of(r.text)["delta"] == "false"
    assert "Σ w·δ into h1 is wrong, and this is made from it: fix that first" in html.unescape(r.text)


def test_hints_come_one_at_a_time_and_keep_what_is_typed(client):
    open_w1(client)
    texts = []
    for _ in range(3):
        r = client.post("/ui/worksheet/hint", headers=HX, data={"key": "grad_weight.0.0.0", "q:z.1.0": "0.3775"})
        texts.append(re.findall(r'<p class="ws-hint-text">([^<]*)</p>', html.unescape(r.text)))
    assert texts[0] == ["Formula: ∂L/∂w = δ of the node it feeds · a of the node it comes from"]
    assert texts[1][1] == "With the numbers: 0.00877135 × 0.05"
    assert texts[2][2] == "Answer: 0.000438568 (full precision 0.00043856773447434685)"
    assert 'value="0.3775"' in r.text and "Numbers</button>" not in r.text.split("grad_weight.0.0.0")[-1][:600]


def test_a_batch_works_the_focus_row_then_the_batch(client):
    """XOR's 4 rows: the diagram's focus row first (its own chain to its δ·a), then every row's δ·a, their mean and
    the update. Picking another row on the diagram moves the worksheet with it."""
    client.get("/?preset=xor")  # 4 rows a step
    client.post("/ui/inspect", data={"kind": "edge", "layer": "1", "from": "0", "to": "0"}, headers=HX)
    r = client.post("/ui/worksheet", data={"kind": "edge", "layer": "1", "from": "0", "to": "0"}, headers=HX)
    text = html.unescape(r.text)
    assert "Row 1 of step 1's batch of 4" in text and '<select id="ws-row"' not in r.text
    assert len(re.findall(r'data-given="row_grad"', r.text)) == 4
    assert re.findall(r'data-quantity="(\w+)" data-key="[^"]+" data-row="(\w+)"', r.text)[-3:] == [
        ("grad_weight", "0"), ("grad_weight", "mean"), ("weight_after", "mean")]
    client.post("/ui/step", headers=HX)  # the diagram needs a pass to pick rows on
    r = client.post("/ui/focus-row", headers=HX, data={"row": "2"})
    assert "Row 3 of step 2's batch of 4" in html.unescape(r.text)
    sid = client.cookies["bp_session"]
    want = client.post(f"/api/sessions/{sid}/check", json={"answers": [
        {"quantity": "grad_weight", "layer": 1, "to": 0, "from": 0, "row": 2, "value": 0}]}).json()["marks"][0]["expected"]
    r = client.post("/ui/worksheet/check", headers=HX, data={"q:grad_weight.1.0.0": f"{want:.5g}"})
    assert marks_of(r.text) == {"grad_weight": "true"}


def test_the_worksheet_follows_the_next_step_and_says_so(client):
    open_w1(client)
    client.post("/ui/worksheet/check", headers=HX, data={"q:z.1.0": "0.3775"})
    sid = client.cookies["bp_session"]
    while client.get(f"/api/sessions/{sid}").json()["step"] < 1:  # Mazur opens in detailed mode: phase by phase
        r = client.post("/ui/step", headers=HX)
    text = html.unescape(r.text)
    assert "Step 2, about to be taken" in text and "the worksheet is now about step 2" in text
    assert not marks_of(r.text)


def test_unknown_targets_are_refused(client):
    client.get("/?preset=mazur")
    r = client.post("/ui/worksheet", data={"kind": "edge", "layer": "5", "from": "0", "to": "0"}, headers=HX)
    assert "There is no such edge or node to check." in r.text and 'id="worksheet"' not in r.text


def test_the_api_asks_the_batch_level_quantities_with_row_mean(client):
    sid = client.post("/api/sessions", json={}).json()["id"]  # the circle, 10 rows a batch
    answers = [{"quantity": q, "layer": 2, "to": 0, "from": 1, "row": "mean", "value": 0} for q in ("grad_weight", "weight_after")]
    left_out = [{k: v for k, v in a.items() if k != "row"} for a in answers]
    r = client.post(f"/api/sessions/{sid}/check", json={"answers": answers})
    assert r.status_code == 200
    want = [m["expected"] for m in client.post(f"/api/sessions/{sid}/check", json={"answers": left_out}).json()["marks"]]
    assert [m["expected"] for m in r.json()["marks"]] == want
    r = client.post(f"/api/sessions/{sid}/check", json={"answers": [
        {"quantity": "delta", "layer": 2, "node": 0, "row": "mean", "value": 0}]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "answers.0.row"
