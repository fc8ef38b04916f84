"""A request-body size limit per route, applied while the body streams in.

Written here because neither uvicorn nor Starlette limits a body's size: an upload route would read
a chunked body of any length to disk before its handler could refuse it. This refuses a declared
Content-Length at once, and a streamed body as soon as its count passes the limit.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import PayloadTooLarge
from demo.errors import note_refusal


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits  # path → largest body in bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(f"The upload is larger than the {limit / 2**20:.0f} MB limit.")
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(too_large, scope, receive, send)
            return
        received, refused = 0, False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit and not refused:
                refused = True
                await _refuse(too_large, scope, receive, send)
                raise too_large  # stops the route; whatever it answers next is dropped below
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except PayloadTooLarge:
            if not refused:
                raise


async def _refuse(exc: PayloadTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
    note_refusal(scope, str(exc))
    await JSONResponse({"detail": str(exc)}, status_code=exc.status_code,
                       headers={"connection": "close"})(scope, receive, send)
