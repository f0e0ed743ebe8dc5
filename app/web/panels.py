"""The page's answer to an action: every panel as an out-of-band swap (templates/partials/panels.html)."""
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from app.core.recipe import CreateSession
from app.quick import costs
from app.core.session import Session, build_session
from app.ratelimit import heavy_if

from .render import context, templates
from .view_state import view_of


def panels(request: Request, session: Session, *, controls: bool = False, transport: bool = False,
           status: int = 200, **extra) -> Response:
    """The panels as out-of-band swaps, or a redirect to the page when the request did not come from htmx.

    The toolbar and the rewind scrubber are only sent when the play state may have changed: replacing them
    on every Play frame would take the Pause button away from under the pointer, and app.js moves the
    scrubber from the metrics' data attributes instead.
    """
    if "hx-request" not in request.headers:
        return RedirectResponse("/", status_code=303)
    # The panels of a large network are megabytes of markup, whatever the action: such a session's page actions are
    # heavy (app/ratelimit), let in only while its address is within its share of server CPU.
    heavy_if(costs.step_cost(session, 1, costs.BUILD_PICTURE_ROWS))
    ctx = context(session, with_controls=controls, **extra)
    ctx["with_transport"] = transport or controls
    # Panels that rarely change are only re-sent when they do: each swap costs the browser a frame.
    view = view_of(session)
    ctx["with_gradcheck"] = ctx["gradcheck"] is not None or view.gradcheck_shown
    view.gradcheck_shown = ctx["gradcheck"] is not None
    return templates.TemplateResponse(request, "partials/panels.html", ctx, status_code=status)


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
            **shown) -> Response:
    """The session becomes `fresh` (and takes its detailed-step mode, when given), answered with every panel;
    Back returns to the state it replaced, which `what` names ("Reset"). If the panels cannot be drawn the change
    is undone: an error answer says nothing was changed, and the old state is one the page can load. The caller
    holds the lock."""
    undo, was_detailed = session.become(fresh, replacing=what), session.detailed
    if detailed is not None:
        session.detailed = detailed
    try:
        return panels(request, session, controls=True, **shown)
    except Exception:
        undo()
        session.detailed = was_detailed
        raise
