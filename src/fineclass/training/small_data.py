"""Training on few labels: a schedule in optimizer steps, mean pooling, and a SetFit-style pair loss.

With 96 training texts, 3 epochs of 32 make 9 optimizer steps: the new head barely moves and the model predicts
the majority class. A *small* training set (its epochs make fewer than `--min-steps` steps) trains at least that
many steps in smaller batches, validating a few times along the way. Measured on emotion (benchmarks/RESULTS.md),
the steps, mean pooling and the pair loss each add accuracy at 48 to 384 texts.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from fineclass.config import TrainConfig
from fineclass.errors import ModelError
from fineclass.modeling import declares_mean_pooling

SMALL_BATCH_SIZE = 16
"""Training texts per step for a small set: SetFit's batch, and twice the steps of the default 32."""
MAX_EPOCHS = 40
"""A small set trains --min-steps steps, but at most this many epochs: under 80 texts, 200 steps of 16 would pass
over each text more often. Measured on 48 emotion tweets (3 seeds): 120 steps (40 epochs) scored as well as 200
(67 epochs), in 40% less time."""
VALIDATIONS = 1
"""Validation passes over a small set's schedule: one, after the last step, whose model is kept (a fixed schedule).
Measured on emotion at 48 and 96 tweets, 3 seeds each: as accurate as keeping the best of 5 passes, and 15-25%
faster; and a validation split of a few texts a class can no longer pick a checkpoint by chance."""
EARLY_STOPPING_VALIDATIONS = 5
"""Validation passes over a small set's schedule with --early-stopping, which needs several to compare."""
VALIDATION_TEXTS = 1000
"""Validation texts a small set's validation reads at most (a stratified, seeded sample): five passes over
emotion's 1,600 validation tweets took about 55 of the 155 s of training at 48 labels. Tuned thresholds read all."""


@dataclass
class SmallDataPlan:
    """How a run trains, decided from the number of training rows; recorded in metrics.json."""

    small: bool
    rows: int
    steps_per_epoch: int
    """Optimizer steps one epoch makes at --batch-size."""
    max_steps: int | None = None
    batch_size: int | None = None
    eval_steps: int | None = None
    validation_texts: int | None = None
    """Validation texts the checkpoint choice reads (a sample, for a small set), or None for all of them."""
    contrastive_weight: float = 0.0
    reason: str = ""

    def apply(self, config: TrainConfig) -> TrainConfig:
        """The config the Trainer runs with (config.yaml keeps what the user asked for)."""
        if not self.small:
            return replace(config, contrastive_weight=self.contrastive_weight)
        return replace(config, max_steps=self.max_steps, batch_size=self.batch_size,
                       save_steps=config.save_steps or self.eval_steps, contrastive_weight=self.contrastive_weight)


def plan_small_data(config: TrainConfig, rows: int, validation_texts: int = 0) -> SmallDataPlan:
    """Whether `rows` training rows (windows and unlabeled distillation texts count) make a small set, and its schedule.
    `validation_texts`: the validation split's size; a small set's checkpoint choice reads at most VALIDATION_TEXTS.

    Not small when --min-steps is 0, or --epochs or --max-steps was given: the user chose the schedule.
    """
    processes = int(os.environ.get("WORLD_SIZE", "1"))  # under torchrun each step takes a batch from every process
    per_step = config.batch_size * config.gradient_accumulation_steps * processes
    steps_per_epoch = math.ceil(rows / per_step)
    planned = math.ceil(config.train_epochs * steps_per_epoch)
    chosen = config.epochs is not None or config.max_steps is not None
    small = bool(config.min_steps) and not chosen and planned < config.min_steps
    weight = config.contrastive_weight if config.contrastive_weight is not None else (1.0 if small else 0.0)
    if not small:
        return SmallDataPlan(False, rows, steps_per_epoch, contrastive_weight=weight,
                             reason=f"{rows} training rows make {planned} optimizer steps in {config.train_epochs:g} epochs")
    batch = min(config.batch_size, SMALL_BATCH_SIZE)
    small_epoch = math.ceil(rows / (batch * config.gradient_accumulation_steps * processes))
    steps = min(config.min_steps, MAX_EPOCHS * small_epoch)  # never more than MAX_EPOCHS passes over a tiny set
    validations = EARLY_STOPPING_VALIDATIONS if config.early_stopping else VALIDATIONS
    eval_steps = config.save_steps or math.ceil(steps / validations)
    sampled = VALIDATION_TEXTS if validation_texts > VALIDATION_TEXTS else None
    reason = (f"{rows} training rows make {planned} optimizer steps in {config.train_epochs:g} epochs (under --min-steps "
              f"{config.min_steps}); training {steps} steps of {batch} texts instead ({steps / small_epoch:.0f} epochs), "
              + ("validating once, after the last step" if eval_steps >= steps else f"validating every {eval_steps} steps")
              + (f" on {sampled:,} of the {validation_texts:,} validation texts" if sampled else "")
              + "; --epochs, --max-steps or --min-steps 0 keeps the epoch schedule")
    return SmallDataPlan(True, rows, steps_per_epoch, steps, batch, eval_steps, sampled, weight, reason)


MIN_VALIDATION_PER_CLASS = 20
"""Below this many validation texts of a class, one text more or less right moves its F1 by several points."""


def small_validation_warning(labels: list[list[str]], names: tuple[str, ...], multi_label: bool) -> str | None:
    """A warning when a multi-class validation split has under MIN_VALIDATION_PER_CLASS texts of some class: its
    scores, and the best checkpoint they pick (epochs, --save-steps, --early-stopping), are then partly noise.
    (Multi-label data has --min-positives for its thresholds.)"""
    if multi_label or not labels:
        return None
    counts = Counter(row[0] for row in labels)
    rarest = min(names, key=lambda name: counts.get(name, 0))
    if counts.get(rarest, 0) >= MIN_VALIDATION_PER_CLASS:
        return None
    return (f"the validation split has {counts.get(rarest, 0)} texts of class {rarest!r} (under "
            f"{MIN_VALIDATION_PER_CLASS} for some class), so its scores, and any checkpoint they pick, are partly "
            "chance; give a larger validation split (--split, or a validation file) if you can")


def choose_pooling(requested: str, model_path: str, small: bool) -> tuple[str, str]:
    """cls or mean, and why: auto means mean for a small set of a sentence encoder trained with mean pooling, whose
    [CLS] state was never trained to summarise a text (measured: +3.9 points of accuracy on 96 emotion tweets)."""
    if requested != "auto":
        return requested, f"{requested} (--pooling {requested})"
    if not small:
        return "cls", "cls (the training set is not small)"
    if declares_mean_pooling(model_path):
        return "mean", "mean over tokens, as the model was trained (an appended layer computes it; --pooling cls turns it off)"
    return "cls", "cls (the model declares no mean pooling)"


def pair_loss(embeddings: torch.Tensor, labels: torch.Tensor, multi_label: bool) -> torch.Tensor:
    """SetFit's CosineSimilarityLoss over every pair in the batch: the squared error between the cosine similarity of
    two texts' embeddings and 1 for the same label, 0 for different ones (multi-label: the Jaccard similarity of
    their label sets). It pulls each class together in the encoder's space, as SetFit's contrastive stage does, but
    in the same steps as the classification loss."""
    normed = F.normalize(embeddings.float(), dim=-1)
    cosine = normed @ normed.T
    if multi_label:
        hot = (labels > 0.5).float()
        overlap = hot @ hot.T
        union = hot.sum(1, keepdim=True) + hot.sum(1) - overlap
        target = torch.where(union > 0, overlap / union.clamp(min=1), torch.ones_like(union))
    else:
        target = (labels[:, None] == labels[None, :]).float()
    pairs = torch.triu(torch.ones_like(cosine, dtype=torch.bool), diagonal=1)
    if not pairs.any():
        return cosine.sum() * 0.0
    return F.mse_loss(cosine[pairs], target[pairs])


PROBE_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def fit_linear_probe(model, tokenizer, dataset, label_space, batch_size: int = 64) -> int:
    """LP-FT's first stage: fit the head's last linear layer by logistic regression on the features it reads
    (the pooler's output for a BERT) of the training rows, with the encoder frozen and dropout off, and copy the
    coefficients into it. A class (or, multi-label, a label) that the rows do not show keeps its initial weights.
    Returns the number of rows it fitted on (0 when they hold one class only)."""
    from sklearn.linear_model import LogisticRegression

    head = last_linear(model)
    x = head_inputs(model, head, tokenizer, dataset, batch_size)
    labels = np.asarray(dataset["labels"])
    weight, bias = head.weight.detach().clone(), head.bias.detach().clone()
    if label_space.multi_label:
        for label in range(label_space.num_labels):
            present = labels[:, label] >= 0.5  # soft labels from wide columns count from 0.5, as everywhere
            if 0 < present.sum() < len(present):
                fitted = LogisticRegression(max_iter=1000).fit(x, present)
                weight[label], bias[label] = torch.from_numpy(fitted.coef_[0]), float(fitted.intercept_[0])
    elif len(np.unique(labels)) < 2:
        return 0  # one class: nothing to separate
    else:
        fitted = LogisticRegression(max_iter=1000).fit(x, labels)
        coef, intercept = torch.from_numpy(fitted.coef_).float(), torch.from_numpy(fitted.intercept_).float()
        if len(fitted.classes_) == 2:  # one row for two classes: logit(second) - logit(first)
            coef, intercept = torch.cat([-coef / 2, coef / 2]), torch.cat([-intercept / 2, intercept / 2])
        for row, label in enumerate(fitted.classes_):
            weight[int(label)], bias[int(label)] = coef[row], intercept[row]
    with torch.no_grad():
        head.weight.copy_(weight)
        head.bias.copy_(bias)
    return len(x)


def head_inputs(model, head: torch.nn.Linear, tokenizer, dataset, batch_size: int = 64) -> np.ndarray:
    """What `head` reads for each row of `dataset`, with dropout off and no gradient (the model's mode is restored)."""
    from transformers import DataCollatorWithPadding

    features: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda module, args, output: features.append(args[0].detach().float()))
    collate = DataCollatorWithPadding(tokenizer)
    rows = dataset.select_columns([c for c in PROBE_INPUTS if c in dataset.column_names])
    was_training, device = model.training, head.weight.device
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(rows), batch_size):
                batch = collate([rows[i] for i in range(start, min(start + batch_size, len(rows)))])
                model(**{name: tensor.to(device) for name, tensor in batch.items()})
    finally:
        hook.remove()
        model.train(was_training)
    return torch.cat(features).cpu().numpy()


def last_linear(model) -> torch.nn.Linear:
    """The linear layer that makes the logits: `classifier` itself (BERT) or its last Linear (RoBERTa's out_proj)."""
    head = getattr(model, "classifier", None)
    linears = [module for module in head.modules() if isinstance(module, torch.nn.Linear)] if head is not None else []
    if not linears or linears[-1].out_features != model.config.num_labels:
        raise ModelError(f"--linear-probe: {type(model).__name__} has no linear classifier head to fit")
    return linears[-1]
