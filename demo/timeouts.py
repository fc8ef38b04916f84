"""Time limits for slow clients, which uvicorn 0.54 does not have.

Read from its source (protocols/http/h11_impl.py; httptools_impl.py is alike): the keep-alive timer is
armed only after a response and cancelled by any byte received, and nothing is armed when a
connection opens. So a client that connects and sends nothing, or sends its request line a byte at
a time (slowloris), holds its connection for ever; and the ASGI `receive()` waits for the next body
chunk for ever. `header_timeout_protocol` bounds the time to a complete request head; `BodyTimeout`
bounds the body's read (a longest silence between chunks, and a whole-body deadline).
"""

from __future__ import annotations

import asyncio
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol


def header_timeout_protocol(header_timeout_s: float, keep_alive_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request head is not complete within
    `header_timeout_s` of opening (or, on a kept-alive connection, of the keep-alive wait's end)."""

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _cycle_when_armed: object = None

        def _arm(self, delay: float) -> None:
            self._disarm()
            self._cycle_when_armed = self.cycle  # a new cycle is a new request whose head arrived
            self._header_timer = self.loop.call_later(delay, self._header_timeout)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timeout(self) -> None:
            self._header_timer = None
            if self.cycle is self._cycle_when_armed and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout_s)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not self._cycle_when_armed:
                self._disarm()

        def on_response_complete(self) -> None:
            cycle = self.cycle
            super().on_response_complete()
            if not self.transport.is_closing() and self.cycle is cycle:  # no pipelined request started
                self._arm(keep_alive_s + header_timeout_s)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


class BodyTimedOut(Exception):
    """Raised into the route once the 408 is sent: it stops reading a body that will not come."""


class BodyTimeout:
    """408 when a request body's next chunk takes longer than `idle_s`, or the whole body longer than
    `total_s` (counted from the request's start). Once the body is in, `receive()` is left alone:
    apps wait on it for the client's disconnect."""

    def __init__(self, app: ASGIApp, idle_s: float, total_s: float) -> None:
        self.app = app
        self.idle_s = idle_s
        self.total_s = total_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.total_s
        body_done = timed_out = started = False

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()
            wait = min(self.idle_s, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:
                timed_out = True
                if not started:
                    await JSONResponse({"detail": "The request body came too slowly."}, status_code=408,
                                       headers={"connection": "close"})(scope, receive, send)
                raise BodyTimedOut from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not timed_out:
                started = True
                await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except BodyTimedOut:
            if started:  # the response was under way: nothing to answer, the connection is dropped
                raise
