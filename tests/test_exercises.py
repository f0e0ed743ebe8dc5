"""Exercises (issue 14 §3): seeded networks for hand calculation, a link per seed, checked, with a tally."""
import html
import re

import pytest

from app.core import exercise
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.core.quantities import expected, next_trace
from helpers import HX


def card(text: str) -> str:
    m = re.search(r'<section id="exercise".*?</section>', text, re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", m[0]))).strip() if m else ""


@pytest.mark.parametrize("seed", range(1, 41))
def test_exercises_are_small_hand_sized_networks_rebuilt_the_same_from_their_seed(seed):
    ex = exercise.make(seed)
    req = ex.request
    assert req.layers in ([2, 2, 1], [2, 2, 2]) and req.hidden_activation in exercise.ACTIVATIONS
    assert len(req.dataset.inputs) == 1 and req.batch_size == 1
    for layer in req.weights:
        for row in layer:
            for w in row:
                assert round(w, 2) == w and 0 < abs(w) < 1  # one or two decimals
    assert exercise.make(seed) == ex  # the seed alone rebuilds it
    # Its answer is the engine's, for the first step of the network it builds.
    s = build_session(CreateSession(**req.model_dump(exclude_none=True)))
    assert exercise.answer(ex) == expected(next_trace(s), ex.ask)


def test_the_four_activations_and_both_shapes_occur():
    made = [exercise.make(seed) for seed in range(1, 200)]
    assert {e.hidden for e in made} == set(exercise.ACTIVATIONS)
    assert {e.shape for e in made} == {"2-2-1", "2-2-2"}
    assert len({e.ask.quantity for e in made}) >= 6


def test_an_exercise_link_is_checked_and_tallied(client):
    r = client.get("/?exercise=42")
    assert "Exercise 42" in card(r.text) and "Hand out the same one: /?exercise=42" in card(r.text)
    want = exercise.answer(exercise.make(42))
    r = client.post("/ui/exercise/check", headers=HX, data={"value": "lots"})
    assert "✗ Not checked: not a number." in card(r.text)
    assert "Right so far: 0 of 0 exercises." in card(r.text)  # not a try
    r = client.post("/ui/exercise/check", headers=HX, data={"value": f"{want * 1.01:.4g}"})
    assert "✗ Not right." in card(r.text) and 'data-correct="false"' in r.text
    assert "Open the worksheet" in card(r.text) and "Right so far: 0 of 1 exercise." in card(r.text)
    r = client.post("/ui/exercise/check", headers=HX, data={"value": f"{want:.4g}"})
    assert "✓ Right" in card(r.text) and "Right so far: 1 of 1 exercise." in card(r.text)
    r = client.post("/ui/exercise/check", headers=HX, data={"value": f"{want:.5g}"})
    assert "Right so far: 1 of 1 exercise." in card(r.text)  # the same exercise counts once
    # A new exercise keeps the tally; the session's network becomes the exercise's.
    r = client.post("/ui/exercise/new", headers=HX)
    seed = int(re.search(r"Exercise (\d+)", card(r.text))[1])
    assert "Right so far: 1 of 1 exercise." in card(r.text)
    sid = client.cookies["bp_session"]
    assert client.get(f"/api/sessions/{sid}").json()["weights"] == exercise.make(seed).request.weights
    # The tally goes with the browser to another exercise's link.
    r = client.get("/?exercise=7")
    assert "Right so far: 1 of 1 exercise." in card(r.text)


def test_the_same_link_gives_everyone_the_same_network(client):
    from helpers import browser
    client.get("/?exercise=1234")
    mine = client.get(f"/api/sessions/{client.cookies['bp_session']}").json()
    with browser(client) as other:
        other.get("/?exercise=1234")
        theirs = other.get(f"/api/sessions/{other.cookies['bp_session']}").json()
    assert mine["weights"] == theirs["weights"] and mine["config"] == theirs["config"]


def test_bad_exercise_links_say_so(client):
    r = client.get("/?exercise=abc")
    assert "An exercise link needs a number from 1 to 999,999, not &#39;abc&#39;." in r.text
    assert card(r.text) == ""


def test_typing_survives_training_and_the_worksheet_opens_from_a_wrong_answer(client):
    client.get("/?exercise=42")
    r = client.post("/ui/step", headers=HX)
    assert 'id="exercise"' not in r.text  # the card is not redrawn by a step
    client.post("/ui/back", headers=HX)
    ex = exercise.make(42)
    client.post("/ui/exercise/check", headers=HX, data={"value": "9.99"})
    from app.views.exercise import target
    r = client.post("/ui/worksheet", headers=HX, data=target(ex))
    assert 'id="worksheet"' in r.text


def test_the_address_bar_holds_an_open_exercise_until_it_is_closed(client):
    r = client.get("/?exercise=42")
    assert 'data-setup-url="/?exercise=42"' in r.text
    r = client.post("/ui/exercise/close", headers=HX)
    assert 'data-setup-url="/?exercise=42"' not in r.text and '<section id="exercise" class="" hidden' in r.text
