"""Loss weights for imbalanced data: class weights (multi-class) and BCE pos_weight (multi-label)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight

MAX_POS_WEIGHT = 10.0
"""pos_weight is clipped here: a label with 0.1% positives would otherwise weigh 1000x and swamp the loss."""


def balanced_class_weights(y: np.ndarray, num_labels: int) -> torch.Tensor:
    """n / (k · count_c), sklearn's 'balanced'; a class absent from training gets weight 1."""
    present = np.unique(y)
    weights = np.ones(num_labels, dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=y)
    return torch.tensor(weights)


def balanced_pos_weight(multi_hot: np.ndarray, maximum: float = MAX_POS_WEIGHT) -> torch.Tensor:
    """negatives / positives per label, clipped to [1, maximum]."""
    positives = multi_hot.sum(axis=0)
    negatives = len(multi_hot) - positives
    ratio = np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0)
    return torch.tensor(np.clip(ratio, 1.0, maximum), dtype=torch.float32)


def weighted_loss(logits: torch.Tensor, labels: torch.Tensor, multi_label: bool,
                  class_weight: torch.Tensor | None, pos_weight: torch.Tensor | None) -> torch.Tensor:
    if multi_label:
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels.to(logits.dtype), pos_weight=None if pos_weight is None else pos_weight.to(logits.device)
        )
    return torch.nn.functional.cross_entropy(
        logits, labels, weight=None if class_weight is None else class_weight.to(logits.device, logits.dtype)
    )
