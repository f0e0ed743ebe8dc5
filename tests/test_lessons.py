"""Lessons (issue 15): the list, cards over the playground with hooks, checked tasks, and progress that survives a
reload, a share and a fork."""
import html
import re

import pytest

from app.lessons import LESSONS
from app.lessons.progress import check_answer
from helpers import HX, browser


def status(text: str) -> list[str]:
    return re.findall(r'data-task-status="(\w+)"', text)


def test_the_lessons_page_lists_at_least_the_issues_lessons_in_order(client):
    r = client.get("/lessons")
    assert r.status_code == 200
    titles = [html.unescape(t) for t in re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', r.text)]
    assert titles == ["What training is", "The forward pass by hand", "Error and learning rate", "The chain rule",
                      "Deltas flow back", "Matrices and mini-batches", "Initialisation and normalisation",
                      "Classification with softmax and cross-entropy"]
    kinds = {card.task.kind for lesson in LESSONS for card in lesson.cards}
    assert kinds == {"do", "answer", "choose"}


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.slug for l in LESSONS])
def test_every_card_has_its_own_url_and_hooks(client, lesson):
    for card in lesson.cards:
        r = client.get(f"/lessons/{lesson.slug}/{card.slug}")
        assert r.status_code == 200
        assert f'data-lesson="{lesson.slug}" data-card="{card.slug}"' in r.text
        assert status(r.text) == ["open"]


def test_an_unknown_card_is_a_404_page(client):
    r = client.get("/lessons/forward/nowhere")
    assert r.status_code == 404 and "This lesson card does not exist" in r.text


def test_a_wrong_answer_is_not_done_and_the_learner_can_still_move_on_and_come_back(client):
    client.get("/lessons/chain-rule/w5")
    r = client.post("/ui/lesson/answer", headers=HX, data={"value": "0.0800"})
    assert status(r.text) == ["open"] and "Not right yet" in r.text
    r = client.post("/ui/lesson/answer", headers=HX, data={"value": "0.08"})  # read as 0.0800
    assert status(r.text) == ["open"] and "Not right yet" in r.text
    r = client.post("/ui/lesson/answer", headers=HX, data={"value": "about 0.08"})
    assert "Not checked: not a number." in r.text
    r = client.get("/lessons/chain-rule/w1")  # no way around it: the next card opens anyway
    assert status(r.text) == ["open"]
    r = client.get("/lessons/chain-rule/w5")
    assert status(r.text) == ["open"]
    r = client.post("/ui/lesson/answer", headers=HX, data={"value": "0.08217"})
    assert status(r.text) == ["done"]
    r = client.post("/ui/lesson/answer", headers=HX, data={"value": "0.0800"})  # a wrong one on a done card
    assert status(r.text) == ["done"] and "the card stays done from your earlier right answer" in r.text


def test_progress_survives_a_reload_a_share_and_a_fork(client):
    client.get("/lessons/forward/hidden")
    client.post("/ui/lesson/answer", headers=HX, data={"value": "7.60"})
    assert status(client.get("/lessons/forward/hidden").text) == ["done"]  # reload
    assert "✓ done" in client.get("/lessons").text
    page = client.post("/ui/share", headers=HX)
    snap = re.search(r'id="share-url" type="text" readonly value="[^"]+/s/([^"]+)"', page.text)[1]
    with browser(client) as friend:
        friend.get(f"/s/{snap}")
        assert status(friend.get("/").text) == ["done"]  # the fork opens at the card, done
        assert "✓ done" in friend.get("/lessons").text
    # A new setup (another lesson) carries the progress too.
    client.get("/lessons/chain-rule/w5")
    assert "✓ done" in client.get("/lessons").text


def test_a_card_that_continues_the_setup_keeps_the_training(client):
    client.get("/lessons/training/four-stages")
    sid = client.cookies["bp_session"]
    for _ in range(5):
        client.post("/ui/phase", headers=HX)
    client.get("/lessons/training/repeat")
    assert client.cookies["bp_session"] == sid
    assert client.get(f"/api/sessions/{sid}").json()["step"] == 1


@pytest.mark.parametrize("lesson, index", [(l, k) for l in LESSONS for k, c in enumerate(l.cards)
                                           if c.task.kind != "do"])
def test_every_number_and_choice_is_the_engines(lesson, index):
    card = lesson.cards[index]
    setup, _ = lesson.setup_of(index)
    if card.task.kind == "answer":
        right = card.task.value(setup.build())
        assert check_answer(card, lesson, index, f"{right:.5e}")["correct"]
        assert not check_answer(card, lesson, index, f"{right * 1.01 + 0.001:.5e}")["correct"]
    else:
        right = card.task.answer(setup.build())
        assert right in card.task.options
        assert check_answer(card, lesson, index, right)["correct"]
        wrong = next(o for o in card.task.options if o != right)
        assert not check_answer(card, lesson, index, wrong)["correct"]


def test_the_address_bar_holds_the_open_card_and_leaving_the_lesson_keeps_the_progress(client):
    r = client.get("/lessons/forward/hidden")
    assert 'data-setup-url="/lessons/forward/hidden"' in r.text
    client.post("/ui/lesson/answer", headers=HX, data={"value": "7.60"})
    r = client.post("/ui/lesson/close", headers=HX)
    assert '<section id="lesson" class="" hidden' in r.text
    assert 'data-setup-url="/lessons/' not in r.text
    assert 'data-lesson=' not in client.get("/").text  # the playground goes on without the card
    assert "✓ done" in client.get("/lessons").text
