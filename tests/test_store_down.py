"""The store unreachable (issue 22, point 9): while Redis is down (or SQLite stays locked), the page and the API answer
503 with Retry-After and a message, never a bare 500. The backend is injected; no real Redis is stopped."""
import sqlite3

import pytest
import redis.exceptions
from fastapi.testclient import TestClient

from app.main import create_app

HX = {"HX-Request": "true"}


class Down:
    """A storage backend whose every call fails as a stopped Redis (or a locked SQLite file) fails."""

    local = False

    def __init__(self, error: Exception):
        self.error = error

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise self.error
        return fail


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(f"sqlite:///{tmp_path}/store.db"), raise_server_exceptions=False) as c:
        store = c.app.state.sessions
        real = store.backend
        yield c
        store.backend = real  # back up, so that the app closes its store as usual


def take_down(client, error: Exception):
    client.app.state.sessions.backend = Down(error)  # sessions in memory too: taking a lock asks the store


ERRORS = [redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
          redis.exceptions.TimeoutError("Timeout reading from socket"),
          sqlite3.OperationalError("database is locked")]


@pytest.mark.parametrize("error", ERRORS, ids=["redis-connection", "redis-timeout", "sqlite-locked"])
def test_an_api_step_gets_503_with_retry_after(client, error):
    sid = client.post("/api/sessions", json={}).json()["id"]
    take_down(client, error)
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
    assert r.status_code == 503, r.text
    assert int(r.headers["retry-after"]) >= 1
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "store is not answering" in detail and "try again" in detail.lower()
    assert "6379" not in detail and "Traceback" not in r.text  # nothing of the server's insides


@pytest.mark.parametrize("error", ERRORS, ids=["redis-connection", "redis-timeout", "sqlite-locked"])
def test_a_page_step_gets_503_with_a_message_the_page_shows(client, error):
    client.get("/")
    take_down(client, error)
    r = client.post("/ui/step", headers=HX)
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert "store is not answering" in r.json()["detail"]  # static/js/messages.js shows a JSON detail in the page's message area
    page = client.get("/")  # a page load (no htmx): a page that says so
    assert page.status_code == 503 and int(page.headers["retry-after"]) >= 1
    assert "text/html" in page.headers["content-type"] and "try again" in page.text.lower()


def test_other_database_errors_are_still_internal_errors(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    take_down(client, sqlite3.OperationalError("no such table: sessions"))
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 1})
    assert r.status_code == 500 and "retry-after" not in r.headers
