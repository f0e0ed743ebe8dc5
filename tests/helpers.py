"""Helpers the test files share (fixtures are in conftest.py): Mazur's worked example, random problems for the
engine, and the page's and the API's round trips that many tests repeat."""
import copy
from contextlib import contextmanager

import numpy as np

from fastapi.testclient import TestClient

HX = {"HX-Request": "true"}

def mazur_setup() -> dict:
    """Mazur's example ("A Step by Step Backpropagation Example": one row, a 2-2-2 sigmoid network, biases kept
    fixed) as a CreateSession's fields, also the JSON body of POST /api/sessions: the preset's own, a fresh copy."""
    from app.core.presets import PRESETS

    return copy.deepcopy(PRESETS["mazur"].config)


def mazur_trainer(**overrides):
    """Mazur's example for the engine alone: its Trainer (the config overridable), before the first step."""
    from app.datasets.tables import mazur_table
    from app.engine import TrainConfig, Trainer

    setup, table = mazur_setup(), mazur_table()
    fields = {k: setup[k] for k in ("hidden_activation", "output_activation", "loss", "learning_rate", "batch_size",
                                    "train_biases")}
    config = TrainConfig(layers=tuple(setup["layers"]), **{**fields, **overrides})
    return Trainer(config, table.x, table.y, setup["weights"], setup["biases"])


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


def swap_limit(app, monkeypatch, old, new) -> None:
    """Every route that declares the limit `old` (app/ratelimit Limited) counts `new` instead, for this test."""
    from app.ratelimit import routes
    for _, limiters in routes(app):
        for limiter in limiters:
            if old in limiter.limits:
                monkeypatch.setattr(limiter, "limits", tuple(new if limit is old else limit for limit in limiter.limits))
                if limiter.work is old:
                    monkeypatch.setattr(limiter, "work", new)


def declares(app, method: str, path: str):
    """The limits the route of `method` and its declared `path` (e.g. "/ui/live/reveal") declares."""
    from app.ratelimit import routes
    return [limit for route, limiters in routes(app) if route.path == path and method in route.methods
            for limiter in limiters for limit in limiter.limits]
