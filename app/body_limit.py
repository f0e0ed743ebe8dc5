"""Request bodies over the cap are refused with 413 before the app holds them in memory.

Starlette's RequestBodyLimitMiddleware replaces any answer to an oversized request with a plain-text 413,
and FastAPI(max_body_size=...) sits outside the app's own middleware (no security headers); this one answers
JSON, like every other error, from inside them.
"""
import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None):
        """`larger`: paths allowed more than max_bytes, and how much."""
        self.app, self.max_bytes, self.larger = app, max_bytes, larger or {}

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
        seen = 0

        async def limited() -> Message:  # a body without a length (chunked) is counted as it arrives
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise HTTPException(413, self.message(cap))
            return message

        await self.app(scope, limited, send)
