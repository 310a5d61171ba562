"""A compact student: the embeddings and the first K transformer layers of an encoder, saved as a base model."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def build_student(model_path: str, layers: int, target: Path) -> Path:
    """Copy the embeddings, layers 0..K-1 (and the pooler, if any) into a K-layer model directory.

    Loading the checkpoint into a config with `num_hidden_layers=K` copies exactly those weights:
    the checkpoint's layers K and above have no place in the smaller model and are dropped.
    """
    import transformers
    from transformers import AutoConfig, AutoModel

    from fineclass.modeling import load_tokenizer

    config = AutoConfig.from_pretrained(model_path)
    total = config.num_hidden_layers
    config.num_hidden_layers = layers
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the dropped layers are reported as unused weights, which is the point
    try:
        student = AutoModel.from_pretrained(model_path, config=config)
    finally:
        transformers.logging.set_verbosity(verbosity)
    student.save_pretrained(target)
    load_tokenizer(model_path).save_pretrained(target)
    logger.info("student: the first %d of %d layers of %s, %s parameters",
                layers, total, model_path, f"{sum(p.numel() for p in student.parameters()):,}")
    return target
