"""The server's safety promises through the ASGI app: API keys, one-line errors under 1 KB, content types,
broken Unicode, the Host check, the bounded queue, the deadline, a stalled model, request ids and the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from fastapi.testclient import TestClient

from fineclass.inference.predictor import Predictor
from fineclass.serving.app import ServeSettings, create_app
from fineclass.serving.batcher import BatchingSettings
from fineclass.serving.security import AccessSettings
from tests.serving_fixtures import KEY, HangingBackend, asgi_client, assert_one_line_error, save_classifier

AUTH = {"Authorization": f"Bearer {KEY}"}
LOOPBACK = ("localhost", "127.0.0.1", "::1")


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("safety") / "model", multi_label=False)


def make_client(model_dir, **settings) -> TestClient:
    return TestClient(create_app(Predictor.from_dir(model_dir), ServeSettings(**settings), model_dir))


def test_api_keys_guard_everything_but_the_page_and_health(model_dir, caplog):
    caplog.set_level(logging.DEBUG)
    with make_client(model_dir, access=AccessSettings(api_keys=(KEY,))) as client:
        responses = [client.post("/predict", json={"texts": ["sad"]}),
                     client.post("/predict", json={"texts": ["sad"]}, headers={"Authorization": "Bearer wrong-key-0123456789"}),
                     client.get("/info", headers={"Authorization": f"Basic {KEY}"}),
                     client.get("/metrics"), client.get("/openapi.json"), client.get("/nothing-here")]
        assert [r.status_code for r in responses] == [401] * 6
        assert responses[0].headers["www-authenticate"] == 'Bearer realm="fineclass"'
        assert responses[0].json() == {"error": "this server needs an API key: send the header Authorization: Bearer KEY"}
        assert responses[1].headers["www-authenticate"] == 'Bearer realm="fineclass", error="invalid_token"'
        assert responses[1].json()["error"].startswith("the API key is not one this server accepts")
        for response in responses:
            assert_one_line_error(response)
        allowed = [client.post("/predict", json={"texts": ["sad"]}, headers=AUTH), client.get("/info", headers=AUTH),
                   client.get("/metrics", headers=AUTH), client.get("/health"), client.get("/")]
        assert [r.status_code for r in allowed] == [200] * 5
        assert allowed[0].json()["predictions"][0]["text"] == "sad"
        assert 'id="api-key"' in allowed[4].text  # the page can ask for a key
    everything = [r.text + str(r.headers) for r in responses + allowed] + [caplog.text]
    assert not [text for text in everything if KEY in text or "wrong-key-0123456789" in text]
    assert KEY not in repr(AccessSettings(api_keys=(KEY,)))


def test_the_key_is_checked_before_any_body_is_read(model_dir):
    app = create_app(Predictor.from_dir(model_dir), ServeSettings(access=AccessSettings(api_keys=(KEY,))))
    reads, sent = [], []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b'{"texts": ["sad"]}', "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/predict", "headers": [(b"content-type", b"application/json")],
             "query_string": b"", "root_path": "", "http_version": "1.1", "scheme": "http", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 8000)}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401 and reads == []


@pytest.mark.parametrize("body", [
    b'{"texts": [' + b",".join([b"1"] * 3_000_000) + b"]}",  # 6 MB of numbers where texts go
    b"[" + b",".join([b"1"] * 3_000_000) + b"]",  # the whole body a list of numbers
    b"{" + b",".join(b'"%d":1' % i for i in range(700_000)) + b', "texts": ["a"]}',  # 700,000 unknown fields
], ids=["texts", "list", "fields"])
def test_a_6_mb_body_of_numbers_gets_a_short_4xx_quickly(model_dir, body):
    with make_client(model_dir) as client:  # the default limits: 64 texts of 10,000 characters, a 7.7 MB body
        started = time.perf_counter()
        response = client.post("/predict", content=body, headers={"content-type": "application/json"})
        elapsed = time.perf_counter() - started
        assert client.get("/health").status_code == 200
    assert 5_000_000 < len(body) < ServeSettings().max_body_bytes
    assert 400 <= response.status_code < 500 and elapsed < 3, (response.status_code, elapsed)
    assert_one_line_error(response)


@pytest.mark.parametrize(("content_type", "status"), [
    (None, 415), ("text/plain", 415), ("application/x-www-form-urlencoded", 415), ("multipart/form-data; boundary=x", 415),
    ("application/json; charset=latin-1", 415), ("application/json", 200), ("Application/JSON; charset=UTF-8", 200),
    ("application/vnd.fineclass+json", 200),
])
def test_only_json_bodies_are_read(model_dir, content_type, status):
    headers = {} if content_type is None else {"content-type": content_type}
    with make_client(model_dir) as client:
        response = client.post("/predict", content=b'{"texts": ["sad"]}', headers=headers)
    assert response.status_code == status
    if status == 415:
        assert_one_line_error(response)
        shown = "no Content-Type" if content_type is None else repr(content_type)
        assert response.json()["error"] == f"the body must be JSON sent with Content-Type: application/json, not {shown}"


@pytest.mark.parametrize(("body", "status", "message"), [
    (b'{"texts": ["caf\xe9"]}', 400, "the body is not valid UTF-8 (byte 0xe9 at position 15); send JSON encoded as UTF-8"),
    (b'{"texts": ["\xed\xa0\x80"]}', 400, "the body is not valid UTF-8 (byte 0xed at position 12)"),
    (b'{"texts": ["ok", "x\\ud800y"]}', 422, "texts[1] holds a lone surrogate (U+D800, character 1), which is not valid "
                                            "Unicode; send well-formed UTF-8 text"),
    (b'{"texts": ["ok"], "text_pairs": ["\\udfff"]}', 422, "text_pairs[0] holds a lone surrogate (U+DFFF, character 0)"),
])
def test_broken_unicode_is_a_4xx(model_dir, body, status, message):
    with make_client(model_dir) as client:
        response = client.post("/predict", content=body, headers={"content-type": "application/json"})
        assert client.post("/predict", json={"texts": ["caf\u00e9 \U0001F600"]}).status_code == 200
    assert response.status_code == status and response.json()["error"].startswith(f"invalid request: {message}")
    assert_one_line_error(response)


def test_the_host_header_must_name_the_server(model_dir):
    with make_client(model_dir, access=AccessSettings(allowed_hosts=(*LOOPBACK, "*.example.org"))) as client:
        def status(host: str, path: str = "/info") -> int:
            return client.get(path, headers={"host": host}).status_code

        assert [status(h) for h in ("localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST.", "api.example.org")] == [200] * 5
        refused = client.get("/info", headers={"host": "attacker.example:8000"})
        assert [status("attacker.example"), status("example.org"), status("localhost.attacker.example")] == [400] * 3
        assert status("attacker.example", "/health") == 200  # probes call it by IP
    assert refused.json()["error"] == ("the Host header 'attacker.example:8000' does not name this server (127.0.0.1, "
                                       "::1, localhost, *.example.org); call it by one of those names, or start it "
                                       "with --allowed-hosts NAME")
    assert_one_line_error(refused)


def hanging_app(model_dir, **settings):
    predictor = Predictor.from_dir(model_dir)
    predictor.backend = hanging = HangingBackend(predictor.backend)
    return create_app(predictor, ServeSettings(**settings)), hanging


def test_a_full_queue_answers_503_at_once(model_dir):
    app, hanging = hanging_app(model_dir, batching=BatchingSettings(max_queue=2))

    async def main():
        async with asgi_client(app) as client:
            first = asyncio.create_task(client.post("/predict", json={"texts": ["sad"]}))
            await asyncio.to_thread(hanging.entered.wait, 10)
            second = asyncio.create_task(client.post("/predict", json={"texts": ["happy"]}))
            while app.state.batcher.pending < 2:
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            refused = await client.post("/predict", json={"texts": ["mad"]})
            waited = time.perf_counter() - started
            metrics = (await client.get("/metrics")).text
            hanging.release.set()
            return refused, waited, metrics, [(await first).status_code, (await second).status_code]

    refused, waited, metrics, answered = asyncio.run(main())
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1" and waited < 1
    assert refused.json() == {"error": "the server is busy: 2 requests are being answered already; try again in a "
                                       "second (--max-queue)"}
    assert "fineclass_predict_in_progress 2.0" in metrics
    assert answered == [200, 200]


def test_the_deadline_answers_503_drops_queued_work_and_health_sees_the_stall(model_dir):
    app, hanging = hanging_app(model_dir, timeout_s=0.5)

    async def main():
        async with asgi_client(app) as client:
            healthy = (await client.get("/health")).status_code
            first = asyncio.create_task(client.post("/predict", json={"texts": ["sad"]}))
            await asyncio.to_thread(hanging.entered.wait, 10)
            second = await client.post("/predict", json={"texts": ["happy"]})  # queued behind the hung pass
            first = await first
            stalled = await client.get("/health")
            hanging.release.set()
            while (await client.get("/health")).status_code != 200:
                await asyncio.sleep(0.02)
            after = await client.post("/predict", json={"texts": ["mad"]})
            return healthy, first, second, stalled, after

    healthy, first, second, stalled, after = asyncio.run(main())
    assert healthy == 200 and first.status_code == second.status_code == 503
    assert first.json() == {"error": "no answer within the server's deadline of 0.5 s (--timeout-s); the work was "
                                     "dropped; try again, or send fewer texts"}
    assert first.headers["retry-after"] == "1"
    assert stalled.status_code == 503 and stalled.json()["status"] == "stalled"
    assert after.status_code == 200
    assert hanging.calls == 2  # the hung pass and the last request: the second's queued work never ran


def test_every_answer_carries_a_request_id_and_one_access_log_line(model_dir, caplog):
    caplog.set_level(logging.INFO, logger="fineclass.access")
    with make_client(model_dir, max_texts=2, access=AccessSettings(api_keys=(KEY,))) as client:
        own = client.post("/predict", json={"texts": ["secret words", "sad"]}, headers={**AUTH, "X-Request-ID": "job-42.a:1"})
        invalid = client.get("/info", headers={**AUTH, "X-Request-ID": "no spaces allowed " + "x" * 200})
        answers = [own, invalid, client.get("/health"), client.get("/info"), client.get("/nowhere", headers=AUTH),
                   client.post("/predict", json={"texts": ["a"] * 3}, headers=AUTH),
                   client.post("/predict", content=b"{}", headers={**AUTH, "content-type": "text/plain"})]
    ids = [r.headers["x-request-id"] for r in answers]
    assert ids[0] == "job-42.a:1" and all(len(i) == 32 and int(i, 16) >= 0 for i in ids[1:]) and len(set(ids)) == 7
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "fineclass.access"]
    assert [(line["id"], line["status"]) for line in lines] == list(zip(ids, [200, 200, 200, 401, 404, 413, 415]))
    assert lines[0]["method"] == "POST" and lines[0]["path"] == "/predict" and lines[0]["texts"] == 2
    assert lines[4]["path"] == "other" and set(lines[0]) == {"time", "id", "method", "path", "status", "texts", "ms", "client"}
    assert "secret words" not in caplog.text and KEY not in caplog.text


def test_cors_is_off_unless_origins_are_given(model_dir):
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    with make_client(model_dir) as client:
        assert "access-control-allow-origin" not in client.get("/info", headers={"Origin": "https://evil.example"}).headers
    access = AccessSettings(api_keys=(KEY,), cors_origins=("https://app.example.com",))
    with make_client(model_dir, access=access) as client:
        allowed = client.options("/predict", headers=preflight)
        other = client.get("/info", headers={**AUTH, "Origin": "https://evil.example"})
        assert client.get("/info", headers={**AUTH, "Origin": "https://app.example.com"}).status_code == 200
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers
