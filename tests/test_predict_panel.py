"""Predict answers in its own panel (issue 13 §3): the output in the data's units, or the predicted class with its
probabilities, for the current weights; and the typed or clicked point is marked on the output plot."""
import html
import json
import re

import pytest

from helpers import HX


def output_data(text: str) -> dict:
    return json.loads(html.unescape(re.search(r'<script type="application/json" id="output-data"[^>]*>(.*?)</script>',
                                              text, re.S)[1]))


def answer(text: str) -> str:
    return html.unescape(re.search(r'<div id="predict-answer".*?</div>\s*(?=<|$)', text, re.S)[0])


def test_a_regression_prediction_reads_in_dollars_and_is_marked_on_the_heatmap(client):
    client.get("/?preset=house-price")
    sid = client.cookies["bp_session"]
    r = client.post("/ui/predict", headers=HX, data={"input_0": "100", "input_1": "3"})
    text = html.unescape(r.text)
    expected = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[100, 3]]}).json()["outputs"][0][0]
    assert expected == pytest.approx(150_000)  # zero output weights: the mean price
    assert "For size_m2 = 100, rooms = 3, with the weights after step 0:" in text
    value = re.search(r'<dt>price</dt><dd data-value="([^"]+)"><strong>\$150,000</strong> '
                      r'<span class="muted">\(0 to the network\)</span>', text)
    assert value and float(value[1]) == expected
    marks = [t for t in output_data(r.text)["figure"]["data"] if t["name"] == "your input"]
    assert len(marks) == 1 and (marks[0]["x"], marks[0]["y"]) == ([100.0], [3.0])


def test_the_answer_follows_every_step_without_touching_the_form(client):
    client.get("/?preset=house-price")
    sid = client.cookies["bp_session"]
    client.post("/ui/predict", headers=HX, data={"input_0": "100", "input_1": "3"})
    r = client.post("/ui/step", headers=HX)
    assert 'id="predict-form"' not in r.text  # what the learner types survives Play's frames
    now = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[100, 3]]}).json()["outputs"][0][0]
    a = answer(r.text)
    assert 'data-step="1"' in a and "with the weights after step 1:" in a
    assert float(re.search(r'data-value="([^"]+)"', a)[1]) == now != 150_000


def test_a_curve_marks_the_prediction_at_the_networks_output_and_moves_it_with_each_step(client):
    client.get("/?preset=sine")
    sid = client.cookies["bp_session"]
    r = client.post("/ui/predict", headers=HX, data={"input_0": "1.5"})
    mark = [t for t in output_data(r.text)["figure"]["data"] if t["name"] == "your input"][0]
    expected = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[1.5]]}).json()["outputs"][0][0]
    assert mark["x"] == [1.5] and mark["y"] == [expected]
    r = client.post("/ui/step", headers=HX)
    moved = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[1.5]]}).json()["outputs"][0][0]
    assert output_data(r.text)["marker_y"] == [moved]


def test_a_sigmoid_classifier_shows_the_class_and_its_probabilities(client):
    client.get("/?preset=xor")
    sid = client.cookies["bp_session"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 4000})
    r = client.post("/ui/predict", headers=HX, data={"input_0": "0", "input_1": "1"})
    a = answer(r.text)
    p = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[0, 1]]}).json()
    o = p["outputs"][0][0]
    assert p["classes"] == ["1"] and o > 0.5
    assert re.search(r'Predicted class: <strong data-class="1">1</strong>', a)
    shares = [float(v) for v in re.findall(r'<li data-value="([^"]+)">', a)]
    assert shares == [1 - o, o] and f"{100 * o:.1f} %" in a


def test_a_tanh_classifier_says_its_output_is_a_score_not_a_probability(client):
    client.get("/")  # the circle, with a tanh output
    r = client.post("/ui/predict", headers=HX, data={"input_0": "0", "input_1": "0"})
    a = answer(r.text)
    assert "Predicted class:" in a and "A tanh output is a score, not a probability." in a
    assert "predict-probabilities" not in a


def test_a_prediction_that_no_longer_fits_the_data_is_dropped(client):
    client.get("/?preset=house-price")
    client.post("/ui/predict", headers=HX, data={"input_0": "100", "input_1": "3"})
    r = client.post("/ui/config", headers=HX, data={"dataset": "sine"})
    assert "For size_m2" not in r.text and "your input" not in html.unescape(r.text)
    assert 'id="predict-answer"' in r.text and "Predicted class" not in r.text


def test_bad_predict_input_is_refused_beside_the_form(client):
    client.get("/?preset=house-price")
    r = client.post("/ui/predict", headers=HX, data={"input_0": "big", "input_1": "3"})
    assert 'id="predict-error" class="field-error" role="alert">Enter a number' in r.text
    assert 'aria-invalid="true"' in r.text


def test_a_refused_input_does_not_show_the_last_answer_as_its_own(client):
    client.get("/?preset=house-price")
    client.post("/ui/predict", headers=HX, data={"input_0": "100", "input_1": "3"})
    r = client.post("/ui/predict", headers=HX, data={"input_0": "abc", "input_1": "3"})
    assert "Enter a number" in r.text and "For size_m2 = 100" not in answer(r.text)
    assert "predict-for" not in answer(r.text)


def test_large_values_read_with_grouped_thousands_not_exponents():
    from app.views.units import in_units
    assert [in_units(v, "") for v in (181492.3, 1234567.0, 12345.67, 0.5, -250000.0)] == [
        "181,492", "1,234,567", "12,346", "0.5", "−250,000"]  # whole from 1,000 up (app/views/units.py amount)
    assert in_units(150000.0, "$") == "$150,000"
