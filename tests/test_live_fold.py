"""A revealed poll folds away once the room moves on (issue 25 §3): the rule (app/live/polls.py due_to_fold), and
what the presenter's panel, the followers' events, page and own line show after a reveal and then a Step."""
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from app.live import polls
from app.live.model import Poll
from test_live import HX, answer, ask, events, live, the_session
from test_live import app, presenter  # noqa: F401  (the live tests' fixtures)


def poll_at(step: int, result: dict | None, folded: bool = False) -> Poll:
    return Poll(1, "direction", "Will w go up or down in step 4?", ["up", "down"], {}, step, result, folded=folded)


REVEALED = {"answer": "up", "label": "up", "detail": "", "tally": "1 of 1 answered right.", "bars": []}


@pytest.mark.parametrize("poll, step, folds", [
    (None, 5, False),                                          # no question
    (poll_at(3, None), 5, False),                              # open: never folded
    (poll_at(3, {"closing": True}), 5, False),                 # being counted
    (poll_at(3, {"cancelled": "the network changed"}), 5, False),  # a cancelled one says so in one line already
    (poll_at(3, REVEALED), 4, False),                          # at the step Reveal took: shown whole
    (poll_at(3, REVEALED), 5, True),                           # the next step folds it
    (poll_at(3, REVEALED), 400, True),                         # ... as does Play, far on
    (poll_at(3, REVEALED), 3, True),                           # ... and Back, before the revealed step
    (poll_at(3, REVEALED, folded=True), 5, False),             # folded once, for good
    (poll_at(3, REVEALED, folded=True), 4, False),             # a rewind to its step does not reopen it
])
def test_the_folding_rule(poll, step, folds):
    assert polls.due_to_fold(poll, step) is folds


def test_a_folded_poll_survives_storage():
    from app.live.model import Room
    room = Room("ABCDEF", "sid", 0.0, 1.0, poll=poll_at(3, REVEALED, folded=True))
    assert Room.from_json(room.to_json()).poll.folded is True
    old = room.to_json()
    del old["poll"]["folded"]  # a room stored before polls folded
    assert Room.from_json(old).poll.folded is False


def test_a_revealed_result_folds_at_the_next_step_on_every_screen(app, presenter):
    from test_live import code_of
    room = code_of(presenter.post("/ui/live/start", headers=HX).text)
    ask(presenter, "direction", "1.0.0")
    student = TestClient(app)
    student.get(f"/live/{room}")
    answer(student, room, "up")
    r = presenter.post("/ui/live/reveal", headers=HX)
    assert "Revealed: Will" in r.text and "live-folded" not in r.text
    revealed = [e for e in events(presenter, room) if e[1] == "poll"][-1]
    assert "live-bars" in revealed[2] and "live-folded" not in revealed[2]
    assert "You answered up" in student.get(f"/live/{room}/mine").text
    assert not live(presenter).rooms.get(room).poll.folded

    presenter.post("/ui/step", headers=HX)  # the room moves on: the result folds
    assert the_session(presenter).trainer.step_count == 2
    poll = live(presenter).rooms.get(room).poll
    assert poll.folded and poll.result["answer"] in ("up", "down")  # the result itself is kept
    folded = [e for e in events(presenter, room) if e[1] == "poll" and e[0] > revealed[0]]
    assert len(folded) == 1
    html = folded[0][2]
    # One closed line, which a click opens on the question and the class's answers.
    details = re.search(r'<details class="live-folded">(.*?)</details>', html, re.S)
    assert details, html
    summary = unescape(re.search(r'<summary id="live-poll-question">(.*?)</summary>', details.group(1)).group(1))
    assert summary == (f"Step 1's question: the answer was {poll.result['label']}. "
                       f"{poll.result['tally']}")
    assert "live-bars" in details.group(1) and poll.question in details.group(1)
    assert 'data-step="2"' in html  # the event's shape: a step, as every event carries
    panel = presenter.get("/ui/live/panel", headers=HX).text  # the presenter's panel asks again on the event
    assert '<details class="live-folded">' in panel and "Revealed: Will" not in panel
    assert "Ask the class about step 3" in panel
    page = student.get(f"/live/{room}").text  # a follower who loads the page now
    assert '<details class="live-folded">' in page and "The answer:" in page
    mine = student.get(f"/live/{room}/mine").text
    assert "You answered" not in mine  # the follower's mark folds with the result

    presenter.post("/ui/step", headers=HX)  # folded once: later steps send no more poll events
    assert [e for e in events(presenter, room) if e[1] == "poll"][-1][0] == folded[0][0]
