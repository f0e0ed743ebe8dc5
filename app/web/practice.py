"""The "Check my calculation" worksheet on the page: opened from the inspector, about the next step."""
import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.engine import FieldError
from app.views import guess as guess_view, worksheet
from app.views.worksheet import HINT_LEVELS
from app.ratelimit import Limited, PAGE

from .csrf import same_site_post
from .deps import Current, FormDep
from .outcome import looked
from .panels import panels
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/worksheet", dependencies=[Limited(PAGE)])
def open_worksheet(request: Request, session: Current, kind: Annotated[str, Form()], layer: Annotated[int, Form()],
                   to: Annotated[int, Form()], source: Annotated[int | None, Form(alias="from")] = None) -> Response:
    """Open the worksheet for an edge or a node: the inspector shows it instead of the last step's numbers."""
    with session.lock:
        target = (kind, layer, source, to)
        state = {"target": target, "typed": {}, "hints": {}, "step": None, "checked": False}
        try:
            worksheet.build(session, state)  # an edge or node the network has
        except (FieldError, IndexError, TypeError, ValueError):
            return panels(request, session, looked(message="There is no such edge or node to check."))
        view = view_of(session)
        view.selected, view.worksheet = target, state
        return panels(request, session, looked())


NO_SHEET = "Open a worksheet from the inspector first."


def _row(session) -> int:
    """The focus row, within the next step's batch: the row the worksheet is about."""
    return min(view_of(session).focus_row, len(session.trainer.next_batch()[0]) - 1)


def _typed(form) -> dict[str, str]:
    """The worksheet's inputs as typed, by their quantity's key (named "q:<key>")."""
    return {k.removeprefix("q:"): str(v)[:40] for k, v in form.items() if k.startswith("q:")}


@router.post("/ui/worksheet/check", dependencies=[Limited(PAGE)])
def check_worksheet(request: Request, session: Current, form: FormDep) -> Response:
    """Mark every typed value (the inputs are named by their quantity's key)."""
    with session.lock:
        sheet = view_of(session).worksheet
        if sheet is None:
            return panels(request, session, looked(message=NO_SHEET))
        sheet["typed"] = _typed(form)
        sheet["step"] = session.trainer.step_count + 1
        sheet["row"] = _row(session)
        sheet["checked"] = True
        return panels(request, session, looked())


@router.post("/ui/worksheet/hint", dependencies=[Limited(PAGE)])
def hint(request: Request, session: Current, form: FormDep) -> Response:
    """The next hint of one row: the formula, then the numbers, then the answer. What is typed is kept."""
    with session.lock:
        sheet = view_of(session).worksheet
        if sheet is None:
            return panels(request, session, looked(message=NO_SHEET))
        key = str(form.get("key", ""))[:80]
        step, row = session.trainer.step_count + 1, _row(session)
        if sheet.get("step") != step or sheet.get("row", row) != row:  # a new step or another row: start over
            sheet.update(typed={}, hints={}, checked=False)
        sheet["typed"] = _typed(form) or sheet["typed"]
        sheet["step"], sheet["row"] = step, row
        sheet["hints"][key] = min(sheet["hints"].get(key, 0) + 1, HINT_LEVELS)
        return panels(request, session, looked())


@router.post("/ui/worksheet/close", dependencies=[Limited(PAGE)])
def close_worksheet(request: Request, session: Current) -> Response:
    """Back to the inspector."""
    with session.lock:
        view_of(session).worksheet = None
        return panels(request, session, looked())


@router.post("/ui/guess", dependencies=[Limited(PAGE)])
def make_guess(request: Request, session: Current, form: FormDep) -> Response:
    """Predict, then reveal: a guess of a δ before Backward, or of a weight's change before Update."""
    with session.lock:
        view = view_of(session)
        kind, target, text = form.get("kind"), str(form.get("target", "")), str(form.get("value", "")).strip()[:40]
        following = view.step.following(session.trainer.net.n_layers)
        ask = guess_view.choices(session, following) if session.detailed else None
        if ask is None or ask["kind"] != kind:
            return panels(request, session, looked(message="Nothing was guessed: a guess comes in a detailed step, "
                                                           "before Backward or before Update."))
        if target not in {o["value"] for o in ask["options"]}:
            return panels(request, session, looked(errors={"guess": "Pick a δ or a weight from the list."}))
        try:
            value = float(text.replace("−", "-"))
            if not math.isfinite(value) or (kind == "change" and value < 0):
                raise ValueError
        except ValueError:
            words = "a size of at least 0 (the direction is its own choice)" if kind == "change" else "a number"
            return panels(request, session, looked(errors={"guess": f"Type {words}."}, guess_typed=text))
        step = session.trainer.step_count + 1
        guess = {"step": step, "kind": kind, "value": value}
        if kind == "delta":  # of the row the diagram shows
            guess.update(layer=ask["layer"], node=int(target), row=_row(session))
        else:
            guess.update(edge=tuple(int(v) for v in target.split(".")), sign="up" if form.get("sign") == "up" else "down")
        # One guess per phase: a new one replaces it. Guesses of older steps go.
        view.guesses = [g for g in view.guesses if g["step"] == step and not (
            g["kind"] == kind and (kind == "change" or g["layer"] == guess["layer"]))] + [guess]
        return panels(request, session, looked(guess_saved="Saved: now click the button above to reveal it."))
