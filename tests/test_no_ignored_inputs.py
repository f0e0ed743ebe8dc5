"""No input silently ignored (issue 22, point 8): a field that has no effect under the rest of the request is a 422
naming it, through the API and the page, or it takes effect."""
import html
import json

import numpy as np
import pytest

from helpers import HX, new_session

HOUSES = "size,rooms,price\n50,2,100\n60,3,120\n70,3,150\n80,4,160\n90,4,185\n"


def refused(client, body, path="/api/sessions"):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    return r.json()["detail"]


def field_of(detail) -> str:
    return detail[0]["field"]


def test_a_csv_without_a_name_is_the_csv_set(client):
    r = client.post("/api/sessions", json={"dataset": {"csv": HOUSES, "target_columns": ["price"],
                                                       "task": "regression"}})
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["data"]["name"] == "csv" and s["data"]["target_names"] == ["price"]
    assert s["data"]["input_names"] == ["size", "rooms"]


@pytest.mark.parametrize("dataset, field", [
    ({"name": "iris", "csv": HOUSES}, "dataset.csv"),
    ({"name": "circle", "csv": HOUSES, "target_columns": ["price"]}, "dataset.csv"),
    ({"name": "iris", "target_columns": ["price"]}, "dataset.target_columns"),
    ({"name": "iris", "samples": 10}, "dataset.samples"),
    ({"name": "iris", "noise": 0.5}, "dataset.noise"),
    ({"name": "xor-table", "samples": 3000}, "dataset.samples"),
    ({"name": "mazur", "noise": 0.1}, "dataset.noise"),
    ({"name": "circle", "task": "regression"}, "dataset.task"),
    ({"name": "plane", "task": "classification"}, "dataset.task"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "train_fraction": 0.5}, "dataset.train_fraction"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "samples": 100}, "dataset.samples"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "noise": 0.2}, "dataset.noise"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "seed": 3}, "dataset.seed"),
    ({"inputs": [[0, 1], [1, 0]], "targets": [[0], [1]], "features": ["x1"]}, "dataset.features"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "csv": HOUSES}, "dataset.csv"),
    ({"inputs": [[0], [1]], "targets": [[0], [1]], "target_columns": ["y"]}, "dataset.target_columns"),
])
def test_a_data_field_the_set_has_no_use_for_is_refused_naming_it(client, dataset, field):
    assert field_of(refused(client, {"dataset": dataset})) == field


@pytest.mark.parametrize("dataset", [
    {"name": "circle", "task": "classification"},  # what the set is anyway: the stored recipe says so
    {"name": "iris", "noise": 0},  # noise's default
    {"name": "iris", "seed": 4, "train_fraction": 0.5, "standardize": True},
    {"name": "csv", "csv": HOUSES, "target_columns": ["price"]},
])
def test_data_fields_that_describe_the_set_are_accepted(client, dataset):
    r = client.post("/api/sessions", json={"dataset": dataset})
    assert r.status_code == 201, r.text


def test_an_iris_link_with_samples_and_noise_says_which_parameter_has_no_effect(client):
    r = client.get("/?dataset=iris&samples=10&noise=0.5")
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert "This link's setup cannot be used, so it was not applied. samples:" in text
    assert "Dataset 'iris' has the rows of its file; samples is for the generated sets" in text


def test_the_settings_form_shows_a_refused_data_field_next_to_its_control(client):
    client.get("/")
    r = client.post("/ui/config", data={"dataset": "circle", "samples": "100", "noise": "10"}, headers=HX)
    assert r.status_code == 200
    # iris has no samples control: switching to it sends none, so the page keeps working
    r = client.post("/ui/config", data={"dataset": "iris"}, headers=HX)
    assert r.status_code == 200 and "cannot" not in r.text


def test_a_bias_edit_with_from_is_refused(client):
    sid = new_session(client)
    before = client.get(f"/api/sessions/{sid}").json()
    detail = refused(client, {"kind": "bias", "layer": 0, "to": 0, "from": 1, "value": 0.5},
                     f"/api/sessions/{sid}/parameters")
    assert field_of(detail) == "from"
    assert client.get(f"/api/sessions/{sid}").json()["biases"] == before["biases"]


@pytest.mark.parametrize("body", [{"steps": 5}, {}, []])
def test_an_epoch_takes_no_body(client, body):
    sid = new_session(client)
    r = client.post(f"/api/sessions/{sid}/epoch", json=body)
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["field"] == "body"
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0
    assert client.post(f"/api/sessions/{sid}/epoch").status_code == 200


def test_cs231ns_one_row_softmax_example_is_a_classification_set(client):
    body = {"layers": [4, 3], "output_activation": "softmax", "loss": "cross_entropy",
            "dataset": {"inputs": [[-15, 22, -44, 56]], "targets": [[0, 0, 1]]}}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["data"]["task"] == "classification" and s["data"]["classes"] == ["0", "1", "2"]
    assert client.post(f"/api/sessions/{s['id']}/step", json={"steps": 3}).status_code == 200


@pytest.mark.parametrize("targets", [[[0], [1.5]], [[-0.5], [1]]])
def test_bce_targets_lie_in_zero_to_one(client, targets):
    body = {"layers": [1, 2, 1], "output_activation": "sigmoid", "loss": "bce",
            "dataset": {"inputs": [[0], [1]], "targets": targets}}
    detail = refused(client, body)
    assert field_of(detail) == "dataset.targets" and "0 and 1" in detail[0]["msg"]


def test_cross_entropy_targets_are_one_hot(client):
    body = {"layers": [1, 2, 2], "output_activation": "softmax", "loss": "cross_entropy",
            "dataset": {"inputs": [[0], [1]], "targets": [[0.3, 0.7], [1, 0]]}}
    detail = refused(client, body)
    assert field_of(detail) == "dataset.targets" and "one-hot" in detail[0]["msg"]


def test_a_steps_trace_carries_the_optimizer_state_before_and_after(client):
    sid = new_session(client, optimizer="adam", learning_rate=0.01)
    trace = client.post(f"/api/sessions/{sid}/step", json={}).json()["trace"]
    opt = trace["optimizer"]
    assert opt["name"] == "adam" and opt["before"]["t"] == 0 and opt["after"]["t"] == 1
    assert np.shape(opt["after"]["m"]["weights"][0]) == np.shape(trace["weights_after"][0])
    assert np.shape(opt["after"]["v"]["biases"][1]) == np.shape(trace["biases_after"][1])
    sgd = client.post(f"/api/sessions/{new_session(client)}/step", json={}).json()["trace"]["optimizer"]
    assert sgd == {"name": "sgd", "before": {}, "after": {}}


def test_optimizer_settings_the_optimizer_does_not_use_are_named_unused(client):
    s = client.post("/api/sessions", json={"optimizer": "sgd", "momentum": 0.5}).json()
    assert s["unused"] == ["momentum", "beta1", "beta2", "eps", "regularization_rate"]
    s = client.post("/api/sessions", json={"optimizer": "adam", "regularization": "l2",
                                           "regularization_rate": 0.01}).json()
    assert s["unused"] == ["momentum"]
    assert client.post(f"/api/sessions/{s['id']}/step", json={}).json()["unused"] == ["momentum"]


def exported(client, **config):
    sid = new_session(client, **config)
    client.post(f"/api/sessions/{sid}/step", json={"steps": 25})
    return client.get(f"/api/sessions/{sid}/export").json()


@pytest.mark.parametrize("change, field", [
    ({"epoch": 999999}, "epoch"),
    ({"epoch": 0, "position": 0}, "step"),  # 25 steps of 10 rows over 250 rows: at least one epoch ended
    ({"step": 300, "history": []}, "step"),  # one epoch of 250 rows, each step using one row or more: 250 steps
    ({"history": [[0, 0.5, 0.5, 0.5, 0.5], [3, 0.4, 0.4, 1.5, 0.5]]}, "history.1"),
    ({"history": [[0, -0.5, 0.5, 0.5, 0.5]]}, "history.0"),
    ({"history": [[0, 0.5, None, 0.5, 0.5]]}, "history.0"),
])
def test_an_import_is_checked_for_consistency(client, change, field):
    doc = exported(client)
    assert doc["step"] == 25 and doc["epoch"] == 1 and doc["position"] == 0
    detail = refused(client, {**doc, **change}, "/api/sessions/import")
    assert field_of(detail) == field, detail


def test_an_import_of_adam_counts_no_more_updates_than_steps(client):
    doc = exported(client, optimizer="adam", learning_rate=0.01)
    assert doc["optimizer"]["t"] == 25
    doc["optimizer"]["t"] = 26
    assert field_of(refused(client, doc, "/api/sessions/import")) == "optimizer.t"
    doc["optimizer"]["t"] = 25
    assert client.post("/api/sessions/import", json=doc).status_code == 201


def test_get_on_import_is_method_not_allowed(client):
    r = client.get("/api/sessions/import")
    assert r.status_code == 405 and "POST" in r.headers["allow"]


def test_a_body_nested_too_deep_is_a_422_like_any_other_bad_body(client):
    body = "[" * 5000 + "]" * 5000
    r = client.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body"], "field": "body", "msg": "body: The body is not valid JSON.",
                                   "type": "json_invalid"}]


def test_the_caps_are_in_the_openapi_schema(client):
    from app.settings import get_settings
    caps = get_settings()
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["StepRequest"]["properties"]["steps"]["maximum"] == caps.max_steps_per_request
    assert schemas["PredictRequest"]["properties"]["inputs"]["maxItems"] == caps.max_predict_rows
    samples = json.dumps(schemas["DatasetSpec"]["properties"]["samples"])
    assert f'"maximum": {caps.max_samples}' in samples
    batch = json.dumps(schemas["CreateSession"]["properties"]["batch_size"])
    assert f'"maximum": {caps.max_samples}' in batch
    layers = json.dumps(schemas["CreateSession"]["properties"]["layers"])
    assert f'"maximum": {caps.max_neurons}' in layers and f'"maxItems": {caps.max_hidden_layers + 2}' in layers


def test_a_session_stored_with_options_that_had_no_effect_still_rebuilds_as_it_was():
    from app.core.recipe import stored_recipe
    from app.core.session import build_session

    old = {"dataset": {"name": "xor-table", "samples": 3000, "noise": 0.3, "task": "classification"}, "seed": 2}
    session = build_session(stored_recipe(json.dumps(old)))
    assert session.dataset.name == "xor-table" and len(session.dataset.train_x) == 4
    inline = {"dataset": {"inputs": [[0], [1]], "targets": [[0], [1]], "seed": 3, "train_fraction": 0.5}}
    assert len(build_session(stored_recipe(json.dumps(inline))).dataset.train_x) == 2


def test_a_data_field_the_form_posts_for_a_set_without_it_is_named_on_the_page(client):
    client.get("/")
    assert client.post("/ui/config", data={"dataset": "iris"}, headers=HX).status_code == 200
    r = client.post("/ui/config", data={"samples": "10", "noise": "30"}, headers=HX)
    text = html.unescape(r.text)
    assert 'class="field-error" role="alert">samples: Dataset \'iris\' has the rows of its file' in text
    assert client.get("/api/sessions/" + client.cookies["bp_session"]).json()["data"]["name"] == "iris"


def test_a_link_giving_a_setting_the_optimizer_does_not_use_says_so(client):
    text = html.unescape(client.get("/?dataset=circle&optimizer=sgd&momentum=0.5&reg_rate=0.1").text)
    assert "momentum and reg_rate have no effect with these settings" in text
    assert "no effect" not in html.unescape(client.get("/?dataset=circle&optimizer=momentum&momentum=0.5").text)
