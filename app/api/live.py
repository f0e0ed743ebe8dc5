"""Live rooms in the API: start and stop presenting a session. The room's event stream, GET /live/{code}/events, is the
page's (app/web/live_events.py)."""
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from app.api.deps import NO_SESSION, SessionDep
from app.api.schemas import ErrorMessage
from app.deps import room_url
from app.ratelimit import PAGE, Limited

router = APIRouter(tags=["live"])


class LiveRoom(BaseModel):
    code: str = Field(description="The join code: 6 letters and digits.")
    url: str = Field(description="The followers' page, /live/{code}.")
    events: str = Field(description="The room's event stream (text/event-stream).")
    expires: float = Field(description="Unix time at which the room ends unless the presenter changes something "
                                       "(each change moves it on).")


def _room_answer(request: Request, room) -> LiveRoom:
    url = room_url(request, room.code)
    return LiveRoom(code=room.code, url=url, events=url + "/events", expires=room.expires)


@router.post("/api/sessions/{session_id}/live", dependencies=[Limited(PAGE)], status_code=201, response_model=LiveRoom, responses={
    **NO_SESSION, 200: {"model": LiveRoom, "description": "The session already presents: its room."}})
def start_presenting(request: Request, session: SessionDep, response: Response) -> LiveRoom:
    """Present the session as a live room. Followers open `url` (or type `code` at /live) and watch every change
    of this session: steps, phases, rewinds and settings. Only this session drives the room."""
    with session.lock:
        room, new = request.app.state.live.start(session, lambda code: room_url(request, code))
    if not new:
        response.status_code = 200
    return _room_answer(request, room)


@router.post("/api/sessions/{session_id}/live/stop", dependencies=[Limited(PAGE)], status_code=204, responses={
    404: {"model": ErrorMessage, "description": "No session with this id, or it does not present a room."}})
def stop_presenting(request: Request, session: SessionDep) -> Response:
    """End the room: followers keep its last state, and may still take a copy of it for an hour."""
    with session.lock:
        room = request.app.state.live.stop(session)
    if room is None:
        raise HTTPException(404, "This session does not present a live room.")
    return Response(status_code=204)
