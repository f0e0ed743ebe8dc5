"""Exercises on the page (issue 14 §3): New exercise, its check, and the tally the session keeps."""
import random
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.core import exercise
from app.core.page_state import ExerciseState, Tally
from app.ratelimit import Limited, PAGE, REBUILD

from .csrf import same_site_post
from .deps import Current
from .outcome import exercise_changed, exercise_closed
from .panels import panels, replace
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


def start(session, seed: int) -> None:
    """The session's page state for a new exercise (the tally stays)."""
    session.page.exercise = ExerciseState(seed)


@router.post("/ui/exercise/new", dependencies=[Limited(REBUILD)])
def new_exercise(request: Request, session: Current) -> Response:
    """A new seeded exercise network in place of the current one (Back returns to it)."""
    with session.lock:
        seed = random.SystemRandom().randrange(1, exercise.SEED_MAX + 1)
        ex = exercise.make(seed)
        fresh = exercise.build(ex, session.id)
        start(session, seed)  # the page state is the session's own: it stays through the rebuild
        view_of(session).worksheet = None
        return replace(request, session, fresh, "New exercise", detailed=False)


@router.post("/ui/exercise/check", dependencies=[Limited(PAGE)])
def check_exercise(request: Request, session: Current, value: Annotated[str, Form()] = "") -> Response:
    """Mark the answer; the first right answer of an exercise counts in the tally, and every first try."""
    with session.lock:
        state = session.page.exercise
        if state is None:
            return panels(request, session, exercise_changed(message="Start an exercise first: New exercise."))
        text = value.strip()[:40]
        result = exercise.check(exercise.make(state.seed), text)
        if session.page.tally is None:
            session.page.tally = Tally()
        tally = session.page.tally
        before = state.result or {}
        if result["reason"] is None:  # a value that was checked (not too few digits, not text)
            if not before.get("counted"):
                tally.tried += 1
            if result["correct"] and not before.get("correct"):
                tally.right += 1
            result["counted"] = True
        else:
            result["counted"] = before.get("counted", False)
        state.typed, state.result = text, result
        return panels(request, session, exercise_changed())


@router.post("/ui/exercise/close", dependencies=[Limited(PAGE)])
def close_exercise(request: Request, session: Current) -> Response:
    with session.lock:
        session.page.exercise = None
        return panels(request, session, exercise_closed())
