"""Request bodies over the cap are refused with 413 before the app holds them in memory, and bodies that take longer
than `seconds` to arrive with 408: a body trickled a byte at a time holds nothing for long.

Starlette's RequestBodyLimitMiddleware replaces any answer to an oversized request with a plain-text 413,
and FastAPI(max_body_size=...) sits outside the app's own middleware (no security headers); this one answers
JSON, like every other error, from inside them.
"""
import asyncio
import json
import time

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None, seconds: float = 30.0,
                 clock=time.monotonic):
        """`larger`: paths allowed more than max_bytes, and how much; `seconds`: the time a whole body may take."""
        self.app, self.max_bytes, self.larger = app, max_bytes, larger or {}
        self.seconds, self.clock = seconds, clock

    @staticmethod
    def message(cap: int) -> str:
        return f"The request is larger than the {cap:,}-byte limit; nothing was changed."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self.larger.get(scope["path"], self.max_bytes)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            body = json.dumps({"detail": self.message(cap)}).encode()
            await send({"type": "http.response.start", "status": 413,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                    (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})
            return
        seen, deadline, whole = 0, None, False

        async def limited() -> Message:  # a body without a length (chunked) is counted as it arrives
            nonlocal seen, deadline, whole
            if whole:  # after the body, only a disconnect comes (a stream waits for it): no time limit
                return await receive()
            if deadline is None:
                deadline = self.clock() + self.seconds
            try:
                async with asyncio.timeout(max(0.0, deadline - self.clock())):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, f"The request body did not arrive within {self.seconds:g} s; nothing was "
                                         "changed.") from None
            whole = message["type"] != "http.request" or not message.get("more_body", False)
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise HTTPException(413, self.message(cap))
            return message

        await self.app(scope, limited, send)
