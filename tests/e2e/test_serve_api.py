"""The HTTP API through FastAPI's TestClient: every endpoint, and every bad-input case."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from fineclass.inference.predictor import Predictor
from fineclass.serving.app import ServeSettings, create_app
from tests.conftest import run_cli
from tests.serving_fixtures import TEXTS, assert_one_line_error, save_classifier


@pytest.fixture(scope="module")
def multiclass_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("serve") / "model", multi_label=False)


@pytest.fixture(scope="module")
def multilabel_model_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("serve-ml") / "model", multi_label=True)


@pytest.fixture
def client(multiclass_dir):
    settings = ServeSettings(max_texts=8, max_chars=200)
    with TestClient(create_app(Predictor.from_dir(multiclass_dir), settings, multiclass_dir)) as test_client:
        yield test_client


def test_predict_matches_the_predictor(client, multiclass_dir):
    response = client.post("/predict", json={"texts": TEXTS, "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    expected = Predictor.from_dir(multiclass_dir).predict(TEXTS, top_k=3)
    assert body["model"] == "model"
    assert [p["labels"] for p in body["predictions"]] == [e.labels for e in expected]
    for got, want in zip(body["predictions"], expected):
        assert got["text"] == want.text and len(got["top_k"]) == 3
        np.testing.assert_allclose([s["score"] for s in got["top_k"]], [s for _, s in want.top_k], atol=1e-5)


def test_multilabel_uses_tuned_thresholds_unless_overridden(multilabel_model_dir):
    predictor = Predictor.from_dir(multilabel_model_dir)
    np.testing.assert_allclose(predictor.thresholds, [0.3, 0.5, 0.7])
    with TestClient(create_app(predictor, model_dir=multilabel_model_dir)) as client:
        tuned = client.post("/predict", json={"texts": TEXTS}).json()["predictions"]
        low = client.post("/predict", json={"texts": TEXTS, "threshold": 0.01}).json()["predictions"]
        info = client.get("/info").json()
    assert [p["labels"] for p in tuned] == [p.labels for p in predictor.predict(TEXTS)]
    assert all(sorted(p["labels"]) == ["anger", "joy", "sadness"] for p in low)
    assert info["task"] == "multi-label" and info["thresholds"] == {"joy": 0.3, "sadness": 0.5, "anger": 0.7}


def test_health_info_metrics_page_and_schema(client):
    assert client.get("/health").json() == {"status": "ok", "ready": True}
    info = client.get("/info").json()
    assert info["labels"] == ["joy", "sadness", "anger"] and info["task"] == "multi-class"
    assert info["limits"] == {"max_texts": 8, "max_chars": 200, "timeout_s": 30.0} and info["thresholds"] is None
    client.post("/predict", json={"texts": ["sad"]})
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'fineclass_requests_total{path="/predict",status="200"} 1.0' in metrics.text
    assert "fineclass_request_seconds_bucket" in metrics.text and "fineclass_batch_texts_count 1.0" in metrics.text
    page = client.get("/")
    assert page.status_code == 200 and 'id="classify"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/health", "/info", "/metrics"} <= set(schema["paths"])
    predict = schema["paths"]["/predict"]["post"]
    assert {"400", "401", "413", "415", "422", "503"} <= set(predict["responses"])
    assert predict["requestBody"]["content"]["application/json"]["schema"]["required"] == ["texts"]


def test_run_directory_metrics_in_info(multiclass_run):
    run = multiclass_run[0]
    with TestClient(create_app(Predictor.from_dir(run), model_dir=run)) as client:
        info = client.get("/info").json()
    assert info["name"] == "run" and 0 <= info["metrics"]["test"]["accuracy"] <= 1


BAD_REQUESTS = [
    ("{not json", 422, "the body is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    ("[1, 2]", 422, 'the body must be a JSON object such as {"texts": ["some text"]}, not an array'),
    ("{}", 422, 'texts is missing; send {"texts": ["some text"]}'),
    ('{"texts": []}', 422, "texts is empty; send at least one text"),
    ('{"texts": "one text"}', 422, "texts must be an array of strings such as"),
    ('{"texts": [1]}', 422, "texts[0] is a number, not a string"),
    ('{"texts": [null]}', 422, "texts[0] is null, not a string"),
    ('{"texts": ["a"], "top_k": 0}', 422, "top_k: Input should be greater than or equal to 1"),
    ('{"texts": ["a"], "top_k": "x"}', 422, "top_k: Input should be a valid integer"),
    ('{"texts": ["a"], "threshold": 1.5}', 422, "threshold: Input should be less than 1"),
    ('{"texts": ["a"], "threshold": NaN}', 422, "threshold: Input should be a finite number"),
    ('{"texts": ["a"], "extra": 1}', 422, "unknown field 'extra'; the fields are texts, text_pairs, top_k, threshold, min_confidence"),
    ('{"texts": [1, "b", 2], "top_k": 0, "x": 1}', 422, "unknown field 'x'; the fields are texts, text_pairs, top_k, "
                                                       "threshold, min_confidence (and 3 more problems)"),
    ('{"texts": ["a"], "text_pairs": ["a", "b"]}', 422, "1 texts but 2 text_pairs; give one pair per text"),
    ('{"texts": ["a"], "top_k": 1' + "0" * 5000 + "}", 422, "the body cannot be read as JSON (Exceeds the limit"),
    ("[" * 50_000, 422, "the body's JSON is nested too deeply"),
    ('{"texts": ["a", "b", "c", "d", "e", "f", "g", "h", "i"]}', 413, "9 texts in one request, over the limit of 8"),
    ('{"texts": ["' + "a" * 201 + '"]}', 413, "texts[0] has 201 characters, over the limit of 200"),
]


@pytest.mark.parametrize(("body", "status", "message"), BAD_REQUESTS, ids=[b[2][:30] for b in BAD_REQUESTS])
def test_bad_requests_get_a_clear_json_error(client, body, status, message):
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["error"].startswith(f"invalid request: {message}")
    assert_one_line_error(response)
    assert client.get("/health").status_code == 200


def test_oversized_body_is_refused_before_parsing(client):
    body = '{"texts": ["' + "a" * (2 * 8 * 200 * 6 + 70_000) + '"]}'
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": f"request body of {len(body)} bytes is over the limit of {2 * 8 * 200 * 6 + 65_536}"}
    client.post("/predict", content="{not json", headers={"content-type": "application/json"})
    metrics = client.get("/metrics").text
    assert 'fineclass_requests_total{path="/predict",status="413"} 1.0' in metrics
    assert 'fineclass_requests_total{path="/predict",status="422"} 1.0' in metrics


def test_a_chunked_body_over_the_cap_is_refused(client):
    def chunks():
        yield b'{"texts": ["'
        for _ in range(20):
            yield b"a" * 8192
        yield b'"]}'

    response = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == f"request body is over the limit of {2 * 8 * 200 * 6 + 65_536} bytes"
    assert client.post("/predict", json={"texts": ["sad"]}).status_code == 200


def test_wrong_method_and_unknown_path(client):
    wrong_method, unknown = client.get("/predict"), client.get("/nothing-here")
    assert wrong_method.status_code == 405 and wrong_method.json() == {"error": "GET is not allowed on /predict"}
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no such path: /nothing-here; the API is POST /predict, GET /info, /health, /metrics"}
    assert 'path="other",status="404"' in client.get("/metrics").text


def test_a_failing_request_does_not_take_the_server_down(multiclass_dir):
    predictor = Predictor.from_dir(multiclass_dir)
    real_backend = predictor.backend
    calls = {"n": 0}

    def flaky(batch):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated failure in the forward pass")
        return real_backend(batch)

    predictor.backend = flaky
    with TestClient(create_app(predictor)) as client:
        failed = client.post("/predict", json={"texts": ["sad"]})
        assert failed.status_code == 500
        assert failed.json()["error"] == "prediction failed: RuntimeError: simulated failure in the forward pass"
        assert client.post("/predict", json={"texts": ["sad"]}).status_code == 200
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize(("flags", "message"), [
    (["--port", "0"], "--port must be between 1 and 65535, got 0"),
    (["--max-texts", "0", "--max-wait-ms", "-1"], "--max-wait-ms must be >= 0, got -1.0; --max-texts must be >= 1, got 0"),
    (["--precision", "fp8"], "--precision must be one of"),
])
def test_serve_rejects_bad_options(multiclass_dir, flags, message):
    result = run_cli("serve", multiclass_dir, *flags)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_serve_needs_a_model_directory(tmp_path):
    result = run_cli("serve", tmp_path / "missing")
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
