"""Error answers: one line of JSON, `{"error": ...}`, under 1 KB, for every status the server gives."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

MAX_BODY_BYTES = 1000
"""An error body stays under 1 KB, whatever the message quotes from the request."""


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """`{"error": message}` with `status`; a message too long for 1 KB is cut and ends in '...'."""
    return JSONResponse({"error": fit_message(message)}, status_code=status, headers=headers)


def fit_message(message: str) -> str:
    message = " ".join(message.split())  # one line, whatever was quoted
    while len(json.dumps({"error": message}).encode()) > MAX_BODY_BYTES:
        message = message[:len(message) * 3 // 4].rstrip() + "..."
    return message


def install_error_handlers(app: FastAPI) -> None:
    """FastAPI's own 404, 405 and validation answers in our one-line shape (its 422 lists every error)."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = {404: f"no such path: {request.url.path}; the API is POST /predict, GET /info, /health, /metrics",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return error(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        more = f" (and {len(errors) - 1:,} more problem(s))" if len(errors) > 1 else ""
        return error(422, f"invalid request: {where}: {first.get('msg', 'invalid value')}{more}")
