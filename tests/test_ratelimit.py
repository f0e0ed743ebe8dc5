"""Rate limits (app/ratelimit.py): token buckets per session for training, checks, rebuilds, predictions and page
actions, and per address for new sessions."""
import html
import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ratelimit import CHECK, Buckets
from app.settings import get_settings
from helpers import HX, page_session, state


def test_token_buckets_refill_at_their_rate():
    clock = [0.0]
    buckets = Buckets(1.0, clock=lambda: clock[0])
    assert [buckets.take(CHECK, "a") for _ in range(5)] == [0.0] * 5
    assert buckets.take(CHECK, "a") == pytest.approx(1.0) and buckets.take(CHECK, "b") == 0.0
    clock[0] += 0.5
    assert buckets.take(CHECK, "a") == pytest.approx(0.5)
    clock[0] += 0.5
    assert buckets.take(CHECK, "a") == 0.0


def test_expensive_endpoints_are_rate_limited_per_session_with_retry_after(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    other = client.post("/api/sessions", json={}).json()["id"]
    codes = [client.post(f"/api/sessions/{sid}/gradient-check").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    r = client.post(f"/api/sessions/{sid}/gradient-check")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "gradient checks" in r.json()["detail"]
    assert client.post(f"/api/sessions/{other}/gradient-check").status_code == 200  # another client


def test_training_requests_are_limited_per_session(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.1)  # bursts of 12 steps, then 6 a second
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        sid = c.post("/api/sessions", json={}).json()["id"]
        codes = [c.post(f"/api/sessions/{sid}/step", json={"steps": 1}).status_code for _ in range(30)]
        assert codes[:12] == [200] * 12 and codes.count(429) >= 10
        assert state(c, sid)["step"] == codes.count(200)  # a refused request did nothing
        c.get("/")
        page = [c.post("/ui/step", headers=HX).status_code for _ in range(30)]
        assert page[:12] == [200] * 12 and 429 in page


def test_rebuilds_predictions_and_page_actions_are_limited_per_session(client, monkeypatch):
    monkeypatch.setattr(client.app.state.rate_limits, "clock", lambda: 0.0)  # no refill, however slow the machine
    sid = page_session(client)
    codes = [client.post("/ui/reset", headers=HX).status_code for _ in range(40)]
    assert codes[:30] == [200] * 30 and 429 in codes[30:]
    r = client.post("/ui/config", headers=HX, data={"learning_rate": "0.1"})
    assert r.status_code == 429 and "setting changes" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
    url = f"/api/sessions/{sid}/predict"
    codes = [client.post(url, json={"inputs": [[0.5, 0.5]]}).status_code for _ in range(70)]
    assert codes[:60] == [200] * 60 and 429 in codes[60:]
    codes = [client.post("/ui/back", headers=HX).status_code for _ in range(130)]
    assert codes[:120] == [200] * 120 and codes[-1] == 429
    assert client.get("/ui/inspect", params={"kind": "node", "layer": 1, "to": 0}).status_code == 429
    assert client.post("/ui/step", headers=HX).status_code == 200  # training has its own bucket


def test_the_rate_limit_reads_the_cookie_as_the_app_does(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.1)  # 12 steps, then 6 a second; checks 1 at a time
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        c.get("/")
        sid = c.cookies["bp_session"]
        c.cookies.clear()
        codes = [c.post("/ui/step", headers={**HX, "Cookie": f'bp_session=x{k}; y="; bp_session={sid}'}).status_code
                 for k in range(30)]
        assert codes.count(429) >= 10  # a crafted header does not buy a fresh bucket per request
        assert c.post(f"/api/sessions/{sid}/gradient-check").status_code == 200  # a burst of 0.5 rounds up to 1


def test_session_creation_is_limited_per_address(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.1)  # bursts of 60, then 1 a second
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        codes = [c.post("/api/sessions", json={"dataset": {"name": "xor-table"}}).status_code for _ in range(75)]
        assert codes[:60] == [201] * 60 and codes[-1] == 429
        assert c.get("/s/AAAAAAAAAAAAAAAA").status_code == 429  # opening share links counts too


def test_opening_the_page_counts_as_a_new_session(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.1)  # bursts of 60 new sessions
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        codes = [c.get("/?preset=spiral").status_code for _ in range(70)]
        assert codes[:60] == [200] * 60 and codes[-1] == 429
        r = c.get("/?preset=spiral")
        assert "Too many new sessions" in r.text and int(r.headers["retry-after"]) >= 1
        assert c.get("/").status_code == 200  # your own session still opens


def test_reloading_the_page_keeps_the_session_and_spends_no_new_session(tmp_path, monkeypatch):
    """The page keeps its setup link in the address bar, so a reload is a GET of the session's own link."""
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.01)  # new sessions: bursts of 6
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        page = c.get("/")
        sid = c.cookies["bp_session"]
        c.post("/ui/step", headers=HX)
        link = html.unescape(re.search(r'data-setup-url="([^"]*)"', page.text).group(1))
        assert [c.get(link).status_code for _ in range(20)] == [200] * 20
        assert c.cookies["bp_session"] == sid and state(c, sid)["step"] == 1
        other = c.get(link.replace("lr=0.03", "lr=0.1"))  # another setup: a new session of this browser
        assert other.status_code == 200 and c.cookies["bp_session"] != sid
