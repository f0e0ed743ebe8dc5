import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def session(client):
    """A default session's state."""
    r = client.post("/api/sessions", json={})
    assert r.status_code == 201
    return r.json()
