"""The JSON API (app/api/sessions.py): sessions, steps, predictions, rewind, edits, gradient checks, and
refusals that name the field and change nothing."""
import json
import re

import numpy as np
import pytest

from app.settings import get_settings
from helpers import CSV_CASES, HX, everything, new_session, state


def fields(response):
    return [d["field"] for d in response.json()["detail"]]


def test_create_session_has_the_default_setup(session):
    assert len(session["id"]) == 32
    cfg = session["config"]
    assert cfg["layers"] == [2, 4, 2, 1]
    assert (cfg["hidden_activation"], cfg["output_activation"], cfg["loss"]) == ("tanh", "tanh", "half_sse")
    assert (cfg["optimizer"], cfg["learning_rate"], cfg["batch_size"]) == ("sgd", 0.03, 10)
    assert cfg["dataset"]["name"] == "circle" and cfg["dataset"]["seed"] == 1
    assert session["step"] == 0 and session["epoch"] == 0
    assert [len(w) for w in session["weights"]] == [4, 2, 1] and [len(w[0]) for w in session["weights"]] == [2, 4, 2]
    assert session["biases"] == [[0.1] * 4, [0.1] * 2, [0.1]]
    assert session["data"]["train_size"] == 250 and session["data"]["test_size"] == 250
    assert session["loss"]["train"] > 0 and session["loss"]["test"] > 0


def test_get_session_returns_the_same_state(client, session):
    r = client.get(f"/api/sessions/{session['id']}")
    assert r.status_code == 200 and r.json() == session


def test_mazur_through_the_api(client, mazur_json):
    sid = client.post("/api/sessions", json=mazur_json).json()["id"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
    assert r.status_code == 200
    body = r.json()
    tr = body["trace"]
    assert tr["loss_before"] == pytest.approx(0.298371109, abs=1e-9)
    assert tr["a"][1][0][0] == pytest.approx(0.593269992, abs=1e-9)
    assert tr["a"][2][0][0] == pytest.approx(0.75136507, abs=1e-8)
    assert tr["delta"][1][0][0] == pytest.approx(0.138498562, abs=1e-9)
    assert tr["grad_weights"][1][0][0] == pytest.approx(0.082167041, abs=1e-9)
    assert tr["weights_before"][1][0][0] == 0.40
    assert body["weights"][1][0][0] == pytest.approx(0.35891648, abs=1e-8)
    assert body["weights"][0][0][0] == pytest.approx(0.149780716, abs=1e-9)
    assert body["weights"] == tr["weights_after"]
    assert body["biases"] == mazur_json["biases"]
    assert body["step"] == 1 and body["epoch"] == 1 and tr["rows"] == [0]


def test_trace_shapes_follow_the_layers(client, session):
    body = client.post(f"/api/sessions/{session['id']}/step").json()
    tr = body["trace"]
    assert len(tr["rows"]) == 10
    assert [len(z[0]) for z in tr["z"]] == [4, 2, 1] and [len(a[0]) for a in tr["a"]] == [2, 4, 2, 1]
    assert all(len(d) == 10 for d in tr["delta"])
    assert [len(g) for g in tr["grad_biases"]] == [4, 2, 1]
    assert tr["weights_before"] == session["weights"]
    assert tr["reg_grad_weights"] is None


def test_steps_are_deterministic_across_sessions(client):
    cfg = {"seed": 5, "dataset": {"name": "spiral", "samples": 200, "noise": 0.1}}
    finals = []
    for _ in range(2):
        sid = client.post("/api/sessions", json=cfg).json()["id"]
        finals.append(client.post(f"/api/sessions/{sid}/step", json={"steps": 100}).json())
    assert finals[0]["weights"] == finals[1]["weights"] and finals[0]["step"] == 100


def test_epoch_runs_one_pass(client, session):
    body = client.post(f"/api/sessions/{session['id']}/epoch").json()
    assert body["step"] == 25 and body["epoch"] == 1
    assert body["loss"]["train"] != session["loss"]["train"]


def test_predict_returns_outputs_and_every_layer(client, mazur_json):
    sid = client.post("/api/sessions", json=mazur_json).json()["id"]
    r = client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[0.05, 0.10], [1, 2]]})
    assert r.status_code == 200
    body = r.json()
    assert body["outputs"][0][0] == pytest.approx(0.75136507, abs=1e-8)
    assert [len(a[0]) for a in body["a"]] == [2, 2, 2] and body["a"][0] == [[0.05, 0.10], [1, 2]]


def test_predict_applies_the_dataset_normalisation(client):
    sid = client.post("/api/sessions", json={"dataset": {"name": "test-score", "standardize": True},
                                             "output_activation": "sigmoid"}).json()
    r = client.post(f"/api/sessions/{sid['id']}/predict", json={"inputs": [[4, 8]]})
    studied, slept = np.array([2, 1, 3]), np.array([9, 5, 6])  # the training rows' hours
    assert r.json()["a"][0][0] == pytest.approx([(4 - studied.mean()) / studied.std(), (8 - slept.mean()) / slept.std()])


@pytest.mark.parametrize("name,layers", [("xor-table", [2, 2, 1]), ("iris", [4, 4, 2, 3]), ("sine", [1, 8, 1]),
                                         ("moons", [2, 4, 1]), ("plane", [2, 1]), ("multi-gauss", [2, 4, 1])])
def test_every_named_dataset_trains(client, name, layers):
    r = client.post("/api/sessions", json={"layers": layers, "dataset": {"name": name}})
    assert r.status_code == 201, r.text
    assert client.post(f"/api/sessions/{r.json()['id']}/step", json={"steps": 5}).status_code == 200


def test_omitted_layers_fit_the_dataset(client):
    body = client.post("/api/sessions", json={"output_activation": "softmax", "loss": "cross_entropy",
                                              "dataset": {"name": "iris"}}).json()
    assert body["config"]["layers"] == [4, 4, 2, 3]


def test_csv_dataset(client):
    csv = "a,b,y\n" + "\n".join(f"{i},{i % 3},{i * 0.1}" for i in range(20))
    r = client.post("/api/sessions", json={"layers": [2, 3, 1], "output_activation": "linear",
                                           "dataset": {"name": "csv", "csv": csv, "target_columns": ["y"]}})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["train_size"] == 16


@pytest.mark.parametrize("body,field", [
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": -1}, "learning_rate"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": 1e9}, "learning_rate"),
    ({"layers": []}, "layers"),
    ({"layers": [2, 0, 1]}, "layers"),
    ({"layers": [2, 1000, 1]}, "layers"),
    ({"layers": [2] + [4] * 20 + [1]}, "layers"),
    ({"layers": [3, 4, 1]}, "layers"),
    ({"layers": [2, 4, 3]}, "layers"),
    ({"hidden_activation": "swish"}, "hidden_activation"),
    ({"output_activation": "softmax", "loss": "half_sse"}, "loss"),
    ({"loss": "hinge"}, "loss"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"batch_size": 0}, "batch_size"),
    ({"dataset": {"name": "mnist"}}, "dataset.name"),
    ({"dataset": {"samples": 10**7}}, "dataset"),
    ({"dataset": {"name": "circle", "noise": -1}}, "dataset.noise"),
    ({"weights": [[[1, 2]]]}, "weights"),
    ({"unknown_field": 1}, "unknown_field"),
])
def test_bad_create_requests_get_422_naming_the_field(client, body, field):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422, r.text
    assert any(f == field or f.startswith(field + ".") for f in fields(r)), r.json()
    assert all(d["msg"].startswith(d["field"]) for d in r.json()["detail"])


def test_wrong_weight_shape_names_layer_and_expected_shape(client):
    weights = [[[0.1, 0.2]] * 4, [[0.1] * 4] * 2, [[0.1, 0.2, 0.3]]]
    r = client.post("/api/sessions", json={"weights": weights})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "weights.2" and "(1, 2)" in detail["msg"] and "(1, 3)" in detail["msg"]


@pytest.mark.parametrize("raw", ['{"learning_rate": NaN}', '{"learning_rate": Infinity}',
                                 '{"weights": [[[NaN]]]}', '{"layers": [2, 4, 1'])
def test_nan_infinity_and_broken_json_are_refused(client, raw):
    r = client.post("/api/sessions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_unknown_and_malformed_session_ids(client):
    assert client.get("/api/sessions/" + "0" * 32).status_code == 404
    assert client.post("/api/sessions/" + "0" * 32 + "/step").status_code == 404
    assert client.get("/api/sessions/not-an-id").status_code == 422


def test_bad_step_requests_leave_the_session_unchanged(client, session):
    sid = session["id"]
    for body in [{"steps": 0}, {"steps": -3}, {"steps": 10**6}, {"steps": "many"}, {"steps": 1.5}]:
        r = client.post(f"/api/sessions/{sid}/step", json=body)
        assert r.status_code == 422 and fields(r) == ["steps"], r.text
    assert client.get(f"/api/sessions/{sid}").json() == session


def test_ten_thousand_steps_in_one_request(client, session):
    r = client.post(f"/api/sessions/{session['id']}/step", json={"steps": 10_000})
    assert r.status_code == 200 and r.json()["step"] == 10_000


def test_work_cap_refuses_too_many_sample_passes(client):
    sid = client.post("/api/sessions", json={"batch_size": 5000, "dataset": {"samples": 5000,
                                                                              "train_fraction": 1}}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 10_000})
    assert r.status_code == 422 and fields(r) == ["steps"]


def test_bad_predict_requests(client, session):
    url = f"/api/sessions/{session['id']}/predict"
    assert fields(client.post(url, json={"inputs": [[1, 2, 3]]})) == ["inputs"]
    assert client.post(url, json={"inputs": []}).status_code == 422
    assert client.post(url, content='{"inputs": [[NaN, 1]]}', headers={"content-type": "application/json"}
                       ).status_code == 422


def test_divergence_is_refused_with_409_and_nothing_changes(client):
    r = client.post("/api/sessions", json={"layers": [1, 8, 1], "hidden_activation": "relu",
                                           "output_activation": "linear", "learning_rate": 100,
                                           "dataset": {"inputs": [[1000.0], [-900.0]], "targets": [[1.0], [2.0]]}})
    state = r.json()
    r = client.post(f"/api/sessions/{state['id']}/step", json={"steps": 100})
    assert r.status_code == 409
    assert "learning rate" in r.json()["detail"] and r.json()["field"] == "learning_rate"
    assert client.get(f"/api/sessions/{state['id']}").json() == state


def test_state_json_has_no_nan(client, session):
    text = client.get(f"/api/sessions/{session['id']}").text
    assert "NaN" not in text and json.loads(text)


def test_openapi_documents_the_contract(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ["/api/sessions", "/api/sessions/{session_id}", "/api/sessions/{session_id}/step",
                 "/api/sessions/{session_id}/epoch", "/api/sessions/{session_id}/predict"]:
        assert path in paths
    assert "409" in paths["/api/sessions/{session_id}/step"]["post"]["responses"]
    assert client.get("/docs").status_code == 200


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_docs_and_browser_libraries_come_from_this_server(client):
    html = client.get("/docs").text
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    for path in ["/vendor/swagger-ui/swagger-ui-bundle.js", "/vendor/htmx/htmx.min.js",
                 "/vendor/plotly/plotly-basic.min.js"]:
        r = client.get(path)
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], path


def test_ragged_predict_rows_are_a_422(client, session):
    r = client.post(f"/api/sessions/{session['id']}/predict", json={"inputs": [[1, 2], [1]]})
    assert r.status_code == 422 and fields(r) == ["inputs"]


def test_starting_weights_with_an_infinite_loss_are_refused(client):
    r = client.post("/api/sessions", json={"output_activation": "linear", "layers": [2, 1],
                                           "dataset": {"name": "plane"}, "weights": [[[1e200, 1e200]]]})
    assert r.status_code == 422 and fields(r) == ["weights"]


@pytest.mark.parametrize("data, words", CSV_CASES[:4] + CSV_CASES[6:-1])
def test_csv_through_the_api_is_refused_naming_the_field(client, data, words):
    r = client.post("/api/sessions", json={"dataset": {"name": "csv", "csv": data.decode(), "target_columns": ["y"]}})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "dataset.csv" and words in detail["msg"]


@pytest.mark.parametrize("dataset, field, words", [
    ({"name": "csv", "csv": CSV_CASES[-1][0].decode(), "target_columns": ["label"], "task": "classification"},
     "dataset", "100 classes, one output node each, but the cap is 64"),
    ({"inputs": [[1.0], [2.0]], "targets": [[0.0] * 65, [1.0] * 65]}, "dataset.targets", "65 numbers"),
    ({"inputs": [[1e300], [2.0]], "targets": [[0.0], [1.0]]}, "dataset.inputs", "within ±1,000,000,000"),
    ({"inputs": [[1.0], [2.0]], "targets": [[0.0], [-1e10]]}, "dataset.targets", "within ±1,000,000,000"),
])
def test_data_that_would_overflow_or_outgrow_the_caps_is_refused(client, dataset, field, words):
    r = client.post("/api/sessions", json={"dataset": dataset})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["field"] == field and words in detail["msg"], detail


@pytest.mark.parametrize("setup", [
    {"hidden_activation": "sigmoid", "output_activation": "linear", "loss": "mse", "learning_rate": 10,
     "dataset": {"name": "sine"}},
    {"hidden_activation": "relu", "output_activation": "linear", "loss": "mse", "learning_rate": 3,
     "dataset": {"name": "sine"}},
])
def test_divergence_is_refused_and_said_plainly(client, setup):
    sid = client.post("/api/sessions", json=setup).json()["id"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 2000})
    assert r.status_code == 409
    n = r.json()["step"]
    assert r.json()["detail"].startswith(f"Training diverged at step {n}: lower the learning rate or go Back.")
    assert state(client, sid)["step"] == 0
    client.post(f"/api/sessions/{sid}/step", json={"steps": n - 1})
    before = everything(client, sid)
    client.cookies.set("bp_session", sid)
    page = client.post("/ui/step", headers=HX).text
    assert f"Training diverged at step {n}: lower the learning rate or go Back." in page
    assert not re.search(r"\b(nan|inf|infinity)\b", re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page),
                         re.IGNORECASE)
    assert everything(client, sid) == before


def test_a_request_that_would_run_too_long_is_stopped_and_keeps_nothing(client, monkeypatch):
    sid = client.post("/api/sessions", json={}).json()["id"]
    before = everything(client, sid)
    monkeypatch.setattr(get_settings(), "max_request_seconds", 0.0)
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 50})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "steps"
    assert "longer than 0 s" in r.json()["detail"][0]["msg"]
    monkeypatch.undo()
    assert everything(client, sid) == before


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_rewind_then_restep_is_bit_identical(client, optimizer):
    sid = new_session(client, optimizer=optimizer, batch_size=7, seed=3)
    first = client.post(f"/api/sessions/{sid}/step", json={"steps": 40}).json()
    curve = client.get(f"/api/sessions/{sid}").json()
    back = client.post(f"/api/sessions/{sid}/rewind", json={"step": 13}).json()
    # An undo, not a truncation: the later steps stay kept until a new step.
    assert back["step"] == 13 and back["epoch"] == 0 and back["kept_steps"] == [0, 40]
    assert back["redo_steps"] == [14, 40]
    again = client.post(f"/api/sessions/{sid}/step", json={"steps": 27}).json()
    assert again["step"] == 40 and again["epoch"] == first["epoch"] and again["redo_steps"] == []
    assert again["weights"] == first["weights"] and again["biases"] == first["biases"]
    assert again["trace"] == first["trace"]  # same batch rows, same optimizer state, same numbers
    assert again["loss"] == curve["loss"]


def test_rewind_returns_to_a_later_kept_step_exactly_until_a_new_step_or_edit(client):
    sid = new_session(client, optimizer="momentum", batch_size=9, seed=5)
    client.post(f"/api/sessions/{sid}/step", json={"steps": 12})
    twelfth = everything(client, sid)
    back = client.post(f"/api/sessions/{sid}/rewind", json={"step": 4}).json()
    assert back["step"] == 4 and back["kept_steps"] == [0, 12] and back["redo_steps"] == [5, 12]
    assert client.get(f"/api/sessions/{sid}/export").json()["history"][-1][0] == 4  # the curve up to step 4
    redo = client.post(f"/api/sessions/{sid}/rewind", json={"step": 12}).json()
    assert redo["redo_steps"] == [] and everything(client, sid) == twelfth
    client.post(f"/api/sessions/{sid}/rewind", json={"step": 7})
    edited = client.post(f"/api/sessions/{sid}/parameters",
                         json={"kind": "bias", "layer": 0, "to": 0, "value": 0.25}).json()
    assert edited["kept_steps"] == [0, 7] and edited["redo_steps"] == []
    r = client.post(f"/api/sessions/{sid}/rewind", json={"step": 12})
    assert r.status_code == 422 and "rewind reaches steps 0 to 7" in r.json()["detail"][0]["msg"]


def test_editing_a_weight_changes_exactly_that_weight(client):
    sid = new_session(client)
    before = client.post(f"/api/sessions/{sid}/step", json={"steps": 3}).json()
    after = client.post(f"/api/sessions/{sid}/parameters",
                        json={"kind": "weight", "layer": 1, "to": 0, "from": 2, "value": 0.125}).json()
    expected = [[row[:] for row in layer] for layer in before["weights"]]
    expected[1][0][2] = 0.125
    assert after["weights"] == expected and after["biases"] == before["biases"]
    assert after["step"] == 3 and after["loss"] != before["loss"]
    bias = client.post(f"/api/sessions/{sid}/parameters",
                       json={"kind": "bias", "layer": 2, "to": 0, "value": -0.5}).json()
    assert bias["biases"][2] == [-0.5] and bias["weights"] == expected


@pytest.mark.parametrize("body,field", [
    ({"kind": "weight", "layer": 7, "to": 0, "from": 0, "value": 1}, "layer"),
    ({"kind": "weight", "layer": 0, "to": 4, "from": 0, "value": 1}, "to"),
    ({"kind": "weight", "layer": 0, "to": 0, "value": 1}, "from"),
    ({"kind": "weight", "layer": 0, "to": 0, "from": 0, "value": "big"}, "value"),
    ({"kind": "edge", "layer": 0, "to": 0, "from": 0, "value": 1}, "kind"),
])
def test_bad_edits_are_refused_and_change_nothing(client, body, field):
    sid = new_session(client)
    state = client.get(f"/api/sessions/{sid}").json()
    r = client.post(f"/api/sessions/{sid}/parameters", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text
    assert client.get(f"/api/sessions/{sid}").json() == state


def test_gradient_check_endpoint(client):
    sid = new_session(client, regularization="l2", regularization_rate=0.01)
    r = client.post(f"/api/sessions/{sid}/gradient-check")
    body = r.json()
    assert r.status_code == 200 and body["parameters"] == 25 and body["max_relative_error"] < 1e-6
    assert body["disagreeing"] == [] and len(body["rows"]) == 10


def test_gradient_check_refuses_more_work_than_a_request_may_do(client):
    sid = new_session(client, layers=[2, 64, 64, 64, 1], batch_size=400)
    r = client.post(f"/api/sessions/{sid}/gradient-check")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "batch_size"
