"""The playground page and its htmx actions. Each action answers with every panel as an out-of-band swap.

Without JavaScript the same forms post normally and are answered with a redirect back to the page.
"""
import random
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.api.deps import StoreDep
from app.api.schemas import CreateSession
from app.engine import HYPERPARAMETERS, DivergenceError, FieldError
from app.engine.losses import COMPATIBLE_OUTPUTS
from app.sessions import Session, build_session
from app.settings import get_settings

from .forms import config_changes, control_errors
from .render import PAGE_MAX_NEURONS, ROOT, context, templates

router = APIRouter(include_in_schema=False)
COOKIE = "bp_session"
# Changing these (or the data, or the shape) starts a new network; the other settings keep the weights.
RESET_FIELDS = ("init", "seed", "hidden_activation", "output_activation", "loss")


def session_from_cookie(request: Request, store: StoreDep) -> Session | None:
    sid = request.cookies.get(COOKIE)
    return store.get(sid) if sid else None


CookieSession = Annotated[Session | None, Depends(session_from_cookie)]


def set_cookie(response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, session.id, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
                        max_age=30 * 24 * 3600)


def panels(request: Request, session: Session, *, controls: bool = False, transport: bool = False,
           status: int = 200, **extra) -> Response:
    """The panels as out-of-band swaps, or a redirect to the page when the request did not come from htmx.

    The toolbar is only sent when the play state may have changed: replacing it on every Play frame would
    take the Pause button away from under the pointer.
    """
    if "hx-request" not in request.headers:
        return RedirectResponse("/", status_code=303)
    ctx = context(session, **extra)
    ctx["with_controls"] = controls
    ctx["with_transport"] = transport or controls
    return templates.TemplateResponse(request, "partials/panels.html", ctx, status_code=status)


@router.get("/", response_class=HTMLResponse)
def read_playground(request: Request, store: StoreDep, session: CookieSession) -> Response:
    if session is None:
        session = build_session(CreateSession())
        store.add(session)
    with session.lock:
        session.playing = False
        response = templates.TemplateResponse(request, "playground.html", context(session))
    set_cookie(response, session)
    return response


class NoSession(Exception):
    """An action arrived without a live session cookie (new browser, or the session expired)."""


def current(session: CookieSession) -> Session:
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
        try:
            points = session.train(steps)
        except DivergenceError as exc:
            session.playing = False
            return panels(request, session, message=exc.message, loss_points=[], transport=True)
        return panels(request, session, loss_points=points, transport=transport)


@router.post("/ui/step")
def step(request: Request, session: Current) -> Response:
    return _train(request, session, 1)


@router.post("/ui/epoch")
def epoch(request: Request, session: Current) -> Response:
    return _train(request, session, None)


@router.post("/ui/play")
def play(request: Request, session: Current) -> Response:
    session.playing = True
    return _train(request, session, 1, transport=True)


@router.post("/ui/play-frame")
def play_frame(request: Request, session: Current) -> Response:
    if not session.playing:
        with session.lock:
            return panels(request, session, loss_points=[], transport=True)
    return _train(request, session, 1)


@router.post("/ui/pause")
def pause(request: Request, session: Current) -> Response:
    with session.lock:
        session.playing = False
        return panels(request, session, loss_points=[], transport=True)


def _rebuild(request: Request, session: Session, req: CreateSession, notice: str | None = None,
             hidden: list[int] | None = None):
    """Rebuild the session's data and network in place (a reset); the caller holds its lock."""
    fresh = build_session(req, session.id, hidden=hidden)
    fresh.request = fresh.request.model_copy(update={"layers": list(fresh.trainer.config.layers)})
    session.become(fresh)
    return panels(request, session, controls=True, notice=notice)


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
async def change_config(request: Request, session: Current) -> Response:
    form = await request.form()
    # The lock and the rebuild must not block the event loop while another request trains this session.
    return await run_in_threadpool(_apply_config, request, session, form)


def _apply_config(request: Request, session: Session, form) -> Response:
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
                    getattr(merged, f) != cfg[f] for f in RESET_FIELDS):
                # New data or functions may change the input and output sizes; the hidden layers stay.
                merged = merged.model_copy(update={"layers": None, "weights": None, "biases": None})
                return _rebuild(request, session, merged, notice, hidden=cfg["layers"][1:-1])
            hyper = {k: getattr(merged, k) for k in HYPERPARAMETERS
                     if getattr(merged, k) != getattr(session.trainer.config, k)}
            session.trainer.reconfigure(**hyper)
            session.request = session.request.model_copy(update=hyper)
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
