"""Fixtures shared by every test file: the app on a fresh store, a default session, Mazur's worked example. Tests
marked `torch` need PyTorch and are reported as skipped without it (`TORCH=0 make test`)."""
import importlib.util

import pytest
from fastapi.testclient import TestClient

from app.core.recipe import CreateSession
from app.ratelimit import buckets as ratelimit_buckets
from app.core.session import build_session
from app.main import create_app
from helpers import mazur_setup

HAS_TORCH = importlib.util.find_spec("torch") is not None

# No test reads the machine's real CPU time: every app's CPU budgets see a clock that never moves, so that what a
# request is charged never depends on how fast or busy the machine is. Tests of the budgets move a clock of their
# own (tests/test_cpu_budget.py FakeCpu).
ratelimit_buckets.CPU_CLOCK = lambda: 0.0


def pytest_configure(config):
    config.addinivalue_line("markers", "torch: needs PyTorch; skipped when it is not installed (TORCH=0 make test)")


def pytest_collection_modifyitems(config, items):
    if not HAS_TORCH:
        for item in items:
            if item.get_closest_marker("torch"):
                item.add_marker(pytest.mark.skip(reason="PyTorch is not installed (TORCH=0)"))


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(f"sqlite:///{tmp_path}/store.db")) as c:
        yield c


@pytest.fixture
def session(client):
    """A default session's state."""
    r = client.post("/api/sessions", json={})
    assert r.status_code == 201
    return r.json()


@pytest.fixture
def mazur_json() -> dict:
    """Mazur's example as the JSON body of POST /api/sessions."""
    return mazur_setup()


@pytest.fixture
def mazur_request() -> CreateSession:
    """Mazur's example as a request: layers [2, 2, 2], sigmoid/sigmoid, half SSE, learning rate 0.5, batch 1,
    fixed biases, the article's weights and the mazur dataset (one row: 0.05, 0.10 -> 0.01, 0.99)."""
    return CreateSession(**mazur_setup())


@pytest.fixture
def mazur(mazur_request):
    """Mazur's example built: a Session at step 0."""
    return build_session(mazur_request)
