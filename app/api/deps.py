"""The API routes' dependencies: the session of a path's id, snapshot ids, and the answers they document."""
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from app.quick import scheduler
from app.api.schemas import ErrorMessage
from app.core.session import Session
from app.deps import SESSION_ID, SNAPSHOT_ID, StoreDep
from app.engine import FieldError

__all__ = ["SESSION_ID", "SNAPSHOT_ID", "StoreDep", "SessionDep", "SnapshotId"]


async def get_session(store: StoreDep, session_id: Annotated[str, Path(pattern=SESSION_ID)]) -> Session:
    session = await scheduler.find(store, session_id)
    if session is None:
        raise HTTPException(404, "No session with this id; it may have expired. Create one with POST /api/sessions.")
    return session


SessionDep = Annotated[Session, Depends(get_session)]


async def no_body(request: Request) -> None:
    """For routes that take no body: one would have no effect, so it is a 422 rather than ignored."""
    if (await request.body()).strip():
        raise FieldError("body", "this request takes no body; leave it empty (to run a number of steps, POST "
                                 "{\"steps\": n} to /step).")
# For the OpenAPI responses of every route that takes a session id.
NO_SESSION = {404: {"model": ErrorMessage, "description": "No session with this id; it may have expired."}}


SnapshotId = Annotated[str, Path(pattern=SNAPSHOT_ID)]
NO_SNAPSHOT = {404: {"model": ErrorMessage, "description": "No snapshot with this id."}}
LIMITED = {429: {"model": ErrorMessage, "description": "Too many requests from this client (app/ratelimit.py); "
                                                        "the Retry-After header says when to try again."}}
# Every route that reads a body: PLAYGROUND_MAX_BODY_BYTES (PLAYGROUND_MAX_IMPORT_BYTES for import).
TOO_LARGE = {413: {"model": ErrorMessage, "description": "The request body is larger than the server accepts."}}
