"""Helpers the test files share (fixtures are in conftest.py): Mazur's worked example, random problems for the
engine, and the page's and the API's round trips that many tests repeat."""
import copy
from contextlib import contextmanager

import numpy as np

from fastapi.testclient import TestClient

HX = {"HX-Request": "true"}

# Matt Mazur's "A Step by Step Backpropagation Example": one row, 2-2-2 sigmoid network, biases kept fixed.
_MAZUR = dict(
    layers=[2, 2, 2], hidden_activation="sigmoid", output_activation="sigmoid", learning_rate=0.5, batch_size=1,
    train_biases=False, weights=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
    biases=[[0.35, 0.35], [0.60, 0.60]], dataset={"name": "mazur"})


def mazur_trainer(**overrides):
    """Mazur's example for the engine alone: its Trainer (the config overridable), before the first step."""
    from app.engine import TrainConfig, Trainer

    setup = mazur_setup()
    config = TrainConfig(layers=tuple(setup["layers"]), hidden_activation="sigmoid", output_activation="sigmoid",
                         loss="half_sse", learning_rate=0.5, batch_size=1, train_biases=False, **overrides)
    return Trainer(config, np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]]), setup["weights"], setup["biases"])


def mazur_setup() -> dict:
    """Mazur's example as a CreateSession's fields (also the JSON body of POST /api/sessions); a fresh copy."""
    return copy.deepcopy(_MAZUR)


def new_session(client, **config) -> str:
    """A session made through the API; its id."""
    r = client.post("/api/sessions", json=config)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def page_session(client) -> str:
    """The page's own session (its cookie), one step in; its id."""
    client.get("/")
    client.post("/ui/step", headers=HX)
    return client.cookies["bp_session"]


@contextmanager
def browser(client):
    """Another browser (its own cookies) on the same running app; its lifespan is the first client's."""
    other = TestClient(client.app)
    yield other
    other.close()


def state(client, sid) -> dict:
    return client.get(f"/api/sessions/{sid}").json()


def everything(client, sid) -> tuple[dict, dict]:
    """The state and the exported document: weights, optimizer state, batch position and the whole loss curve."""
    return state(client, sid), client.get(f"/api/sessions/{sid}/export").json()


# CSV files the page and the API refuse, each with words of the reason they give.
CSV_CASES = [
    (b"x,y\n1,a\n2,3\n", "is not a number"),
    (b"x,y\n1,\n2,3\n", "is empty"),
    (b"x,y\n1,2,3\n2,3\n", "Row 2 has 3 cells"),
    (b"x,y\n1,2\n", "at least 2 are needed"),
    (b"x,y\n" + b"1,2\n" * 400_000, "limit is"),
    (b"x,y\n1,2\n\xff\xfe,3\n", "not valid UTF-8"),
    (b"=cmd|' /C calc'!A0,y\n1,2\n3,4\n", "spreadsheets"),
    (b"<script>alert(1)</script>,y\n1,2\n3,4\n", "not allowed"),
    (b"x,y\n1e308,1\n-1e308,2\n", "is too large"),  # finite, but the plots' ranges would overflow
    (b"x,label\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(100)), "100 classes"),
]


def random_targets(rng: np.random.Generator, loss: str, rows: int, k: int) -> np.ndarray:
    """Targets a loss accepts: 0/1 for bce, one-hot for cross-entropy, anything for squared errors."""
    if loss == "bce":
        return rng.integers(0, 2, (rows, k)).astype(float)
    if loss == "cross_entropy":
        return np.eye(k)[rng.integers(0, k, rows)]
    return rng.normal(0, 1, (rows, k))
