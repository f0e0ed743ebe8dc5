"""JSON routes for shared snapshots: read one, or fork it into a new session. Snapshots never change."""
from fastapi import APIRouter, HTTPException

from app.api.answers import session_state
from app.api.deps import LIMITED, NO_SNAPSHOT, SnapshotId, StoreDep
from app.api.schemas import SessionState
from app.ratelimit import CREATE, Limited, READ, SESSION_QUOTA

router = APIRouter(prefix="/api/snapshots", tags=["snapshots"])

UNKNOWN = "No snapshot with this id. Check the link; shared snapshots never expire."


@router.get("/{snapshot_id}", dependencies=[Limited(READ)], response_model=SessionState, responses=NO_SNAPSHOT)
def read_snapshot(store: StoreDep, snapshot_id: SnapshotId) -> dict:
    """The snapshot's state, in the shape of a session's; `id` is the snapshot id."""
    session = store.snapshot(snapshot_id)
    if session is None:
        raise HTTPException(404, UNKNOWN)
    return session_state(session)


@router.post("/{snapshot_id}/fork", dependencies=[Limited(CREATE, SESSION_QUOTA)], status_code=201, response_model=SessionState,
             responses={**NO_SNAPSHOT, **LIMITED})
def fork_snapshot(store: StoreDep, snapshot_id: SnapshotId) -> dict:
    """A new session of your own at exactly the snapshot's state."""
    session = store.fork(snapshot_id)
    if session is None:
        raise HTTPException(404, UNKNOWN)
    return session_state(session)
