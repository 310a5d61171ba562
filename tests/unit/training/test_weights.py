import math

import numpy as np
import pytest
import torch

from fineclass.training.weights import (
    balanced_class_weights,
    balanced_pos_weight,
    weighted_loss,
)


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


def test_head_parameters_get_the_scaled_learning_rate(tiny_model_dir, tmp_path):
    from transformers import TrainingArguments

    from fineclass.labels import LabelSpace
    from fineclass.modeling import build_model
    from fineclass.training.trainer import FineclassTrainer, is_head_parameter

    model = build_model(str(tiny_model_dir), LabelSpace(("a", "b"), False))
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, use_cpu=True, report_to="none")
    optimizer = FineclassTrainer(model=model, args=args, head_lr_scale=10.0).create_optimizer()
    head = {id(p) for n, p in model.named_parameters() if is_head_parameter(n)}
    assert head and len(head) < len(list(model.parameters()))
    for group in optimizer.param_groups:
        in_head = {id(p) in head for p in group["params"]}
        assert len(in_head) == 1
        assert group["lr"] == pytest.approx(1e-3 if in_head.pop() else 1e-4)
