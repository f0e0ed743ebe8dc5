"""Share snapshots (app/api/snapshots.py): unguessable ids, read-only, and forks that start exactly at the snapshot
and are independent of it and of each other."""
import re
import threading

from helpers import state


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


def test_snapshots_are_read_only(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    snap = client.post(f"/api/sessions/{sid}/share").json()["snapshot_id"]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.request(method, f"/api/snapshots/{snap}").status_code == 405
    for path in ("step", "rewind", "parameters", "epoch"):
        assert client.post(f"/api/snapshots/{snap}/{path}", json={}).status_code in (404, 405)


def test_a_fork_starts_at_exactly_the_snapshot_and_never_changes_it(client):
    sid = client.post("/api/sessions", json={"optimizer": "momentum"}).json()["id"]
    client.post(f"/api/sessions/{sid}/step", json={"steps": 12})
    shared = client.post(f"/api/sessions/{sid}/share")
    assert shared.status_code == 201
    snap = shared.json()["snapshot_id"]
    assert shared.json()["url"] == f"http://testserver/s/{snap}"
    frozen = client.get(f"/api/snapshots/{snap}").json()
    original = client.get(f"/api/sessions/{sid}").json()
    assert frozen["id"] == snap
    # Everything but the rewind points, which a share leaves behind: a fork starts its own from the shared step.
    assert frozen["kept_steps"] == [12, 12] and original["kept_steps"] == [0, 12]
    skip = {"id", "kept_steps"}
    assert {k: v for k, v in frozen.items() if k not in skip} == {k: v for k, v in original.items() if k not in skip}

    fork = client.post(f"/api/snapshots/{snap}/fork")
    assert fork.status_code == 201
    fid = fork.json()["id"]
    assert fid != sid and re.fullmatch(r"[0-9a-f]{32}", fid)
    assert fork.json()["weights"] == original["weights"] and fork.json()["step"] == 12
    stepped = client.post(f"/api/snapshots/{snap}/fork").json()["id"]
    after_fork = client.post(f"/api/sessions/{stepped}/step", json={"steps": 5}).json()
    assert client.get(f"/api/snapshots/{snap}").json() == frozen
    assert client.get(f"/api/sessions/{sid}").json() == original
    # The optimizer's velocity and the batch position came along: the fork continues as the original would.
    assert client.post(f"/api/sessions/{sid}/step", json={"steps": 5}).json()["weights"] == after_fork["weights"]
    assert client.get(f"/api/sessions/{fid}").json()["step"] == 12


def test_share_ids_are_unguessable_and_unknown_ones_get_a_friendly_404(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    ids = {client.post(f"/api/sessions/{sid}/share").json()["snapshot_id"] for _ in range(25)}
    assert len(ids) == 25 and all(re.fullmatch(r"[A-Za-z0-9_-]{16}", i) for i in ids)  # 96 random bits each
    missing = client.get("/api/snapshots/AAAAAAAAAAAAAAAA")
    assert missing.status_code == 404 and "No snapshot" in missing.json()["detail"]
    assert client.post("/api/snapshots/AAAAAAAAAAAAAAAA/fork").status_code == 404
    assert client.get("/api/snapshots/short").status_code == 422
    for path in ("/s/AAAAAAAAAAAAAAAA", "/s/not-a-share-id", "/s/%3Cscript%3E"):
        page = client.get(path)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "does not exist" in page.text and "Open the playground" in page.text
        assert "Traceback" not in page.text and "<script>" not in page.text.split("</head>")[1]
