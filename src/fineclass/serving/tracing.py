"""Every request traced: an X-Request-ID on its answer, a JSON line in the access log, and its metrics.

The access log holds the id, method, path, status, number of texts, latency and client address; never the
texts, the headers (keys) or the query string.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from fineclass.serving.responses import error
from fineclass.serving.telemetry import Telemetry

logger = logging.getLogger(__name__)
access_log = logging.getLogger("fineclass.access")
"""One JSON object a line; `fineclass serve` writes it to stderr (see recipes/serve.py)."""
CLIENT_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
"""A client's own X-Request-ID is kept when it is this plain; anything else is replaced."""


class RequestTracing:
    """ASGI middleware, outermost: ids, the access log and metrics for every answer, and a one-line 500
    (with the id to look for in the log) for an exception that escaped the app."""

    def __init__(self, app, telemetry: Telemetry, routes: tuple[str, ...]):
        self.app, self.telemetry, self.routes = app, telemetry, routes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = client_request_id(scope["headers"]) or uuid.uuid4().hex
        status = None

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("request %s failed", request_id)
            if status is not None:
                raise  # the answer had begun: uvicorn closes the connection
            await error(500, f"internal error; the server's log has the details under request id {request_id}")(
                scope, receive, send_with_id)
        finally:
            path = scope["path"] if scope["path"] in self.routes else "other"
            seconds = time.perf_counter() - started
            self.telemetry.observe_request(path, status or 500, seconds)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(access_line(scope, request_id, path, status or 500, seconds))


def client_request_id(headers) -> str | None:
    value = next((v for k, v in headers if k == b"x-request-id"), None)
    return value.decode("ascii") if value is not None and CLIENT_ID.fullmatch(value) else None


def access_line(scope, request_id: str, path: str, status: int, seconds: float) -> str:
    client = scope.get("client") or (None,)
    return json.dumps({
        "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        "id": request_id, "method": scope["method"], "path": path, "status": status,
        "texts": scope.get("state", {}).get("texts"), "ms": round(seconds * 1000, 2), "client": client[0],
    })
