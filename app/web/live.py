"""Live rooms on the page: the presenter's Present, polls and Stop (/ui/live/*), and the followers' /live/{code}.

A follower is a browser with a `bp_follower` cookie: an anonymous token that only keys its poll answers, set when it
joins (opens /live/{code}), which lets it answer that room's questions; an answer without it adds no vote (403), and
one address brings at most a class of followers to a room. Nothing a follower sends reaches the presenter's session: the follower's routes read the room's session (inspecting it under
its lock) and write only answers, and the presenter's routes act on the cookie's own session, which must be the
room's.
"""
import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.engine import DivergenceError, FieldError
from app.live.model import normal_code, spaced
from app.live.service import NotJoined, RoomGone
from app.deps import room_url
from app.settings import get_settings
from app.ratelimit import CREATE, FOLLOW, PAGE, SESSION_QUOTA, TRAIN, Limit, Limited, address

from . import page
from .csrf import same_site_post
from .deps import Current, set_cookie
from .live_render import poll_view, present, room_stage, ttl_words
from .outcome import live_changed, revealed
from .panels import panels
from .render import inspector_for, templates
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])
FOLLOWER = "bp_follower"
FOLLOWER_TOKEN = re.compile(r"^[0-9a-f]{32}$")
# Joining (the page, its event stream and its reconnections, and every mistyped code) is limited per address: a
# class of 300 behind one NAT joins in a burst (two requests each, and as many again should the server restart),
# while guessing codes (887 million of them) at this rate is hopeless.
JOIN = Limit("live room joins", 10, 1200, "address")
# Answers: a class answering one question within a few seconds, from one address.
ANSWER = Limit("poll answers", 60, 600, "address")


def _live(request: Request):
    return request.app.state.live


def too_many(request: Request, limit: Limit) -> Response | None:
    return page.too_many(request, limit, "Too many requests")


# ---- the presenter ----

def _present_panels(request: Request, session, **said) -> Response:
    return panels(request, session, live_changed(present(_live(request), session), **said))


@router.post("/ui/live/start", dependencies=[Limited(PAGE)])
def start(request: Request, session: Current) -> Response:
    with session.lock:
        _live(request).start(session, lambda code: room_url(request, code))
        return _present_panels(request, session)  # the panel itself shows the room (no message over the diagram)


@router.post("/ui/live/stop", dependencies=[Limited(PAGE)])
def stop(request: Request, session: Current) -> Response:
    with session.lock:
        room = _live(request).stop(session)
        notice = (f"Stopped presenting room {spaced(room.code)}. Followers keep step {session.trainer.step_count} "
                  "and can still take a copy of it." if room else None)
        return _present_panels(request, session, notice=notice)


@router.get("/ui/live/panel", dependencies=[Limited(PAGE)], response_class=HTMLResponse)
def panel(request: Request, session: Current) -> Response:
    """The presenter's panel as it is now: its page asks for it when the room's question or the room itself ends
    without the presenter's doing (a change cancelled the question; the room timed out)."""
    with session.lock:
        code = session.page.live_code
        shown = present(_live(request), session)
        ended = code is not None and shown is None
        return templates.TemplateResponse(request, "partials/live_present_panel.html", {
            "live_present": shown, "oob": False, "errors": {},
            # It ended without the presenter's doing: its time-to-live passed (Stop presenting says so itself).
            "notice": f"The live room {spaced(code)} has ended: {ttl_words(_live(request).ttl)} passed without a "
                      "change." if ended else None})


@router.post("/ui/live/ask", dependencies=[Limited(PAGE)])
def ask(request: Request, session: Current, question: Annotated[str, Form()] = "",
        kind: Annotated[str, Form()] = "", choice: Annotated[str, Form()] = "") -> Response:
    """Ask the class: `question` is "kind:choice" (the form's select), or the two apart."""
    if question:
        kind, _, choice = question.partition(":")
    with session.lock:
        view = view_of(session)
        view.playing = False  # a question is about the coming step: Play stops to ask it
        if kind in ("number", "largest") and not (session.detailed and view.step.phase in ("forward", "loss")):
            return _present_panels(request, session, errors={"poll": (
                "A δ question is worked from the diagram: turn on Detailed step and take Forward (and Loss) first, "
                "so the class sees the coming step's numbers, then ask.")})
        try:
            _live(request).ask(session, kind, choice)
        except FieldError as exc:
            return _present_panels(request, session, errors={"poll": f"{exc.field}: {exc.message}"})
        return _present_panels(request, session)


@router.post("/ui/live/close-poll", dependencies=[Limited(PAGE)])
def close_poll(request: Request, session: Current) -> Response:
    with session.lock:
        try:
            _live(request).close_poll(session)
        except FieldError as exc:
            return _present_panels(request, session, errors={"poll": exc.message})
        return _present_panels(request, session)


@router.post("/ui/live/reveal", dependencies=[Limited(TRAIN)])
def reveal(request: Request, session: Current) -> Response:
    """Reveal runs the coming step, as Step does, then shows everyone the answer and the class's answers."""
    with session.lock:
        points = []

        def take_step():
            view = view_of(session)
            view.forget()
            view.playing = False
            points.extend(session.train(1))

        try:
            _live(request).reveal(session, take_step)
        except (DivergenceError, FieldError) as exc:
            return _present_panels(request, session, errors={"poll": exc.message})
        return panels(request, session, revealed(points, present(_live(request), session)))


# ---- followers ----

def follower_of(request: Request) -> str | None:
    token = request.cookies.get(FOLLOWER, "")
    return token if FOLLOWER_TOKEN.match(token) else None


def _set_follower(response: Response, token: str) -> None:
    response.set_cookie(FOLLOWER, token, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
                        max_age=24 * 3600)


@router.get("/live", dependencies=[Limited(FOLLOW)], response_class=HTMLResponse)
def join(request: Request, code: str = "") -> Response:
    """The join form, and where it sends a typed code."""
    if not code:
        return templates.TemplateResponse(request, "live_join.html", {"typed": "", "message": None})
    found = normal_code(code)
    if found is None:
        return templates.TemplateResponse(request, "live_join.html", status_code=422, context={
            "typed": code[:12], "message": "A code is 6 letters and digits, such as K7M 2QX."})
    return RedirectResponse(f"/live/{found}", status_code=303)


def _not_found(request: Request, code: str) -> Response:
    return templates.TemplateResponse(request, "live_join.html", status_code=404, context={
        "typed": code[:12], "message": f"There is no live room {code[:12]!r} now: check the code, or the room has "
                                       "ended."})


@router.get("/live/{code}", dependencies=[Limited(FOLLOW)], name="follow_room", response_class=HTMLResponse)
async def follow(request: Request, code: str) -> Response:
    """The presenter's network, live. Rendered from the room's session as it is now."""
    if (refused := too_many(request, JOIN)) is not None:
        return refused
    found = normal_code(code)
    if found is None:
        return _not_found(request, code)
    if found != code:
        return RedirectResponse(f"/live/{found}", status_code=303)
    live = _live(request)
    token = follower_of(request) or secrets.token_hex(16)
    try:
        ctx = await run_in_threadpool(_page_context, live, code, token, address(request.scope))
    except RoomGone:
        return _not_found(request, code)
    response = templates.TemplateResponse(request, "live.html", ctx)
    if follower_of(request) is None:
        _set_follower(response, token)
    return response


def _page_context(live, code: str, follower: str, client: str) -> dict:
    room = live.room(code)
    joined = room.ended or live.join(code, follower, client)
    seq, shared, _, _ = room_stage(live, room)
    ctx = dict(shared)
    count = live.rooms.count(code, room.poll.id) if room.poll else 0
    ctx.update(poll_view(room, count), code=code, spaced=spaced(code), seq=seq, mine=live.mine(code, follower),
               step=ctx["metrics"]["step"], oob=False, error=None if joined else (
                   f"This room already has as many followers from your network as a class needs "
                   f"({live.max_followers_per_address}): you can watch, but your answers would not be counted."))
    return ctx


@router.post("/live/{code}/answer", dependencies=[Limited(FOLLOW)])
def answer(request: Request, code: str, poll: Annotated[str, Form()] = "",
           answer: Annotated[str, Form()] = "") -> Response:
    """A joined follower's answer to the open question; the reply is this follower's own line (#live-mine). A browser
    the room does not know (no follower cookie, or one that never joined) gets 403 and adds no vote: it is not a
    conflict with the question's state, which 200 with the field's message reports, but a missing credential."""
    if (refused := too_many(request, ANSWER)) is not None:
        return refused
    if normal_code(code) != code:
        return _not_found(request, code)
    live = _live(request)
    token = follower_of(request)
    error, status_code = None, 200
    try:
        live.answer(code, token, answer, poll, address(request.scope))
    except RoomGone:
        return _not_found(request, code)
    except NotJoined as exc:
        error, status_code = exc.message, 403
    except FieldError as exc:
        error, status_code = exc.message, 200  # shown next to the question, like every field message
    if "hx-request" not in request.headers:
        if status_code == 403:
            return templates.TemplateResponse(request, "error_page.html", status_code=403, context={
                "title": "Answer not counted", "text": error})
        return RedirectResponse(f"/live/{code}", status_code=303)
    return templates.TemplateResponse(request, "partials/live_mine.html", status_code=status_code, context={
        "code": code, "mine": live.mine(code, token), "oob": True, "error": error})


@router.get("/live/{code}/mine", dependencies=[Limited(FOLLOW)], response_class=HTMLResponse)
def mine(request: Request, code: str) -> Response:
    """This follower's own answer and mark (its page asks after every question event)."""
    live = _live(request)
    try:
        own = live.mine(code, follower_of(request)) if normal_code(code) == code else {"poll": None}
    except RoomGone:
        own = {"poll": None}
    return templates.TemplateResponse(request, "partials/live_mine.html", {"code": code, "mine": own, "oob": False})


@router.post("/live/{code}/copy", dependencies=[Limited(CREATE, SESSION_QUOTA)])
def copy(request: Request, code: str) -> Response:
    """Take a copy: a session of this browser's own at the room's state; the page links back to the room."""
    if (refused := too_many(request, JOIN)) is not None:
        return refused
    if normal_code(code) != code:
        return _not_found(request, code)
    try:
        fresh = _live(request).copy(code)
    except RoomGone:
        return _not_found(request, code)
    view_of(fresh).notice = (f"This is your own copy of live room {spaced(code)} at step "
                             f"{fresh.trainer.step_count}: train it as you like. “Back to the live room” follows "
                             "the presenter again.")
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, fresh)
    return response


@router.get("/live/{code}/inspect", dependencies=[Limited(FOLLOW)], response_class=HTMLResponse)
def inspect(request: Request, code: str, kind: str, layer: int, to: int,
            source: int | None = Query(None, alias="from")) -> Response:
    """The inspector on a follower's own screen: the room's edge or node now, read only. Counted as a join: it
    tells whether a code exists."""
    if (refused := too_many(request, JOIN)) is not None:
        return refused
    if normal_code(code) != code:
        return _not_found(request, code)
    live = _live(request)
    try:
        room = live.room(code)
    except RoomGone:
        return _not_found(request, code)
    session = live.shown_session(room)
    if session is None:
        return _not_found(request, code)
    with session.lock:
        return templates.TemplateResponse(request, "partials/inspector.html", {
            "inspector": inspector_for(session, kind, layer, source, to, "ended" if room.ended else "follower"),
            "readonly": True,
            "inspector_step": session.trainer.step_count, "oob": False, "errors": {}})
