"""The page's view state (app/web/view_state.py): what it keeps, and when what it drew goes stale."""
import numpy as np
import pytest

from app.core.detailed_step import DetailedStep
from app.core.page_state import PageState
from app.core.recipe import CreateSession
from app.core.session import build_session
from app.engine import FieldError
from app.store import records
from app.views.shown import from_forward
from app.web.view_state import view_of


def shown_prediction(session):
    return from_forward(session, "predict", np.array([[0.5, -1.0]]), "x")


def test_a_prediction_stays_until_the_training_state_changes():
    for change in ("train", "rewind", "edit", "become"):
        session = build_session(CreateSession())
        session.train(2)
        view = view_of(session)
        view.show(shown_prediction(session))
        assert view_of(session).display is not None  # drawing and reading change nothing
        if change == "train":
            session.train(1)
        elif change == "rewind":
            session.rewind(1)
        elif change == "edit":
            session.set_parameter("weight", 0, 0, 0, 0.25)
        else:
            session.become(build_session(CreateSession(seed=2)))
        assert view_of(session).display is None, change


def test_an_undone_rebuild_gives_back_what_was_drawn():
    session = build_session(CreateSession())
    view = view_of(session)
    step, _ = DetailedStep().advance(session)
    view.show(shown_prediction(session), step)
    undo = session.become(build_session(CreateSession(seed=3)))
    assert view_of(session).display is None and view_of(session).step == DetailedStep()  # the panels read it
    undo()  # ...then failed to draw
    assert view_of(session).display is not None and view_of(session).step is step


def test_a_refused_edit_keeps_the_view():
    session = build_session(CreateSession(hidden_activation="linear", output_activation="linear"))
    view_of(session).show(shown_prediction(session))
    with pytest.raises(FieldError):
        session.set_parameter("weight", 0, 0, 0, 1e300)  # the loss would be infinite
    assert view_of(session).display is not None


def test_forget_goes_back_to_the_last_step():
    session = build_session(CreateSession())
    view = view_of(session)
    step, _ = DetailedStep().advance(session)
    view.show(shown_prediction(session), step)
    view.forget()
    assert view.display is None and view.step == DetailedStep()


def test_play_is_kept_with_the_session_in_storage_and_the_rest_is_not():
    session = build_session(CreateSession())
    view = view_of(session)
    view.playing, view.notice = True, "hello"
    restored = records.restore("x" * 32, records.recipe_bytes(session), records.state_bytes(session), [])
    assert view_of(restored).playing and view_of(restored).notice is None
    view.playing = False
    assert session.page == PageState() and session.page.to_dict() == {}


def test_sessions_stored_before_the_page_kept_its_own_state_still_play():
    session = build_session(CreateSession())
    old = records.pack({"trainer": session.trainer.state_dict(), "detailed": True, "playing": True})
    restored = records.restore("x" * 32, records.recipe_bytes(session), old, [])
    assert view_of(restored).playing and restored.detailed
