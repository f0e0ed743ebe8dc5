"""Classification everywhere (issue 13 §2): inline rows as one-hot targets or class ids, and predict's classes."""
import numpy as np
import pytest

from app.datasets import inline_dataset
from app.engine import FieldError

X = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 2], [2, 3]]
ONE_HOT = [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]]
IDS = [[0], [1], [1], [2], [0], [2]]


def test_one_hot_targets_under_softmax_are_classification_on_their_own():
    d = inline_dataset(X, ONE_HOT, output_activation="softmax", output_size=3)
    assert d.task == "classification" and d.classes == ["0", "1", "2"]
    assert np.array_equal(d.train_labels, [0, 1, 1, 2, 0, 2]) and np.array_equal(d.train_y, ONE_HOT)
    # The same rows under tanh stay regression unless the task says otherwise.
    assert inline_dataset(X, ONE_HOT, output_activation="tanh", output_size=3).task == "regression"


@pytest.mark.parametrize("targets", [ONE_HOT, IDS])
def test_task_classification_takes_one_hot_rows_or_class_ids(targets):
    d = inline_dataset(X, targets, task="classification", output_activation="softmax", output_size=3)
    assert d.task == "classification" and np.array_equal(d.train_labels, [0, 1, 1, 2, 0, 2])
    assert np.array_equal(d.train_y, ONE_HOT)
    two = inline_dataset(X[:4], [[0], [1], [1], [0]], task="classification", output_activation="sigmoid")
    assert two.classes == ["0", "1"] and np.array_equal(two.train_y, [[0], [1], [1], [0]])


@pytest.mark.parametrize("targets, words", [
    ([[0.5], [1], [1], [2], [0], [2]], "class ids"),
    ([[-1], [1], [1], [2], [0], [2]], "class ids"),
    ([[1, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 1]], "one-hot"),
    ([[1], [1], [1], [1], [1], [1]], "at least two classes"),
])
def test_bad_class_targets_are_refused_naming_the_field(targets, words):
    with pytest.raises(FieldError) as e:
        inline_dataset(X, targets, task="classification", output_activation="softmax", output_size=None)
    assert e.value.field == "dataset.targets" and words in e.value.message


def test_a_published_softmax_example_runs_through_the_api_and_predict_names_classes(client):
    body = {"layers": [2, 4, 3], "output_activation": "softmax", "learning_rate": 0.5, "batch_size": 6,
            "dataset": {"inputs": X, "targets": ONE_HOT}}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["config"]["loss"] == "cross_entropy" and s["data"]["task"] == "classification"
    assert s["data"]["classes"] == ["0", "1", "2"] and s["config"]["dataset"]["task"] == "classification"
    client.post(f"/api/sessions/{s['id']}/step", json={"steps": 300})
    p = client.post(f"/api/sessions/{s['id']}/predict", json={"inputs": X}).json()
    outputs = np.array(p["outputs"])
    assert np.allclose(outputs.sum(axis=1), 1) and p["outputs"] == p["a"][-1]  # probabilities, as computed
    assert p["classes"] == [str(k) for k in outputs.argmax(axis=1)] == ["0", "1", "1", "2", "0", "2"]


def test_sigmoid_with_bce_on_inline_class_ids(client):
    body = {"layers": [2, 3, 1], "output_activation": "sigmoid", "loss": "bce", "learning_rate": 1,
            "dataset": {"inputs": X[:4], "targets": [[0], [1], [1], [1]], "task": "classification"}}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 500})
    p = client.post(f"/api/sessions/{sid}/predict", json={"inputs": X[:4]}).json()
    assert p["classes"] == ["0" if o[0] < 0.5 else "1" for o in p["outputs"]] == ["0", "1", "1", "1"]


def test_regression_predictions_have_no_classes_and_a_bad_class_target_is_a_422(client):
    sid = client.post("/api/sessions", json={"layers": [1, 2, 1], "output_activation": "linear",
                                             "dataset": {"inputs": [[1], [2]], "targets": [[3], [5]]}}).json()["id"]
    assert client.post(f"/api/sessions/{sid}/predict", json={"inputs": [[1]]}).json()["classes"] is None
    r = client.post("/api/sessions", json={"output_activation": "softmax", "layers": [2, 3],
                                           "dataset": {"inputs": X, "targets": [[0.5]] * 6, "task": "classification"}})
    assert r.status_code == 422 and "dataset.targets" in r.text
