"""What the page's routes share: the browser's session (from its cookie), the form, and the cookie itself."""
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from app.quick import scheduler
from app.deps import StoreDep
from app.core.session import Session
from app.settings import get_settings

from .render import templates

COOKIE = "bp_session"


async def session_from_cookie(request: Request, store: StoreDep) -> Session | None:
    sid = request.cookies.get(COOKIE)
    return await scheduler.find(store, sid) if sid else None


CookieSession = Annotated[Session | None, Depends(session_from_cookie)]


async def read_form(request: Request) -> FormData:
    """The form, read on the event loop so the (sync) route can run its work in the threadpool: a route
    waiting on a session's lock must never block the loop."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def set_cookie(response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
                        max_age=30 * 24 * 3600)


class NoSession(Exception):
    """An action arrived without a live session cookie (new browser, or the session expired)."""


async def current(session: CookieSession) -> Session:
    if session is None:
        raise NoSession
    return session


def error_page(request: Request, status: int, detail, headers: dict | None) -> Response | None:
    """A refusal of a browser's own GET as a page a person can read: a 429 on opening a page or a share link, and
    a 404 for an address nothing answers (a mistyped link). None for the API, for clients that do not ask for HTML
    and for the page's htmx requests, which show the JSON detail next to their control."""
    if (request.method != "GET" or request.url.path.startswith("/api/") or "hx-request" in request.headers
            or "text/html" not in request.headers.get("accept", "")):
        return None  # the API, an event stream, the page's own htmx requests
    if status == 404:
        return templates.TemplateResponse(request, "not_found.html", {"what": "page", "path": _shortened(request.url.path)},
                                          status_code=404, headers=headers)
    if status != 429 or not isinstance(detail, str):
        return None
    return templates.TemplateResponse(request, "error_page.html", {"title": "Too many requests", "text": detail},
                                      status_code=status, headers=headers)


async def on_no_session(request: Request, exc: NoSession) -> Response:
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse("/", status_code=303)


Current = Annotated[Session, Depends(current)]


def _shortened(path: str, keep: int = 200) -> str:
    """The address as the 404 page repeats it: at most `keep` characters, a cut one ending in an ellipsis."""
    return path if len(path) <= keep else path[: keep - 1] + "…"
