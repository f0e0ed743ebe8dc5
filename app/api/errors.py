"""Error answers: 422 naming the field, 409 for a refused diverging step, and no tracebacks ever."""
import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
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


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal error; nothing was changed."}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(FieldError, on_field_error)
    app.add_exception_handler(DivergenceError, on_divergence)
    app.add_exception_handler(SessionBusy, on_busy)
    app.add_exception_handler(Exception, on_unexpected)
