"""The page itself (GET /): a browser's session, a preset, or the setup a link describes."""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import StoreDep
from app.core.recipe import CreateSession
from app.core import exercise as exercises
from app.core.session import Session, build_session
from app.engine import FieldError
from app.ratelimit import CREATE, address

from .csrf import same_site_post
from .deps import CookieSession, set_cookie
from .live_render import present
from .presets import PRESETS, Preset
from .render import context, templates
from .setup_links import page_from_query, param_of, request_from_query, session_query
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.get("/", response_class=HTMLResponse)
def read_playground(request: Request, store: StoreDep, session: CookieSession, preset: str | None = None,
                    exercise: str | None = None) -> Response:
    """The page. `?preset=name` opens a worked example; setup parameters (see app.web.setup_links) build the
    setup they describe as a new session of this browser, unless its session already has exactly that setup
    (then a reload keeps the training). A GET never changes an existing session."""
    chosen = PRESETS.get(preset) if preset else None
    message = f"There is no preset {preset!r}; choose one of {', '.join(PRESETS)}." if preset and not chosen else None
    if exercise is not None and not chosen:  # ?exercise=SEED: the same exercise for everyone with the link
        seed = int(exercise) if exercise.isdigit() and 1 <= int(exercise) <= exercises.SEED_MAX else None
        if seed is None:
            message = f"An exercise link needs a number from 1 to {exercises.SEED_MAX:,}, not {exercise[:20]!r}."
        else:
            chosen = exercise_preset(seed, session)
    notice, fresh, counted, page = None, None, False, {}
    # A reload: the address bar holds the setup link the page put there, this session's own. Nothing to build.
    own_link = session is not None and not chosen and _is_own_link(session, request.url.query)
    try:
        linked = chosen.request() if chosen else None if own_link else request_from_query(request.query_params)
        page = {} if own_link else page_from_query(request.query_params)  # Play's speed, for a new session
        if linked is not None:
            # Building is the expensive part, so it counts as a new session before it runs (a link to the setup
            # the session already has, written otherwise than the page writes it, spends a token too).
            if (refused := too_many(request, CREATE)) is not None:
                return refused
            counted = True
            fresh = build_session(linked)
            fresh.page.update(page)
            if chosen:
                fresh.page.update(chosen.page)
            notice = f"{chosen.title}. {chosen.blurb}" if chosen else None
    except FieldError as exc:
        field = param_of(exc.field) if not chosen else exc.field
        message = f"This link's setup cannot be used, so it was not applied. {field}: {exc.message}"
    if session is not None and fresh is not None:
        with session.lock:  # compared under the lock, which brings the session up to date with other workers
            if chosen or session_query(fresh) != session_query(session):
                session = None  # a GET changes nothing: the link's setup becomes a new session of this browser
    if session is None:
        if not counted and (refused := too_many(request, CREATE)) is not None:
            return refused
        session = fresh or build_session(CreateSession())
        session.page.update(page)
        store.add(session)
    with session.lock:
        view = view_of(session)
        view.playing = False
        if chosen:
            session.detailed = chosen.detailed
        notice, view.notice = notice or view.notice, None
        response = templates.TemplateResponse(request, "playground.html",
                                              context(session, message=message, notice=notice,
                                                      live_present=present(request.app.state.live, session)))
    set_cookie(response, session)
    return response


def exercise_preset(seed: int, session: Session | None) -> Preset:
    """An exercise opened from its link, as a preset: a new session at its network, with the exercise open and the
    browser's tally carried over."""
    page = {"exercise": {"seed": seed, "typed": "", "result": None}}
    if session is not None:
        with session.lock:
            if "tally" in session.page:
                page["tally"] = dict(session.page["tally"])
    ex = exercises.make(seed)
    return Preset(f"Exercise {seed}", ex.request.model_dump(exclude_none=True), page=page,
                  blurb="Work out the quantity it asks for by hand, then Check.")


def _is_own_link(session: Session, query: str) -> bool:
    """Whether `query` is exactly the setup link the page puts in the address bar for this session."""
    if not query:
        return False
    with session.lock:  # under the lock, which brings the session up to date with other workers
        return session_query(session) == query


def error_page(request: Request, title: str, text: str, status: int, headers: dict) -> Response:
    """A page that says what went wrong, for a browser that loaded a page (not an htmx request)."""
    return templates.TemplateResponse(request, "error_page.html", {"title": title, "text": text},
                                      status_code=status, headers=headers)


def too_many(request: Request, limit, title: str = "Too many new sessions") -> Response | None:
    """The page's answer when this address has used up `limit` (rate limits are off: None)."""
    buckets = request.app.state.rate_limits
    wait = buckets.take(limit, address(request.scope)) if buckets is not None else 0
    if not wait:
        return None
    seconds, text = buckets.refusal(limit, wait)
    return templates.TemplateResponse(request, "error_page.html", {"title": title, "text": text},
                                      status_code=429, headers={"Retry-After": str(seconds)})
