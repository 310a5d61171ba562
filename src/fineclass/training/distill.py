"""Knowledge distillation: a student trained on a teacher's softened outputs as well as on the labels.

The teacher's logits are computed once, before training, and ride along with each training row (`teacher_logits`),
so a step costs the student's forward and backward pass only. Rows without a label (`--unlabeled` texts) learn from
the teacher alone (`has_label` 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import logging

import numpy as np
import pandas as pd
import torch
from datasets import concatenate_datasets
from torch.nn import functional as F

from fineclass.config import DISTILL_ALPHA, DISTILL_TEMPERATURE
from fineclass.data.tokenize import encode_frame
from fineclass.evaluation.calibration import AffineMap
from fineclass.labels import LabelSpace
from fineclass.rundir import LongTexts
from fineclass.training.trainer import FineclassTrainer

logger = logging.getLogger(__name__)

DISTILL_COLUMNS = ("teacher_logits", "has_label")


@dataclass
class Teacher:
    """What the student learns from: the teacher's model (a `Predictor`) and how its outputs are weighed."""

    predictor: object
    """A Predictor for the teacher, run once over the training texts (and the unlabeled ones)."""
    temperature: float = DISTILL_TEMPERATURE
    """Softmax (or sigmoid) temperature of both models' logits in the distillation loss."""
    alpha: float = DISTILL_ALPHA
    """Weight of the loss against the hard labels; 1 - alpha goes to the teacher's outputs."""
    unlabeled: list[str] = field(default_factory=list)
    """Texts without labels, which the student learns from the teacher alone."""
    source: str = ""
    """The teacher's run or model directory, for metrics.json."""
    student: str = ""
    """What the student started from, in words, for config.yaml, metrics.json and the model card."""

    folded: AffineMap | None = None
    """The calibration folded into the teacher's model (model/calibration.json), undone on its logits: the student
    learns the teacher's uncalibrated logits, softened by `temperature`, as the distillation defaults were measured."""

    def logits(self, texts: list[str], pairs: list[str] | None = None) -> np.ndarray:
        logits = self.predictor.predict_logits(list(texts), pairs)
        if self.folded is not None:
            logits = self.folded.invert(logits.astype(np.float64))
        return logits.astype(np.float32)


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, has_label: torch.Tensor,
                      multi_label: bool, temperature: float, alpha: float) -> torch.Tensor:
    """alpha · hard loss (labeled rows) + (1 - alpha) · T² · soft loss (every row).

    Multi-class: KL divergence between the softened softmaxes (Hinton et al., 2015). Multi-label: BCE of the
    student's softened sigmoid against the teacher's, per label. T² keeps the soft gradients' scale as T changes.
    """
    t = temperature
    student = student.float()
    teacher = teacher.to(student.device, student.dtype)
    if multi_label:
        soft = F.binary_cross_entropy_with_logits(student / t, torch.sigmoid(teacher / t), reduction="none").mean(dim=1)
        hard = F.binary_cross_entropy_with_logits(student, labels.to(student.dtype), reduction="none").mean(dim=1)
    else:
        soft = F.kl_div(F.log_softmax(student / t, dim=-1), F.log_softmax(teacher / t, dim=-1), reduction="none",
                        log_target=True).sum(dim=1)
        hard = F.cross_entropy(student, labels.long(), reduction="none")
    mask = has_label.to(student.dtype)
    hard_mean = (hard * mask).sum() / mask.sum().clamp(min=1.0)
    return alpha * hard_mean + (1 - alpha) * t * t * soft.mean()


class DistillTrainer(FineclassTrainer):
    """The fineclass Trainer with the distillation loss on training batches (evaluation keeps the plain loss)."""

    def __init__(self, *args, temperature: float = DISTILL_TEMPERATURE, alpha: float = DISTILL_ALPHA, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature = temperature
        self.alpha = alpha
        self.loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides it for gradient accumulation

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        teacher = inputs.pop("teacher_logits", None)
        has_label = inputs.pop("has_label", None)
        if teacher is None:  # a validation batch
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        multi_label = model.config.problem_type == "multi_label_classification"
        loss = distillation_loss(outputs.logits, teacher, labels, has_label, multi_label, self.temperature, self.alpha)
        return (loss, outputs) if return_outputs else loss


class DistillCollator:
    """Pads like the base collator and carries the teacher's logits and the has-label flag beside the batch."""

    def __init__(self, base):
        self.base = base

    def __call__(self, features):
        extra = {name: [f.pop(name) for f in features] for name in DISTILL_COLUMNS if name in features[0]}
        for f in features:
            f.pop("length", None)  # the length sampler's column: the Trainer keeps every column for distillation
        batch = self.base(features)
        if "teacher_logits" in extra:
            batch["teacher_logits"] = torch.tensor(np.asarray(extra["teacher_logits"], dtype=np.float32))
            batch["has_label"] = torch.tensor(np.asarray(extra["has_label"], dtype=np.float32))
        return batch


def teacher_targets(teacher: Teacher, train: pd.DataFrame, announce=None) -> tuple[np.ndarray, np.ndarray | None]:
    """The teacher's logits for every training text and every unlabeled text, computed once before training."""
    count = len(train) + len(teacher.unlabeled)
    (announce or logger.info)(f"distilling from {teacher.source}: the teacher scores {count} texts once "
                              f"(temperature {teacher.temperature:g}, alpha {teacher.alpha:g})")
    pairs = list(train["text_pair"]) if "text_pair" in train.columns else None
    labeled = teacher.logits(list(train["text"]), pairs)
    return labeled, teacher.logits(teacher.unlabeled) if teacher.unlabeled else None


def with_teacher_columns(dataset, counts: np.ndarray, logits: np.ndarray, has_label: float):
    """Each row (window) gets its text's teacher logits, and whether it has a label."""
    documents = np.repeat(np.arange(len(counts)), counts)
    dataset = dataset.add_column("teacher_logits", logits[documents].tolist())
    return dataset.add_column("has_label", [has_label] * len(dataset))


def distillation_dataset(encoded_train, targets, teacher: Teacher, tokenizer, label_space: LabelSpace, max_length: int,
                         long_texts: LongTexts | None):
    """The training rows with the teacher's logits, then the unlabeled texts (teacher only, no hard label)."""
    labeled_logits, unlabeled_logits = targets
    dataset = with_teacher_columns(*encoded_train, labeled_logits, 1.0)
    if not teacher.unlabeled:
        return dataset
    frame = pd.DataFrame({"text": teacher.unlabeled, "labels": [[label_space.names[0]]] * len(teacher.unlabeled)})
    unlabeled, counts = encode_frame(frame, tokenizer, label_space, max_length, "unlabeled", long_texts)
    unlabeled = with_teacher_columns(unlabeled, counts, unlabeled_logits, 0.0).cast(dataset.features)
    return concatenate_datasets([dataset, unlabeled])
