"""Lessons on the page: /lessons lists them; /lessons/{lesson}/{card} is the playground with the card's panel."""
from copy import deepcopy
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.core.page_state import LessonState
from app.deps import StoreDep
from app.lessons import card_of
from app.lessons import progress
from app.views import lesson as lesson_view
from app.web.page import too_many
from app.ratelimit import CREATE, Limited, PAGE, READ

from .csrf import same_site_post
from .deps import CookieSession, Current, set_cookie
from .outcome import configured, lesson_changed, loaded, looked
from .panel_table import PLAYGROUND, context
from .panels import panels
from .render import templates
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.get("/lessons", dependencies=[Limited(READ)], response_class=HTMLResponse)
def list_lessons(request: Request, session: CookieSession) -> Response:
    if session is not None:
        with session.lock:
            listed = lesson_view.listing(session)
    else:
        listed = lesson_view.listing(None)
    return templates.TemplateResponse(request, "lessons.html", listed)


@router.get("/lessons/{lesson_slug}/{card_slug}", dependencies=[Limited(READ)], response_class=HTMLResponse)
def open_card(request: Request, store: StoreDep, session: CookieSession, lesson_slug: str, card_slug: str) -> Response:
    """The playground with this card's panel. The card's setup becomes a new session of this browser, carrying
    its progress, unless the session already works on that setup (a reload, or the next card of the same setup)."""
    found = card_of(lesson_slug, card_slug)
    if found is None:
        return templates.TemplateResponse(request, "not_found.html", {"what": "lesson card"}, status_code=404)
    lesson, index = found
    setup, at = lesson.setup_of(index)
    setup_key = progress.key(lesson, at)
    card_key = progress.key(lesson, index)
    keep = False
    if session is not None:
        with session.lock:
            keep = session.page.lesson.setup == setup_key
            carried = deepcopy(session.page.lesson)  # the learner's progress goes on in a new session
    else:
        carried = LessonState()
    if not keep:
        if (refused := too_many(request, CREATE)) is not None:
            return refused
        session = setup.build()
        session.page.lesson = carried
        carried.setup = setup_key
        store.add(session)
    with session.lock:
        session.page.lesson.current = card_key
        view = view_of(session)
        view.playing = False
        response = templates.TemplateResponse(request, "playground.html", context(session, loaded(), PLAYGROUND))
    set_cookie(response, session)
    return response


@router.post("/ui/lesson/answer", dependencies=[Limited(PAGE)])
def answer(request: Request, session: Current, value: Annotated[str, Form()] = "") -> Response:
    """Check the open card's Number or Choose answer; a right one marks the card done."""
    with session.lock:
        card_key = progress.current(session)
        found = card_of(*card_key.split("/", 1)) if card_key else None
        if found is None:
            return panels(request, session, looked(message="Open a lesson card first: /lessons."))
        lesson, index = found
        card = lesson.cards[index]
        if card.task.kind == "do":
            return panels(request, session, lesson_changed())
        typed = value.strip()[:40]
        result = progress.check_answer(card, lesson, index, typed)
        state = progress.seen(session, card_key)
        state.update(answer=typed, result=result)
        if result["correct"]:
            progress.mark_done(session, card_key)
        return panels(request, session, lesson_changed())


@router.post("/ui/lesson/close", dependencies=[Limited(PAGE)])
def close(request: Request, session: Current) -> Response:
    """Leave the lesson: the playground goes on with its network; the progress stays."""
    with session.lock:
        session.page.lesson.current = None
        return panels(request, session, configured())  # the settings carry the address bar's link
