"""Issue 25 §7, the smaller things a newcomer trips on: the 404 page, the /lessons page's header and progress, the
follower's words with no Step, the lesson cards' instructions, the plots' legends, and the inspector's headers."""
import html
import re

import pytest
from fastapi.testclient import TestClient

from app.lessons import LESSONS
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.main import create_app
from app.views import output
from app.views.network import without_pass

from test_live import HX, code_of

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


# The 404 page

def test_an_unknown_address_is_a_page_for_a_browser_with_a_title_a_language_a_heading_and_ways_back(client):
    r = client.get("/no/such/page", headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in r.text and "<title>Not found · Backprop Playground</title>" in r.text
    assert "<h1>This page does not exist</h1>" in r.text and "<code>/no/such/page</code>" in r.text
    assert re.findall(r'<a class="button" href="([^"]+)"', r.text) == ["/", "/lessons", "/live"]
    assert "share links look like" not in r.text  # those words are the shared network's


def test_a_long_unknown_address_is_repeated_cut_with_an_ellipsis(client):
    r = client.get("/" + "x" * 300, headers=BROWSER)
    shown = re.search(r"<code>([^<]*)</code>", r.text)[1]
    assert len(shown) == 200 and shown.endswith("…") and shown.startswith("/xxx")


@pytest.mark.parametrize("path, headers", [("/api/no/such", BROWSER), ("/no/such/page", {"accept": "application/json"}),
                                           ("/no/such/page", {**BROWSER, **HX})])
def test_the_api_other_clients_and_the_pages_own_requests_keep_the_json_404(client, path, headers):
    r = client.get(path, headers=headers)
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


def test_a_post_to_an_unknown_address_keeps_its_json_answer(client):
    r = client.post("/no/such/page", headers={**BROWSER, "Origin": "http://testserver"})
    assert r.status_code in (403, 404, 405) and r.headers["content-type"] == "application/json"


def test_the_lesson_card_and_share_404s_say_their_own_words(client):
    card = client.get("/lessons/forward/nowhere", headers=BROWSER).text
    assert "This lesson card does not exist" in card and "lessons page lists every lesson" in card
    assert "share links look like" not in card
    share = client.get("/s/" + "a" * 16, headers=BROWSER)
    assert share.status_code == 404 and "share links look like" in share.text


# /lessons

def test_the_lessons_page_has_its_way_back_first_and_marks_the_learners_progress(client):
    page = client.get("/lessons").text
    assert page.index('href="/"') < page.index("<main")  # the way back is in the header, before the list
    total = sum(len(lesson.cards) for lesson in LESSONS)
    assert f"{total} cards in {len(LESSONS)} lessons; none done yet" in page
    assert "Start with <a href=\"/lessons/training/four-stages\">" in page
    client.get("/lessons/forward/hidden")
    client.post("/ui/lesson/answer", data={"value": "7.6"}, headers={**HX, "Origin": "http://testserver"})
    page = client.get("/lessons").text
    assert f"1 of {total} cards done" in page
    # The lesson's own count, its card marked done, and where to go on: the first card not done.
    forward = re.search(r'data-lesson="forward">(.*?)</li>\s*</ol>', page, re.S)[1]
    assert "Lesson 2 · 1 of 2 done" in forward
    assert re.search(r'href="/lessons/forward/hidden">Into a hidden node</a> <span class="done-mark">✓ done', forward)
    assert "Go on with <a href=\"/lessons/training/four-stages\">Lesson 1: What training is, card 1" in page


def test_the_card_the_learner_has_open_is_marked_and_offered_first(client):
    client.get("/lessons/chain-rule/w5")
    page = client.get("/lessons").text
    assert 'href="/lessons/chain-rule/w5">A weight into the output</a> <span class="open-mark">open now</span>' in page
    assert "Start with <a href=\"/lessons/chain-rule/w5\">Lesson 4: The chain rule, card 1" in page


# The lesson cards' instructions work as written

def test_lesson_2_card_1s_edge_into_h1_shows_its_weight_before_any_step(client):
    page = html.unescape(client.get("/lessons/forward/hidden").text)
    assert "click its edge into h1" in page and "Click h1 in the diagram" not in page
    shown = [client.post("/ui/inspect", headers={**HX, "Origin": "http://testserver"},
                         data={"kind": "edge", "layer": "0", "from": str(i), "to": "0"}).text for i in (0, 1)]
    values = [float(re.search(r'id="insp-edit-value"[^>]*value="([^"]+)"', s)[1]) for s in shown]
    assert sorted(values) == [0.2, 0.8]


def test_lesson_4_card_1_says_to_step_and_three_clicks_bring_w5s_gradient(client):
    page = html.unescape(client.get("/lessons/chain-rule/w5").text)
    assert "Press Step until the backward pass has reached the output (three clicks" in page
    post = {**HX, "Origin": "http://testserver"}
    for _ in range(3):
        assert client.post("/ui/phase", headers=post).status_code == 200
    shown = client.post("/ui/inspect", headers=post, data={"kind": "edge", "layer": "1", "from": "0", "to": "0"}).text
    assert "1 · Gradient ∂<var>L</var>/∂<var>w</var>" in shown and "0.082167" in shown


# A follower's words: no Step, and a room that ended

@pytest.mark.parametrize("audience", ["follower", "ended"])
@pytest.mark.parametrize("step", [0, 424])
def test_a_followers_words_never_ask_for_a_step_it_cannot_take(audience, step):
    words = " ".join(without_pass(step, audience))
    assert "Press Step" not in words and "press Step" not in words
    assert ("Take a copy" in words or "take a copy" in words) == (audience == "ended")
    if audience == "ended":
        assert ("ended at step 424" in words) == (step == 424)


def test_a_learners_words_still_say_press_step():
    assert without_pass(0)[1].startswith("Press Step") and "press Step" in without_pass(3)[1]


def test_the_followers_diagram_and_inspector_after_the_room_ends(tmp_path):
    app = create_app(f"sqlite:///{tmp_path}/store.db")
    with TestClient(app) as presenter, TestClient(app) as follower:
        presenter.get("/")
        code = code_of(presenter.post("/ui/live/start", headers=HX).text)
        page = html.unescape(follower.get(f"/live/{code}").text)
        assert "Waiting for the presenter's first step" in page and "Press Step" not in page
        for _ in range(3):
            presenter.post("/ui/step", headers=HX)
        presenter.post("/ui/live/stop", headers=HX)
        page = html.unescape(follower.get(f"/live/{code}").text)
        assert "The presenter stopped presenting at step 3: these are the network's weights" in page
        assert "Back at step" not in page and "press Step" not in page
        insp = html.unescape(follower.get(f"/live/{code}/inspect", params={"kind": "bias", "layer": 0, "to": 0}).text)
        assert "The room ended at step 3, and its last step's forward and backward values were not kept" in insp
        assert "press Step" not in insp and "<form" not in insp


# The plots' legends

def figure(**config) -> dict:
    return output.build(build_session(CreateSession(**config)))


@pytest.mark.parametrize("config", [{}, {"dataset": {"name": "spiral"}}], ids=["circle", "spiral"])
def test_the_output_plots_legend_keys_are_neutral_and_the_classes_colours_stay_on_the_points(config):
    fig = figure(**config)
    assert fig["kind"] == "boundary"
    keyed = [t for t in fig["figure"]["data"] if t.get("showlegend", True)]
    assert [t["name"] for t in keyed] == ["train", "test"]
    for key in keyed:
        assert not {key["marker"]["color"], key["marker"]["line"]["color"]} & {output.POSITIVE, output.NEGATIVE}
    assert keyed[0]["marker"]["color"] != keyed[1]["marker"]["color"]  # filled and outlined, as the hint says
    points = [t for t in fig["figure"]["data"] if t.get("showlegend") is False]
    assert [t["legendgroup"] for t in points] == ["train", "test"]  # a click on a key hides its set
    assert set(points[0]["marker"]["color"]) == {output.POSITIVE, output.NEGATIVE}  # the classes, as before


@pytest.mark.parametrize("config", [{"dataset": {"name": "sine"}, "layers": [1, 8, 1], "output_activation": "linear",
                                     "loss": "mse"},
                                    {"dataset": {"name": "iris", "standardize": True}, "layers": [4, 5, 3],
                                     "output_activation": "softmax", "loss": "cross_entropy"}],
                         ids=["curve", "scatter"])
def test_the_other_plots_draw_their_sets_in_neutral_greys(config):
    fig = figure(**config)
    assert fig["kind"] in ("curve", "scatter")
    sets = [t for t in fig["figure"]["data"] if t["name"] in ("train", "test")]
    assert [t["name"] for t in sets] == ["train", "test"]
    for t in sets:
        assert not {t["marker"]["color"], t["marker"]["line"]["color"]} & {output.POSITIVE, output.NEGATIVE}
