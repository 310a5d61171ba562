"""Property-based fuzzing of the HTTP body through the ASGI app: random JSON, random bytes, random content types.

The property: every answer is a 2xx, or a 4xx whose body is one line of JSON, {"error": ...}, under 1 KB. Never
a 5xx. The default run is derandomized and short; `-m slow` runs 20 times the examples from a random seed
(FINECLASS_FUZZ_EXAMPLES overrides the count). Every failure a run finds is kept below as an @example.
"""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fineclass.inference.predictor import Predictor
from fineclass.serving.app import ServeSettings, create_app
from tests.serving_fixtures import assert_one_line_error, save_classifier

EXAMPLES = int(os.environ.get("FINECLASS_FUZZ_EXAMPLES", 150))
QUICK = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
THOROUGH = settings(max_examples=EXAMPLES * 20, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck))

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
                           max_leaves=25)
texts = st.lists(st.text(max_size=60) | json_values, min_size=0, max_size=10)
requests = st.fixed_dictionaries(
    {"texts": texts | json_values},
    optional={"text_pairs": texts | json_values, "top_k": st.integers(-5, 2000) | json_values,
              "threshold": st.floats() | json_values, "extra": json_values})


@st.composite
def bodies(draw) -> bytes:
    """JSON near a real request, any JSON, or any bytes; JSON written with escapes, as raw UTF-8, or with
    surrogates passed through as (invalid) bytes."""
    kind = draw(st.sampled_from(["request", "json", "bytes", "cut"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    text = json.dumps(draw(requests if kind != "json" else json_values), ensure_ascii=draw(st.booleans()))
    if kind == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


content_types = st.one_of(
    st.sampled_from([None, "application/json", "application/json; charset=utf-8", "application/problem+json", "text/plain",
                     "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=utf-16", ""]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))


@pytest.fixture(scope="module")
def client(tiny_model_dir, tmp_path_factory):
    model_dir = save_classifier(tiny_model_dir, tmp_path_factory.mktemp("fuzz") / "model", multi_label=True)
    with TestClient(create_app(Predictor.from_dir(model_dir), ServeSettings(max_texts=8, max_chars=200))) as test_client:
        yield test_client


def check_answer(client: TestClient, body: bytes, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/predict", content=body, headers=headers)
    assert 200 <= response.status_code < 500, (response.status_code, response.content[:300], body[:300])
    if response.status_code >= 400:
        assert_one_line_error(response)
    else:
        assert len(response.json()["predictions"]) == len(json.loads(body)["texts"])


EXAMPLES_FOUND = [  # inputs worth keeping: depth, size, number forms, and what earlier runs found
    (b"[" * 10_000 + b"]" * 10_000, "application/json"),
    (b'{"texts": ["a"], "top_k": 1' + b"0" * 5000 + b"}", "application/json"),
    (b'{"texts": ["\\ud800"]}', "application/json"),
    (b'{"texts": ["\xed\xa0\x80"]}', "application/json"),
    (b'{"texts": ["a"], "threshold": NaN}', "application/json"),
    (b'{"texts": ["a"], "top_k": 1e400}', "application/json"),
    (b'{"texts": ["' + b"a" * 100_000 + b'"]}', "application/json"),
]


def with_examples(test):
    for body, content_type in EXAMPLES_FOUND:
        test = example(body=body, content_type=content_type)(test)
    return test


@QUICK
@with_examples
@given(body=bodies(), content_type=content_types)
def test_any_body_gets_a_2xx_or_a_one_line_4xx(client, body, content_type):
    check_answer(client, body, content_type)


@pytest.mark.slow
@THOROUGH
@with_examples
@given(body=bodies(), content_type=content_types)
def test_any_body_gets_a_2xx_or_a_one_line_4xx_thoroughly(client, body, content_type):
    check_answer(client, body, content_type)


def test_a_20_mb_line_is_refused_by_its_declared_length(client):
    response = client.post("/predict", content=b'{"texts": ["' + b"a" * 20_000_000 + b'"]}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert_one_line_error(response)
