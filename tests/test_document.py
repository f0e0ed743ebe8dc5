"""Export and import (app/core/document.py) through the API and the page: a document continues exactly, one that
does not fit is refused naming the field."""
import pytest

from app.settings import get_settings
from helpers import HX, page_session, state


def test_an_export_at_every_cap_imports_again(client):
    """The largest session the caps allow, with a CSV near its cap, exports and imports through both imports."""
    cap = get_settings().max_neurons
    columns = [f"c{k}" for k in range(cap - 2)]
    rows = "\n".join(",".join(f"{(r * 7 + k) % 1000 * 1.0001:.4f}" for k in range(cap - 1)) for r in range(1700))
    text = ",".join([*columns, "y"]) + "\n" + rows + "\n"
    assert 0.8 * get_settings().max_csv_bytes < len(text) <= get_settings().max_csv_bytes
    layers = [cap - 2, *[cap] * get_settings().max_hidden_layers, 1]
    sid = client.post("/api/sessions", json={"layers": layers, "optimizer": "adam", "dataset": {
        "name": "csv", "csv": text, "target_columns": ["y"], "standardize": True}}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    doc = client.get(f"/api/sessions/{sid}/export")
    assert len(doc.content) > get_settings().max_body_bytes  # larger than any other request may be
    again = client.post("/api/sessions/import", content=doc.content, headers={"content-type": "application/json"})
    assert again.status_code == 201, again.text[:300]
    assert state(client, again.json()["id"])["weights"] == state(client, sid)["weights"]
    page_session(client)
    r = client.post("/ui/import", headers=HX, files={"file": ("big.json", doc.content, "application/json")})
    assert "Imported big.json: step 3." in r.text


def test_export_then_import_continues_exactly(client):
    sid = client.post("/api/sessions", json={"optimizer": "adam", "dataset": {"name": "xor", "noise": 0.2}}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 9})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    assert doc["format"] == "backprop-playground/session" and doc["step"] == 9 and len(doc["history"]) == 10
    imported = client.post("/api/sessions/import", json=doc)
    assert imported.status_code == 201
    new = imported.json()["id"]
    original = client.get(f"/api/sessions/{sid}").json()
    skip = {"id", "kept_steps"}  # rewind points are not exported: the import starts its own
    assert {k: v for k, v in imported.json().items() if k not in skip} == \
        {k: v for k, v in original.items() if k not in skip}
    a = client.post(f"/api/sessions/{sid}/step", json={"steps": 3}).json()["weights"]
    assert client.post(f"/api/sessions/{new}/step", json={"steps": 3}).json()["weights"] == a


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d["weights"].pop(), "weights"),
    (lambda d: d["weights"][1].pop(), "weights.1"),
    (lambda d: d["biases"][0].append(0.5), "biases.0"),
    (lambda d: d["optimizer"].update(m=[0.0]), "optimizer.m"),
    (lambda d: d["optimizer"].update(name="sgd"), "optimizer.name"),
    (lambda d: d["request"].update(learning_rate=-1), "request.learning_rate"),
    (lambda d: d.update(position=10**6), "position"),
])
def test_import_refuses_a_document_that_does_not_fit_and_names_the_field(client, change, field):
    sid = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    change(doc)
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == field, r.json()


@pytest.mark.parametrize("change, field", [
    (lambda d: d["optimizer"].update(t=-1), "optimizer.t"),
    (lambda d: d["optimizer"].update(v=[-1.0] * len(d["optimizer"]["v"])), "optimizer.v"),
    (lambda d: d.update(position=d["config"]["dataset"]["samples"] // 2), "position"),  # = the training rows
    (lambda d: d.update(step=2**63), "step"),
    (lambda d: d["weights"][0].__setitem__(0, [0.1]), "weights.0"),  # ragged rows
    (lambda d: d.update(history=[[0, 1.0, 1.0, 0.5, 0.5], [0, 1.0, 1.0, 0.5, 0.5]]), "history.1"),
    (lambda d: d.update(history=[[5, 1.0, 1.0, 0.5, 0.5]] * 1), "history.0"),  # beyond the step
])
def test_import_refuses_state_that_could_not_be_trained(client, change, field):
    sid = client.post("/api/sessions", json={"optimizer": "adam", "dataset": {"samples": 100,
                                                                              "train_fraction": 0.5}}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 2})
    doc = client.get(f"/api/sessions/{sid}/export").json()
    if field == "history.0":
        doc["step"] = 2
    change(doc)
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == field, r.text


def test_import_recomputes_the_current_loss_and_refuses_an_infinite_one(client):
    sid = client.post("/api/sessions", json={"output_activation": "linear", "loss": "mse",
                                             "dataset": {"name": "sine"}}).json()["id"]
    doc = client.get(f"/api/sessions/{sid}/export").json()
    doc["history"] = [[0, 123.0, 1.0, None, None]]
    assert client.post("/api/sessions/import", json=doc).json()["loss"]["train"] != 123.0
    doc["weights"] = [[[1e300] * len(row) for row in layer] for layer in doc["weights"]]
    r = client.post("/api/sessions/import", json=doc)
    assert r.status_code == 422 and "infinite" in r.json()["detail"][0]["msg"]
