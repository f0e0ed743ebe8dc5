"""Error answers (app/api/errors.py): no traceback, no path."""
from fastapi.testclient import TestClient

from helpers import page_session


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
