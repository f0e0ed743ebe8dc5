"""Rate limits (app/ratelimit.py): token buckets per session for training, checks, rebuilds, predictions and page
actions, and per address for new sessions; training's work, counted in multiply-adds, per session."""
import asyncio
import html
import re

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.quick.costs import step_cost
from app import ratelimit
from app.ratelimit import CHECK, MAX_DELAY, TRAIN, WORK, Buckets, Limit
from app.settings import get_settings
from app.web.training import FRAME_WORK, PICTURE_ROWS, frame_steps
from app.web.view_state import view_of
from helpers import HX, page_session, state, swap_limit


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
        fake_time(c.app.state.rate_limits)  # no refill between the requests, however slowly they run
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
        assert [c.get(link).status_code for _ in range(10)] == [200] * 10  # more than 6: no new session each
        assert c.cookies["bp_session"] == sid and state(c, sid)["step"] == 1
        other = c.get(link.replace("lr=0.03", "lr=0.1"))  # another setup: a new session of this browser
        assert other.status_code == 200 and c.cookies["bp_session"] != sid


def fake_time(buckets: Buckets) -> tuple[list, list]:
    """The buckets' clock as a list to move by hand, and their sleep recording each wait and moving the clock."""
    clock, slept = [0.0], []

    async def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    buckets.clock, buckets.sleep = (lambda: clock[0]), sleep
    return clock, slept


def test_work_waits_for_its_budget_and_only_a_long_queue_is_refused():
    buckets = Buckets(1.0, clock=lambda: 0.0)
    rate, burst = buckets.rate(WORK)
    assert buckets.spend(WORK, "a", burst) == (0.0, 0.0)  # a full bucket's burst goes at once
    assert buckets.spend(WORK, "a", rate) == (pytest.approx(1.0), 0.0)  # the next waits for its work
    assert buckets.spend(WORK, "a", rate * (MAX_DELAY - 1)) == (pytest.approx(MAX_DELAY), 0.0)
    wait, retry = buckets.spend(WORK, "a", rate)  # a sixth second in the queue: refused, nothing spent
    assert wait == 0 and retry == pytest.approx(1.0)
    assert buckets.spend(WORK, "b", 10 * burst) == (0.0, 0.0)  # more than a burst needs a full bucket...
    wait, retry = buckets.spend(WORK, "b", 1)  # ...and leaves a debt of 9 bursts
    assert retry == pytest.approx(9 * burst / rate - MAX_DELAY)


def test_the_default_network_plays_at_its_fastest_60_frames_a_second_unrefused(client):
    """3 epochs a frame (the fastest), 60 frames a second for 5 s: never refused, never made to wait."""
    client.get("/?speed=3-epochs")
    session = client.app.state.sessions.get(client.cookies["bp_session"])
    assert frame_steps(session) == 75  # not capped by FRAME_WORK
    cost = step_cost(session, 75, PICTURE_ROWS)
    buckets = Buckets(1.0, clock=lambda: 0.0)
    clock, slept = fake_time(buckets)
    for k in range(300):
        clock[0] = k / 60
        assert buckets.take(TRAIN, session.id) == 0 and buckets.spend(WORK, session.id, cost) == (0.0, 0.0), k
    # And through the app: the route spends the frame's work from the session's budget.
    clock, slept = fake_time(client.app.state.rate_limits)
    assert client.post("/ui/play", headers=HX).status_code == 200
    for k in range(1, 300):
        clock[0] = k / 60
        assert client.post("/ui/play-frame", headers=HX).status_code == 200
    assert slept == [] and state(client, session.id)["step"] == 300 * 75


def test_a_huge_network_at_the_fastest_speed_is_throttled_to_a_fair_share(client):
    """The largest network and data the API allows: each frame is one step (FRAME_WORK), and a player gets
    WORK's rate of multiply-adds a second, waiting for it rather than being refused."""
    huge = build_session(CreateSession(layers=[2, *[64] * 8, 1], dataset={"name": "circle", "samples": 5000},
                                       batch_size=100))
    huge.page.transport.speed = "3-epochs"
    assert view_of(huge).frame_steps() == 75 and frame_steps(huge) == 1
    cost = step_cost(huge, 1, PICTURE_ROWS)
    assert cost > FRAME_WORK
    buckets = Buckets(1.0)
    clock, slept = fake_time(buckets)
    rate, burst = buckets.rate(WORK)
    frames = 0
    while clock[0] < 60:  # a player asking for the next frame as soon as one is answered
        wait, refused = buckets.spend(WORK, huge.id, cost)
        assert not refused and wait <= MAX_DELAY
        clock[0] += wait + 0.01
        frames += 1
    assert frames == pytest.approx((60 * rate + burst) / cost, abs=1.5)  # the share, not 30 frames a second


def test_a_frame_waits_for_the_sessions_share_and_too_many_at_once_are_refused(client, monkeypatch):
    small = Limit("training work", 2e6, 1e7, "session", counts="work")  # a 100th of WORK, on the same paths
    swap_limit(client.app, monkeypatch, WORK, small)
    clock, slept = fake_time(client.app.state.rate_limits)
    client.get("/?speed=3-epochs&layers=2,8,8,1")
    sid = client.cookies["bp_session"]
    cost = step_cost(client.app.state.sessions.get(sid), 75, PICTURE_ROWS)
    assert client.post("/ui/play", headers=HX).status_code == 200
    for _ in range(5):
        assert client.post("/ui/play-frame", headers=HX).status_code == 200
    rate = 2e6
    assert slept and sum(slept) == pytest.approx((6 * cost - 1e7) / rate)  # paced: no frame was refused
    assert state(client, sid)["step"] == 6 * 75
    # The clock stands still while other requests queue behind the work (an API client's threads, say).
    client.app.state.rate_limits.sleep = lambda seconds: asyncio.sleep(0)
    codes = [client.post(f"/api/sessions/{sid}/epoch").status_code for _ in range(40)]
    assert 429 in codes
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 10})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "training work" in r.json()["detail"]
    assert state(client, sid)["step"] == 6 * 75 + 25 * codes.count(200)  # a refused request did nothing
