"""JSON routes for sessions: create, read, step, epoch, predict, share, export and import."""
from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.quick import costs, json_parts, scheduler
from app.api.answers import gradient_report, prediction, session_state, step_result
from app.api.deps import LIMITED, NO_SESSION, TOO_LARGE, SessionDep, StoreDep, no_body
from app.deps import BudgetDep
from app.api.schemas import (CreateSession, GradientCheckResult, ParameterEdit, Prediction, PredictRequest,
                             PythonSnippets, RewindRequest, SessionState, Share, StepRequest, StepResult)
from app.core.document import SessionDocument, from_document, to_document
from app.core.session import Session, build_session
from app.exports import numpy_snippet, torch_snippet, weights_npz
from app.ratelimit import (CHECK, CREATE, PAGE, PREDICT, READ, SESSION_QUOTA, SHARE, STORED_QUOTA, TRAIN, WORK, Limited,
                           heavy_if, take_bytes)

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

DIVERGED = {**NO_SESSION, **LIMITED, **TOO_LARGE, 409: {"description": "A step would have produced NaN or Inf; nothing was applied."}}


@router.post("", dependencies=[Limited(CREATE, SESSION_QUOTA)], status_code=201, response_model=SessionState, responses={**LIMITED, **TOO_LARGE})
async def create_session(request: Request, store: StoreDep,
                         req: CreateSession = Body(default_factory=CreateSession)) -> Response:
    # Heavy or not is known before the work goes to the threadpool, where heavy work takes turns (app/ratelimit).
    heavy_if(costs.build_cost(req))
    take_bytes(request, STORED_QUOTA, len(req.dataset.csv or ""))
    return await run_in_threadpool(_create, store, req)


def _create(store, req: CreateSession) -> Response:
    session = build_session(req)
    store.add(session)
    return json_parts.json_answer(SessionState, session_state(session), 201)


@router.post("/import", dependencies=[Limited(CREATE, SESSION_QUOTA)], status_code=201, response_model=SessionState, responses={**LIMITED, **TOO_LARGE})
async def import_session(request: Request, store: StoreDep, doc: SessionDocument) -> Response:
    """A new session from a document saved by export: the same data, weights, optimizer state and step."""
    heavy_if(costs.build_cost(doc.request))
    take_bytes(request, STORED_QUOTA, int(request.headers.get("content-length") or 0))
    return await run_in_threadpool(_import, store, doc)


def _import(store, doc: SessionDocument) -> Response:
    session = from_document(doc)
    store.add(session)
    return json_parts.json_answer(SessionState, session_state(session), 201)


@router.get("/import", dependencies=[Limited(free="answers 405: nothing to do")], include_in_schema=False)
def import_is_posted() -> Response:
    """Without this, GET /import would match /{session_id} and be refused as a malformed id (422)."""
    raise HTTPException(405, "Import is POST /api/sessions/import with an exported document.",
                        headers={"Allow": "POST"})


@router.get("/{session_id}", dependencies=[Limited(READ)], response_model=SessionState, responses=NO_SESSION)
def read_session(session: SessionDep) -> dict:
    with session.lock:
        return session_state(session)


def _train_held(session: Session, steps: int | None) -> dict:
    session.train(steps)
    return step_result(session)


@router.post("/{session_id}/step", dependencies=[Limited(TRAIN, WORK)], response_model=StepResult, responses=DIVERGED)
async def step_session(store: StoreDep, budget: BudgetDep, session: SessionDep,
                       req: StepRequest = Body(default_factory=StepRequest)) -> Response:
    session.check_steps(req.steps)  # a request too large is refused before its work is charged
    return await scheduler.locked(store, session, lambda: _train_held(session, req.steps), costs.Steps(req.steps),
                                  budget, answer=StepResult)


@router.post("/{session_id}/epoch", dependencies=[Depends(no_body), Limited(TRAIN, WORK)], response_model=StepResult,
             responses=DIVERGED)
async def run_epoch(store: StoreDep, budget: BudgetDep, session: SessionDep) -> Response:
    """The steps to the end of the current epoch. It takes no body (one would have no effect, so it is refused)."""
    return await scheduler.locked(store, session, lambda: _train_held(session, None),
                                  costs.Steps(session.trainer.steps_to_epoch_end()), budget, answer=StepResult)


@router.post("/{session_id}/predict", dependencies=[Limited(PREDICT)], response_model=Prediction, responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
async def predict(session: SessionDep, req: PredictRequest) -> Response:
    heavy_if(len(req.inputs) * session.trainer.net.n_params)
    return await run_in_threadpool(_predict, session, req.inputs)


def _predict(session: Session, inputs) -> Response:
    with session.lock:
        answer = prediction(session, inputs)
    return json_parts.json_answer(Prediction, answer)


@router.post("/{session_id}/gradient-check", dependencies=[Limited(CHECK)], response_model=GradientCheckResult, response_model_by_alias=True,
             responses={**NO_SESSION, **LIMITED})
async def check_gradients(session: SessionDep) -> dict:
    """Backprop's gradient on the next batch against finite differences, for every parameter."""
    heavy_if(costs.check_cost(session))
    return await run_in_threadpool(_check, session)


def _check(session: Session) -> dict:
    with session.lock:
        return gradient_report(session)


@router.post("/{session_id}/rewind", dependencies=[Limited(PAGE)], response_model=SessionState, responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
def rewind_session(session: SessionDep, req: RewindRequest) -> dict:
    """Return exactly to a kept step, earlier or later (redo): weights, optimizer state, batch position and loss
    curve. The kept steps after it stay until the next step or parameter edit."""
    with session.lock:
        session.rewind(req.step)
        return session_state(session)


@router.post("/{session_id}/parameters", dependencies=[Limited(PAGE)], response_model=SessionState,
             responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
def edit_parameter(session: SessionDep, req: ParameterEdit) -> dict:
    """Set one weight or bias. Nothing else changes."""
    with session.lock:
        session.set_parameter(req.kind, req.layer, req.to, req.source, req.value)
        return session_state(session)


@router.post("/{session_id}/share", dependencies=[Limited(SHARE)], status_code=201, response_model=Share, responses={**NO_SESSION, **LIMITED})
def share_session(request: Request, store: StoreDep, session: SessionDep) -> dict:
    """Freeze the current state as an immutable snapshot; whoever opens its URL gets their own copy."""
    with session.lock:
        snapshot_id = store.share(session)
    return {"snapshot_id": snapshot_id, "url": str(request.url_for("open_share", snapshot_id=snapshot_id))}


@router.get("/{session_id}/export", dependencies=[Limited(READ)], response_model=SessionDocument, response_model_exclude_none=True,
            responses=NO_SESSION)
def export_session(session: SessionDep) -> dict:
    """Everything needed to continue this session elsewhere; POST it to /api/sessions/import."""
    with session.lock:
        return to_document(session)


@router.get("/{session_id}/weights.npz", dependencies=[Limited(READ)], response_class=Response,
            responses={**NO_SESSION, 200: {
                "content": {"application/octet-stream": {}},
                "description": "np.load() gives W1, b1, W2, b2, ... (W of shape (out, in)) and layers."}})
def export_weights(session: SessionDep) -> Response:
    with session.lock:
        data = weights_npz(session)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": 'attachment; filename="weights.npz"'})


@router.get("/{session_id}/python", dependencies=[Limited(READ)], response_model=PythonSnippets, responses=NO_SESSION)
def python_snippets(session: SessionDep) -> dict:
    """Short NumPy and PyTorch programs that rebuild the network with its current weights."""
    with session.lock:
        return {"numpy": numpy_snippet(session), "pytorch": torch_snippet(session)}
