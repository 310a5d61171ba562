"""Limits on one request: the body's size (ASGI middleware) and how long its headers may take to arrive
(uvicorn's HTTP protocol, which has no deadline of its own for them)."""

from __future__ import annotations

import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fineclass.serving.batcher import QueueFull
from fineclass.serving.responses import error

logger = logging.getLogger(__name__)


class BodyCap:
    """ASGI middleware: refuse a body over `cap` bytes before it is parsed.

    A declared content-length over the cap is refused before anything is read; a chunked body is counted as it
    arrives and answered 413 once past the cap. Plain ASGI rather than `@app.middleware("http")`, whose
    per-request task and streams cost the event loop more than the rest of a small request.
    """

    def __init__(self, app, cap: int):
        self.app, self.cap = app, cap

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.cap:
            await error(413, f"request body of {declared} bytes is over the limit of {self.cap}")(scope, receive, send)
            return
        received, refused, started = 0, False, False

        async def send_unless_refused(message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out already; what the app answers to the cut-off body is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def receive_under_cap():
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.cap and not refused and not started:
                await error(413, f"request body is over the limit of {self.cap} bytes")(scope, receive, send)
                refused = True
                return {"type": "http.disconnect"}  # the app stops reading
            return message

        await self.app(scope, receive_under_cap, send_unless_refused)


class Admission:
    """Requests inside /predict at once (reading, tokenizing, queued or in a forward pass), at most `limit`.

    One more is refused on entry, before its body is read or tokenized: a flood gets its 503s in
    milliseconds instead of each waiting its turn on the tokenizer's thread to learn that the queue is full.
    """

    def __init__(self, limit: int):
        self.limit, self.inside = limit, 0

    def __enter__(self) -> None:
        if self.inside >= self.limit:
            raise QueueFull(f"{self.inside} requests are being answered already")
        self.inside += 1

    def __exit__(self, *exc) -> None:
        self.inside -= 1


def header_deadline_protocol(seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, closing a connection whose request headers take over `seconds`.

    uvicorn waits for headers forever: a client sending one byte a second holds a connection, and enough of
    them hold every slot of `limit_concurrency`. The clock starts when the connection opens and again when
    a request's first byte arrives on a kept-alive connection (idle time there is uvicorn's keep-alive timeout).
    """

    class HeaderDeadlineProtocol(HttpToolsProtocol):
        header_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self.start_header_clock()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.header_timer is None:
                self.start_header_clock()

        def on_headers_complete(self) -> None:
            self.stop_header_clock()
            super().on_headers_complete()

        def connection_lost(self, exc) -> None:
            self.stop_header_clock()
            super().connection_lost(exc)

        def start_header_clock(self) -> None:
            self.header_timer = self.loop.call_later(seconds, self.headers_too_slow)

        def stop_header_clock(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def headers_too_slow(self) -> None:
            self.header_timer = None
            if self.transport.is_closing():
                return
            body = b'{"error": "request headers took over %g s to arrive; the connection is closed"}' % seconds
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                                 b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            self.transport.close()

    return HeaderDeadlineProtocol
