"""The playground page and its htmx actions. Each action answers with every panel as an out-of-band swap.

Without JavaScript the same forms post normally and are answered with a redirect back to the page.
"""
import math
import random
from typing import Annotated

import numpy as np

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from app import quick
from app.api.deps import StoreDep
from app.core.recipe import CreateSession, ParameterEdit
from app.core.options import OPTIONS
from app.engine import DivergenceError, FieldError
from app.engine.losses import COMPATIBLE_OUTPUTS
from app.core.session import Session, build_session
from app.settings import get_settings

from app.views.shown import from_forward, from_phase
from .view_state import view_of

from app.ratelimit import CREATE, address

from .csrf import same_site_post
from .forms import config_changes, control_errors, error_text
from .presets import PRESETS
from .render import PAGE_MAX_NEURONS, ROOT, context, inspector_for, templates
from .setup_links import param_of, request_from_query, session_query

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])
COOKIE = "bp_session"
# Changing these starts a new network (so does new data); the other settings keep the weights.
REBUILDING = tuple(o.field for o in OPTIONS if o.rebuilds and not o.is_data)
KEEPING = tuple(o.field for o in OPTIONS if not o.rebuilds)


async def session_from_cookie(request: Request, store: StoreDep) -> Session | None:
    sid = request.cookies.get(COOKIE)
    return await quick.find(store, sid) if sid else None


CookieSession = Annotated[Session | None, Depends(session_from_cookie)]


async def read_form(request: Request) -> FormData:
    """The form, read on the event loop so the (sync) route can run its work in the threadpool: a route
    waiting on a session's lock must never block the loop."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def set_cookie(response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
                        max_age=30 * 24 * 3600)


def panels(request: Request, session: Session, *, controls: bool = False, transport: bool = False,
           status: int = 200, **extra) -> Response:
    """The panels as out-of-band swaps, or a redirect to the page when the request did not come from htmx.

    The toolbar and the rewind scrubber are only sent when the play state may have changed: replacing them
    on every Play frame would take the Pause button away from under the pointer, and app.js moves the
    scrubber from the metrics' data attributes instead.
    """
    if "hx-request" not in request.headers:
        return RedirectResponse("/", status_code=303)
    ctx = context(session, **extra)
    ctx["with_controls"] = controls
    ctx["with_transport"] = transport or controls
    # Panels that rarely change are only re-sent when they do: each swap costs the browser a frame.
    view = view_of(session)
    ctx["with_gradcheck"] = ctx["gradcheck"] is not None or view.gradcheck_shown
    view.gradcheck_shown = ctx["gradcheck"] is not None
    return templates.TemplateResponse(request, "partials/panels.html", ctx, status_code=status)


@router.get("/", response_class=HTMLResponse)
def read_playground(request: Request, store: StoreDep, session: CookieSession, preset: str | None = None) -> Response:
    """The page. `?preset=name` opens a worked example; setup parameters (see app.web.setup_links) build the
    setup they describe as a new session of this browser, unless its session already has exactly that setup
    (then a reload keeps the training). A GET never changes an existing session."""
    chosen = PRESETS.get(preset) if preset else None
    message = f"There is no preset {preset!r}; choose one of {', '.join(PRESETS)}." if preset and not chosen else None
    notice, fresh, counted = None, None, False
    # A reload: the address bar holds the setup link the page put there, this session's own. Nothing to build.
    own_link = session is not None and not chosen and _is_own_link(session, request.url.query)
    try:
        linked = chosen.request() if chosen else None if own_link else request_from_query(request.query_params)
        if linked is not None:
            # Building is the expensive part, so it counts as a new session before it runs (a link to the setup
            # the session already has, written otherwise than the page writes it, spends a token too).
            if (refused := too_many(request, CREATE)) is not None:
                return refused
            counted = True
            fresh = build_session(linked)
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
        store.add(session)
    with session.lock:
        view = view_of(session)
        view.playing = False
        if chosen:
            session.detailed = chosen.detailed
        notice, view.notice = notice or view.notice, None
        response = templates.TemplateResponse(request, "playground.html",
                                              context(session, message=message, notice=notice))
    set_cookie(response, session)
    return response


def _is_own_link(session: Session, query: str) -> bool:
    """Whether `query` is exactly the setup link the page puts in the address bar for this session."""
    if not query:
        return False
    with session.lock:  # under the lock, which brings the session up to date with other workers
        return session_query(session) == query


def too_many(request: Request, limit) -> Response | None:
    """The page's answer when this address has made too many new sessions (rate limits are off: None)."""
    buckets = request.app.state.rate_limits
    wait = buckets.take(limit, address(request.scope)) if buckets is not None else 0
    if not wait:
        return None
    seconds, text = buckets.refusal(limit, wait)
    return templates.TemplateResponse(request, "error_page.html", {"title": "Too many new sessions", "text": text},
                                      status_code=429, headers={"Retry-After": str(seconds)})


class NoSession(Exception):
    """An action arrived without a live session cookie (new browser, or the session expired)."""


async def current(session: CookieSession) -> Session:
    if session is None:
        raise NoSession
    return session


async def on_no_session(request: Request, exc: NoSession) -> Response:
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse("/", status_code=303)


Current = Annotated[Session, Depends(current)]


def _train(request: Request, session: Session, steps: int | None, transport: bool = False) -> Response:
    with session.lock:
        return _train_held(request, session, steps, transport)


def _train_held(request: Request, session: Session, steps: int | None, transport: bool = False) -> Response:
    try:
        points = session.train(steps)
    except (DivergenceError, FieldError) as exc:  # diverged, or over the time or work cap: nothing was applied
        view_of(session).playing = False
        return panels(request, session, message=exc.message, loss_points=[], transport=True)
    return panels(request, session, loss_points=points, transport=transport)


@router.post("/ui/step")
async def step(request: Request, store: StoreDep, session: Current) -> Response:
    return await quick.locked(store, session, lambda: _train_held(request, session, 1),
                              quick.step_cost(session, 1, pictures=True))


@router.post("/ui/epoch")
def epoch(request: Request, session: Current) -> Response:
    return _train(request, session, None)


@router.post("/ui/play")
async def play(request: Request, store: StoreDep, session: Current) -> Response:
    def work() -> Response:
        view_of(session).playing = True
        return _train_held(request, session, 1, transport=True)

    return await quick.locked(store, session, work, quick.step_cost(session, 1, pictures=True))


@router.post("/ui/play-frame")
async def play_frame(request: Request, store: StoreDep, session: Current) -> Response:
    def work() -> Response:
        if not view_of(session).playing:
            return panels(request, session, loss_points=[], transport=True)
        return _train_held(request, session, 1)

    return await quick.locked(store, session, work, quick.step_cost(session, 1, pictures=True))


@router.post("/ui/pause")
async def pause(request: Request, store: StoreDep, session: Current) -> Response:
    def work() -> Response:
        view_of(session).playing = False
        return panels(request, session, loss_points=[], transport=True)

    return await quick.locked(store, session, work, quick.step_cost(session, 0, pictures=True))


def _rebuild(request: Request, session: Session, req: CreateSession, notice: str | None = None,
             hidden: list[int] | None = None):
    """Rebuild the session's data and network in place (a reset); the caller holds its lock."""
    fresh = build_session(req, session.id, hidden=hidden)
    fresh.request = fresh.request.model_copy(update={"layers": list(fresh.trainer.config.layers)})
    return replace(request, session, fresh, notice=notice)


def replace(request: Request, session: Session, fresh: Session, detailed: bool | None = None, **shown) -> Response:
    """The session becomes `fresh` (and takes its detailed-step mode, when given), answered with every panel.
    If those cannot be drawn the change is undone: an error answer says nothing was changed, and the old state
    is one the page can load. The caller holds the lock."""
    undo, was_detailed = session.become(fresh), session.detailed
    if detailed is not None:
        session.detailed = detailed
    try:
        return panels(request, session, controls=True, **shown)
    except Exception:
        undo()
        session.detailed = was_detailed
        raise


@router.post("/ui/reset")
def reset(request: Request, session: Current) -> Response:
    with session.lock:
        return _rebuild(request, session, session.request)


@router.post("/ui/new-seed")
def new_seed(request: Request, session: Current) -> Response:
    with session.lock:
        seed = random.SystemRandom().randrange(2**31)
        dataset = session.request.dataset.model_copy(update={"seed": None})
        req = session.request.model_copy(update={"seed": seed, "dataset": dataset, "weights": None, "biases": None})
        return _rebuild(request, session, req)


@router.post("/ui/regenerate")
def regenerate(request: Request, session: Current) -> Response:
    with session.lock:
        dataset = session.request.dataset.model_copy(update={"seed": random.SystemRandom().randrange(2**31)})
        return _rebuild(request, session, session.request.model_copy(update={"dataset": dataset}))


@router.post("/ui/config")
def change_config(request: Request, session: Current, form: FormDep) -> Response:
    with session.lock:
        cfg = session.config()
        changes = config_changes(form, cfg)
        notice = None
        if changes.get("output_activation", cfg["output_activation"]) != cfg["output_activation"]:
            changes, notice = _compatible_loss(changes, cfg["loss"])
        try:
            merged = CreateSession(**{**cfg, **changes, "weights": session.request.weights,
                                      "biases": session.request.biases})
            if merged.dataset.model_dump(exclude_none=True) != cfg["dataset"] or any(
                    getattr(merged, f) != cfg[f] for f in REBUILDING):
                # New data or functions may change the input and output sizes; the hidden layers stay.
                merged = merged.model_copy(update={"layers": None, "weights": None, "biases": None})
                return _rebuild(request, session, merged, notice, hidden=cfg["layers"][1:-1])
            hyper = {k: getattr(merged, k) for k in KEEPING
                     if getattr(merged, k) != getattr(session.trainer.config, k)}
            session.trainer.reconfigure(**hyper)
            session.request = session.request.model_copy(update=hyper)
            if hyper:
                view_of(session).forget()
        except (ValidationError, FieldError) as exc:
            return panels(request, session, controls=True, errors=control_errors(exc), loss_points=[])
        return panels(request, session, controls=True, loss_points=[])


def _compatible_loss(changes: dict, current_loss: str) -> tuple[dict, str | None]:
    """Switching the output activation moves the loss to one it can be trained with, and says so."""
    out, loss = changes["output_activation"], changes.get("loss", current_loss)
    if loss in COMPATIBLE_OUTPUTS and out in COMPATIBLE_OUTPUTS[loss]:
        return changes, None
    new = next((name for name, outs in COMPATIBLE_OUTPUTS.items() if out in outs), None)
    if new is None:  # an unknown activation: validation names it next to its control
        return changes, None
    return {**changes, "loss": new}, f"Loss switched to {new}: {out} outputs are trained with it."


@router.post("/ui/shape")
def change_shape(request: Request, session: Current,
                 action: Annotated[str, Form(pattern="^(add-layer|remove-layer|add-neuron|remove-neuron)$")],
                 layer: Annotated[int, Form(ge=1, le=6)] = 1) -> Response:
    with session.lock:
        layers = list(session.trainer.config.layers)
        hidden = layers[1:-1]
        if action == "add-layer" and len(hidden) < 6:
            hidden.append(hidden[-1] if hidden else 2)
        elif action == "remove-layer" and hidden:
            hidden.pop()
        elif action == "add-neuron" and layer <= len(hidden) and hidden[layer - 1] < PAGE_MAX_NEURONS:
            hidden[layer - 1] += 1
        elif action == "remove-neuron" and layer <= len(hidden) and hidden[layer - 1] > 1:
            hidden[layer - 1] -= 1
        if hidden == layers[1:-1]:  # nothing to change: keep the trained network
            return panels(request, session, loss_points=[])
        req = session.request.model_copy(update={"layers": [layers[0], *hidden, layers[-1]], "weights": None,
                                                 "biases": None})
        return _rebuild(request, session, req)


@router.post("/ui/detailed")
def toggle_detailed(request: Request, session: Current, detailed: Annotated[str, Form()] = "") -> Response:
    with session.lock:
        session.detailed = detailed == "on"
        view = view_of(session)
        view.forget()
        view.playing = False
        return panels(request, session, loss_points=[], transport=True)


@router.post("/ui/phase")
def next_phase(request: Request, session: Current) -> Response:
    """One click of the detailed step: forward, loss, backward one layer at a time, update."""
    with session.lock:
        view = view_of(session)
        try:
            step, points = view.step.advance(session)
        except (DivergenceError, FieldError) as exc:
            view.forget()
            view.playing = False
            return panels(request, session, message=exc.message, loss_points=[], transport=True)
        view.show(from_phase(session, step.phase, step.layer, step.trace), step)
        return panels(request, session, loss_points=points, transport=True)


@router.post("/ui/back")
def back(request: Request, session: Current) -> Response:
    with session.lock:
        try:
            session.back()
        except FieldError as exc:
            return panels(request, session, message=exc.message, loss_points=[], transport=True)
        return panels(request, session, transport=True)


@router.post("/ui/rewind")
def rewind(request: Request, session: Current, step: Annotated[str, Form()]) -> Response:
    with session.lock:
        try:
            session.rewind(int(step))
        except (ValueError, FieldError) as exc:
            text = exc.message if isinstance(exc, FieldError) else "step must be a whole number."
            return panels(request, session, message=text, loss_points=[], transport=True)
        return panels(request, session, transport=True)


@router.post("/ui/gradient-check")
def gradient_check(request: Request, session: Current) -> Response:
    with session.lock:
        try:
            result = session.gradient_check()
        except FieldError as exc:
            return panels(request, session, message=exc.message, loss_points=[])
        return panels(request, session, loss_points=[], gradcheck=result)


@router.post("/ui/predict")
def predict(request: Request, session: Current, form: FormDep) -> Response:
    with session.lock:
        names = session.dataset.input_names
        try:
            raw = [float(form.get(f"input_{k}", "")) for k in range(len(names))]
            if not all(math.isfinite(v) and abs(v) <= 1e6 for v in raw):
                raise ValueError
        except ValueError:
            return panels(request, session, loss_points=[], errors={"predict": "Enter a number (up to 1e6) "
                                                                               "for every input."})
        words = ", ".join(f"{n} = {v:g}" for n, v in zip(names, raw))
        view = view_of(session)
        view.forget()
        view.show(from_forward(session, "predict", np.array([raw]), words))
        return panels(request, session, loss_points=[], predicted=raw)


@router.post("/ui/edit")
def edit(request: Request, session: Current, form: FormDep) -> Response:
    with session.lock:
        try:
            req = ParameterEdit(kind=form.get("kind"), layer=form.get("layer"), to=form.get("to"),
                                source=form.get("from") or None, value=form.get("value"))
            session.set_parameter(req.kind, req.layer, req.to, req.source, req.value)
        except (ValidationError, FieldError) as exc:
            message = error_text(exc)
            target = (form.get("kind"), form.get("layer"), form.get("from"), form.get("to"))
            # The message goes beside the inspector's edit form, which exists only for a real weight or bias.
            if target[0] not in ("weight", "bias") or inspector_for(session, *target) is None:
                return panels(request, session, loss_points=[], message=f"Nothing was edited. {message}")
            return panels(request, session, loss_points=[], errors={"edit": message}, inspect=target)
        rows, _, _ = session.trainer.next_batch()
        raw = session.dataset.raw_train_x[rows]
        view_of(session).show(from_forward(session, "edit", raw, f"the next batch ({len(rows)} "
                                                                 f"row{'s' * (len(rows) != 1)}) after the edit"))
        return panels(request, session, loss_points=None,
                      notice=f"Set {req.kind} to {req.value:g}. Nothing else changed.",
                      inspect=(req.kind, req.layer, req.source, req.to))


@router.get("/ui/inspect")
def inspect(request: Request, session: Current, kind: str, layer: int, to: int, source: int | None = Query(None, alias="from")):
    with session.lock:
        return templates.TemplateResponse(request, "partials/inspector.html",
                                          {"inspector": inspector_for(session, kind, layer, source, to),
                                           "oob": False, "errors": {}})
