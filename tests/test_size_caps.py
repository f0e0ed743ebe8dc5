"""Sizes are checked before anything is built from them (issue 22, point 1): class ids, rows, columns, nodes,
steps and imports. A request that asks for more than a cap is a 422 naming the field, and the server allocates
nothing of its size first."""
import tracemalloc

import pytest

from app.datasets import inline_dataset
from app.engine import FieldError

MB = 1 << 20


def allocated_while(call) -> tuple[object, int]:
    """call()'s result and the most memory (bytes, Python and NumPy) it held at once beyond what was there."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak - base


def test_a_class_id_of_a_billion_is_refused_before_a_name_is_built_for_each_class(client):
    body = {"dataset": {"inputs": [[1, 2], [1, 1]], "targets": [[0], [1e9]], "task": "classification"}}
    r, grew = allocated_while(lambda: client.post("/api/sessions", json=body))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "dataset.targets"
    assert "64" in r.json()["detail"][0]["msg"]
    assert grew < 10 * MB


def test_the_class_cap_is_checked_in_the_pipeline_itself():
    (result, grew) = allocated_while(lambda: pytest.raises(FieldError, inline_dataset, [[0], [1]], [[0], [1e9]],
                                                           task="classification", output_size=None,
                                                           max_nodes=64))
    assert result.value.field == "dataset.targets" and grew < 10 * MB
    # one-hot rows are as wide as their classes, which the row width cap bounds already: 64 columns is the most
    assert inline_dataset([[0]] * 2, [[1] + [0] * 63, [0, 1] + [0] * 62], task="classification",
                          output_activation="softmax", output_size=None, max_nodes=64).classes[-1] == "63"
    with pytest.raises(FieldError) as e:
        inline_dataset([[0]] * 2, [[0], [64]], task="classification", output_size=None, max_nodes=64)
    assert e.value.field == "dataset.targets" and "65 classes" in e.value.message


def test_an_import_with_a_billion_class_ids_is_refused_as_fast(client):
    s = client.post("/api/sessions", json={"output_activation": "softmax", "layers": [2, 3, 2], "dataset": {
        "inputs": [[1, 2], [1, 1]], "targets": [[0], [1]], "task": "classification"}}).json()
    doc = client.get(f"/api/sessions/{s['id']}/export").json()
    doc["request"]["dataset"]["targets"] = [[0], [1e9]]
    r, grew = allocated_while(lambda: client.post("/api/sessions/import", json=doc))
    assert r.status_code == 422 and grew < 10 * MB
    assert r.json()["detail"][0]["field"] == "dataset.targets"


@pytest.mark.parametrize("field, body", [
    ("dataset.inputs", {"inputs": [[0.0] * 65, [1.0] * 65], "targets": [[0], [1]]}),
    ("dataset.targets", {"inputs": [[0], [1]], "targets": [[0.0] * 65, [1.0] * 65]}),
    ("dataset.test_inputs", {"inputs": [[0], [1]], "targets": [[0], [1]], "test_inputs": [[0.0] * 65],
                             "test_targets": [[1]]}),
])
def test_inline_rows_wider_than_a_layer_are_refused_before_they_are_built(client, field, body):
    r = client.post("/api/sessions", json={"dataset": body})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == field and "64" in r.json()["detail"][0]["msg"]
