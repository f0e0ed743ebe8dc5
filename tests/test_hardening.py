"""Holding up in public: bad input changes nothing, divergence, limits, concurrency, headers, CSRF, XSS."""
import html
import re
import threading

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from app import quick
from app.main import create_app
from app.ratelimit import CHECK, Buckets
from app.settings import get_settings

HX = {"HX-Request": "true"}


def page_session(client) -> str:
    client.get("/")
    client.post("/ui/step", headers=HX)
    return client.cookies["bp_session"]


def state(client, sid) -> dict:
    return client.get(f"/api/sessions/{sid}").json()


def everything(client, sid) -> tuple[dict, dict]:
    """The state and the exported document: weights, optimizer state, batch position and the whole loss curve."""
    return state(client, sid), client.get(f"/api/sessions/{sid}/export").json()


# 1. Bad input: a specific message next to the control, and nothing changes


@pytest.mark.parametrize("control, value, words", [
    ("learning_rate", "abc", "valid number"),
    ("learning_rate", "-1", "greater than 0"),
    ("learning_rate", "0", "greater than 0"),
    ("learning_rate", "1e9", "less than or equal to 100"),
    ("learning_rate", "NaN", "finite number"),
    ("batch_size", "0", "greater than or equal to 1"),
    ("batch_size", "1e12", "valid integer"),
    ("hidden_activation", "swish", "Input should be"),
    ("loss", "hinge", "Input should be"),
    ("dataset", "mnist", "mnist"),
    ("seed", "-3", "greater than or equal to 0"),
    ("samples", "100000", "cap"),
])
def test_bad_settings_are_named_next_to_their_control_and_change_nothing(client, control, value, words):
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post("/ui/config", headers=HX, data={control: value})
    assert r.status_code == 200
    target = "dataset" if control == "samples" else control
    error = re.search(rf'<p class="field-error" id="error-{target}" role="alert">([^<]*)</p>', r.text)
    assert error and words.lower() in html.unescape(error.group(1)).lower(), r.text[:300]
    assert everything(client, sid) == before


def test_an_error_for_a_control_not_on_the_page_is_shown_at_the_top_of_the_form(client):
    """Momentum's field is only on the page while the momentum optimizer is chosen; switching to it with a bad
    momentum must still say why nothing changed."""
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post("/ui/config", headers=HX, data={"optimizer": "momentum", "momentum": "nan"})
    errors = re.findall(r'<p class="field-error" role="alert">([^<]*)</p>', r.text)
    assert [html.unescape(e) for e in errors] == ["momentum: Input should be a finite number"], errors
    assert everything(client, sid) == before


def test_an_incompatible_loss_is_explained(client):
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post("/ui/config", headers=HX, data={"loss": "cross_entropy"})
    error = re.search(r'id="error-loss" role="alert">([^<]*)<', r.text)
    assert error and "softmax" in html.unescape(error.group(1))
    assert everything(client, sid) == before


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


@pytest.mark.parametrize("data, words", CSV_CASES)
def test_csv_uploads_on_the_page_are_refused_with_the_reason_and_change_nothing(client, data, words):
    sid = page_session(client)
    before = everything(client, sid)
    task = "classification" if b"label" in data else "regression"
    r = client.post("/ui/upload", headers=HX, files={"file": ("data.csv", data, "text/csv")},
                    data={"targets": "label" if task == "classification" else "y", "task": task})
    error = re.search(r'id="error-csv" role="alert">([^<]*)<', r.text)
    assert error and words in html.unescape(error.group(1)), r.text[:500]
    assert "<script>alert" not in r.text
    assert everything(client, sid) == before


@pytest.mark.parametrize("data, words", CSV_CASES[:4] + CSV_CASES[6:-1])
def test_csv_through_the_api_is_refused_naming_the_field(client, data, words):
    r = client.post("/api/sessions", json={"dataset": {"name": "csv", "csv": data.decode(), "target_columns": ["y"]}})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "dataset.csv" and words in detail["msg"]


@pytest.mark.parametrize("dataset, field, words", [
    ({"name": "csv", "csv": CSV_CASES[-1][0].decode(), "target_columns": ["label"], "task": "classification"},
     "dataset", "100 classes, one output node each, but the cap is 64"),
    ({"inputs": [[1.0], [2.0]], "targets": [[0.0] * 65, [1.0] * 65]}, "dataset", "65 targets"),
    ({"inputs": [[1e300], [2.0]], "targets": [[0.0], [1.0]]}, "dataset.inputs", "within ±1,000,000,000"),
    ({"inputs": [[1.0], [2.0]], "targets": [[0.0], [-1e10]]}, "dataset.targets", "within ±1,000,000,000"),
])
def test_data_that_would_overflow_or_outgrow_the_caps_is_refused(client, dataset, field, words):
    r = client.post("/api/sessions", json={"dataset": dataset})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["field"] == field and words in detail["msg"], detail


def test_a_change_whose_page_cannot_be_drawn_is_undone(client, monkeypatch):
    """Defence in depth: if the rebuilt network's page fails to render, the session keeps its old network."""
    import app.web.panels

    sid = page_session(client)
    before = everything(client, sid)
    real = app.web.panels.panels

    def broken(request, session, **kwargs):
        if kwargs.get("controls"):
            raise RuntimeError("cannot draw this")
        return real(request, session, **kwargs)

    monkeypatch.setattr(app.web.panels, "panels", broken)
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies={"bp_session": sid})  # no second lifespan
    r = quiet.post("/ui/config", headers=HX, data={"hidden_activation": "relu"})
    assert r.status_code == 500 and r.json() == {"detail": "Internal error; nothing was changed."}
    monkeypatch.undo()
    assert everything(client, sid) == before
    assert client.get("/").status_code == 200


def test_an_export_at_every_cap_imports_again(client):
    """The largest session the caps allow, with a CSV near its cap, exports and imports through both imports."""
    cap = get_settings().max_neurons
    columns = [f"c{k}" for k in range(cap - 2)]
    rows = "\n".join(",".join(f"{(r * 7 + k) % 1000 * 1.0001:.4f}" for k in range(cap - 1)) for r in range(1700))
    text = ",".join([*columns, "y"]) + "\n" + rows + "\n"
    assert 0.8 * get_settings().max_csv_bytes < len(text) <= get_settings().max_csv_bytes
    layers = [cap - 2, *[cap] * get_settings().max_hidden_layers, 1]
    sid = client.post("/api/sessions", json={"layers": layers, "optimizer": "adam", "dataset": {
        "name": "csv", "csv": text, "target_columns": ["y"], "standardize": True}}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 3})
    doc = client.get(f"/api/sessions/{sid}/export")
    assert len(doc.content) > get_settings().max_body_bytes  # larger than any other request may be
    again = client.post("/api/sessions/import", content=doc.content, headers={"content-type": "application/json"})
    assert again.status_code == 201, again.text[:300]
    assert state(client, again.json()["id"])["weights"] == state(client, sid)["weights"]
    page_session(client)
    r = client.post("/ui/import", headers=HX, files={"file": ("big.json", doc.content, "application/json")})
    assert "Imported big.json: step 3." in r.text


def test_request_bodies_over_the_cap_are_refused_before_they_are_read(client):
    sid = page_session(client)
    before = everything(client, sid)
    cap = get_settings().max_body_bytes
    big = b"x,y\n" + b"1,2\n" * (cap // 4 + 1)
    answers = [
        client.post("/ui/upload", headers=HX, files={"file": ("big.csv", big, "text/csv")}),
        client.post("/api/sessions", content=b"[" + b"1," * (cap // 2) + b"1]",
                    headers={"content-type": "application/json"}),
        client.post("/api/sessions", content=(big[i:i + 65536] for i in range(0, len(big), 65536)),  # no length
                    headers={"content-type": "application/json"}),
    ]
    for r in answers:
        assert r.status_code == 413, r.text[:200]
        assert r.json() == {"detail": f"The request is larger than the {cap:,}-byte limit; nothing was changed."}
        assert "script-src 'self'" in r.headers["content-security-policy"]
    assert everything(client, sid) == before


def test_a_good_csv_upload_trains_on_it(client):
    sid = page_session(client)
    rows = "\n".join(f"{x},{x / 2},{1 if x > 5 else 0}" for x in range(12))
    r = client.post("/ui/upload", headers=HX, files={"file": ("mine.csv", f"a,b,label\n{rows}\n", "text/csv")},
                    data={"targets": "label", "task": "classification"})
    assert "Loaded mine.csv: predicting label (classification)." in r.text
    s = state(client, sid)
    assert s["config"]["dataset"]["name"] == "csv" and s["data"]["input_names"] == ["a", "b"] and s["step"] == 0
    assert '<option value="csv" selected>' in client.get("/").text  # the select keeps showing the upload


@pytest.mark.parametrize("path, data, words", [
    ("/ui/rewind", {"step": "x"}, "step must be a whole number"),
    ("/ui/rewind", {"step": "99"}, "step 99 is not kept"),
    ("/ui/predict", {"input_0": "1e9"}, "Enter a number (up to 1e6)"),
    ("/ui/edit", {"kind": "weight", "layer": "0", "to": "0", "from": "0", "value": "nan"}, "finite number"),
    ("/ui/edit", {"kind": "weight", "layer": "9", "to": "0", "from": "0", "value": "1"}, "layer"),
    ("/ui/edit", {"kind": "weight", "layer": "0", "to": "99", "from": "0", "value": "1"}, "to must be 0 to 3"),
    ("/ui/edit", {"layer": "0", "to": "0", "from": "0", "value": "1"}, "kind"),
    ("/ui/shape", {"action": "explode"}, "action"),
])
def test_other_bad_page_input_is_explained_and_changes_nothing(client, path, data, words):
    sid = page_session(client)
    before = everything(client, sid)
    r = client.post(path, headers=HX, data=data)
    assert r.status_code in (200, 422) and "Traceback" not in r.text
    if r.status_code == 422:
        shown = str(r.json()["detail"])
    else:
        shown = " ".join(html.unescape(m) for m in re.findall(r'role="alert"[^>]*>([^<]+)<', r.text))
    assert words in shown, shown[:300]
    assert everything(client, sid) == before


# 2. Divergence


@pytest.mark.parametrize("setup", [
    {"hidden_activation": "sigmoid", "output_activation": "linear", "loss": "mse", "learning_rate": 10,
     "dataset": {"name": "sine"}},
    {"hidden_activation": "relu", "output_activation": "linear", "loss": "mse", "learning_rate": 3,
     "dataset": {"name": "sine"}},
])
def test_divergence_is_refused_and_said_plainly(client, setup):
    sid = client.post("/api/sessions", json=setup).json()["id"]
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 2000})
    assert r.status_code == 409
    n = r.json()["step"]
    assert r.json()["detail"].startswith(f"Training diverged at step {n}: lower the learning rate or go Back.")
    assert state(client, sid)["step"] == 0
    client.post(f"/api/sessions/{sid}/step", json={"steps": n - 1})
    before = everything(client, sid)
    client.cookies.set("bp_session", sid)
    page = client.post("/ui/step", headers=HX).text
    assert f"Training diverged at step {n}: lower the learning rate or go Back." in page
    assert not re.search(r"\b(nan|inf|infinity)\b", re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page),
                         re.IGNORECASE)
    assert everything(client, sid) == before


# 3. Limits


def test_a_request_that_would_run_too_long_is_stopped_and_keeps_nothing(client, monkeypatch):
    sid = client.post("/api/sessions", json={}).json()["id"]
    before = everything(client, sid)
    monkeypatch.setattr(get_settings(), "max_request_seconds", 0.0)
    r = client.post(f"/api/sessions/{sid}/step", json={"steps": 50})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "steps"
    assert "longer than 0 s" in r.json()["detail"][0]["msg"]
    monkeypatch.undo()
    assert everything(client, sid) == before


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


def test_token_buckets_refill_at_their_rate():
    clock = [0.0]
    buckets = Buckets(1.0, clock=lambda: clock[0])
    assert [buckets.take(CHECK, "a") for _ in range(5)] == [0.0] * 5
    assert buckets.take(CHECK, "a") == pytest.approx(1.0) and buckets.take(CHECK, "b") == 0.0
    clock[0] += 0.5
    assert buckets.take(CHECK, "a") == pytest.approx(0.5)
    clock[0] += 0.5
    assert buckets.take(CHECK, "a") == 0.0


def test_session_creation_is_limited_per_address(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.1)  # bursts of 60, then 1 a second
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        codes = [c.post("/api/sessions", json={"dataset": {"name": "xor-table"}}).status_code for _ in range(75)]
        assert codes[:60] == [201] * 60 and codes[-1] == 429
        assert c.get("/s/AAAAAAAAAAAAAAAA").status_code == 429  # opening share links counts too


# 4. Concurrency


def api_step(client, sid) -> int:
    return client.post(f"/api/sessions/{sid}/step", json={"steps": 1}).json()["step"]


def page_step(client, sid) -> int:
    r = client.post("/ui/step", headers=HX)  # the cookie names sid
    return int(re.search(r'<svg id="network" data-step="(\d+)"', r.text).group(1))


@pytest.mark.parametrize("press", [api_step, page_step])
@pytest.mark.parametrize("where", ["event loop", "threads"])
def test_a_hundred_concurrent_steps_move_the_counter_by_exactly_a_hundred(client, monkeypatch, press, where):
    if where == "threads":  # every step through the threadpool, so that they contend for the session's lock
        monkeypatch.setattr(quick, "QUICK_WORK", 0)
    sid = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    client.cookies.set("bp_session", sid)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(press(client, sid))) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == list(range(1, 101))
    ref = client.post("/api/sessions", json={"optimizer": "adam"}).json()["id"]
    assert client.post(f"/api/sessions/{ref}/step", json={"steps": 100}).json()["weights"] == state(client, sid)["weights"]


def test_concurrent_forks_of_one_snapshot_are_independent(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 5})
    snap = client.post(f"/api/sessions/{sid}/share").json()["snapshot_id"]
    frozen = client.get(f"/api/snapshots/{snap}").json()
    forks: list[str] = []

    def fork_and_step(k):
        fid = client.post(f"/api/snapshots/{snap}/fork").json()["id"]
        forks.append(fid)
        client.post(f"/api/sessions/{fid}/step", json={"steps": k})

    threads = [threading.Thread(target=fork_and_step, args=(k,)) for k in range(1, 11)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(forks)) == 10
    assert sorted(state(client, f)["step"] for f in forks) == list(range(6, 16))
    assert client.get(f"/api/snapshots/{snap}").json() == frozen


# 5. Security


def test_security_headers_on_every_kind_of_answer(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    for r in (client.get("/"), client.get("/docs"), client.get(f"/api/sessions/{sid}"), client.get("/static/app.js"),
              client.get("/api/sessions/" + "0" * 32), client.get("/s/nope"), client.post("/api/sessions", json={"x": 1})):
        h = r.headers
        csp = h["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert re.search(r"script-src 'self';", csp) and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "same-origin"
        assert h["x-frame-options"] == "DENY"


def test_pages_have_no_inline_scripts_or_handlers(client):
    client.get("/")
    pages = [client.get("/").text, client.get("/docs").text, client.post("/ui/step", headers=HX).text,
             client.get("/s/AAAAAAAAAAAAAAAA").text, client.get("/ui/python").text]
    for text in pages:
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\son[a-z]+\s*=", text)
        assert "javascript:" not in text.lower()
    assert '"allowEval": false' in pages[0]


def test_the_session_cookie_is_httponly_lax_and_secure_when_asked(client, monkeypatch):
    cookie = client.get("/").headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "secure" not in cookie.lower()
    monkeypatch.setattr(get_settings(), "secure_cookies", True)
    with TestClient(client.app) as other:
        assert "; secure" in other.get("/").headers["set-cookie"].lower()


@pytest.mark.parametrize("headers, allowed", [
    ({"Origin": "http://testserver"}, True),
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"HX-Request": "true"}, True),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "null"}, False),
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({}, False),
])
def test_cross_site_form_posts_are_refused(client, headers, allowed):
    sid = page_session(client)
    before = everything(client, sid)
    for path in ("/ui/step", "/ui/reset", "/ui/share"):
        r = client.post(path, headers=headers, follow_redirects=False)
        assert (r.status_code in (200, 303)) if allowed else (r.status_code == 403 and "Cross-site" in r.text)
    if not allowed:
        assert everything(client, sid) == before


def test_a_get_never_changes_an_existing_session(client):
    sid = page_session(client)
    before = everything(client, sid)
    for path in ("/?preset=xor", "/?dataset=spiral&seed=3", "/?lr=abc", "/s/AAAAAAAAAAAAAAAA", "/ui/inspect?kind=x"):
        client.get(path)
    assert everything(client, sid) == before


PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_user_text_comes_back_escaped(client):
    client.get("/")
    r = client.get("/?dataset=" + PAYLOAD)
    assert PAYLOAD not in r.text and "&lt;script&gt;" in r.text
    r = client.get("/?preset=" + PAYLOAD)
    assert PAYLOAD not in r.text and "&lt;script&gt;" in r.text
    r = client.post("/ui/config", headers=HX, data={"dataset": PAYLOAD})
    assert PAYLOAD not in r.text
    r = client.post("/ui/import", headers=HX, files={"file": (PAYLOAD + ".json", b"{}", "application/json")})
    assert PAYLOAD not in r.text
    r = client.post("/ui/upload", headers=HX, files={"file": ("d.csv", f"a,{PAYLOAD}\n1,2\n3,4\n".encode(), "text/csv")})
    assert PAYLOAD not in r.text and "<script>" not in r.text.split("error-csv")[1][:300]
    r = client.get("/ui/inspect", params={"kind": PAYLOAD, "layer": 0, "to": 0}, headers=HX)
    assert PAYLOAD not in r.text
    for r in (client.get("/api/sessions/" + PAYLOAD), client.post("/api/sessions", json={"loss": PAYLOAD}),
              client.post("/api/sessions", json={"dataset": {"name": PAYLOAD}})):
        assert r.headers["content-type"] == "application/json" and r.status_code in (404, 422)


def test_column_names_from_a_csv_are_escaped_in_the_diagram(client):
    """CSV headers become node names, in the diagram's labels, titles and aria-labels and in every edge's. The
    CSV reader refuses angle brackets and double quotes in headers; & and ' get through and must be escaped."""
    client.get("/")
    feature, target = "Tom & Jerry's", "y&'z"
    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(40))
    r = client.post("/ui/upload", headers=HX, data={"targets": target},
                    files={"file": ("x.csv", f"{feature},b,{target}\n{rows}\n", "text/csv")})
    assert f"predicting {str(escape(target))}" in r.text
    for page in (client.get("/").text, client.post("/ui/step", headers=HX).text):
        start = page.index('<svg id="network"')
        diagram = page[start:page.index("</svg>", start)]
        assert feature not in diagram and target not in diagram
        assert diagram.count(str(escape(feature))) >= 4 and diagram.count(str(escape(target))) >= 4


def test_errors_never_show_a_traceback_or_a_path(client, monkeypatch):
    import app.core.session

    def broken(self):
        raise RuntimeError("/secret/path/in/a/traceback")

    sid = page_session(client)
    monkeypatch.setattr(app.core.session.Session, "current_losses", broken)
    with TestClient(client.app, raise_server_exceptions=False) as c:
        r = c.get(f"/api/sessions/{sid}")
    assert r.status_code == 500 and r.json() == {"detail": "Internal error; nothing was changed."}
    assert "/secret" not in r.text and "Traceback" not in r.text


def test_snapshots_are_read_only(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    snap = client.post(f"/api/sessions/{sid}/share").json()["snapshot_id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.request(method, f"/api/snapshots/{snap}").status_code == 405
    for path in ("step", "rewind", "parameters", "epoch"):
        assert client.post(f"/api/snapshots/{snap}/{path}", json={}).status_code in (404, 405)


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


def test_opening_the_page_counts_as_a_new_session(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "rate_limit_scale", 0.1)  # bursts of 60 new sessions
    with TestClient(create_app(f"sqlite:///{tmp_path}/s.db")) as c:
        codes = [c.get("/?preset=spiral").status_code for _ in range(70)]
        assert codes[:60] == [200] * 60 and codes[-1] == 429
        r = c.get("/?preset=spiral")
        assert "Too many new sessions" in r.text and int(r.headers["retry-after"]) >= 1
        assert c.get("/").status_code == 200  # your own session still opens


def test_the_page_says_when_a_request_ran_too_long(client, monkeypatch):
    sid = page_session(client)
    before = everything(client, sid)
    monkeypatch.setattr(get_settings(), "max_request_seconds", 0.0)
    for path in ("/ui/step", "/ui/epoch", "/ui/play"):
        r = client.post(path, headers=HX)
        assert r.status_code == 200 and "longer than 0 s" in r.text
    monkeypatch.undo()
    assert everything(client, sid) == before


@pytest.mark.parametrize("text", ['"a","b"\n1,2\n3,4\n5,6\n', '\n"a",b\n1,2\n3,4\n5,6\n'])
def test_the_default_target_is_the_last_column_as_the_csv_reader_sees_it(client, text):
    sid = page_session(client)
    r = client.post("/ui/upload", headers=HX, files={"file": ("q.csv", text.encode(), "text/csv")})
    assert "predicting b (regression)" in r.text, r.text[:400]
    assert state(client, sid)["data"]["target_names"] == ["b"]
