"""Shared route dependencies."""
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from app.sessions import Session, SessionStore

SESSION_ID = r"^[0-9a-f]{32}$"


def get_store(request: Request) -> SessionStore:
    return request.app.state.sessions


StoreDep = Annotated[SessionStore, Depends(get_store)]


def get_session(store: StoreDep, session_id: Annotated[str, Path(pattern=SESSION_ID)]) -> Session:
    session = store.get(session_id)
    if session is None:
        raise HTTPException(404, "No session with this id; it may have expired. Create one with POST /api/sessions.")
    return session


SessionDep = Annotated[Session, Depends(get_session)]
