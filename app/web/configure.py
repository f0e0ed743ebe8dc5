"""Changing the setup from the page: the settings form, the shape buttons, Reset, New seed and Regenerate."""
import random
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.core.options import BY_FIELD, OPTIONS
from app.core.recipe import CreateSession
from app.engine import FieldError
from app.engine.losses import COMPATIBLE_OUTPUTS
from app.ratelimit import Limited, REBUILD

from .csrf import same_site_post
from .deps import Current, FormDep
from .forms import config_changes, control_errors, page_changes
from .outcome import configured, looked
from .panels import panels, rebuild
from .render import PAGE_MAX_HIDDEN_LAYERS, PAGE_MAX_NEURONS

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])
# Changing these starts a new network (so does new data); the other settings keep the weights.
REBUILDING = tuple(o.field for o in OPTIONS if o.rebuilds and not o.is_data)
KEEPING = tuple(o.field for o in OPTIONS if not o.rebuilds and not o.is_page)


@router.post("/ui/reset", dependencies=[Limited(REBUILD)])
def reset(request: Request, session: Current) -> Response:
    with session.lock:
        return rebuild(request, session, session.request, "Reset")


@router.post("/ui/new-seed", dependencies=[Limited(REBUILD)])
def new_seed(request: Request, session: Current) -> Response:
    with session.lock:
        seed = random.SystemRandom().randrange(2**31)
        dataset = session.request.dataset.model_copy(update={"seed": None})
        req = session.request.model_copy(update={"seed": seed, "dataset": dataset, "weights": None, "biases": None})
        return rebuild(request, session, req, "New seed")


@router.post("/ui/regenerate", dependencies=[Limited(REBUILD)])
def regenerate(request: Request, session: Current) -> Response:
    with session.lock:
        dataset = session.request.dataset.model_copy(update={"seed": random.SystemRandom().randrange(2**31)})
        return rebuild(request, session, session.request.model_copy(update={"dataset": dataset}), "new data")


@router.post("/ui/config", dependencies=[Limited(REBUILD)])
def change_config(request: Request, session: Current, form: FormDep) -> Response:
    with session.lock:
        cfg = session.config()
        try:
            page = page_changes(form)
        except FieldError as exc:
            return panels(request, session, configured(errors=control_errors(exc)))
        changes = config_changes(form, cfg)
        notice = None
        if changes.get("output_activation", cfg["output_activation"]) != cfg["output_activation"]:
            changes, notice = _compatible_loss(changes, cfg["loss"])
        try:
            merged = CreateSession(**{**cfg, **changes, "weights": session.request.weights,
                                      "biases": session.request.biases})
            session.page.transport.set(**page)
            if merged.dataset.model_dump(exclude_none=True) != cfg["dataset"] or any(
                    getattr(merged, f) != cfg[f] for f in REBUILDING):
                # New data or functions may change the input and output sizes; the hidden layers stay.
                what = _rebuilding_change(merged, cfg)
                merged = merged.model_copy(update={"layers": None, "weights": None, "biases": None})
                return rebuild(request, session, merged, what, notice, hidden=cfg["layers"][1:-1])
            session.reconfigure(**{k: getattr(merged, k) for k in KEEPING})
        except (ValidationError, FieldError) as exc:
            return panels(request, session, configured(errors=control_errors(exc)))
        return panels(request, session, configured())


def _rebuilding_change(merged: CreateSession, cfg: dict) -> str:
    """The settings that start a new network, in words, as Back names the change: "changing Loss"."""
    labels = [BY_FIELD[f].control.label for f in REBUILDING
              if getattr(merged, f) != cfg[f] and BY_FIELD[f].control is not None]
    if merged.dataset.model_dump(exclude_none=True) != cfg["dataset"]:
        labels.insert(0, "the data")
    return "changing " + (", ".join(labels) or "the settings")


def _compatible_loss(changes: dict, current_loss: str) -> tuple[dict, str | None]:
    """Switching the output activation moves the loss to one it can be trained with, and says so."""
    out, loss = changes["output_activation"], changes.get("loss", current_loss)
    if loss in COMPATIBLE_OUTPUTS and out in COMPATIBLE_OUTPUTS[loss]:
        return changes, None
    new = next((name for name, outs in COMPATIBLE_OUTPUTS.items() if out in outs), None)
    if new is None:  # an unknown activation: validation names it next to its control
        return changes, None
    return {**changes, "loss": new}, f"Loss switched to {new}: {out} outputs are trained with it."


@router.post("/ui/shape", dependencies=[Limited(REBUILD)])
def change_shape(request: Request, session: Current,
                 action: Annotated[str, Form(pattern="^(add-layer|remove-layer|add-neuron|remove-neuron)$")],
                 layer: Annotated[int, Form(ge=1, le=6)] = 1) -> Response:
    with session.lock:
        layers = list(session.trainer.config.layers)
        hidden = layers[1:-1]
        if action == "add-layer" and len(hidden) < PAGE_MAX_HIDDEN_LAYERS:
            hidden.append(hidden[-1] if hidden else 2)
        elif action == "remove-layer" and hidden:
            hidden.pop()
        elif action == "add-neuron" and layer <= len(hidden) and hidden[layer - 1] < PAGE_MAX_NEURONS:
            hidden[layer - 1] += 1
        elif action == "remove-neuron" and layer <= len(hidden) and hidden[layer - 1] > 1:
            hidden[layer - 1] -= 1
        if hidden == layers[1:-1]:  # nothing to change: keep the trained network
            return panels(request, session, looked())
        req = session.request.model_copy(update={"layers": [layers[0], *hidden, layers[-1]], "weights": None,
                                                 "biases": None})
        return rebuild(request, session, req, "changing the layers")
