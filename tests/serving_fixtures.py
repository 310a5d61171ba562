"""Tiny classifier directories for the serving tests (one multi-class, one multi-label with tuned thresholds),
an in-process client that runs the app's start-up and shutdown, and a model that hangs until released."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import httpx

from fineclass.labels import LabelSpace
from fineclass.modeling import build_model, load_tokenizer

KEY = "test-key-0123456789abcdef"
"""An API key the tests use; it must appear in no response, log line or metric."""
TEXTS = ["i feel so happy today", "sad", "the day was very gloomy and i am down", "furious", "hello how are you",
         "i am glad and mad"]


def save_classifier(tiny_model_dir: Path, directory: Path, multi_label: bool) -> Path:
    import torch

    torch.manual_seed(1)
    build_model(str(tiny_model_dir), LabelSpace(("joy", "sadness", "anger"), multi_label)).save_pretrained(directory)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(directory)
    if multi_label:
        payload = {"strategy": "per-label", "default": 0.5, "thresholds": {"joy": 0.3, "sadness": 0.5, "anger": 0.7}}
        (directory / "thresholds.json").write_text(json.dumps(payload))
    return directory


def assert_one_line_error(response) -> None:
    """A 4xx or 5xx body is one line of JSON, exactly {"error": "..."}, under 1 KB."""
    assert len(response.content) < 1024 and b"\n" not in response.content, response.content[:200]
    body = json.loads(response.content)
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"], body


@contextlib.asynccontextmanager
async def asgi_client(app):
    """An httpx client talking to `app` in this process, with the app's lifespan (its batcher) running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=30) as client:
            yield client


class HangingBackend:
    """Wraps a predictor's backend: each forward pass waits until `release` is set, and counts itself."""

    def __init__(self, backend):
        self.backend, self.calls = backend, 0
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, batch):
        self.calls += 1
        self.entered.set()
        self.release.wait(timeout=30)
        return self.backend(batch)
