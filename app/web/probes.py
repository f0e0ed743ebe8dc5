"""Looking into the network from the page: the inspector, setting a weight or bias, Predict, the gradient check."""
import math
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from pydantic import ValidationError

from app.quick import costs
from app.core.recipe import ParameterEdit
from app.core.session import Session
from app.ratelimit import CHECK, PAGE, PREDICT, Limited, heavy_if
from app.engine import FieldError
from app.views import gradient_check as gradient_check_view
from app.views.shown import from_forward

from .csrf import same_site_post
from .deps import Current, FormDep
from .forms import error_text
from .outcome import edited, gradient_checked, inspected, looked, predicted
from .panels import panels
from .render import inspector_for, templates
from .view_state import view_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.post("/ui/gradient-check", dependencies=[Limited(CHECK)])
async def gradient_check(request: Request, session: Current) -> Response:
    heavy_if(costs.check_cost(session))  # known on the loop: heavy work takes its address's turn in the threadpool
    return await run_in_threadpool(_gradient_check, request, session)


def _gradient_check(request: Request, session: Session) -> Response:
    with session.lock:
        try:
            result = gradient_check_view.build(session)
        except FieldError as exc:
            return panels(request, session, looked(message=exc.message))
        return panels(request, session, gradient_checked(result))


@router.post("/ui/predict", dependencies=[Limited(PREDICT)])
def predict(request: Request, session: Current, form: FormDep) -> Response:
    with session.lock:
        names = session.dataset.input_names
        try:
            raw = [float(form.get(f"input_{k}", "")) for k in range(len(names))]
            if not all(math.isfinite(v) and abs(v) <= 1e6 for v in raw):
                raise ValueError
        except ValueError:
            return panels(request, session, predicted(None, errors={"predict": "Enter a number (up to 1e6) for "
                                                                               "every input."}))
        words = ", ".join(f"{n} = {v:g}" for n, v in zip(names, raw))
        view = view_of(session)
        view.forget()
        view.show(from_forward(session, "predict", np.array([raw]), words))
        return panels(request, session, predicted(raw))


@router.post("/ui/edit", dependencies=[Limited(PAGE)])
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
                return panels(request, session, looked(message=f"Nothing was edited. {message}"))
            return panels(request, session, inspected(target, errors={"edit": message}))
        rows, _, _ = session.trainer.next_batch()
        raw = session.dataset.raw_train_x[rows]
        view_of(session).show(from_forward(session, "edit", raw, f"the next batch ({len(rows)} "
                                                                 f"row{'s' * (len(rows) != 1)}) after the edit",
                                           rows.tolist()))
        return panels(request, session, edited((req.kind, req.layer, req.source, req.to),
                                               notice=f"Set {req.kind} to {req.value:g}. Nothing else changed."))


@router.get("/ui/inspect", dependencies=[Limited(PAGE)])
def inspect(request: Request, session: Current, kind: str, layer: int, to: int,
            source: int | None = Query(None, alias="from")) -> Response:
    """A look at one edge or node, without selecting it."""
    with session.lock:
        return templates.TemplateResponse(request, "partials/inspector.html",
                                          {"inspector": inspector_for(session, kind, layer, source, to),
                                           "inspector_step": session.trainer.step_count, "oob": False, "errors": {}})


@router.post("/ui/inspect", dependencies=[Limited(PAGE)])
def select(request: Request, session: Current, kind: Annotated[str, Form()], layer: Annotated[int, Form()],
           to: Annotated[int, Form()], source: Annotated[int | None, Form(alias="from")] = None) -> Response:
    """Select an edge or a node: the inspector shows it now and follows every later change of state."""
    with session.lock:
        target = (kind, layer, source, to)
        found = inspector_for(session, *target)
        view_of(session).selected = target if found is not None else None
        return templates.TemplateResponse(request, "partials/inspector.html",
                                          {"inspector": found, "inspector_step": session.trainer.step_count,
                                           "oob": False, "errors": {}})


@router.post("/ui/inspect/close", dependencies=[Limited(PAGE)], status_code=204)
def close_inspector(session: Current) -> Response:
    """Nothing selected: the inspector closes and is no longer drawn."""
    with session.lock:
        view_of(session).selected = None
    return Response(status_code=204)
