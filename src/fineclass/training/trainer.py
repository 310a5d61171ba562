"""FineclassTrainer: the Hugging Face Trainer, extended only through its public hooks."""

from __future__ import annotations

import torch
from transformers import DataCollatorWithPadding, Trainer

from fineclass.training.throughput import TokenCounter


class FineclassTrainer(Trainer):
    """Counts real and padded tokens of every training batch, for throughput and MFU."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.token_counter = TokenCounter()

    def training_step(self, model, inputs, num_items_in_batch=None):
        if "attention_mask" in inputs:
            self.token_counter.add(inputs["attention_mask"])
        return super().training_step(model, inputs, num_items_in_batch)


class MultiLabelCollator(DataCollatorWithPadding):
    """Pads per batch; BCE-with-logits needs float targets."""

    def __call__(self, features):
        batch = super().__call__(features)
        if "labels" in batch:
            batch["labels"] = batch["labels"].to(torch.float32)
        return batch
