"""The page's typed state (app/core/page_state.py): each part and its stored form, the records stored before it
existed, and what a share carries."""
import json

import pytest

from app.core.options import BY_FIELD, page_options
from app.core.page_state import ExerciseState, LessonState, LiveLink, PageState, Tally, Transport
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.store import SessionStore, records
from app.store.codec import pack, unpack
from app.store.sqlite_backend import SQLiteBackend
from app.web.view_state import view_of

# A session stored by records.py before PageState (commit b982dd4): a lesson card open after a done one and a wrong
# answer, an exercise checked once (so a tally), a live room, Play running at 10 steps a frame, both stop
# conditions, the third row of the batch on the diagram and the Matrix form open. The page's keys are in the order
# that code wrote them after these actions through the page's routes (RECIPE, then STATE: records.recipe_bytes
# and records.state_bytes).
RECIPE = (
    b'{"layers":[2,2,1],"hidden_activation":"tanh","output_activation":"tanh","loss":"half_sse","optimizer'
    b'":"sgd","learning_rate":0.03,"momentum":0.9,"beta1":0.9,"beta2":0.999,"eps":1e-8,"regularization":"n'
    b'one","regularization_rate":0.0,"batch_size":4,"shuffle":true,"train_biases":true,"init":"uniform","s'
    b'eed":1,"weights":null,"biases":null,"dataset":{"name":"xor","samples":null,"noise":0.0,"train_fracti'
    b'on":null,"seed":null,"standardize":false,"scale_targets":false,"features":null,"csv":null,"target_co'
    b'lumns":null,"task":"classification","inputs":null,"targets":null,"test_inputs":null,"test_targets":n'
    b'ull}}'
)
STATE = (
    b'{"trainer":{"params":{"__f8__":"pt9rRIN/lD8Q8rv4U7zcPwHINBuHqta/6oyjbCay3D9ru8lPfc25Pz2F3t/vXLk/HWBk'
    b'cdItx7+jzhGqbA6rvzydbhukNLQ/","shape":[9]},"optimizer_name":"sgd","optimizer":{},"step":3,"epoch":0,'
    b'"position":12},"detailed":true,"page":{"lessons":{"training/four-stages":"done"},"lesson_state":{"tr'
    b'aining/four-stages":{},"forward/hidden":{"answer":"0.5","result":{"correct":false,"reason":null}}},"'
    b'lesson_card":"forward/hidden","lesson_setup":"forward/hidden","focus_row":2,"exercise":{"seed":50376'
    b'1,"typed":"0.123","result":{"correct":false,"expected":-0.11499630511130195,"reason":null,"counted":'
    b'true}},"tally":{"right":0,"tried":1},"speed":"10","stop_loss":0.0001,"stop_step":5000,"matrix_form":'
    b'true,"live":{"code":"TJQDCP"},"playing":true},"future":{"__f8__":"","shape":[0,5]}}'
)
OLD_PAGE = {
    "lessons": {"training/four-stages": "done"},
    "lesson_state": {"training/four-stages": {},
                     "forward/hidden": {"answer": "0.5", "result": {"correct": False, "reason": None}}},
    "lesson_card": "forward/hidden", "lesson_setup": "forward/hidden", "focus_row": 2,
    "exercise": {"seed": 503761, "typed": "0.123",
                 "result": {"correct": False, "expected": -0.11499630511130195, "reason": None, "counted": True}},
    "tally": {"right": 0, "tried": 1}, "speed": "10", "stop_loss": 0.0001, "stop_step": 5000, "matrix_form": True,
    "live": {"code": "TJQDCP"}, "playing": True,
}
# What a share of that session carried (records.snapshot_bytes with app/lessons/model.py KEPT_IN_SHARES), and the
# page of a follower's copy of a live room.
OLD_SHARED_PAGE = (
    b'{"lessons":{"training/four-stages":"done"},"lesson_state":{"training/four-stages":{},"forward/hidden":'
    b'{"answer":"0.5","result":{"correct":false,"reason":null}}},"lesson_card":"forward/hidden",'
    b'"lesson_setup":"forward/hidden"}'
)
OLD_COPY_PAGE = b'{"live_from":"N5TUWQ"}'

EVERY_PART = PageState(
    Transport(playing=True, speed="epoch", stop_loss=0.05, stop_step=300), matrix_form=True, focus_row=3,
    exercise=ExerciseState(42, "0.5", {"correct": True, "expected": 0.5, "reason": None, "counted": True}),
    tally=Tally(right=1, tried=2),
    lesson=LessonState({"a/b": "done"}, {"a/b": {"diverged": True}, "a/c": {}}, current="a/c", setup="a/b"),
    live=LiveLink("ABC234"), live_from="XYZ789")


def restored():
    return records.restore("s" * 32, RECIPE, STATE, [])


def test_a_fresh_page_state_is_every_default_and_stores_as_nothing():
    page = PageState()
    assert page.to_dict() == {} and PageState.from_dict({}) == page
    assert (page.transport.playing, page.transport.speed, page.transport.stop_loss, page.transport.stop_step) == (
        False, BY_FIELD["page.speed"].default, None, None)
    assert (page.matrix_form, page.focus_row, page.exercise, page.tally, page.live, page.live_from) == (
        False, 0, None, None, None, None)
    assert page.lesson == LessonState() and page.shared() == {}


@pytest.mark.parametrize("part", ["transport", "matrix_form", "focus_row", "exercise", "tally", "lesson", "live",
                                  "live_from"])
def test_each_part_round_trips_alone_and_stores_only_its_own_keys(part):
    page = PageState(**{part: getattr(EVERY_PART, part)})
    stored = page.to_dict()
    assert stored and PageState.from_dict(json.loads(json.dumps(stored))) == page
    assert stored.items() <= EVERY_PART.to_dict().items()  # the same keys and values as with every part set


def test_every_part_round_trips_through_json():
    stored = EVERY_PART.to_dict()
    assert PageState.from_dict(json.loads(json.dumps(stored))) == EVERY_PART
    assert stored == {
        "lessons": {"a/b": "done"}, "lesson_state": {"a/b": {"diverged": True}, "a/c": {}}, "lesson_card": "a/c",
        "lesson_setup": "a/b", "focus_row": 3,
        "exercise": {"seed": 42, "typed": "0.5",
                     "result": {"correct": True, "expected": 0.5, "reason": None, "counted": True}},
        "tally": {"right": 1, "tried": 2}, "speed": "epoch", "stop_loss": 0.05, "stop_step": 300,
        "matrix_form": True, "live": {"code": "ABC234"}, "playing": True, "live_from": "XYZ789"}


def test_a_record_stored_before_loads_into_typed_values_and_saves_back_byte_for_byte():
    session = restored()
    page = session.page
    assert page.transport == Transport(playing=True, speed="10", stop_loss=0.0001, stop_step=5000)
    assert page.matrix_form is True and page.focus_row == 2
    assert page.exercise == ExerciseState(503761, "0.123", {"correct": False, "expected": -0.11499630511130195,
                                                            "reason": None, "counted": True})
    assert page.tally == Tally(right=0, tried=1)
    assert page.lesson == LessonState(
        {"training/four-stages": "done"},
        {"training/four-stages": {}, "forward/hidden": {"answer": "0.5", "result": {"correct": False, "reason": None}}},
        current="forward/hidden", setup="forward/hidden")
    assert page.live == LiveLink("TJQDCP") and page.live_code == "TJQDCP" and page.live_from is None
    assert page.other == {}
    view = view_of(session)  # what the page's routes read of it
    assert (view.playing, view.speed, view.stop_loss, view.stop_step, view.focus_row, view.matrix_form) == (
        True, "10", 0.0001, 5000, 2, True)
    assert unpack(STATE)["page"] == OLD_PAGE and page.to_dict() == OLD_PAGE
    assert records.state_bytes(session) == STATE
    # The working set's change detection compares this text: the same before and after the change.
    assert json.dumps(page.to_dict(), sort_keys=True) == json.dumps(OLD_PAGE, sort_keys=True)


def test_records_from_before_the_page_kept_its_own_state_load():
    session = build_session(CreateSession())
    for playing, page in ((True, PageState(Transport(playing=True))), (False, PageState())):
        old = pack({"trainer": session.trainer.state_dict(), "detailed": False, "playing": playing})
        assert records.restore("x" * 32, records.recipe_bytes(session), old, []).page == page


def test_unknown_and_missing_keys_load_and_unknown_ones_are_saved_as_they_were():
    newer = {"speed": "epoch", "highlight": {"node": [1, 0]}, "lesson_card": "a/b"}
    page = PageState.from_dict(newer)
    assert page.transport.speed == "epoch" and page.lesson.current == "a/b" and page.focus_row == 0
    assert page.other == {"highlight": {"node": [1, 0]}} and page.to_dict() == newer
    assert PageState.from_dict({"exercise": {"seed": 7}}).exercise == ExerciseState(7)  # typed and result missing
    assert PageState.from_dict({"live": {}}).live is None  # a link without a code presents nothing


def test_a_setting_at_its_default_is_left_out_as_before():
    page = PageState()
    page.transport.set(speed="auto", stop_loss=0.5, stop_step=10)
    assert page.to_dict() == {"stop_loss": 0.5, "stop_step": 10}
    page.transport.set(stop_loss=None, stop_step=None)  # the settings form's blank: off
    page.transport.playing, page.focus_row, page.matrix_form = False, 0, False
    assert page.to_dict() == {}


def test_one_step_a_frame_is_written_now_that_auto_is_the_default():
    """Play's speed "1" was the default until issue 25, and records left it out; an explicit "1" is now written
    and loads back as "1". A record without a speed loads at today's default, "auto": leaving it out never
    recorded a choice (a setup link without speed= gives the default too), and it saves back as it was."""
    assert BY_FIELD["page.speed"].default == "auto"
    page = PageState()
    page.transport.set(speed="1")
    assert page.to_dict() == {"speed": "1"} and PageState.from_dict({"speed": "1"}).transport.speed == "1"
    old = {"focus_row": 2, "stop_step": 300, "playing": True}  # Play at 1 step a frame, stored before issue 25
    loaded = PageState.from_dict(old)
    assert loaded.transport == Transport(playing=True, speed="auto", stop_step=300)
    assert loaded.to_dict() == old


def test_plays_settings_are_the_options_tables_page_settings():
    """Each `page.*` setting of app/core/options.py is a field of Transport with the table's default, and the
    setter takes those names only."""
    transport = Transport()
    assert transport.settings() == {o.name: o.default for o in page_options()}
    with pytest.raises(TypeError, match="'playing' is not one of Play's settings"):
        transport.set(playing=True)
    transport.set(speed="3-epochs")
    assert transport.speed == "3-epochs" and transport.settings()["speed"] == "3-epochs"


def test_a_share_carries_exactly_what_it_carried_before(tmp_path):
    session = restored()
    store = SessionStore(SQLiteBackend(tmp_path / "s.db", 3600), 10, 3600)
    store.add(session)
    with session.lock:
        snapshot_id = store.share(session)
    shared = store.backend.get_snapshot(snapshot_id)
    assert shared.endswith(b'"page":' + OLD_SHARED_PAGE + b"}") and session.page.shared() == json.loads(
        OLD_SHARED_PAGE)
    assert records.snapshot_bytes(session).endswith(b'"page":{}}')  # a live room's end and copy carry none
    assert store.fork(snapshot_id).page == PageState(lesson=session.page.lesson)  # the lessons go on in a fork


def test_a_followers_copy_of_a_live_room_loads_and_saves_back():
    page = PageState.from_dict(json.loads(OLD_COPY_PAGE))
    assert page == PageState(live_from="N5TUWQ") and page.live is None
    assert pack(page.to_dict()) == OLD_COPY_PAGE


def test_a_copy_shares_nothing_with_its_original():
    page = EVERY_PART.copy()
    page.lesson.progress["x/y"] = "done"
    page.exercise.result["counted"] = False
    page.tally.right += 1
    assert page != EVERY_PART and EVERY_PART.to_dict()["lessons"] == {"a/b": "done"}
