"""JSON routes for sessions: create, read, step, epoch, predict, share, export and import."""
from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import Response

from app import quick
from app.api.answers import prediction, session_state, step_result
from app.api.deps import LIMITED, NO_SESSION, TOO_LARGE, SessionDep, StoreDep, no_body
from app.deps import BudgetDep
from app.api.schemas import (CreateSession, GradientCheckResult, ParameterEdit, Prediction, PredictRequest,
                             PythonSnippets, RewindRequest, SessionState, Share, StepRequest, StepResult)
from app.core.document import SessionDocument, from_document, to_document
from app.core.session import Session, build_session
from app.exports import numpy_snippet, torch_snippet, weights_npz

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

DIVERGED = {**NO_SESSION, **LIMITED, **TOO_LARGE, 409: {"description": "A step would have produced NaN or Inf; nothing was applied."}}


@router.post("", status_code=201, response_model=SessionState, responses={**LIMITED, **TOO_LARGE})
def create_session(store: StoreDep, req: CreateSession = Body(default_factory=CreateSession)) -> Response:
    session = build_session(req)
    store.add(session)
    return quick.json_answer(SessionState, session_state(session), 201)


@router.post("/import", status_code=201, response_model=SessionState, responses={**LIMITED, **TOO_LARGE})
def import_session(store: StoreDep, doc: SessionDocument) -> Response:
    """A new session from a document saved by export: the same data, weights, optimizer state and step."""
    session = from_document(doc)
    store.add(session)
    return quick.json_answer(SessionState, session_state(session), 201)


@router.get("/import", include_in_schema=False)
def import_is_posted() -> Response:
    """Without this, GET /import would match /{session_id} and be refused as a malformed id (422)."""
    raise HTTPException(405, "Import is POST /api/sessions/import with an exported document.",
                        headers={"Allow": "POST"})


@router.get("/{session_id}", response_model=SessionState, responses=NO_SESSION)
def read_session(session: SessionDep) -> dict:
    with session.lock:
        return session_state(session)


def _train_held(session: Session, steps: int | None) -> dict:
    session.train(steps)
    return step_result(session)


@router.post("/{session_id}/step", response_model=StepResult, responses=DIVERGED)
async def step_session(store: StoreDep, budget: BudgetDep, session: SessionDep,
                       req: StepRequest = Body(default_factory=StepRequest)) -> Response:
    return await quick.locked(store, session, lambda: _train_held(session, req.steps),
                              quick.step_cost(session, req.steps), budget, answer=StepResult)


@router.post("/{session_id}/epoch", response_model=StepResult, responses=DIVERGED, dependencies=[Depends(no_body)])
async def run_epoch(store: StoreDep, budget: BudgetDep, session: SessionDep) -> Response:
    """The steps to the end of the current epoch. It takes no body (one would have no effect, so it is refused)."""
    return await quick.locked(store, session, lambda: _train_held(session, None),
                              quick.step_cost(session, session.trainer.steps_to_epoch_end()), budget,
                              answer=StepResult)


@router.post("/{session_id}/predict", response_model=Prediction, responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
def predict(session: SessionDep, req: PredictRequest) -> Response:
    with session.lock:
        answer = prediction(session, req.inputs)
    return quick.json_answer(Prediction, answer)


@router.post("/{session_id}/gradient-check", response_model=GradientCheckResult, response_model_by_alias=True,
             responses={**NO_SESSION, **LIMITED})
def check_gradients(session: SessionDep) -> dict:
    """Backprop's gradient on the next batch against finite differences, for every parameter."""
    with session.lock:
        return session.gradient_report()


@router.post("/{session_id}/rewind", response_model=SessionState, responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
def rewind_session(session: SessionDep, req: RewindRequest) -> dict:
    """Return exactly to a kept step, earlier or later (redo): weights, optimizer state, batch position and loss
    curve. The kept steps after it stay until the next step or parameter edit."""
    with session.lock:
        session.rewind(req.step)
        return session_state(session)


@router.post("/{session_id}/parameters", response_model=SessionState,
             responses={**NO_SESSION, **LIMITED, **TOO_LARGE})
def edit_parameter(session: SessionDep, req: ParameterEdit) -> dict:
    """Set one weight or bias. Nothing else changes."""
    with session.lock:
        session.set_parameter(req.kind, req.layer, req.to, req.source, req.value)
        return session_state(session)


@router.post("/{session_id}/share", status_code=201, response_model=Share, responses={**NO_SESSION, **LIMITED})
def share_session(request: Request, store: StoreDep, session: SessionDep) -> dict:
    """Freeze the current state as an immutable snapshot; whoever opens its URL gets their own copy."""
    with session.lock:
        snapshot_id = store.share(session)
    return {"snapshot_id": snapshot_id, "url": str(request.url_for("open_share", snapshot_id=snapshot_id))}


@router.get("/{session_id}/export", response_model=SessionDocument, response_model_exclude_none=True,
            responses=NO_SESSION)
def export_session(session: SessionDep) -> dict:
    """Everything needed to continue this session elsewhere; POST it to /api/sessions/import."""
    with session.lock:
        return to_document(session)


@router.get("/{session_id}/weights.npz", response_class=Response,
            responses={**NO_SESSION, 200: {
                "content": {"application/octet-stream": {}},
                "description": "np.load() gives W1, b1, W2, b2, ... (W of shape (out, in)) and layers."}})
def export_weights(session: SessionDep) -> Response:
    with session.lock:
        data = weights_npz(session)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": 'attachment; filename="weights.npz"'})


@router.get("/{session_id}/python", response_model=PythonSnippets, responses=NO_SESSION)
def python_snippets(session: SessionDep) -> dict:
    """Short NumPy and PyTorch programs that rebuild the network with its current weights."""
    with session.lock:
        return {"numpy": numpy_snippet(session), "pytorch": torch_snippet(session)}
