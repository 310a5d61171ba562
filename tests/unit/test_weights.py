import math

import numpy as np
import pytest
import torch

from fineclass.training.weights import balanced_class_weights, balanced_pos_weight, weighted_loss


def test_balanced_class_weights():
    weights = balanced_class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights.tolist() == pytest.approx([4 / (2 * 3), 4 / (2 * 1), 1.0])


def test_weighted_cross_entropy_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1])
    weight = torch.tensor([1.0, 3.0])
    nll0 = -math.log(math.exp(2) / (math.exp(2) + 1))
    nll1 = -math.log(math.e / (1 + math.e))
    expected = (1.0 * nll0 + 3.0 * nll1) / (1.0 + 3.0)
    assert weighted_loss(logits, labels, False, weight, None).item() == pytest.approx(expected, rel=1e-6)


def test_pos_weight_bce_by_hand_and_clipping():
    multi_hot = np.array([[1, 0], [0, 0], [0, 0], [0, 0]] * 10, dtype=np.float32)
    assert balanced_pos_weight(multi_hot).tolist() == [3.0, 1.0]  # 30/10; no positives -> 1
    rare = np.zeros((100, 1), dtype=np.float32)
    rare[0, 0] = 1
    assert balanced_pos_weight(rare).tolist() == [10.0]  # 99 clipped to 10
    logits, labels = torch.tensor([[0.0]]), torch.tensor([[1.0]])
    loss = weighted_loss(logits, labels, True, None, torch.tensor([3.0]))
    assert loss.item() == pytest.approx(3.0 * math.log(2), rel=1e-6)
