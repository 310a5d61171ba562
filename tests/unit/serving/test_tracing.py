"""The outermost middleware: a request id on every answer, a one-line 500 for an escaped exception, the
access log; and the body cap under it."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from fineclass.serving.limits import BodyCap
from fineclass.serving.telemetry import Telemetry
from fineclass.serving.tracing import RequestTracing


def call(app, headers=(), body_chunks=(b"",)):
    """Run one HTTP request through an ASGI app; returns the messages it sent and the status the metrics saw."""
    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": list(headers), "client": ("10.0.0.7", 5)}
    chunks, sent = list(body_chunks), []

    async def receive():
        body = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_an_escaped_exception_is_a_one_line_500_with_the_request_id(caplog):
    async def broken(scope, receive, send):
        raise ValueError("a bug")

    telemetry = Telemetry()
    caplog.set_level(logging.INFO)
    sent = call(RequestTracing(broken, telemetry, ("/predict",)), [(b"x-request-id", b"abc-1")])
    assert sent[0]["status"] == 500 and (b"x-request-id", b"abc-1") in sent[0]["headers"]
    assert json.loads(sent[1]["body"]) == {"error": "internal error; the server's log has the details under request id abc-1"}
    assert 'fineclass_requests_total{path="/predict",status="500"} 1.0' in telemetry.render().decode()
    assert "request abc-1 failed" in caplog.text and "ValueError: a bug" in caplog.text
    line = json.loads(next(r.getMessage() for r in caplog.records if r.name == "fineclass.access"))
    assert (line["id"], line["status"], line["client"], line["texts"]) == ("abc-1", 500, "10.0.0.7", None)


def test_an_exception_after_the_answer_began_is_raised_to_uvicorn():
    async def half(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ValueError("mid-answer")

    with pytest.raises(ValueError, match="mid-answer"):
        call(RequestTracing(half, Telemetry(), ()))


def test_a_chunked_body_over_the_cap_gets_one_413_and_the_app_sees_a_disconnect():
    seen = []

    async def reader(scope, receive, send):
        while (message := await receive())["type"] == "http.request":
            seen.append(len(message["body"]))
            if not message["more_body"]:
                break
        seen.append(message["type"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ignored"})

    sent = call(BodyCap(reader, cap=10), body_chunks=[b"12345", b"67890", b"x"])
    assert seen == [5, 5, "http.disconnect"]
    assert [m.get("status") for m in sent] == [413, None] and len(sent) == 2
    assert json.loads(sent[1]["body"]) == {"error": "request body is over the limit of 10 bytes"}
