"""Error answers: 422 naming the field, 409 for a refused diverging step, 503 while the store is unreachable, and no
tracebacks ever."""
import logging
import sqlite3
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException

from app.engine import DivergenceError, FieldError
from app.store.backend import SessionBusy

log = logging.getLogger("app")


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "path", "query")]
    return ".".join(parts) or "body"


def field_error(field: str, message: str) -> dict:
    return {"loc": ["body", *field.split(".")], "field": field, "msg": f"{field}: {message}", "type": "value_error"}


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = []
    for err in exc.errors():
        field = _field_name(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "json_invalid":
            field, msg = "body", "The body is not valid JSON."
        detail.append({"loc": list(err["loc"]), "field": field, "msg": f"{field}: {msg}", "type": err["type"]})
    return JSONResponse({"detail": detail}, status_code=422)


async def on_http_error(request: Request, exc: HTTPException) -> Response:
    # FastAPI answers a body it cannot parse (not UTF-8 text, or JSON nested deeper than the parser's recursion
    # limit) with a bare 400 whose detail is a string: it is invalid JSON, answered as every other bad body is.
    if exc.status_code == 400 and isinstance(exc.__cause__, (UnicodeDecodeError, RecursionError)):
        return JSONResponse({"detail": [{"loc": ["body"], "field": "body", "msg": "body: The body is not valid JSON.",
                                         "type": "json_invalid"}]}, status_code=422)
    return await http_exception_handler(request, exc)


async def on_field_error(request: Request, exc: FieldError) -> JSONResponse:
    return JSONResponse({"detail": [field_error(exc.field, exc.message)]}, status_code=422)


async def on_divergence(request: Request, exc: DivergenceError) -> JSONResponse:
    return JSONResponse({"detail": exc.message, "step": exc.step, "field": exc.cause}, status_code=409)


async def on_busy(request: Request, exc: SessionBusy) -> JSONResponse:
    return JSONResponse({"detail": "This session is busy with a long request; try again in a moment."},
                        status_code=503, headers={"Retry-After": "5"})


STORE_RETRY_SECONDS = 5
STORE_DOWN = ("The session store is not answering just now (it may be restarting); nothing was changed. "
              f"Try again in {STORE_RETRY_SECONDS} s.")


def _locked(exc: sqlite3.OperationalError) -> bool:
    """SQLite's own "try again later": another process held the file past the connection's timeout."""
    return any(words in str(exc) for words in ("database is locked", "database is busy", "database table is locked"))


def store_down_handler(error_page: Callable[[Request, str, str, int, dict], Response] | None = None):
    """The answer while the store is unreachable (Redis stopped, restarting or timing out; SQLite locked past its
    timeout): 503 with Retry-After and `{"detail": ...}` for the API and the page's htmx requests (whose message
    area shows the detail), and `error_page(request, title, text, status, headers)` for a page loaded without htmx.
    Any other SQLite error stays an internal error."""

    async def on_store_down(request: Request, exc: Exception) -> Response:
        if isinstance(exc, sqlite3.OperationalError) and not _locked(exc):
            return await on_unexpected(request, exc)
        log.warning("store unreachable on %s %s: %s", request.method, request.url.path, exc)
        headers = {"Retry-After": str(STORE_RETRY_SECONDS)}
        page = not request.url.path.startswith("/api/") and "hx-request" not in request.headers \
            and not request.headers.get("accept", "").startswith("application/json")
        if page and error_page is not None:
            return error_page(request, "Try again in a moment", STORE_DOWN, 503, headers)
        return JSONResponse({"detail": STORE_DOWN}, status_code=503, headers=headers)

    return on_store_down


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal error; nothing was changed."}, status_code=500)


def install(app: FastAPI, error_page: Callable[[Request, str, str, int, dict], Response] | None = None) -> None:
    """The error answers; `error_page` draws the page's own (app/web) for a page loaded without htmx."""
    on_store_down = store_down_handler(error_page)
    for unreachable in (RedisConnectionError, RedisTimeoutError, sqlite3.OperationalError):
        app.add_exception_handler(unreachable, on_store_down)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(FieldError, on_field_error)
    app.add_exception_handler(DivergenceError, on_divergence)
    app.add_exception_handler(SessionBusy, on_busy)
    app.add_exception_handler(Exception, on_unexpected)
