"""The focus row: which row of the batch the diagram's nodes show (◀ ▶ beside the diagram, or the [ and ] keys)."""
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.ratelimit import PAGE, Limited

from .csrf import same_site_post
from .deps import Current
from .outcome import looked
from .panels import panels
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/focus-row", dependencies=[Limited(PAGE)])
def focus_row(request: Request, session: Current, row: Annotated[str, Form()] = "") -> Response:
    """Show row `row` (a position in the batch, 0 the first) on the nodes; the diagram, its words, the inspector
    and the worksheet follow it. Nothing of the training changes."""
    with session.lock:
        view = view_of(session)
        size = rows_shown(session)
        position = int(row) if row.isascii() and row.isdigit() and len(row) <= 6 else None
        if position is None or not size or not position < size:
            shown = f"rows 1 to {size}" if size else "none yet: take a step first"
            return panels(request, session, looked(errors={"focus_row": f"Pick a row of the batch: {shown}."}))
        room = request.app.state.live.room_of(session)
        if room is not None and room.poll is not None and room.poll.open and position != view.focus_row:
            return panels(request, session, looked(errors={"focus_row": (
                "A question about this row is open: Reveal or cancel it before picking another row.")}))
        view.focus_row = position
        return panels(request, session, looked())


def rows_shown(session) -> int:
    """Rows in the pass the diagram shows (0 before the first step)."""
    view = view_of(session)
    display = view.display
    if display is not None:
        return len(display.a[0])
    return len(session.last_trace.rows) if session.last_trace is not None else 0
