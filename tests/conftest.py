import pytest
from fastapi.testclient import TestClient

from app.main import create_app


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
