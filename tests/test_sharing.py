"""The page's sharing (app/web/sharing.py): share links open an own copy, and the page's downloads and import."""
import html
import re

from helpers import browser


def test_opening_a_share_link_gives_the_browser_its_own_copy(client):
    client.get("/")
    client.post("/ui/step", headers={"HX-Request": "true"})
    client.post("/ui/step", headers={"HX-Request": "true"})
    teacher = client.cookies["bp_session"]
    page = client.post("/ui/share", headers={"HX-Request": "true"})
    url = re.search(r'id="share-url" type="text" readonly value="([^"]+)"', page.text).group(1)
    snap = url.rsplit("/", 1)[1]
    with browser(client) as student:
        opened = student.get(f"/s/{snap}", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        mine = student.cookies["bp_session"]
        assert mine != teacher
        page = student.get("/")
        assert "your own copy of a shared network, at step 2" in page.text
        student.post("/ui/step", headers={"HX-Request": "true"})
        assert student.get(f"/api/sessions/{mine}").json()["step"] == 3
    assert client.get(f"/api/sessions/{teacher}").json()["step"] == 2
    assert client.get(f"/api/snapshots/{snap}").json()["step"] == 2


def test_the_page_imports_a_downloaded_state_and_says_what_was_wrong_otherwise(client):
    client.get("/")
    for _ in range(3):
        client.post("/ui/step", headers={"HX-Request": "true"})
    download = client.get("/ui/export.json")
    assert download.headers["content-disposition"] == 'attachment; filename="backprop-playground-step-3.json"'
    sid = client.cookies["bp_session"]
    client.post("/ui/reset", headers={"HX-Request": "true"})
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 0
    r = client.post("/ui/import", headers={"HX-Request": "true"},
                    files={"file": ("saved.json", download.content, "application/json")})
    assert "Imported saved.json: step 3." in r.text
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 3
    before = client.get(f"/api/sessions/{sid}").json()
    r = client.post("/ui/import", headers={"HX-Request": "true"},
                    files={"file": ("x.json", b"<script>alert(1)</script>", "application/json")})
    assert 'id="error-import"' in r.text and "not a JSON file saved by Download JSON" in r.text
    assert "<script>alert" not in r.text
    assert client.get(f"/api/sessions/{sid}").json() == before


def test_weights_and_python_downloads(client):
    client.get("/")
    client.post("/ui/step", headers={"HX-Request": "true"})
    npz = client.get("/ui/weights.npz")
    assert npz.headers["content-disposition"].endswith('step-1.npz"') and npz.content[:2] == b"PK"
    python = client.get("/ui/python")
    assert "import numpy as np" in python.text and "import torch" in python.text and "step 1" in python.text
    sid = client.cookies["bp_session"]
    api = client.get(f"/api/sessions/{sid}/python").json()
    assert set(api) == {"numpy", "pytorch"}


def test_a_share_this_version_can_no_longer_build_says_so_on_a_page(client):
    """Mazur's table took features such as x1² before they were kept to the generated sets: such a snapshot now
    fails to build, and its link says so instead of answering JSON or crashing."""
    client.get("/?preset=mazur")
    sid = client.cookies["bp_session"]
    store = client.app.state.sessions
    session = store.get(sid)
    with session.lock:
        old = session.request.dataset.model_copy(update={"features": ["x1", "x1_sq"]})
        session.request = session.request.model_copy(update={"dataset": old})
        snap = store.share(session)
    r = client.get(f"/s/{snap}", follow_redirects=False)
    text = html.unescape(r.text)
    assert r.status_code == 410 and "This share can't be opened" in text
    assert "dataset.features" in text and "Open the playground" in text
