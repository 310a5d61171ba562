"""A compact student: the embeddings and the first K transformer layers of an encoder, saved as a base model."""

from __future__ import annotations

import logging
from pathlib import Path

from fineclass.modeling import save_first_layers

logger = logging.getLogger(__name__)


def build_student(model_path: str, layers: int, target: Path) -> Path:
    """Copy the embeddings, layers 0..K-1 (and the pooler, if any) into a K-layer model directory."""
    student, total = save_first_layers(model_path, layers, target)
    logger.info("student: the first %d of %d layers of %s, %s parameters",
                layers, total, model_path, f"{sum(p.numel() for p in student.parameters()):,}")
    return target
