"""Tiny classifier directories for the serving tests: one multi-class, one multi-label with tuned thresholds."""

from __future__ import annotations

import json
from pathlib import Path

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
