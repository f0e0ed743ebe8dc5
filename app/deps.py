"""What the page's and the API's routes both depend on: the session store, the work budget, and the form of ids."""
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel

from app.ratelimit import Budget, get_budget
from app.store import SessionStore

SESSION_ID = r"^[0-9a-f]{32}$"  # secrets.token_hex(16): 128 random bits
SNAPSHOT_ID = r"^[A-Za-z0-9_-]{16}$"  # secrets.token_urlsafe(12): 96 random bits


async def get_store(request: Request) -> SessionStore:
    return request.app.state.sessions


StoreDep = Annotated[SessionStore, Depends(get_store)]


BudgetDep = Annotated[Budget, Depends(get_budget)]


def room_url(request: Request, code: str) -> str:
    """A live room's followers' page, /live/{code}, as the request's own host sees it."""
    return str(request.url_for("follow_room", code=code))


class ErrorMessage(BaseModel):
    """Every error answer's body, as the OpenAPI schema documents it (the page's and the API's routes alike)."""

    detail: str
