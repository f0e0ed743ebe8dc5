"""The Matrix form's toggle: opens or closes the panel that shows a step as matrices (app/views/matrix_form.py)."""
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from .csrf import same_site_post
from .deps import Current
from .panels import panels
from .view_state import view_of
from app import quick
from app.ratelimit import LARGE_PAGE, Limited, heavy_if

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/matrix-form", dependencies=[Limited(LARGE_PAGE)])
def toggle_matrix_form(request: Request, session: Current, matrix_form: Annotated[str, Form()] = "") -> Response:
    """On or off, kept with the session. The answer carries the toolbar (transport), and with it the panel, drawn
    or emptied (templates/partials/panels.html)."""
    heavy_if(quick.step_cost(session, 1))  # the matrices of a large network take up to a second to write
    with session.lock:
        view_of(session).matrix_form = matrix_form == "on"
        return panels(request, session, loss_points=[], transport=True)
