"""The Matrix form's toggle: opens or closes the panel that shows a step as matrices (app/views/matrix_form.py)."""
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from starlette.concurrency import run_in_threadpool

from app.quick import costs
from app.core.session import Session
from app.ratelimit import LARGE_PAGE, Limited, heavy_if

from .csrf import same_site_post
from .deps import Current
from .outcome import toggled
from .panels import panels
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/matrix-form", dependencies=[Limited(LARGE_PAGE)])
async def toggle_matrix_form(request: Request, session: Current, matrix_form: Annotated[str, Form()] = "") -> Response:
    """On or off, kept with the session. The answer carries the toolbar, and with it the panel, drawn or emptied
    (app/web/panel_table.py)."""
    # The matrices of a large network take up to a second to write: heavy, known on the loop, so that the work
    # takes its address's turn in the threadpool (app/ratelimit).
    heavy_if(costs.step_cost(session, 1))
    return await run_in_threadpool(_toggle, request, session, matrix_form == "on")


def _toggle(request: Request, session: Session, on: bool) -> Response:
    with session.lock:
        view_of(session).matrix_form = on
        return panels(request, session, toggled())
