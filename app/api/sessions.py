"""JSON routes for sessions: create, read, step, epoch, predict."""
from fastapi import APIRouter, Body

from app.api.deps import SessionDep, StoreDep
from app.api.schemas import (CreateSession, GradientCheckResult, ParameterEdit, Prediction, PredictRequest,
                             RewindRequest, SessionState, StepRequest, StepResult)
from app.sessions import Session, build_session

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

DIVERGED = {409: {"description": "A step would have produced NaN or Inf; nothing was applied."}}


@router.post("", status_code=201, response_model=SessionState)
def create_session(store: StoreDep, req: CreateSession = Body(default_factory=CreateSession)) -> dict:
    session = build_session(req)
    store.add(session)
    return session.state()


@router.get("/{session_id}", response_model=SessionState)
def read_session(session: SessionDep) -> dict:
    with session.lock:
        return session.state()


def _train(session: Session, steps: int | None) -> dict:
    with session.lock:
        session.train(steps)
        return {**session.state(), "trace": session.last_trace.as_dict()}


@router.post("/{session_id}/step", response_model=StepResult, responses=DIVERGED)
def step_session(session: SessionDep, req: StepRequest = Body(default_factory=StepRequest)) -> dict:
    return _train(session, req.steps)


@router.post("/{session_id}/epoch", response_model=StepResult, responses=DIVERGED)
def run_epoch(session: SessionDep) -> dict:
    return _train(session, None)


@router.post("/{session_id}/predict", response_model=Prediction)
def predict(session: SessionDep, req: PredictRequest) -> dict:
    with session.lock:
        return session.predict(req.inputs)


@router.post("/{session_id}/gradient-check", response_model=GradientCheckResult, response_model_by_alias=True)
def check_gradients(session: SessionDep) -> dict:
    """Backprop's gradient on the next batch against finite differences, for every parameter."""
    with session.lock:
        return session.gradient_check()


@router.post("/{session_id}/rewind", response_model=SessionState)
def rewind_session(session: SessionDep, req: RewindRequest) -> dict:
    """Return exactly to a kept step: weights, optimizer state, batch position and loss curve."""
    with session.lock:
        session.rewind(req.step)
        return session.state()


@router.post("/{session_id}/parameters", response_model=SessionState)
def edit_parameter(session: SessionDep, req: ParameterEdit) -> dict:
    """Set one weight or bias. Nothing else changes."""
    with session.lock:
        session.set_parameter(req.kind, req.layer, req.to, req.source, req.value)
        return session.state()
