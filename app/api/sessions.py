"""JSON routes for sessions: create, read, step, epoch, predict."""
from fastapi import APIRouter, Body

from app.api.deps import SessionDep, StoreDep
from app.api.schemas import CreateSession, Prediction, PredictRequest, SessionState, StepRequest, StepResult
from app.engine import FieldError
from app.sessions import Session, build_session
from app.settings import get_settings

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
    """Run `steps` steps, or to the end of the epoch when None, and answer with the state and last trace."""
    with session.lock:
        trainer = session.trainer
        n = trainer.steps_to_epoch_end() if steps is None else steps
        cap = get_settings().max_sample_passes_per_request
        if n * trainer.batch_size > cap:
            raise FieldError("steps", f"{n} steps of {trainer.batch_size} rows is more than the {cap} sample passes "
                                      "one request may run; ask for fewer steps.")
        session.last_trace = trainer.run(n)
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
