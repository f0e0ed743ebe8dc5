"""The panel table (app/web/panel_table.py): which panels each outcome sends, what each panel's template reads,
that every panel has a row, and that the page's answers and a live room's frames send what they sent before the
table (the ids below were read from the answers of the hand-written templates/partials/panels.html)."""
import json
import re

import pytest
from fastapi.testclient import TestClient
from jinja2 import meta, nodes

from app.core.recipe import CreateSession
from app.core.session import build_session
from app.main import create_app
from app.web import outcome as o
from app.web.panel_data import FollowerData, PanelData
from app.web.panel_table import ANSWER, BY_ID, FOLLOWING, FRAME, PANELS, PLAYGROUND, chosen
from app.web.render import templates
from app.web.view_state import view_of
from helpers import HX

ROOT = templates.env.loader.searchpath[0]
LAYOUT_NAMES = {"oob", "parts_oob"}  # set by the template that draws a panel, not by its data
# Panels of a live room's own events and of a follower's own answer, drawn alone by app/web/live_render.py
# event_html and the /live/{code}/mine route, never from the table.
ROOM_EVENTS = {"partials/live_poll.html", "partials/live_count.html", "partials/live_mine.html"}

BASE = ["metrics", "player", "message", "network", "row-picker", "guess", "output-panel", "loss-data"]
TOOLBAR = ["metrics", "transport", "player", "rewind", "toggles", "matrix-form", "message", "network", "row-picker",
           "guess", "output-panel", "loss-data"]
SETUP = ["metrics", "transport", "player", "rewind", "toggles", "matrix-form", "predict-panel", "message", "lesson",
         "exercise", "network-panel", "output-panel", "loss-data", "controls", "loss-hint"]


def sent(session, outcome, layout=ANSWER) -> list[str]:
    return [p.id for line in chosen(layout, PanelData(session, outcome)) for p in line]


def plus(ids: list[str], *more: str) -> list[str]:
    """`ids` with `more`, in the table's order."""
    order = [p.id for p in PANELS]
    return sorted(set(ids) | set(more), key=order.index)


@pytest.fixture
def fresh():
    """A session one step in: nothing selected, no prediction, no lesson or exercise, the Matrix form closed."""
    session = build_session(CreateSession(seed=3))
    session.train(1)
    return session


EDGE = ("edge", 0, 0, 0)


@pytest.mark.parametrize("outcome,expected", [
    (o.looked(), BASE),
    (o.looked(message="No."), BASE),
    (o.stepped([(1, 0.5, 0.6)]), BASE),
    (o.played(), TOOLBAR),
    (o.phase_taken(), TOOLBAR),
    (o.toggled(), TOOLBAR),
    (o.refused(message="No."), TOOLBAR),
    (o.moved(), TOOLBAR),
    (o.edited(EDGE), plus(BASE, "inspector")),
    (o.inspected(EDGE, errors={"edit": "No."}), plus(BASE, "inspector")),
    (o.rebuilt(), SETUP),
    (o.configured(), SETUP),
    (o.configured(errors={"learning_rate": "No."}), SETUP),
    (o.exercise_closed(), SETUP),
    (o.lesson_changed(), plus(BASE, "lesson")),
    (o.exercise_changed(), plus(BASE, "exercise")),
    (o.live_changed(None), plus(BASE, "live-present", "api-access")),
    (o.revealed([], None), plus(TOOLBAR, "live-present", "api-access")),
    (o.shared({"url": "http://testserver/s/x", "step": 1}), plus(BASE, "share-panel")),
    (o.shared(None, errors={"import": "No."}), plus(BASE, "share-panel")),
    (o.gradient_checked({"parameters": 1}), plus(BASE, "gradcheck")),
    (o.predicted([0.5, 0.5]), plus(BASE, "predict-panel")),
    (o.predicted(None, errors={"predict": "No."}), plus(BASE, "predict-panel")),
], ids=lambda v: v.change + "+" + ",".join(sorted(v.topics)) if isinstance(v, o.Outcome) else "")
def test_each_outcome_sends_exactly_its_panels(fresh, outcome, expected):
    assert sent(fresh, outcome) == expected


def test_what_the_page_shows_sends_panels_too(fresh):
    view = view_of(fresh)
    view.gradcheck_shown = True  # the gradient check is on the page: the next answer empties it
    assert sent(fresh, o.looked()) == plus(BASE, "gradcheck")
    view.gradcheck_shown = False
    view.selected = EDGE  # the inspector follows its edge
    assert sent(fresh, o.stepped([])) == plus(BASE, "inspector")
    view.selected = ("edge", 5, 0, 0)  # ... until it is gone: drawn once more, to say so
    assert sent(fresh, o.looked()) == plus(BASE, "inspector") and view.selected is None
    assert sent(fresh, o.looked()) == BASE
    view.predicted = [0.25, -1.0]  # Predict's answer follows every step; its form only changes with its own
    assert sent(fresh, o.stepped([])) == plus(BASE, "predict-answer")
    assert sent(fresh, o.configured()) == SETUP
    view.matrix_form = True  # open: sent with every answer but Play's frames
    assert sent(fresh, o.stepped([])) == plus(BASE, "predict-answer", "matrix-form")
    view.playing = True
    assert sent(fresh, o.stepped([])) == plus(BASE, "predict-answer")


def test_a_frame_sends_what_a_follower_sees(fresh):
    assert sent(fresh, o.stepped([]), FRAME) == ["live-status", "metrics", "network", "row-picker", "output-panel",
                                                 "loss-data"]
    assert sent(fresh, o.rebuilt(), FRAME) == ["live-status", "metrics", "network-panel", "loss-hint", "output-panel",
                                               "loss-data"]


def test_a_whole_page_draws_every_row_of_its_layout(fresh):
    assert set(sent(fresh, o.looked(), PLAYGROUND)) == {p for line in PLAYGROUND.lines for p in line}
    everywhere = {p for layout in (ANSWER, PLAYGROUND, FRAME, FOLLOWING) for line in layout.lines for p in line}
    assert everywhere == set(BY_ID)  # no row is drawn by nothing
    assert len(BY_ID) == len(PANELS)


# ---- the table and the templates agree ----

def _parsed(name: str):
    env = templates.env
    return env.parse(env.loader.get_source(env, name)[0])


def _names(targets) -> set[str]:
    return {n.name for t in targets for n in ([t] if isinstance(t, nodes.Name) else t.find_all(nodes.Name))}


def _reads(name: str) -> set[str]:
    """The names a template reads from its context, with those of the templates it includes."""
    ast = _parsed(name)
    own = set()  # set, looped over or a macro's: the template's own names
    for n in ast.find_all((nodes.Assign, nodes.AssignBlock, nodes.For)):
        own |= _names([n.target])
    for m in ast.find_all(nodes.Macro):
        own |= {m.name} | _names(m.args)
    given = own | {n for w in ast.find_all(nodes.With) for n in _names(w.targets)}  # ... or given to an include
    found = set(meta.find_undeclared_variables(ast)) - own
    for included in meta.find_referenced_templates(ast):
        if included and included != "base.html":
            found |= _reads(included) - given
    return found


def _includes(name: str) -> set[str]:
    """The partials a template includes, and theirs."""
    direct = {t for t in meta.find_referenced_templates(_parsed(name)) if t and t.startswith("partials/")}
    return direct.union(*(_includes(t) for t in direct))


@pytest.mark.parametrize("panel", PANELS, ids=lambda p: p.id)
def test_a_row_builds_exactly_what_its_template_reads(panel):
    assert set(panel.needs) == _reads(panel.template) - LAYOUT_NAMES
    assert all(hasattr(FollowerData if panel.id == "live-status" else PanelData, name) for name in panel.needs)
    assert f'id="{panel.id}"' in open(f"{ROOT}/{panel.template}", encoding="utf-8").read()


def test_every_panel_that_swaps_itself_has_a_row():
    """A partial that can be swapped out of band is a panel: it has a row, or is one of a live room's events."""
    rows = {p.template for p in PANELS}
    swapped = set()
    for name in templates.env.list_templates(filter_func=lambda t: t.startswith("partials/")):
        if "hx-swap-oob" in templates.env.loader.get_source(templates.env, name)[0] and name != "partials/panels.html":
            swapped.add(name)
    assert swapped - ROOM_EVENTS == rows - {"partials/loss.html", "partials/live_back.html"}


@pytest.mark.parametrize("page,layout", [("playground.html", PLAYGROUND), ("live.html", FOLLOWING)])
def test_a_whole_page_is_drawn_from_its_rows(page, layout):
    rows = {BY_ID[p].template for line in layout.lines for p in line}
    direct = {t for t in meta.find_referenced_templates(_parsed(page)) if t and t.startswith("partials/")}
    assert direct - ROOM_EVENTS <= rows  # every panel the page places is a row
    assert rows <= _includes(page)  # and every row is on the page
    built = {n for line in layout.lines for p in line for n in BY_ID[p].needs} | set(layout.needs)
    if page == "playground.html":
        assert _reads(page) - LAYOUT_NAMES <= built


# ---- answers and frames as before the table ----

TAG = re.compile(r'<[a-z]+\b[^>]*?\bhx-swap-oob="true"[^>]*>', re.S)


def swapped_ids(html: str) -> str:
    return " ".join(re.search(r'\bid="([^"]+)"', tag).group(1) for tag in TAG.findall(html))


STEP = "metrics player message network row-picker narration diagram-caption guess output-data loss-data"
TOOL = ("metrics transport player rewind toggles matrix-form message network row-picker narration diagram-caption "
        "guess output-data loss-data")
SETTINGS = ("metrics transport player rewind toggles matrix-form predict-panel message lesson exercise network-panel "
            "output-data loss-data controls loss-hint")
# (request, data, the ids its answer swaps); the output's head ("output-head") is swapped when its figure is sent
# whole: it is the output view's own choice, not the table's.
SCRIPT = [
    ("/ui/speed", {"speed": "fast"}, TOOL),
    ("/ui/speed", {"speed": "10"}, SETTINGS),
    ("/ui/matrix-form", {"matrix_form": "on"}, TOOL),
    ("/ui/step", {}, STEP.replace("player", "player matrix-form")),
    ("/ui/play", {}, TOOL),
    ("/ui/play-frame", {}, STEP),
    ("/ui/pause", {}, TOOL.replace("output-data", "output-head output-data")),  # the whole curve and figure
    ("/ui/matrix-form", {}, TOOL),
    ("/ui/detailed", {"detailed": "on"}, TOOL),
    ("/ui/phase", {}, TOOL),
    ("/ui/focus-row", {"row": "1"}, STEP),
    ("/ui/guess", {"kind": "delta", "target": "nope", "value": "1"}, STEP),
    ("/ui/detailed", {}, TOOL),
    ("/ui/inspect", {"kind": "edge", "layer": "0", "to": "1", "from": "0"}, ""),
    ("/ui/step", {}, STEP.replace("player", "player inspector")),
    ("/ui/worksheet", {"kind": "edge", "layer": "0", "to": "1", "from": "0"},
     STEP.replace("player", "player inspector")),
    ("/ui/inspect/close", {}, ""),
    ("/ui/gradient-check", {}, STEP.replace("player", "player gradcheck")),
    ("/ui/step", {}, STEP.replace("player", "player gradcheck")),
    ("/ui/step", {}, STEP),
    ("/ui/predict", {"input_0": "0.5", "input_1": "-1"}, STEP.replace("player", "player predict-panel").replace(
        "output-data", "output-head output-data")),
    ("/ui/step", {}, STEP.replace("player", "player predict-answer")),
    ("/ui/predict", {"input_0": "", "input_1": "-1"}, STEP.replace("player", "player predict-panel")),
    ("/ui/share", {}, STEP.replace("player", "player predict-answer").replace("message", "message share-panel")),
    ("/ui/new-seed", {}, SETTINGS.replace("output-data", "output-head output-data")),
    ("/ui/step", {}, STEP.replace("player", "player predict-answer")),
    ("/ui/back", {}, TOOL.replace("matrix-form", "matrix-form predict-answer").replace(
        "output-data", "output-head output-data")),
    ("/ui/forward", {}, TOOL.replace("matrix-form", "matrix-form predict-answer").replace(
        "output-data", "output-head output-data")),
    ("/ui/forward", {}, TOOL.replace("matrix-form", "matrix-form predict-answer")),
    ("/ui/exercise/check", {"value": "1"}, STEP.replace("message", "message exercise").replace(
        "player", "player predict-answer")),
    ("/ui/live/start", {}, STEP.replace("player", "player predict-answer").replace(
        "message", "message live-present api-access")),
    ("/ui/step", {}, STEP.replace("player", "player predict-answer")),
    ("/ui/config", {"learning_rate": "0.1"}, SETTINGS),
    ("/ui/live/stop", {}, STEP.replace("player", "player predict-answer").replace(
        "message", "message live-present api-access")),
]
# The frames of the live room the script presents: after Start, its Step and its setting. The Step's goes out as a
# patch (a light frame: its diagram as a patch, its output and loss data as JSON): here the ids of its HTML, then
# the data it carries.
FRAMES = ["live-status metrics network-panel loss-hint output-head output-data loss-data",
          "live-status metrics row-picker narration diagram-caption diagram-data output-data loss-data",
          "live-status metrics network-panel loss-hint output-head output-data loss-data"]


def test_the_answers_and_frames_send_what_they_sent_before_the_table(tmp_path, monkeypatch):
    from app.web import live_publisher
    monkeypatch.setattr(live_publisher, "FRAME_INTERVAL", 0.0)  # every change published at once
    app = create_app(f"sqlite:///{tmp_path}/store.db")
    with TestClient(app) as client:
        client.get("/")
        for url, data, expected in SCRIPT:
            r = client.post(url, headers=HX, data=data)
            assert r.status_code in (200, 204), (url, r.status_code)
            assert swapped_ids(r.text) == expected, (url, data)
            if url == "/ui/live/start":
                code = re.search(r'class="live-code"[^>]*>([A-Z0-9 ]+)<', r.text).group(1).replace(" ", "")
        frames = []
        for _, event in app.state.live.rooms.events_after(code, 0):
            kind, data = re.match(r"id: \d+\nevent: (\w+)\ndata: (.*)", event.decode(), re.S).groups()
            if kind == "patch":
                light = json.loads(data)
                frames.append(" ".join([swapped_ids(light["html"])] + [f"{key}-data" for key in ("diagram", "output", "loss")
                                                                         if key in light]))
            elif kind == "frame":
                frames.append(swapped_ids(data))
        assert frames == FRAMES
        lesson = client.get("/lessons/training/four-stages")  # a Do task is checked after every action
        assert lesson.status_code == 200
        r = client.post("/ui/step", headers=HX)
        assert swapped_ids(r.text) == STEP.replace("message", "message lesson").replace(
            "output-data", "output-head output-data")
