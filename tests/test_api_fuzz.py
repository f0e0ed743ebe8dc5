"""Fuzzing: schemathesis generates requests for every operation in the OpenAPI schema and sends them to the app
in-process. No request may get a 5xx, and every response must have a documented status code, content type and
body shape. Bounded and derandomized, so `make test` runs the same cases every time, in well under a minute.
What the fuzzer found is pinned down as plain tests at the end."""
import json
import os
import re
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.python import asgi

from app.api.deps import SESSION_ID, SNAPSHOT_ID
from app.datasets import DATASETS, FEATURES
from app.main import create_app
from app.settings import get_settings
from helpers import mazur_setup

# Generated cases per operation, on top of schemathesis' boundary ("coverage") cases. FUZZ_EXAMPLES=1000 digs deeper.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 40))

# The schema comes from the app itself; building the app opens no store. Requests go to `fuzz_app` below.
schema = schemathesis.openapi.from_dict(
    create_app("sqlite:///unused.db").openapi(),
    config=schemathesis.Config.from_dict({
        "checks": {
            # The schema cannot express our caps and cross-field rules (at least two layers, weights that fit
            # the layers, inputs with targets, ...), so a request that fits the schema may rightly get a 422.
            "positive_data_acceptance": {"enabled": False},
            # Pydantic's lax mode takes true for 1 and "5" for 5, which the schema calls invalid; the page's
            # forms rely on it. (The check is about requests; responses are still checked in full.)
            "negative_data_rejection": {"enabled": False},
            # GET /api/sessions/import is GET /api/sessions/{session_id} with a malformed id: 422, not 405.
            "unsupported_method": {"enabled": False},
        },
    }),
)

# Made-up ids almost always get a 404 and exercise nothing, so the fuzzer also gets sessions and snapshots that
# exist: a few different setups, trained a little and shared.
SETUPS = [
    {},
    {"layers": [4, 6, 3], "hidden_activation": "relu", "output_activation": "softmax", "loss": "cross_entropy",
     "optimizer": "adam", "regularization": "l2", "regularization_rate": 0.001, "dataset": {"name": "iris"}},
    {"layers": [1, 5, 5, 1], "hidden_activation": "sigmoid", "output_activation": "linear", "loss": "mse",
     "optimizer": "momentum", "regularization": "l1", "regularization_rate": 0.01, "batch_size": 1,
     "dataset": {"name": "sine", "samples": 60, "standardize": True}},
    {**mazur_setup(), "dataset": {"inputs": [[0.05, 0.1]], "targets": [[0.01, 0.99]]}},  # its one row inline
]
REAL = {"session_id": [], "snapshot_id": []}
LAYERS = {}  # session id -> its layer sizes
EXPORTS = []  # each real session's exported document
NAMES = sorted(DATASETS)
CSV = "x,y,label\n0.5,1.5,0\n-1,2,1\n3,0.25,2\n2,-2,1\n"
VALID = {"session_id": re.compile(SESSION_ID), "snapshot_id": re.compile(SNAPSHOT_ID)}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """About half the time, a well-formed generated id is replaced by that of a real session or snapshot."""
    if not isinstance(path_parameters, dict):  # negative cases may leave them out altogether
        return st.just(path_parameters)
    real = [{**path_parameters, name: value}
            for name, generated in path_parameters.items() if name in REAL and VALID[name].fullmatch(str(generated))
            for value in REAL[name]]
    return st.one_of(st.sampled_from(real), st.just(path_parameters)) if real else st.just(path_parameters)


def _pick(body) -> int:
    return zlib.crc32(json.dumps(body, sort_keys=True, default=repr).encode())


def _fit_body(case) -> None:
    """Bend a generated body to fit what it is sent to, so it gets past validation into the engine more often.

    Assigning case.body makes schemathesis re-check the case against the schema, so a body that no longer
    breaks it counts as positive. The changes depend only on the generated data, so failures replay and shrink.
    """
    body = case.body
    if not isinstance(body, dict):
        return
    layers = LAYERS.get((case.path_parameters or {}).get("session_id"))
    if case.operation.path.endswith("/predict") and layers and isinstance(body.get("inputs"), list):
        # Rows as wide as the network's input.
        n = layers[0]
        case.body = {**body, "inputs": [(row * n)[:n] if isinstance(row, list) and row else row
                                        for row in body["inputs"]]}
    elif case.operation.path.endswith("/parameters") and layers:
        # Indices of a weight or bias that exists.
        fitted = dict(body)
        if _int(fitted.get("layer")):
            fitted["layer"] %= len(layers) - 1
            for key, size in (("to", layers[fitted["layer"] + 1]), ("from", layers[fitted["layer"]])):
                if _int(fitted.get(key)):
                    fitted[key] %= size
        case.body = fitted
    elif case.operation.path == "/api/sessions" and isinstance(body.get("dataset"), dict):
        # A data set that exists (or a small CSV table), usually with sizes and starting weights left to it.
        pick = _pick(body)
        fitted, dataset = dict(body), dict(body["dataset"])
        if "inputs" not in dataset and "targets" not in dataset:
            dataset["name"] = NAMES[pick % len(NAMES)]
            if dataset["name"] == "csv" and pick % 3:
                dataset["csv"] = CSV
            if pick % 5:
                dataset["features"] = [f for i, f in enumerate(FEATURES) if pick >> i & 1] or None
        if pick % 4:
            fitted.update(layers=None, weights=None, biases=None)
        case.body = {**fitted, "dataset": dataset}
    elif case.operation.path == "/api/sessions/import" and EXPORTS:
        # A real export with at most one part of it generated.
        pick = _pick(body)
        doc = dict(EXPORTS[pick % len(EXPORTS)])
        keys = sorted(body)
        if keys and pick % 4:
            key = keys[pick // 4 % len(keys)]
            doc[key] = body[key]
        case.body = doc


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """The app on a fresh SQLite store, with the SETUPS trained a few steps and each shared. The fuzzer sends
    requests far faster than any client may, so the per-client rate limits are off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(get_settings(), "rate_limit_scale", 0.0)
        app = create_app(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/store.db")
        try:
            # schemathesis' ASGI client runs the app's lifespan (opening the store) once and keeps it running.
            with asgi.get_client(app) as client:
                for setup in SETUPS:
                    r = client.post("/api/sessions", json=setup)
                    assert r.status_code == 201, r.text
                    sid = r.json()["id"]
                    assert client.post(f"/api/sessions/{sid}/step", json={"steps": 3}).status_code == 200
                    r = client.post(f"/api/sessions/{sid}/share")
                    assert r.status_code == 201, r.text
                    REAL["session_id"].append(sid)
                    REAL["snapshot_id"].append(r.json()["snapshot_id"])
                    LAYERS[sid] = client.get(f"/api/sessions/{sid}").json()["config"]["layers"]
                    EXPORTS.append(client.get(f"/api/sessions/{sid}/export").json())
            yield app
        finally:
            for found in (*REAL.values(), LAYERS, EXPORTS):
                found.clear()
            asgi.shutdown_lifespans()  # closes the store


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_server_errors_and_responses_match_the_schema(case, fuzz_app):
    _fit_body(case)
    case.call_and_validate(app=fuzz_app)


# What the fuzzer found, pinned down as plain tests.

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
    assert len(with_ids) == 17  # … and POST /api/sessions/{id}/check, GET /api/sessions/{id}/loss-slice, and
    # POST /api/sessions/{id}/live and /live/stop
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
