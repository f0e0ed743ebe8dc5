"""The request body cap (app/body_limit.py): larger bodies are refused before they are read."""
from app.settings import get_settings
from helpers import HX, everything, page_session


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
