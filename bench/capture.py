"""Capture the app's answers to a fixed script of requests, for checking that a refactor changes nothing.

Runs in process (TestClient, a scratch SQLite store, rate limits off) through the page and the JSON API:
presets, steps, every detailed-step phase, epochs, Back, rewind, inspector views, edits, predictions, setting
changes and their errors, setup links, uploads and exports. Random ids (sessions, snapshots) are replaced by
placeholders; everything else is written as it was answered, one file per answer.

    .venv/bin/python bench/capture.py /tmp/before      # on the old code
    .venv/bin/python bench/capture.py /tmp/after       # on the new code
    diff -r /tmp/before /tmp/after                     # nothing, when nothing changed for users
"""
import json
import os
import random
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PLAYGROUND_RATE_LIMIT_SCALE"] = "0"

from fastapi.testclient import TestClient  # noqa: E402

from app.live import service as live_service  # noqa: E402
from app.main import create_app  # noqa: E402
from app.web import live_publisher  # noqa: E402

HTMX = {"HX-Request": "true"}
IDS = re.compile(r"\b[0-9a-f]{32}\b")
SNAPSHOTS = re.compile(r'/s/[A-Za-z0-9_-]{16}|"(?:snapshot_id|id)":\s*"[A-Za-z0-9_-]{16}"')
HOUSES = "size_m2,rooms,price\n" + "\n".join(f"{50 + 7 * i},{1 + i % 5},{1000 * (60 + 3 * i + (i % 5) * 4)}"
                                            for i in range(40))
CLASSES = "a,b,label\n" + "\n".join(f"{i % 7},{(i * 3) % 5},{int(i % 7 > 3)}" for i in range(30))


class Recorder:
    def __init__(self, out: Path):
        self.out, self.count = out, 0

    def save(self, name: str, response) -> None:
        self.count += 1
        body = response.content
        if "json" in response.headers.get("content-type", "") and body:
            try:
                body = json.dumps(response.json(), indent=1, sort_keys=False).encode()
            except ValueError:
                pass
        text = body.decode("utf-8", "replace") if not name.endswith(".npz") else None
        if text is not None:
            text = IDS.sub("<id>", SNAPSHOTS.sub("<snapshot>", text))
            body = text.encode()
        head = f"{response.status_code} {response.headers.get('content-type', '')}\n"
        (self.out / f"{self.count:03d}-{name}").write_bytes(head.encode() + body)


def page(client, rec, name, method, url, **kw):
    headers = kw.pop("headers", HTMX if method == "POST" else {})
    r = client.request(method, url, headers=headers, **kw)
    rec.save(name, r)
    return r


def scenario_default(app, rec):
    with TestClient(app) as c:
        page(c, rec, "page-default", "GET", "/")
        for k in range(3):
            page(c, rec, f"step-{k}", "POST", "/ui/step")
        page(c, rec, "inspect-edge", "GET", "/ui/inspect?kind=edge&layer=0&to=1&from=0")
        page(c, rec, "inspect-node-hidden", "GET", "/ui/inspect?kind=node&layer=1&to=2")
        page(c, rec, "inspect-node-input", "GET", "/ui/inspect?kind=node&layer=0&to=1")
        page(c, rec, "inspect-node-output", "GET", "/ui/inspect?kind=node&layer=3&to=0")
        page(c, rec, "inspect-bias", "GET", "/ui/inspect?kind=bias&layer=0&to=1")
        page(c, rec, "inspect-bad", "GET", "/ui/inspect?kind=edge&layer=9&to=1&from=0")
        page(c, rec, "epoch", "POST", "/ui/epoch")
        page(c, rec, "back", "POST", "/ui/back")
        page(c, rec, "rewind-2", "POST", "/ui/rewind", data={"step": "2"})
        page(c, rec, "rewind-bad", "POST", "/ui/rewind", data={"step": "x"})
        page(c, rec, "inspect-after-rewind", "GET", "/ui/inspect?kind=edge&layer=0&to=1&from=0")
        page(c, rec, "config-lr", "POST", "/ui/config", data={"learning_rate": "0.1"})
        page(c, rec, "config-lr-bad", "POST", "/ui/config", data={"learning_rate": "-1"})
        page(c, rec, "config-momentum", "POST", "/ui/config", data={"optimizer": "momentum", "momentum": "0.5"})
        page(c, rec, "step-momentum", "POST", "/ui/step")
        page(c, rec, "inspect-momentum", "GET", "/ui/inspect?kind=edge&layer=1&to=0&from=1")
        page(c, rec, "config-adam", "POST", "/ui/config", data={"optimizer": "adam", "beta1": "0.8"})
        page(c, rec, "config-l2", "POST", "/ui/config", data={"regularization": "l2", "regularization_rate": "0.01"})
        page(c, rec, "step-adam", "POST", "/ui/step")
        page(c, rec, "inspect-adam", "GET", "/ui/inspect?kind=edge&layer=1&to=0&from=1")
        page(c, rec, "inspect-adam-bias", "GET", "/ui/inspect?kind=node&layer=2&to=1")
        page(c, rec, "config-hidden-bad", "POST", "/ui/config", data={"beta2": "2"})
        page(c, rec, "config-noshuffle", "POST", "/ui/config", data={"shuffle__present": "1",
                                                                      "train_biases__present": "1",
                                                                      "train_biases": "on"})
        page(c, rec, "config-output-sigmoid", "POST", "/ui/config", data={"output_activation": "sigmoid",
                                                                           "loss": "half_sse"})
        page(c, rec, "config-bce", "POST", "/ui/config", data={"loss": "bce"})
        page(c, rec, "config-dataset-spiral", "POST", "/ui/config", data={"dataset": "spiral"})
        page(c, rec, "config-noise", "POST", "/ui/config", data={"dataset": "spiral", "noise": "20",
                                                                  "samples": "300", "train_percent": "60",
                                                                  "features__present": "1",
                                                                  "features": ["x1", "x2", "x1_sq"]})
        page(c, rec, "config-samples-bad", "POST", "/ui/config", data={"dataset": "spiral", "samples": "1"})
        page(c, rec, "config-init-seed", "POST", "/ui/config", data={"init": "xavier", "seed": "5"})
        page(c, rec, "shape-add-layer", "POST", "/ui/shape", data={"action": "add-layer"})
        page(c, rec, "shape-add-neuron", "POST", "/ui/shape", data={"action": "add-neuron", "layer": "1"})
        page(c, rec, "shape-remove-neuron", "POST", "/ui/shape", data={"action": "remove-neuron", "layer": "2"})
        page(c, rec, "step-after-shape", "POST", "/ui/step")
        page(c, rec, "predict", "POST", "/ui/predict", data={"input_0": "1.5", "input_1": "-2"})
        page(c, rec, "predict-bad", "POST", "/ui/predict", data={"input_0": "x", "input_1": "-2"})
        page(c, rec, "edit", "POST", "/ui/edit", data={"kind": "weight", "layer": "0", "to": "0", "from": "1",
                                                      "value": "0.25"})
        page(c, rec, "edit-bad", "POST", "/ui/edit", data={"kind": "weight", "layer": "0", "to": "0", "from": "1",
                                                          "value": "1e300"})
        page(c, rec, "edit-nowhere", "POST", "/ui/edit", data={"kind": "weight", "layer": "7", "to": "0",
                                                              "from": "1", "value": "1"})
        page(c, rec, "inspect-plain", "GET", "/ui/inspect?kind=edge&layer=0&to=0&from=1")
        page(c, rec, "gradcheck", "POST", "/ui/gradient-check")
        page(c, rec, "step-after-gradcheck", "POST", "/ui/step")
        page(c, rec, "play", "POST", "/ui/play")
        page(c, rec, "play-frame", "POST", "/ui/play-frame")
        page(c, rec, "pause", "POST", "/ui/pause")
        page(c, rec, "play-frame-paused", "POST", "/ui/play-frame")
        page(c, rec, "reset", "POST", "/ui/reset")
        page(c, rec, "export-json", "GET", "/ui/export.json")
        page(c, rec, "python", "GET", "/ui/python")
        page(c, rec, "share", "POST", "/ui/share")
        page(c, rec, "page-reload", "GET", "/")
        page(c, rec, "no-htmx", "POST", "/ui/step", headers={"Origin": "http://testserver"})


def scenario_presets(app, rec):
    for preset in ("mazur", "xor", "test-score", "spiral", "sine", "nope"):
        with TestClient(app) as c:
            page(c, rec, f"preset-{preset}", "GET", f"/?preset={preset}")
            if preset == "mazur":
                for k in range(7):
                    page(c, rec, f"mazur-phase-{k}", "POST", "/ui/phase")
                    page(c, rec, f"mazur-phase-{k}-w5", "GET", "/ui/inspect?kind=edge&layer=1&to=0&from=0")
                    page(c, rec, f"mazur-phase-{k}-h1", "GET", "/ui/inspect?kind=node&layer=1&to=0")
                page(c, rec, "mazur-detailed-off", "POST", "/ui/detailed", data={})
                page(c, rec, "mazur-step", "POST", "/ui/step")
                page(c, rec, "mazur-detailed-on", "POST", "/ui/detailed", data={"detailed": "on"})
                page(c, rec, "mazur-phase-after-toggle", "POST", "/ui/phase")
                page(c, rec, "mazur-config-softmax", "POST", "/ui/config", data={"output_activation": "softmax"})
            elif preset != "nope":
                page(c, rec, f"{preset}-step", "POST", "/ui/step")
                page(c, rec, f"{preset}-epoch", "POST", "/ui/epoch")
                page(c, rec, f"{preset}-predict", "POST", "/ui/predict",
                     data={"input_0": "0.5", "input_1": "0.25"})


def scenario_links(app, rec):
    for k, query in enumerate(["dataset=spiral&layers=2,8,8,1&activation=tanh&lr=0.03&seed=7",
                               "dataset=gauss&noise=0.2&samples=200&train=0.7&data_seed=3&optimizer=adam&beta1=0.8",
                               "dataset=xor&features=x1,x2,x1_x2&standardize=1&regularization=l1&reg_rate=0.01"
                               "&shuffle=0&train_biases=0&init=he&batch=5",
                               "dataset=circle&optimizer=momentum&momentum=0.5&loss=mse&output=sigmoid",
                               "lr=abc", "dataset=csv", "foo=1", "lr=1&lr=2", "dataset=mazur&features=x1",
                               "layers=2,0,1", "utm_source=x&preset=xor"]):
        with TestClient(app) as c:
            r = page(c, rec, f"link-{k}", "GET", "/?" + query)
            page(c, rec, f"link-{k}-reload", "GET", "/?" + query)
            if r.status_code == 200:
                page(c, rec, f"link-{k}-step", "POST", "/ui/step")


def scenario_upload(app, rec):
    with TestClient(app) as c:
        page(c, rec, "upload-page", "GET", "/")
        page(c, rec, "upload-houses", "POST", "/ui/upload",
             files={"file": ("houses.csv", HOUSES.encode(), "text/csv")}, data={"targets": "price"})
        page(c, rec, "upload-step", "POST", "/ui/step")
        page(c, rec, "upload-classes", "POST", "/ui/upload",
             files={"file": ("classes.csv", CLASSES.encode(), "text/csv")},
             data={"targets": "label", "task": "classification"})
        page(c, rec, "upload-bad", "POST", "/ui/upload", files={"file": ("bad.csv", b"a,b\n1,x\n", "text/csv")},
             data={"targets": ""})
        exported = page(c, rec, "upload-export", "GET", "/ui/export.json")
        page(c, rec, "upload-import", "POST", "/ui/import",
             files={"file": ("state.json", exported.content, "application/json")})
        page(c, rec, "upload-import-bad", "POST", "/ui/import", files={"file": ("x.json", b"{", "application/json")})


def scenario_api(app, rec):
    with TestClient(app) as c:
        def call(name, method, url, **kw):
            r = c.request(method, url, **kw)
            rec.save(name + (".npz" if url.endswith(".npz") else ""), r)
            return r

        call("openapi", "GET", "/openapi.json")
        sid = call("api-create", "POST", "/api/sessions", json={}).json()["id"]
        base = f"/api/sessions/{sid}"
        call("api-step", "POST", base + "/step", json={"steps": 3})
        call("api-epoch", "POST", base + "/epoch")
        call("api-read", "GET", base)
        call("api-predict", "POST", base + "/predict", json={"inputs": [[1, 2], [-3, 0.5]]})
        call("api-predict-bad", "POST", base + "/predict", json={"inputs": [[1]]})
        call("api-gradcheck", "POST", base + "/gradient-check")
        call("api-rewind", "POST", base + "/rewind", json={"step": 2})
        call("api-rewind-bad", "POST", base + "/rewind", json={"step": 999})
        call("api-edit", "POST", base + "/parameters", json={"kind": "bias", "layer": 1, "to": 0, "value": 0.3})
        call("api-export", "GET", base + "/export")
        call("api-npz", "GET", base + "/weights.npz")
        call("api-python", "GET", base + "/python")
        call("api-bad-lr", "POST", "/api/sessions", json={"learning_rate": 0})
        call("api-bad-layers", "POST", "/api/sessions", json={"layers": [2]})
        call("api-bad-dataset", "POST", "/api/sessions", json={"dataset": {"name": "nope"}})
        call("api-bad-loss", "POST", "/api/sessions", json={"loss": "bce"})
        for k, body in enumerate([
            {"layers": [2, 2, 2], "hidden_activation": "sigmoid", "output_activation": "sigmoid",
             "learning_rate": 0.5, "batch_size": 1, "train_biases": False,
             "weights": [[[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45], [0.5, 0.55]]],
             "biases": [[0.35, 0.35], [0.6, 0.6]], "dataset": {"name": "mazur"}},
            {"optimizer": "adam", "regularization": "l1", "regularization_rate": 0.01, "dataset": {"name": "moons"}},
            {"optimizer": "momentum", "dataset": {"name": "iris"}, "output_activation": "softmax",
             "loss": "cross_entropy"},
            {"dataset": {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [[0], [1], [1], [0]]},
             "output_activation": "sigmoid", "batch_size": 4},
            {"dataset": {"name": "csv", "csv": HOUSES, "target_columns": ["price"], "standardize": True},
             "output_activation": "linear"},
            {"dataset": {"name": "sine", "samples": 100, "noise": 0.1}, "output_activation": "linear",
             "init": "he", "seed": 9},
        ]):
            r = call(f"api-create-{k}", "POST", "/api/sessions", json=body)
            other = f"/api/sessions/{r.json()['id']}"
            call(f"api-create-{k}-step", "POST", other + "/step", json={"steps": 2})
            call(f"api-create-{k}-export", "GET", other + "/export")
        diverge = c.post("/api/sessions", json={"learning_rate": 100, "dataset": {"name": "plane"},
                                                "hidden_activation": "relu", "output_activation": "linear"}).json()
        call("api-diverge", "POST", f"/api/sessions/{diverge['id']}/step", json={"steps": 200})
        exported = c.get(base + "/export").json()
        call("api-import", "POST", "/api/sessions/import", json=exported)
        call("api-import-bad", "POST", "/api/sessions/import", json={**exported, "position": 10**6})
        share = call("api-share", "POST", base + "/share").json()
        call("api-snapshot", "GET", f"/api/snapshots/{share['snapshot_id']}")


class FixedRandom(random.Random):
    """random.SystemRandom's stand-in: New seed, Regenerate and New exercise draw the same numbers every run."""

    def __init__(self):
        super().__init__(20261207)


def fixed_codes():
    """Live rooms' codes as a fixed sequence, and every change published at once (no frame held back)."""
    codes = iter(f"ROOM{a}{b}" for a in "23456789" for b in "23456789")
    live_service.new_code = lambda: next(codes)
    live_publisher.FRAME_INTERVAL = 0.0


def frames(app, rec, code, after):
    """Save a live room's events after `after` (one file each); the last event's number."""
    for seq, event in app.state.live.rooms.events_after(code, after) or []:
        kind = re.search(rb"^event: (\w+)$", event, re.M).group(1).decode()
        rec.count += 1
        (rec.out / f"{rec.count:03d}-event-{code}-{seq}-{kind}").write_bytes(event)
        after = seq
    return after


def scenario_panels(app, rec):
    """The page's actions, one answer each: what each sends (templates/partials/panels.html)."""
    with TestClient(app) as c:
        page(c, rec, "panels-page", "GET", "/")
        page(c, rec, "panels-speed-bad", "POST", "/ui/speed", data={"speed": "fast"})
        page(c, rec, "panels-speed", "POST", "/ui/speed", data={"speed": "10"})
        page(c, rec, "panels-matrix-on", "POST", "/ui/matrix-form", data={"matrix_form": "on"})
        page(c, rec, "panels-matrix-step", "POST", "/ui/step")
        page(c, rec, "panels-play", "POST", "/ui/play")
        page(c, rec, "panels-play-frame", "POST", "/ui/play-frame")
        page(c, rec, "panels-pause", "POST", "/ui/pause")
        page(c, rec, "panels-matrix-off", "POST", "/ui/matrix-form", data={})
        page(c, rec, "panels-stop-step", "POST", "/ui/config", data={"stop_step": "25"})
        page(c, rec, "panels-play-to-stop", "POST", "/ui/play")
        page(c, rec, "panels-play-frame-stop", "POST", "/ui/play-frame")
        page(c, rec, "panels-play-stopped", "POST", "/ui/play")
        page(c, rec, "panels-stop-off", "POST", "/ui/config", data={"stop_step": "", "stop_loss": "0.5"})
        page(c, rec, "panels-play-loss", "POST", "/ui/play")
        page(c, rec, "panels-stop-loss-off", "POST", "/ui/config", data={"stop_loss": ""})
        page(c, rec, "panels-detailed-on", "POST", "/ui/detailed", data={"detailed": "on"})
        for k in range(3):
            page(c, rec, f"panels-phase-{k}", "POST", "/ui/phase")
        page(c, rec, "panels-focus-row", "POST", "/ui/focus-row", data={"row": "1"})
        page(c, rec, "panels-focus-row-bad", "POST", "/ui/focus-row", data={"row": "99"})
        page(c, rec, "panels-guess-bad", "POST", "/ui/guess", data={"kind": "delta", "target": "nope", "value": "1"})
        page(c, rec, "panels-guess-typed", "POST", "/ui/guess", data={"kind": "delta", "target": "0", "value": "x"})
        page(c, rec, "panels-guess", "POST", "/ui/guess", data={"kind": "delta", "target": "0", "value": "0.1"})
        page(c, rec, "panels-guess-none", "POST", "/ui/guess", data={"kind": "change", "target": "0.0.0",
                                                                     "value": "0.1"})
        for k in range(3, 7):
            page(c, rec, f"panels-phase-{k}", "POST", "/ui/phase")
        page(c, rec, "panels-detailed-off", "POST", "/ui/detailed", data={})
        page(c, rec, "panels-select", "POST", "/ui/inspect", data={"kind": "edge", "layer": "0", "to": "1",
                                                                   "from": "0"})
        page(c, rec, "panels-step-selected", "POST", "/ui/step")
        page(c, rec, "panels-edit-bad", "POST", "/ui/edit", data={"kind": "weight", "layer": "0", "to": "1",
                                                                 "from": "0", "value": "x"})
        page(c, rec, "panels-worksheet", "POST", "/ui/worksheet", data={"kind": "edge", "layer": "0", "to": "1",
                                                                       "from": "0"})
        page(c, rec, "panels-worksheet-bad", "POST", "/ui/worksheet", data={"kind": "edge", "layer": "9", "to": "1",
                                                                           "from": "0"})
        page(c, rec, "panels-worksheet-check", "POST", "/ui/worksheet/check", data={"q:z": "0.5"})
        page(c, rec, "panels-worksheet-hint", "POST", "/ui/worksheet/hint", data={"key": "z"})
        page(c, rec, "panels-worksheet-close", "POST", "/ui/worksheet/close")
        page(c, rec, "panels-worksheet-none", "POST", "/ui/worksheet/check")
        page(c, rec, "panels-inspect-close", "POST", "/ui/inspect/close")
        page(c, rec, "panels-step-closed", "POST", "/ui/step")
        page(c, rec, "panels-gradcheck", "POST", "/ui/gradient-check")
        page(c, rec, "panels-after-gradcheck", "POST", "/ui/step")
        page(c, rec, "panels-after-gradcheck-2", "POST", "/ui/step")
        page(c, rec, "panels-predict", "POST", "/ui/predict", data={"input_0": "0.5", "input_1": "-1"})
        page(c, rec, "panels-step-predicted", "POST", "/ui/step")
        page(c, rec, "panels-predict-bad", "POST", "/ui/predict", data={"input_0": "", "input_1": "-1"})
        page(c, rec, "panels-share", "POST", "/ui/share")
        page(c, rec, "panels-import-bad", "POST", "/ui/import", files={"file": ("x.json", b"[]", "application/json")})
        page(c, rec, "panels-shape-same", "POST", "/ui/shape", data={"action": "remove-neuron", "layer": "5"})
        page(c, rec, "panels-new-seed", "POST", "/ui/new-seed")
        page(c, rec, "panels-regenerate", "POST", "/ui/regenerate")
        page(c, rec, "panels-back-rebuild", "POST", "/ui/back")
        page(c, rec, "panels-forward-none", "POST", "/ui/forward")
        page(c, rec, "panels-step-to-undo", "POST", "/ui/step")
        page(c, rec, "panels-back", "POST", "/ui/back")
        page(c, rec, "panels-forward", "POST", "/ui/forward")
        page(c, rec, "panels-select-node", "POST", "/ui/inspect", data={"kind": "node", "layer": "1", "to": "0"})
        page(c, rec, "panels-edit", "POST", "/ui/edit", data={"kind": "bias", "layer": "0", "to": "0", "value": "0.5"})
        page(c, rec, "panels-edit-step", "POST", "/ui/step")
    with TestClient(app) as c:
        page(c, rec, "panels-diverge", "GET", "/?dataset=plane&activation=relu&output=linear&loss=mse&lr=100")
        page(c, rec, "panels-diverge-step", "POST", "/ui/epoch")
        page(c, rec, "panels-diverge-play", "POST", "/ui/play")
        page(c, rec, "panels-diverge-frame", "POST", "/ui/play-frame")


def scenario_lessons(app, rec):
    with TestClient(app) as c:
        page(c, rec, "lessons", "GET", "/lessons")
        page(c, rec, "lesson-page", "GET", "/")
        page(c, rec, "lesson-answer-none", "POST", "/ui/lesson/answer", data={"value": "1"})
        page(c, rec, "lesson-card", "GET", "/lessons/forward/hidden")
        page(c, rec, "lesson-answer-wrong", "POST", "/ui/lesson/answer", data={"value": "1"})
        page(c, rec, "lesson-answer-text", "POST", "/ui/lesson/answer", data={"value": "x"})
        page(c, rec, "lesson-step", "POST", "/ui/step")
        page(c, rec, "lesson-do-card", "GET", "/lessons/training/four-stages")
        page(c, rec, "lesson-do-answer", "POST", "/ui/lesson/answer", data={"value": "1"})
        page(c, rec, "lesson-do-step", "POST", "/ui/step")
        page(c, rec, "lesson-choose-card", "GET", "/lessons/deltas/compare")
        page(c, rec, "lesson-choose", "POST", "/ui/lesson/answer", data={"value": "nope"})
        page(c, rec, "lesson-close", "POST", "/ui/lesson/close")
        page(c, rec, "lesson-after-close", "POST", "/ui/step")


def scenario_exercises(app, rec):
    with TestClient(app) as c:
        page(c, rec, "exercise-page", "GET", "/")
        page(c, rec, "exercise-none", "POST", "/ui/exercise/check", data={"value": "1"})
        page(c, rec, "exercise-link", "GET", "/?exercise=4242")
        page(c, rec, "exercise-link-bad", "GET", "/?exercise=x")
        page(c, rec, "exercise-check-wrong", "POST", "/ui/exercise/check", data={"value": "0.123"})
        page(c, rec, "exercise-check-text", "POST", "/ui/exercise/check", data={"value": "abc"})
        page(c, rec, "exercise-step", "POST", "/ui/step")
        page(c, rec, "exercise-new", "POST", "/ui/exercise/new")
        page(c, rec, "exercise-close", "POST", "/ui/exercise/close")


def scenario_live(app, rec):
    with TestClient(app) as presenter, TestClient(app) as follower:
        page(presenter, rec, "live-page", "GET", "/")
        r = page(presenter, rec, "live-start", "POST", "/ui/live/start")
        code = re.search(r'class="live-code"[^>]*>([A-Z0-9 ]+)<', r.text).group(1).replace(" ", "")
        seen = frames(app, rec, code, 0)
        page(follower, rec, "live-follow", "GET", f"/live/{code}")
        page(presenter, rec, "live-panel", "GET", "/ui/live/panel")
        page(presenter, rec, "live-page-presenting", "GET", "/")
        page(presenter, rec, "live-share-presenting", "POST", "/ui/share")
        for name, url, data in [
                ("live-step", "/ui/step", {}),
                ("live-ask-number-early", "/ui/live/ask", {"question": "number:delta"}),
                ("live-ask-bad", "/ui/live/ask", {"question": "nope:x"}),
                ("live-ask", "/ui/live/ask", {"question": "direction:0.0.0"}),
                ("live-focus-held", "/ui/focus-row", {"row": "1"}),
                ("live-close-poll", "/ui/live/close-poll", {}),
                ("live-close-poll-none", "/ui/live/close-poll", {}),
                ("live-ask-again", "/ui/live/ask", {"question": "direction:0.0.0"}),
                ("live-reveal", "/ui/live/reveal", {}),
                ("live-epoch", "/ui/epoch", {}),
                ("live-detailed", "/ui/detailed", {"detailed": "on"}),
                ("live-phase", "/ui/phase", {}),
                ("live-rewind", "/ui/rewind", {"step": "1"}),
                ("live-config", "/ui/config", {"learning_rate": "0.1"}),
                ("live-reset", "/ui/reset", {}),
                ("live-stop", "/ui/live/stop", {})]:
            page(presenter, rec, name, "POST", url, data=data)
            seen = frames(app, rec, code, seen)
        page(follower, rec, "live-follow-ended", "GET", f"/live/{code}")
        page(presenter, rec, "live-panel-ended", "GET", "/ui/live/panel")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "captured")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        random.SystemRandom = FixedRandom
        fixed_codes()
        app = create_app(f"sqlite:///{scratch}/capture.db")
        rec = Recorder(out)
        for scenario in (scenario_default, scenario_presets, scenario_links, scenario_upload, scenario_api,
                         scenario_panels, scenario_lessons, scenario_exercises, scenario_live):
            scenario(app, rec)
    print(f"{rec.count} answers written to {out}")


if __name__ == "__main__":
    main()
