"""What the OpenAPI fuzzer (tests/test_fuzz.py) found, pinned down as plain tests."""
import pytest

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("raw", [b"\x80", b'{"steps": "\xe9"}', b"\xca\x42\x10\xce\xb3\x8f"])
def test_a_body_that_is_not_utf8_is_invalid_json_not_a_bare_400(client, session, raw):
    # FastAPI answered these with 400 "There was an error parsing the body", which no operation documents.
    for url in ["/api/sessions", f"/api/sessions/{session['id']}/step", f"/api/sessions/{session['id']}/rewind"]:
        r = client.post(url, content=raw, headers=JSON)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["detail"] == [{"loc": ["body"], "field": "body", "msg": "body: The body is not valid JSON.",
                                       "type": "json_invalid"}]
    assert client.get(f"/api/sessions/{session['id']}").json() == session


def test_other_http_errors_are_answered_as_before(client):
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}
    r = client.put("/api/sessions")
    assert r.status_code == 405 and r.json() == {"detail": "Method Not Allowed"}


def test_every_operation_on_an_id_documents_its_404(client, session):
    spec = client.get("/openapi.json").json()
    with_ids = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
                if "{session_id}" in path or "{snapshot_id}" in path]
    assert len(with_ids) == 13
    for path, method, op in with_ids:
        assert op["responses"]["404"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorMessage"}, (method, path)
    assert spec["components"]["schemas"]["ErrorMessage"]["required"] == ["detail"]
    missing = client.get("/api/sessions/" + "0" * 32)
    assert missing.status_code == 404 and isinstance(missing.json()["detail"], str)
    missing = client.post("/api/snapshots/AAAAAAAAAAAAAAAA/fork")
    assert missing.status_code == 404 and isinstance(missing.json()["detail"], str)


@pytest.mark.parametrize("setup, rows, bad", [
    # x1_sq of 1e200 is Inf before the network even starts.
    ({"dataset": {"features": ["x1_sq", "x2_sq", "sin_x1"]}, "output_activation": "linear"},
     [[0.5, 0.5], [1e200, 0.0]], 1),
    # Inf - Inf in the first layer is NaN, and softmax passes it on.
    ({"layers": [4, 6, 3], "hidden_activation": "relu", "output_activation": "softmax", "loss": "cross_entropy",
      "dataset": {"name": "iris"}}, [[5.0, 3.0, 1.5, 0.2], [1.7e308, 1.7e308, -1.7e308, 1.7e308]], 1),
])
def test_a_prediction_that_overflows_is_refused_not_answered_with_nulls(client, setup, rows, bad):
    # The answer had null where the schema promises numbers.
    sid = client.post("/api/sessions", json=setup).json()["id"]
    r = client.post(f"/api/sessions/{sid}/predict", json={"inputs": rows})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["detail"]] == ["inputs"] and f"row {bad} " in r.json()["detail"][0]["msg"]
    r = client.post(f"/api/sessions/{sid}/predict", json={"inputs": rows[:bad]})
    assert r.status_code == 200 and "null" not in r.text


def test_huge_inputs_that_do_not_overflow_are_still_predicted(client, session):
    r = client.post(f"/api/sessions/{session['id']}/predict", json={"inputs": [[1e300, 1e300], [1.7e308, -1.7e308]]})
    assert r.status_code == 200 and "null" not in r.text
