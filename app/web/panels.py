"""The page's answer to an action: the panels its outcome sends (app/web/panel_table.py), swapped out of band
(templates/partials/panels.html)."""
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.core.recipe import CreateSession
from app.quick import costs
from app.core.session import Session, build_session
from app.ratelimit import heavy_if

from .frames import FRAME_HEADER, FRAME_TYPE, PageCopy, light_frame
from .outcome import Outcome, rebuilt
from .panel_data import PanelData
from .panel_table import ANSWER, context
from .render import templates
from .view_state import view_of


def panels(request: Request, session: Session, outcome: Outcome) -> Response:
    """The panels `outcome` sends, as out-of-band swaps, or a redirect to the page when the request did not come
    from htmx."""
    if "hx-request" not in request.headers:
        return RedirectResponse("/", status_code=303)
    # The panels of a large network are megabytes of markup, whatever the action: such a session's page actions are
    # heavy (app/ratelimit), let in only while its address is within its share of server CPU.
    heavy_if(costs.step_cost(session, 1, costs.BUILD_PICTURE_ROWS))
    if (holds := request.headers.get(FRAME_HEADER)) is not None:  # the page's script asks for a light frame
        frame = light_frame(PanelData(session, outcome), ANSWER, PageCopy.holding(holds))
        view_of(session).gradcheck_shown = outcome.gradcheck is not None
        return JSONResponse(frame, media_type=FRAME_TYPE)
    ctx = context(session, outcome)
    view_of(session).gradcheck_shown = outcome.gradcheck is not None  # the next answer empties it
    return templates.TemplateResponse(request, "partials/panels.html", ctx)


def rebuild(request: Request, session: Session, req: CreateSession, what: str,
            notice: str | Callable[[Session], str] | None = None, hidden: list[int] | None = None) -> Response:
    """Rebuild the session's data and network in place from `req` (a reset), around `hidden` layers when the
    request gives none; answered with every panel. `what` names the rebuild for Back ("Reset"); `notice` may be
    made from the new session (what its defaults resolved to). The caller holds its lock."""
    heavy_if(costs.build_cost(req))  # a large network or data set: its address's large requests take turns
    fresh = build_session(req, session.id, hidden=hidden)
    fresh.request = fresh.request.model_copy(update={"layers": list(fresh.trainer.config.layers)})
    return replace(request, session, fresh, what, notice=notice(fresh) if callable(notice) else notice)


def replace(request: Request, session: Session, fresh: Session, what: str, detailed: bool | None = None,
            notice: str | None = None) -> Response:
    """The session becomes `fresh` (and takes its detailed-step mode, when given), answered with every panel;
    Back returns to the state it replaced, which `what` names ("Reset"). If the panels cannot be drawn the change
    is undone: an error answer says nothing was changed, and the old state is one the page can load. The caller
    holds the lock."""
    undo, was_detailed = session.become(fresh, replacing=what), session.detailed
    if detailed is not None:
        session.detailed = detailed
    try:
        return panels(request, session, rebuilt(notice=notice))
    except Exception:
        undo()
        session.detailed = was_detailed
        raise
