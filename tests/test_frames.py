"""Light frames (app/web/frames.py): an htmx action that says which diagram the page draws (X-BP-Frame) is answered
with JSON that carries only what changed, and a page copy (PageCopy) sends a panel's HTML only when it differs from
what the page was last sent. Without the header, and without htmx, the answers are what they were."""
import re

import pytest

from app.core.recipe import CreateSession
from app.core.session import build_session
from app.web.frames import FRAME_TYPE, PageCopy, light_frame
from app.web.outcome import played, stepped
from app.web.panel_data import PanelData
from app.web.panel_table import ANSWER
from helpers import HX
from test_diagram_patch import apply_patch, canonical, svg_of

STRUCTURE = re.compile(r'<svg id="network"[^>]* data-structure="([0-9a-f]+)"')
OOB_ID = re.compile(r'<[a-z]+ id="([^"]+)"[^>]*hx-swap-oob="true"')


def structure_of(html: str) -> str:
    return STRUCTURE.search(html)[1]


def frame(client, path: str, holds: str, **kwargs) -> dict:
    r = client.post(path, headers={**HX, "X-BP-Frame": holds}, **kwargs)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(FRAME_TYPE)
    return r.json()


def panels_of(html: str) -> list[str]:
    return OOB_ID.findall(html)


# ---------------------------------------------------------------------------------------------------------------
# PageCopy

def _frame(session, outcome, copy: PageCopy) -> dict:
    return light_frame(PanelData(session, outcome), ANSWER, copy)


def test_a_page_copy_sends_a_panel_once_and_nothing_unchanged():
    session = build_session(CreateSession(seed=5))
    points = session.train(1)
    copy = PageCopy()
    first = _frame(session, stepped(points), copy)
    assert {"metrics", "player", "message", "network", "row-picker", "guess"} <= set(panels_of(first["html"]))
    assert "diagram" not in first  # a copy that holds no diagram gets its markup
    assert first["loss"]["points"] == points and first["loss"]["mode"] == "extend"
    again = _frame(session, stepped(()), copy)
    assert again["html"] == ""  # nothing changed: no HTML at all
    assert again["diagram"]["edges"] == {} and again["diagram"]["nodes"] == {}
    assert again["step"] == 1 and again["playing"] is False
    # A notice is sent once, and its going away is a change too.
    noticed = _frame(session, stepped((), notice="Something to say."), copy)
    assert panels_of(noticed["html"]) == ["message"] and "Something to say." in noticed["html"]
    assert _frame(session, stepped((), notice="Something to say."), copy)["html"] == ""
    assert panels_of(_frame(session, stepped(()), copy)["html"]) == ["message"]
    # A step changes the metrics, the numbers on the diagram and its words; the rest is as the page has it.
    points = session.train(1)
    stepped_again = _frame(session, stepped(points), copy)
    sent = panels_of(stepped_again["html"])
    assert "metrics" in sent and "player" not in sent and "guess" not in sent and "network" not in sent
    assert stepped_again["diagram"]["svg"][0] == 2 and stepped_again["diagram"]["nodes"]
    assert _frame(session, stepped(()), copy)["html"] == ""


def test_the_toolbar_is_sent_when_the_play_state_changes():
    session = build_session(CreateSession(seed=5))
    copy = PageCopy()
    _frame(session, stepped(session.train(1)), copy)
    session.page.transport.playing = True
    start = _frame(session, played(session.train(2)), copy)
    assert {"transport", "player"} <= set(panels_of(start["html"])) and start["playing"] is True
    assert "transport" not in panels_of(_frame(session, stepped(session.train(1)), copy)["html"])
    session.page.transport.playing = False
    stop = _frame(session, played(()), copy)
    assert {"transport", "player"} <= set(panels_of(stop["html"])) and stop["playing"] is False


def test_a_copy_holding_only_a_structure_gets_every_value_and_every_panel():
    session = build_session(CreateSession(seed=5))
    session.train(1)
    whole = _frame(session, stepped(()), PageCopy())
    key = structure_of(whole["html"])
    holding = _frame(session, stepped(()), PageCopy.holding(key))
    assert set(holding["diagram"]["edges"]) == {f"edge-{l}-{i}-{j}" for l, (a, b) in enumerate([(2, 4), (4, 2), (2, 1)])
                                                for i in range(a) for j in range(b)}
    assert len(holding["diagram"]["nodes"]) == 2 + 4 + 2 + 1
    assert panels_of(holding["html"]) == [p for p in panels_of(whole["html"]) if p != "network"]
    # A header of any length is only compared: a long one holds nothing the page could be patched from.
    assert "diagram" not in _frame(session, stepped(()), PageCopy.holding(key + "0" * 100))


# ---------------------------------------------------------------------------------------------------------------
# X-BP-Frame on the page's training and history actions

def test_each_light_action_answers_a_frame_with_a_patch_or_the_markup(client):
    page = client.get("/").text
    held = structure_of(page)
    # The page drew the initial weights (no pass yet): step 1 is a patch of every value and of what the picture shows.
    first = frame(client, "/ui/step", held)
    assert first["step"] == 1 and first["diagram"]["structure"] == held and '<svg id="network"' not in first["html"]
    assert first["diagram"]["svg"][4] == "diagram kind-step" and first["diagram"]["edges"] and first["diagram"]["nodes"]
    cases = [("/ui/step", 2, {}), ("/ui/epoch", 25, {}), ("/ui/play", None, {})]
    for path, step, _ in cases:
        answer = frame(client, path, held)
        assert answer["diagram"]["structure"] == held and answer["diagram"]["svg"][0] == answer["step"]
        assert '<svg id="network"' not in answer["html"]
        if step is not None:
            assert answer["step"] == step
        assert answer["loss"]["mode"] == "extend" and answer["loss"]["points"][-1][0] == answer["step"]
        assert "output" in answer
    assert answer["playing"] is True and 'id="transport"' in answer["html"]
    client.post("/ui/pause", headers=HX)
    at = answer["step"]
    # Back: the step before is restored without its pass, a picture of its weights alone: patched, going back or
    # forward.
    back = frame(client, "/ui/back", held)
    assert back["step"] == at - 1 and back["diagram"]["structure"] == held and '<svg id="network"' not in back["html"]
    assert back["diagram"]["svg"][4] == "diagram kind-initial" and back["loss"]["mode"] == "replace"
    back = frame(client, "/ui/back", held)
    assert back["step"] == at - 2 and back["diagram"]["structure"] == held
    forward = frame(client, "/ui/forward", held)
    assert forward["step"] == at - 1 and forward["diagram"]["svg"][0] == at - 1


@pytest.mark.parametrize("path", ["/ui/step", "/ui/epoch", "/ui/play", "/ui/back", "/ui/forward"])
def test_a_page_that_draws_another_structure_gets_the_markup(client, path):
    client.get("/")
    client.post("/ui/step", headers=HX)
    client.post("/ui/step", headers=HX)
    if path == "/ui/forward":
        client.post("/ui/back", headers=HX)
    for holds in ("", "0123456789abcdef"):
        answer = frame(client, path, holds)
        assert "diagram" not in answer
        svg = svg_of(answer["html"])
        assert svg.attrs["data-step"] == str(answer["step"])
        assert svg.attrs["hx-swap-oob"] == "true"
        client.post("/ui/pause", headers=HX)
        if path in ("/ui/back", "/ui/forward"):
            break


def test_a_patched_page_is_the_page_drawn_anew(client):
    """Applied to the diagram the page holds, each frame's patch gives the diagram that a new page draws."""
    client.get("/")
    svg = svg_of(client.get("/").text)  # the initial weights, before any step
    for path in ("/ui/step", "/ui/step", "/ui/epoch", "/ui/play", "/ui/pause", "/ui/back", "/ui/back", "/ui/forward"):
        if path == "/ui/pause":
            client.post(path, headers=HX)
            answer = frame(client, "/ui/step", svg.attrs["data-structure"])
        else:
            answer = frame(client, path, svg.attrs["data-structure"])
        assert apply_patch(svg, answer["diagram"])
        drawn = svg_of(client.get("/").text)
        assert canonical(svg) == canonical(drawn), path


def test_without_the_header_the_answer_is_html_and_the_frames_panels_are_its_own(client):
    client.get("/")
    client.post("/ui/step", headers=HX)
    html = client.post("/ui/step", headers=HX)
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.lstrip().startswith("<") and '<svg id="network"' in html.text
    assert 'id="loss-data"' in html.text and 'id="output-data"' in html.text
    light = frame(client, "/ui/step", "")
    # The frame's HTML panels, drawn from the same templates, are each in the HTML answer of the step before but
    # for their numbers: the same panels, in the same order, less the loss curve and output sent as data.
    html_ids = [p for p in panels_of(html.text) if p not in ("loss-data", "output-data")]
    assert panels_of(light["html"]) == html_ids


def test_a_post_without_htmx_is_redirected_to_the_page(client):
    client.get("/")
    page = client.get("/").text
    for path in ("/ui/step", "/ui/epoch", "/ui/play", "/ui/back", "/ui/forward"):
        r = client.post(path, headers={"Origin": "http://testserver", "X-BP-Frame": structure_of(page)},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/", path
    client.post("/ui/pause", headers=HX)


def test_back_past_a_rebuild_sends_the_network_panel_whole(client):
    client.get("/")
    client.post("/ui/step", headers=HX)
    client.post("/ui/shape", headers=HX, data={"action": "add-neuron", "layer": "1"})  # a new network
    page = client.get("/").text
    assert 'id="node-1-4"' in page
    back = frame(client, "/ui/back", structure_of(page))  # back to the network before it
    assert back["step"] == 1 and "diagram" not in back
    assert 'id="network-panel"' in back["html"] and 'id="node-1-3"' in back["html"]
    assert 'id="node-1-4"' not in back["html"] and structure_of(back["html"]) != structure_of(page)
    assert back["loss"]["mode"] == "replace"
