"""Security headers, scripts, the session cookie and escaping of user text (app/security.py and the pages)."""
import re

from fastapi.testclient import TestClient
from markupsafe import escape

from app.settings import get_settings
from helpers import HX


def test_security_headers_on_every_kind_of_answer(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    for r in (client.get("/"), client.get("/docs"), client.get(f"/api/sessions/{sid}"), client.get("/static/js/main.js"),
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
