"""Tiny classifier directories for the serving tests: one multi-class, one multi-label with tuned thresholds."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fineclass.labels import LabelSpace
from fineclass.modeling import build_model, load_tokenizer

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    """The real `fineclass serve` in a subprocess on a free loopback port, once /health answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "fineclass", "serve", str(model_dir), "--port", str(port), *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not become healthy in 60 s")
