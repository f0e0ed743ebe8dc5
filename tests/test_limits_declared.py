"""Limits declared on the routes (app/ratelimit): every route says what it may cost, a refused request costs nothing,
work thrown away is charged only for what ran, an address is not one person, and a body has a time limit."""
import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from app import ratelimit
from app.body_limit import BodyLimit
from app.main import create_app
from app.ratelimit import HEAVY_WORK, WORK, Limit, routes
from helpers import HX, page_session, state, swap_limit

# Routes that do no work of ours, and say why (Limited(free=...)).
FREE = {("GET", "/healthz"), ("GET", "/docs"), ("GET", "/api/sessions/import")}


def test_every_route_declares_its_limits(client):
    seen = set()
    for route, limiters in routes(client.app):
        assert len(limiters) == 1, f"{route.path} declares {len(limiters)} Limited (one, please)"
        limiter = limiters[0]
        if any((method, route.path) in FREE for method in route.methods):
            assert limiter.free and not limiter.limits
        else:
            assert limiter.limits, f"{route.path} does work and declares no limit"
        seen.add(route.path)
    assert {"/api/sessions/{session_id}/step", "/ui/matrix-form", "/ui/exercise/new", "/ui/worksheet",
            "/ui/guess", "/ui/lesson/answer", "/api/sessions/{session_id}/check", "/"} <= seen


def test_the_walk_finds_a_route_that_declares_nothing():
    """The test above can fail: a route added without Limited is found."""
    app = create_app("sqlite:///:memory:")

    @app.post("/ui/new-thing")
    def new_thing() -> dict:
        return {}

    bare = [route.path for route, limiters in routes(app) if not limiters]
    assert bare == ["/ui/new-thing"]


def test_the_check_route_answers_429_when_its_limit_is_spent(client, session, monkeypatch):
    """It documented a 429 that nothing produced."""
    swap_limit(client.app, monkeypatch, ratelimit.PAGE, Limit("page actions", 1e-9, 2, "session"))
    url = f"/api/sessions/{session['id']}/check"
    codes = [client.post(url, json={"answers": {}}).status_code for _ in range(3)]
    assert codes[2] == 429


def test_a_request_too_large_is_refused_before_it_is_charged(client):
    """10,000 steps of 1,000 rows is over the sample-pass cap: a 422, and the next 1-step request is not refused
    (the refused one used to leave the session's work budget in debt for half an hour)."""
    sid = client.post("/api/sessions", json={"layers": [2, 64, 64, 1], "batch_size": 1000,
                                            "dataset": {"name": "circle", "samples": 5000}}).json()["id"]
    before = client.app.state.rate_limits.tokens(WORK, sid)
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 10_000})
    assert r.status_code == 422 and "sample passes" in json.dumps(r.json())
    assert client.app.state.rate_limits.tokens(WORK, sid) == pytest.approx(before, rel=1e-3)
    assert client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).status_code == 200


def test_work_thrown_away_is_charged_only_for_what_ran(client, monkeypatch):
    """An Epoch stopped by the time cap after 3 steps, none kept: its budget is charged 3 steps, not the epoch."""
    monkeypatch.setattr(client.app.state.rate_limits, "clock", lambda: 0.0)  # no refill meanwhile
    sid = page_session(client)
    session = client.app.state.sessions.get(sid)
    ticks = iter(range(1000))
    monkeypatch.setattr(session, "clock", lambda: next(ticks) * 4.0)  # the cap (10 s) passes at the third step
    from app.quick.costs import step_cost
    from app.web.training import PICTURE_ROWS
    epoch = session.trainer.steps_to_epoch_end()
    assert epoch > 10
    full = client.app.state.rate_limits.tokens(WORK, sid)
    r = client.post("/ui/epoch", headers=HX)
    assert r.status_code == 200 and "would run longer than" in r.text
    assert state(client, sid)["step"] == 1  # nothing kept
    used = full - client.app.state.rate_limits.tokens(WORK, sid)
    assert used == pytest.approx(step_cost(session, 3, PICTURE_ROWS), rel=0.01)


def test_a_play_frame_that_stops_early_gives_back_its_unrun_steps(client, monkeypatch):
    monkeypatch.setattr(client.app.state.rate_limits, "clock", lambda: 0.0)
    client.get("/?speed=3-epochs&stop_step=5")
    sid = client.cookies["bp_session"]
    full = client.app.state.rate_limits.tokens(WORK, sid)
    assert client.post("/ui/play", headers=HX).status_code == 200
    assert state(client, sid)["step"] == 5
    from app.quick.costs import step_cost
    from app.web.training import PICTURE_ROWS
    session = client.app.state.sessions.get(sid)
    assert full - client.app.state.rate_limits.tokens(WORK, sid) == pytest.approx(step_cost(session, 5, PICTURE_ROWS))


def test_an_address_is_not_one_person(client, monkeypatch):
    """One client of an address runs the largest steps from many sessions until its address's heavy work is spent:
    its next large step waits or is refused, while the students behind the same address create sessions and step."""
    from app.ratelimit import declared
    monkeypatch.setattr(declared, "HEAVY_WORK", Limit(HEAVY_WORK.name, 1e6, 1e7, "address", counts="work"))
    buckets = client.app.state.rate_limits
    monkeypatch.setattr(buckets, "clock", lambda: 0.0)  # no refill: the worst case

    async def no_wait(seconds):
        pass

    monkeypatch.setattr(buckets, "sleep", no_wait)
    heavy = [client.post("/api/sessions", json={"layers": [2, 32, 32, 1], "batch_size": 500,
                                                "dataset": {"name": "circle", "samples": 2000}}).json()["id"]
             for _ in range(4)]
    codes = [client.post(f"/api/sessions/{sid}/step", json={"steps": 5}).status_code for sid in heavy]
    assert 429 in codes  # the address's budget of heavy work is spent, whichever session asks
    assert codes[0] == 200 and buckets.tokens(declared.HEAVY_WORK, "testclient") < 0
    r = client.post(f"/api/sessions/{heavy[0]}/step", json={"steps": 5})
    assert r.status_code == 429 and "address" in r.json()["detail"]
    for _ in range(10):  # the students
        client.cookies.clear()
        assert client.post("/api/sessions", json={}).status_code == 201
        sid = page_session(client)
        assert client.post("/ui/step", headers=HX).status_code == 200
        assert state(client, sid)["step"] == 2


def test_an_address_has_a_quota_of_sessions_and_of_stored_bytes(client, monkeypatch):
    swap_limit(client.app, monkeypatch, ratelimit.SESSION_QUOTA, Limit("sessions an hour from one address", 1e-9, 3,
                                                                       "address"))
    codes = [client.post("/api/sessions", json={}).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    r = client.post("/api/sessions", json={})
    assert "sessions an hour" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
    other = TestClient(client.app, client=("192.0.2.9", 1))
    assert other.post("/api/sessions", json={}).status_code == 201

    from app.api import sessions as api_sessions
    monkeypatch.setattr(api_sessions, "STORED_QUOTA", Limit("stored bytes an hour from one address", 1e-9, 1000,
                                                             "address", counts="bytes"))
    csv = "x,y\n" + "".join(f"{k},{k % 7}\n" for k in range(200))
    body = {"dataset": {"name": "csv", "csv": csv, "target_columns": ["y"]}}
    assert other.post("/api/sessions", json=body).status_code == 201  # a quota's last bytes go at once...
    r = other.post("/api/sessions", json=body)  # ...and then it is spent
    assert r.status_code == 429 and "stored bytes" in r.json()["detail"]


def run_asgi(app, scope: dict, receive) -> list[dict]:
    sent = []

    async def send(message):
        sent.append(message)

    async def main():
        await app(scope, receive, send)

    with ThreadPoolExecutor(1) as pool:  # an event loop of its own (the browser tests leave one in this thread)
        pool.submit(asyncio.run, main()).result()
    return sent


def test_a_body_that_does_not_arrive_in_time_gets_408_and_reaches_nothing():
    reached = []

    async def app(scope, receive, send):
        while True:
            reached.append(await receive())
            if not reached[-1].get("more_body"):
                return

    async def trickle():  # the first byte, then nothing
        if not trickle.sent:
            trickle.sent = True
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.Event().wait()
    trickle.sent = False

    limit = BodyLimit(app, max_bytes=1000, seconds=0.05)
    scope = {"type": "http", "path": "/api/sessions", "method": "POST", "headers": []}
    with pytest.raises(Exception) as caught:
        run_asgi(limit, scope, trickle)
    assert getattr(caught.value, "status_code", None) == 408 and "did not arrive" in caught.value.detail
    assert reached == [{"type": "http.request", "body": b"{", "more_body": True}]


def test_after_the_body_a_stream_waits_for_its_disconnect_with_no_time_limit():
    got = []

    async def app(scope, receive, send):
        got.append(await receive())
        got.append(await receive())  # a stream listening for the disconnect, long after the limit

    messages = iter([{"type": "http.request", "body": b"", "more_body": False}, None])

    async def receive():
        message = next(messages)
        if message is None:
            await asyncio.sleep(0.1)  # twice the limit
            return {"type": "http.disconnect"}
        return message

    run_asgi(BodyLimit(app, max_bytes=1000, seconds=0.05), {"type": "http", "path": "/live/X/events",
                                                              "method": "GET", "headers": []}, receive)
    assert got[-1] == {"type": "http.disconnect"}


def test_a_slow_body_through_the_app_is_a_408_json_answer(tmp_path, monkeypatch):
    from app.settings import get_settings
    monkeypatch.setattr(get_settings(), "body_seconds", 0.05)
    app = create_app(f"sqlite:///{tmp_path}/s.db")
    with TestClient(app) as c:
        sid = c.post("/api/sessions", json={}).json()["id"]
        sent = [False]

        async def trickle():
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": b'{"steps"', "more_body": True}
            await asyncio.Event().wait()

        path = f"/api/sessions/{sid}/step"
        scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "root_path": "", "query_string": b"", "client": ("192.0.2.4", 1),
                 "server": ("testserver", 80), "headers": [(b"content-type", b"application/json"),
                                                           (b"host", b"testserver")]}
        answer = run_asgi(app, scope, trickle)
        assert answer[0]["status"] == 408
        assert "did not arrive" in json.loads(answer[1]["body"])["detail"]
        assert state(c, sid)["step"] == 0


def test_new_exercises_rebuild_within_the_rebuild_limit(client, monkeypatch):
    """80 new exercises in a row rebuilt 80 networks; now a burst of rebuilds, then 429."""
    monkeypatch.setattr(client.app.state.rate_limits, "clock", lambda: 0.0)  # no refill, however slow the machine
    page_session(client)
    codes = [client.post("/ui/exercise/new", headers=HX).status_code for _ in range(40)]
    burst = int(ratelimit.REBUILD.burst)
    assert codes[:burst] == [200] * burst and set(codes[burst:]) == {429}


def test_a_refused_page_load_is_a_page_and_a_refused_api_read_is_json(client, monkeypatch):
    swap_limit(client.app, monkeypatch, ratelimit.READ, Limit("reads", 1e-9, 1, "session"))
    page_session(client)
    browser = {"Accept": "text/html,application/xhtml+xml"}
    assert client.get("/", headers=browser).status_code == 200
    r = client.get("/", headers=browser)
    assert r.status_code == 429 and "<h1>Too many requests</h1>" in r.text and int(r.headers["retry-after"]) >= 1
    sid = client.post("/api/sessions", json={}).json()["id"]
    client.get(f"/api/sessions/{sid}", headers=browser)
    r = client.get(f"/api/sessions/{sid}", headers=browser)
    assert r.status_code == 429 and "Too many reads" in r.json()["detail"]


def test_a_request_refused_by_one_limit_spends_none_of_the_others(client, monkeypatch):
    """A create refused by the address's quota of sessions spends none of its new-session tokens, and a step refused
    for its work spends no training-step token."""
    buckets = client.app.state.rate_limits
    monkeypatch.setattr(buckets, "clock", lambda: 0.0)
    swap_limit(client.app, monkeypatch, ratelimit.SESSION_QUOTA, Limit("sessions an hour from one address", 1e-9, 1,
                                                                       "address"))
    assert client.post("/api/sessions", json={}).status_code == 201
    create = buckets.tokens(ratelimit.CREATE, "testclient")
    assert client.post("/api/sessions", json={}).status_code == 429
    assert buckets.tokens(ratelimit.CREATE, "testclient") == create

    swap_limit(client.app, monkeypatch, WORK, Limit("training work", 1e-9, 1.0, "session", counts="work"))
    other = TestClient(client.app, client=("192.0.2.50", 1))  # an address with its quota whole
    page_session(other)
    sid = other.cookies["bp_session"]
    steps = buckets.tokens(ratelimit.TRAIN, sid)
    r = other.post("/ui/step", headers=HX)
    assert r.status_code == 429 and "training work" in r.json()["detail"]
    assert buckets.tokens(ratelimit.TRAIN, sid) == steps


def test_sessions_the_pages_make_spend_the_addresss_quota(client, monkeypatch):
    """Found by review: GET / without a cookie, a preset link and a lesson card each make a session, and counted
    only the new-session rate, not the address's quota."""
    swap_limit(client.app, monkeypatch, ratelimit.SESSION_QUOTA, Limit("sessions an hour from one address", 1e-9, 2,
                                                                       "address"))
    from app.web import page
    monkeypatch.setattr(page, "SESSION_QUOTA", Limit("sessions an hour from one address", 1e-9, 2, "address"))
    codes = []
    for _ in range(3):
        client.cookies.clear()
        codes.append(client.get("/?preset=mazur").status_code)
    assert codes == [200, 200, 429]


def test_page_actions_on_a_large_network_are_heavy(client, monkeypatch):
    """Found by review: redrawing the panels of a network of 8 × 64 is megabytes; such page actions wait while the
    address is in CPU debt, and a small network's never do."""
    from app.ratelimit import CPU_ADDRESS
    client.get("/?layers=2,64,64,64,1&batch=100&samples=500")
    client.post("/ui/step", headers=HX)
    budgets = client.app.state.cpu_budgets
    budgets.charge(None, "testclient", 0.0, address_seconds=budgets.rate(CPU_ADDRESS)[1] + 10)  # in debt
    r = client.post("/ui/detailed", headers=HX, data={"detailed": "on"})
    assert r.status_code == 429 and "large requests" in r.json()["detail"]
    client.cookies.clear()
    page_session(client)  # a small network on the same address
    assert client.post("/ui/detailed", headers=HX, data={"detailed": "on"}).status_code == 200
