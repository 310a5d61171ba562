"""Reading a /predict body: what it returns, and that problems are counted cheaply, first one named."""

from __future__ import annotations

import json
import time

import pytest

from fineclass.serving.body import BadRequest, read_predict_body


def read(payload, max_texts: int = 4, max_chars: int = 20):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return read_predict_body(body, max_texts, max_chars)


def refusal(payload, **limits) -> tuple[int, str]:
    with pytest.raises(BadRequest) as raised:
        read(payload, **limits)
    return raised.value.status, str(raised.value)


def test_a_good_request_keeps_every_field():
    request = read({"texts": ["a", "b"], "text_pairs": ["c", "d"], "top_k": 2, "threshold": 0.25})
    assert (request.texts, request.text_pairs, request.top_k, request.threshold) == (["a", "b"], ["c", "d"], 2, 0.25)
    plain = read({"texts": ["a"], "text_pairs": None})
    assert (plain.text_pairs, plain.top_k, plain.threshold) == (None, 1, None)
    assert read('{"texts": ["caf\\u00e9 \\ud83d\\ude00"]}'.encode()).texts == ["caf\u00e9 \U0001F600"]  # a valid pair


def test_the_first_problem_is_named_and_the_rest_counted():
    assert refusal({"texts": [1, None, ["x"], "ok", "y" * 30], "top_k": 0}, max_texts=8) == (
        422, "invalid request: texts[0] is a number, not a string (and 4 more problems)")
    assert refusal({"texts": ["ok"], "a": 1}) == (
        422, "invalid request: unknown field 'a'; the fields are texts, text_pairs, top_k, threshold, min_confidence")
    assert refusal({"texts": ["ok"], "x" * 500: 1, "b": 2})[1] == (
        f"invalid request: unknown field '{'x' * 40}...'; the fields are texts, text_pairs, top_k, threshold, min_confidence "
        "(and 1 more problem)")


def test_a_list_over_the_limit_is_refused_by_its_length_before_its_items():
    numbers = b'{"texts": [' + b",".join([b"1"] * 3_000_000) + b"]}"
    started = time.perf_counter()
    status, message = refusal(numbers, max_texts=64)
    assert time.perf_counter() - started < 2.5
    assert (status, message) == (413, "invalid request: 3,000,000 texts in one request, over the limit of 64; "
                                      "split the request or start the server with a larger --max-texts")


@pytest.mark.parametrize(("payload", "status", "message"), [
    (b"", 422, "the body is not valid JSON (Expecting value at line 1 column 1)"),
    (b"\xef\xbb\xbf{}", 422, "the body is not valid JSON (Unexpected UTF-8 BOM (decode using utf-8-sig) at line 1"),
    (b'"just a string"', 422, "the body must be a JSON object such as {\"texts\": [\"some text\"]}, not a string"),
    (b"null", 422, "the body must be a JSON object such as {\"texts\": [\"some text\"]}, not null"),
    (b'{"texts": null}', 422, "texts must be an array of strings such as {\"texts\": [\"some text\"]}, not null"),
    (b'{"texts": ["a"], "text_pairs": "b"}', 422, "text_pairs must be an array of strings"),
    (b'{"texts": ["a"], "top_k": 1001}', 422, "top_k: Input should be less than or equal to 1000"),
    (b'{"texts": ["a"], "threshold": Infinity}', 422, "threshold: Input should be a finite number"),
    (b'{"texts": ["a"], "top_k": {"$gt": 1}}', 422, "top_k: Input should be a valid integer"),
    (b'{"texts": ["\\u0000\\ud800"]}', 422, "texts[0] holds a lone surrogate (U+D800, character 1)"),
    (b"\x80", 400, "the body is not valid UTF-8 (byte 0x80 at position 0); send JSON encoded as UTF-8"),
])
def test_refusals(payload, status, message):
    got_status, got = refusal(payload)
    assert got_status == status and got.startswith(f"invalid request: {message}"), got
