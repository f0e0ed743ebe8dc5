"""Play's default speed, "auto" (issue 25 §1): the steps of its frames on each data size, the speed select's words,
and setup links and stored records from before and after it became the default."""
import re

import pytest

from app.core.options import AUTO_STEPS, BY_FIELD
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.store import records
from app.store.codec import pack
from app.web import training
from app.web.setup_links import session_query
from app.web.view_state import view_of
from helpers import HX


def _step_of(text: str) -> int:
    return int(re.search(r'<svg id="network" data-step="(\d+)"', text)[1])


def _selected(text: str) -> str:
    return re.search(r'<option value="[^"]*" selected[^>]*>[^<]*</option>', text)[0]


AUTO = ('<option value="auto" selected title="{} a frame on this data ({} steps): enough to see the loss fall within '
        'seconds">Auto</option>')


@pytest.mark.parametrize("setup, per_epoch, epochs", [
    ({}, 25, 4),  # the default circle: 250 training rows in batches of 10
    ({"dataset": {"name": "circle", "samples": 2000}}, 100, 1),  # 1,000 rows: one epoch is enough
    ({"dataset": {"name": "circle", "samples": 100}}, 5, 20),  # 50 rows: a small set trains more epochs a frame
    ({"batch_size": 30}, 9, 12),  # 250 rows in 8 batches of 30 and one of 10: 12 epochs make 108 steps
    ({"batch_size": 250}, 1, 100),  # full batch: an epoch is one step
])
def test_auto_trains_whole_epochs_of_at_least_its_steps_a_frame(setup, per_epoch, epochs):
    session = build_session(CreateSession(**setup))
    view = view_of(session)
    assert view.speed == "auto" and view.steps_per_epoch == per_epoch
    assert view.frame_epochs() == epochs and view.frame_steps() == per_epoch * epochs
    assert per_epoch * epochs >= AUTO_STEPS > per_epoch * (epochs - 1)
    assert training.frame_steps(session) == per_epoch * epochs
    # The other speeds are as they were; Step is one mini-batch whatever the speed.
    for speed, steps in (("1", 1), ("10", 10), ("epoch", per_epoch), ("3-epochs", 3 * per_epoch)):
        view.speed = speed
        assert view.frame_steps() == steps


def test_auto_stops_at_the_stop_step_and_within_a_frames_work(monkeypatch):
    session = build_session(CreateSession())
    view = view_of(session)
    session.page.transport.set(stop_step=30)
    assert view.frame_steps() == 30
    session.page.transport.set(stop_step=None)
    # A frame's work that seven steps (and the pictures, once) fill.
    seven = training.costs.step_cost(session, 7, training.PICTURE_ROWS)
    monkeypatch.setattr(training, "FRAME_WORK", seven)
    assert view.frame_steps() == 100 and training.frame_steps(session) == 7


def test_a_fresh_page_plays_auto_and_step_stays_one_mini_batch(client):
    page = client.get("/").text
    select = re.search(r'<select id="speed" name="speed">(.*?)</select>', page, re.S)[1]
    assert re.findall(r'<option value="([^"]*)"', select) == ["auto", "1", "10", "epoch", "2-epochs", "3-epochs"]
    assert _selected(select) == AUTO.format("4 epochs", 100)
    assert _step_of(client.post("/ui/step", headers=HX).text) == 1
    assert _step_of(client.post("/ui/play", headers=HX).text) == 101
    assert _step_of(client.post("/ui/play-frame", headers=HX).text) == 201
    assert _step_of(client.post("/ui/pause", headers=HX).text) == 201


def test_the_select_says_how_many_epochs_auto_is_on_this_data(client):
    assert _selected(client.get("/?dataset=circle&samples=2000").text) == AUTO.format("1 epoch", 100)
    assert _selected(client.get("/?batch=30").text) == AUTO.format("12 epochs", 108)
    # Mazur's one row in batches of 1: an epoch is one step, so auto is 100 of them.
    assert _selected(client.get("/?preset=mazur").text) == AUTO.format("100 epochs", 100)


def test_links_write_one_step_now_and_leave_auto_out(client):
    client.get("/?dataset=xor&speed=1")  # an old link that chose 1 step a frame keeps it
    session = client.app.state.sessions.get(client.cookies["bp_session"])
    assert session.page.transport.speed == "1" and session_query(session).endswith("&speed=1")
    client.get("/?dataset=xor&speed=auto")  # the default is left out of the link, as every default is
    session = client.app.state.sessions.get(client.cookies["bp_session"])
    assert session.page.transport.speed == "auto" and "speed=" not in session_query(session)
    client.get("/?dataset=xor&seed=1")  # an old link without speed= plays at today's default
    assert client.app.state.sessions.get(client.cookies["bp_session"]).page.transport.speed == "auto"
    # Choosing 1 step in the toolbar puts it in the address bar's link.
    r = client.post("/ui/speed", headers=HX, data={"speed": "1"})
    assert _selected(r.text) == '<option value="1" selected>1 step</option>'
    assert re.search(r'data-setup-url="([^"]*)"', r.text)[1].endswith("&amp;speed=1")


def test_stored_records_keep_one_step_and_old_ones_without_a_speed_load_as_auto():
    session = build_session(CreateSession())
    session.page.transport.set(speed="1")
    state = records.state_bytes(session)
    assert b'"speed":"1"' in state
    assert records.restore("a" * 32, records.recipe_bytes(session), state, []).page.transport.speed == "1"
    # A record stored while "1" was the default left the speed out: it loads at today's default, and is saved back
    # as it was.
    old = pack({"trainer": session.trainer.state_dict(), "detailed": False, "page": {"playing": True}})
    restored = records.restore("b" * 32, records.recipe_bytes(session), old, [])
    assert restored.page.transport.speed == BY_FIELD["page.speed"].default == "auto"
    assert view_of(restored).frame_steps() == 100 and restored.page.to_dict() == {"playing": True}
