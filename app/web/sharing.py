"""The page's share, export and import actions, and the share links /s/{snapshot_id}."""
import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.deps import SNAPSHOT_ID, StoreDep
from app.engine import FieldError
from app.exports import numpy_snippet, torch_snippet, weights_npz
from app.core.document import SessionDocument, from_document, to_document
from app.quick import costs
from app.ratelimit import CREATE, READ, SESSION_QUOTA, SHARE, STORED_QUOTA, Limited, heavy_if, take_bytes

from .csrf import same_site_post
from .forms import error_text
from .render import templates
from .view_state import view_of
from .deps import Current, set_cookie
from .outcome import shared
from .panels import panels, replace

router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_post)])


@router.get("/s/{snapshot_id}", dependencies=[Limited(CREATE, SESSION_QUOTA)], name="open_share", response_class=HTMLResponse)
def open_share(request: Request, store: StoreDep, snapshot_id: str) -> Response:
    """A shared link: the visitor gets a session of their own, forked at exactly the snapshot."""
    try:
        session = store.fork(snapshot_id) if re.fullmatch(SNAPSHOT_ID, snapshot_id) else None
    except FieldError as exc:  # a snapshot from an older version whose settings this one no longer builds
        text = (f"This shared network was made with a setting that this version of the playground no longer "
                f"builds ({exc.field}: {exc.message}) Ask for a new link, or build the network again.")
        return templates.TemplateResponse(request, "error_page.html", {"title": "This share can't be opened",
                                                                       "text": text}, status_code=410)
    if session is None:
        return templates.TemplateResponse(request, "not_found.html", {"what": "shared network"}, status_code=404)
    view_of(session).notice = (f"This is your own copy of a shared network, at step {session.trainer.step_count}. "
                      "Train it as you like: the shared link stays as it was.")
    response = RedirectResponse("/", status_code=303)
    set_cookie(response, session)
    return response


@router.post("/ui/share", dependencies=[Limited(SHARE)])
def share(request: Request, store: StoreDep, session: Current) -> Response:
    with session.lock:
        snapshot_id = store.share(session)
        url = str(request.url_for("open_share", snapshot_id=snapshot_id))
        return panels(request, session, shared({"url": url, "step": session.trainer.step_count}))


@router.get("/ui/api-access", dependencies=[Limited(READ)], response_class=HTMLResponse)
def api_access(request: Request, session: Current, hide: bool = False) -> Response:
    """This session's address in the JSON API, shown only when its learner asks (the page never prints it), and
    never while it presents a live room: a projected page would hand the room's controls to everyone."""
    with session.lock:
        presenting = request.app.state.live.room_of(session) is not None
        shown = None if hide or presenting else {"url": str(request.url_for("read_session", session_id=session.id))}
    return templates.TemplateResponse(request, "partials/api_access.html",
                                      {"live_present": presenting, "api_access": shown, "oob": False},
                                      headers={"Cache-Control": "no-store"})


def _download(session, data: bytes | str, kind: str, media_type: str) -> Response:
    name = f"backprop-playground-step-{session.trainer.step_count}.{kind}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/ui/export.json", dependencies=[Limited(READ)])
def export_json(session: Current) -> Response:
    with session.lock:
        return _download(session, json.dumps(to_document(session), indent=1), "json", "application/json")


@router.get("/ui/weights.npz", dependencies=[Limited(READ)])
def export_npz(session: Current) -> Response:
    with session.lock:
        return _download(session, weights_npz(session), "npz", "application/octet-stream")


@router.get("/ui/python", dependencies=[Limited(READ)], response_class=HTMLResponse)
def python(request: Request, session: Current) -> Response:
    with session.lock:
        snippets = {"numpy": numpy_snippet(session), "pytorch": torch_snippet(session)}
        return templates.TemplateResponse(request, "partials/python.html",
                                          {"snippets": snippets, "step": session.trainer.step_count})


@router.post("/ui/import", dependencies=[Limited(CREATE, SESSION_QUOTA)])
def import_state(request: Request, session: Current, file: Annotated[UploadFile, File()]) -> Response:
    """Restore a downloaded JSON state into this browser's session."""
    data = file.file.read()  # at most PLAYGROUND_MAX_IMPORT_BYTES: app.body_limit refuses larger bodies unread
    take_bytes(request, STORED_QUOTA, len(data))  # the address's quota of stored bytes
    with session.lock:
        try:
            try:
                doc = SessionDocument.model_validate_json(data)
            except ValidationError as exc:
                if any(e["type"] == "json_invalid" for e in exc.errors()):
                    raise FieldError("file", "this is not a JSON file saved by Download JSON.") from None
                raise
            heavy_if(costs.build_cost(doc.request))  # a large network's import waits while its address is in debt
            restored = from_document(doc, session.id)
        except (ValidationError, FieldError) as exc:
            message = error_text(exc)
            return panels(request, session, shared(None, errors={"import": message}))
        return replace(request, session, restored, f"importing {file.filename or 'a file'}",
                       detailed=restored.detailed,
                       notice=f"Imported {file.filename or 'the file'}: step {restored.trainer.step_count}.")
