"""The page itself (GET /): a browser's session, a preset, or the setup a link describes."""
from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from app.quick import costs
from app.deps import StoreDep
from app.core.options import BY_FIELD, unused_settings
from app.core.page_state import ExerciseState, PageState
from app.core.recipe import CreateSession
from app.core import exercise as exercises
from app.core.session import Session, build_session
from app.engine import FieldError
from app.ratelimit import CREATE, READ, SESSION_QUOTA, Limited, address, heavy_if

from .csrf import same_site_post
from .deps import CookieSession, set_cookie
from .live_render import present
from app.core.presets import PRESETS, Preset
from .outcome import loaded
from .panel_table import PLAYGROUND, context
from .render import templates
from .setup_links import page_from_query, param_of, request_from_query, session_query
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.get("/", dependencies=[Limited(READ)], response_class=HTMLResponse)
async def read_playground(request: Request, store: StoreDep, session: CookieSession, preset: str | None = None,
                          exercise: str | None = None) -> Response:
    """The page, built and drawn in the threadpool; a setup link that builds a large network is heavy, known
    here on the loop, so that its work takes its address's turn there (app/ratelimit)."""
    heavy_if(_link_cost(request))
    return await run_in_threadpool(_read_playground, request, store, session, preset, exercise)


def _link_cost(request: Request) -> int:
    """What building the setup a link describes costs (costs.build_cost); 0 for no setup or one that is refused."""
    try:
        linked = request_from_query(request.query_params)
    except FieldError:
        return 0
    return costs.build_cost(linked) if linked is not None else 0


def _read_playground(request: Request, store, session: Session | None, preset: str | None,
                     exercise: str | None) -> Response:
    """The page. `?preset=name` opens a worked example; setup parameters (see app.web.setup_links) build the
    setup they describe as a new session of this browser, unless its session already has exactly that setup
    (then a reload keeps the training). A GET never changes an existing session."""
    chosen = PRESETS.get(preset) if preset else None
    message = f"There is no preset {preset!r}; choose one of {', '.join(PRESETS)}." if preset and not chosen else None
    if exercise is not None and not chosen:  # ?exercise=SEED: the same exercise for everyone with the link
        seed = (int(exercise) if exercise.isascii() and exercise.isdigit() and len(exercise) <= 12
                and 1 <= int(exercise) <= exercises.SEED_MAX else None)
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
            if chosen and chosen.page is not None:
                fresh.page = chosen.page.copy()
            fresh.page.transport.set(**page)
            notice = f"{chosen.title}. {chosen.blurb}" if chosen else unused_words(fresh, request.query_params)
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
        session.page.transport.set(**page)
        store.add(session)
    with session.lock:
        view = view_of(session)
        view.playing = False
        if chosen:
            session.detailed = chosen.detailed
        notice, view.notice = notice or view.notice, None
        shown = loaded(message=message, notice=notice, live_present=present(request.app.state.live, session))
        response = templates.TemplateResponse(request, "playground.html", context(session, shown, PLAYGROUND))
    set_cookie(response, session)
    return response


def unused_words(session: Session, params) -> str | None:
    """What a link gave that has no effect under the rest of it (momentum under sgd, say), in words; None when
    all of it does. Such settings are kept (app/core/options.py unused_settings), so the page says so."""
    given = [BY_FIELD[f].link for f in unused_settings(session.config()) if BY_FIELD[f].link in params]
    if not given:
        return None
    names = " and ".join([", ".join(given[:-1]), given[-1]] if len(given) > 1 else given)
    return (f"{names} {'have' if len(given) > 1 else 'has'} no effect with these settings (optimizer "
            f"{session.trainer.config.optimizer}, regularisation {session.trainer.config.regularization}); "
            f"{'they are' if len(given) > 1 else 'it is'} kept for when you choose the setting that uses "
            f"{'them' if len(given) > 1 else 'it'}.")


def exercise_preset(seed: int, session: Session | None) -> Preset:
    """An exercise opened from its link, as a preset: a new session at its network, with the exercise open and the
    browser's tally carried over."""
    page = PageState(exercise=ExerciseState(seed))
    if session is not None:
        with session.lock:
            if session.page.tally is not None:
                page.tally = replace(session.page.tally)
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
    if buckets is None:
        return None
    # A new session also spends the address's quota of sessions (all or none).
    wanted = [(limit, address(request.scope))] + [(SESSION_QUOTA, address(request.scope))] * (limit is CREATE)
    wait, refusing = buckets.take_all(wanted)
    if refusing is None:
        return None
    seconds, text = buckets.refusal(refusing, wait)
    return templates.TemplateResponse(request, "error_page.html", {"title": title, "text": text},
                                      status_code=429, headers={"Retry-After": str(seconds)})
