"""FineclassTrainer: the Hugging Face Trainer, extended through its public hooks (and one private one, the
evaluation sampler, for which transformers has no public hook: see `_get_eval_sampler`)."""

from __future__ import annotations

import re

import torch
from torch.utils.data import SequentialSampler
from transformers import DataCollatorWithPadding, Trainer

from fineclass.training.small_data import pair_loss
from fineclass.training.throughput import TokenCounter
from fineclass.training.weights import weighted_loss


class FineclassTrainer(Trainer):
    """Counts real and padded tokens of every training batch, for throughput and MFU, and applies class weights, a
    BCE pos_weight or the few-label pair loss through the public `compute_loss` hook."""

    def __init__(self, *args, class_weight=None, pos_weight=None, head_lr_scale: float = 1.0, layer_lr_decay: float = 1.0,
                 ordered_eval: bool = False, contrastive_weight: float = 0.0, **kwargs):
        """`ordered_eval` keeps evaluation rows in dataset order (the Trainer groups them by length otherwise), so
        that the windows of a long text, which follow each other in the dataset, can be pooled per text.
        `contrastive_weight` adds that multiple of `pair_loss` over the [CLS] states of each training batch."""
        super().__init__(*args, **kwargs)
        self.ordered_eval = ordered_eval
        self.token_counter = TokenCounter()
        self.class_weight = class_weight
        self.pos_weight = pos_weight
        self.head_lr_scale = head_lr_scale
        self.layer_lr_decay = layer_lr_decay
        self.contrastive_weight = contrastive_weight
        if self.own_loss:
            self.loss_is_scaled_for_ga = False  # our losses are per-batch means: the Trainer divides them for accumulation

    @property
    def own_loss(self) -> bool:
        return self.class_weight is not None or self.pos_weight is not None or self.contrastive_weight > 0

    def create_optimizer(self, model=None):
        """The Trainer's optimizer, with the new head and the pooler at `head_lr_scale` times the learning rate and,
        with `layer_lr_decay` under 1, each encoder layer at that multiple of the rate of the layer above it."""
        if (self.head_lr_scale == 1.0 and self.layer_lr_decay == 1.0) or self.optimizer is not None:
            return super().create_optimizer(model)
        opt_model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(opt_model))
        layers = self.model.config.num_hidden_layers  # self.model: never a DDP or compile wrapper
        groups: dict[tuple[float, bool], list] = {}
        for name, param in opt_model.named_parameters():
            if param.requires_grad:
                scale = lr_scale(name, self.head_lr_scale, self.layer_lr_decay, layers)
                groups.setdefault((scale, name in decay), []).append(param)
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
        lr = self.args.learning_rate
        self.optimizer = optimizer_cls(
            [
                {"params": params, "weight_decay": self.args.weight_decay if decays else 0.0, "lr": lr * scale}
                for (scale, decays), params in groups.items()
            ],
            **optimizer_kwargs,
        )
        return self.optimizer

    # The one private hook we override: transformers 5.25 has no public one for the evaluation order.
    # `get_eval_dataloader` (public) builds its sampler inside the private `_get_dataloader` by calling
    # `self._get_eval_sampler`; overriding `get_eval_dataloader` instead would mean copying `_get_dataloader`'s
    # column removal, collator wrapping and accelerate preparation. A length-grouped eval sampler would split a long
    # text's windows, which must stay together and in order to be pooled per text.
    def _get_eval_sampler(self, eval_dataset):
        if self.ordered_eval:  # several processes: accelerate shards in order, and the gathered rows keep it
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None
        return super()._get_eval_sampler(eval_dataset)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not self.own_loss:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        pairs = self.contrastive_weight > 0 and model.training  # validation keeps the plain loss
        outputs = model(**inputs, output_hidden_states=pairs)
        multi_label = self.model.config.problem_type == "multi_label_classification"  # self.model: not a DDP wrapper
        loss = weighted_loss(outputs.logits, labels, multi_label, self.class_weight, self.pos_weight)
        if pairs:
            # The last layer's [CLS] state: the mean of the tokens where --pooling mean appended its layer.
            loss = loss + self.contrastive_weight * pair_loss(outputs.hidden_states[-1][:, 0], labels, multi_label)
        return (loss, outputs) if return_outputs else loss

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


def is_head_parameter(name: str) -> bool:
    """The randomly initialised classifier, and the pooler that feeds it ([CLS] -> dense -> tanh)."""
    return name.startswith("classifier") or ".pooler." in name or name.startswith("pooler.")


LAYER_INDEX = re.compile(r"\.layers?\.(\d+)\.")


def lr_scale(name: str, head_lr_scale: float, layer_lr_decay: float, layers: int) -> float:
    """The multiple of the learning rate parameter `name` trains at: `head_lr_scale` for the head, decay**depth for
    encoder layer i (depth layers-1-i, so the top layer, which may be the appended mean layer, is at 1),
    decay**layers for the embeddings below them, and 1 for anything else (DistilBERT's pre_classifier)."""
    if is_head_parameter(name):
        return head_lr_scale
    if layer_lr_decay == 1.0:
        return 1.0
    match = LAYER_INDEX.search(name)
    if match:
        return layer_lr_decay ** max(layers - 1 - int(match.group(1)), 0)
    return layer_lr_decay ** layers if ".embeddings." in name or name.startswith("embeddings.") else 1.0
