"""Classification metrics for single-label and multi-label tasks, on plain arrays."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, f1_score

from fineclass.inference.scores import sigmoid
from fineclass.data.long_texts import first_of_each, pool_windows
from fineclass.labels import LabelSpace


def multiclass_metrics(y_true: np.ndarray, y_pred: np.ndarray, names: tuple[str, ...], per_class: bool = True) -> dict:
    """Accuracy, weighted/macro/micro F1, and (optionally) sklearn's per-class report."""
    labels = list(range(len(names)))
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_weighted": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "f1_macro": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "f1_micro": float(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
    }
    if per_class:
        metrics["per_class"] = _per_class(y_true, y_pred, labels, names)
    return metrics


def multilabel_metrics(
    y_true: np.ndarray, probs: np.ndarray, thresholds: float | np.ndarray, names: tuple[str, ...], per_class: bool = True
) -> dict:
    """Micro/macro/weighted/samples F1 and exact match, deciding each label at its threshold."""
    y_true = y_true.astype(np.int32)
    y_pred = (probs >= np.asarray(thresholds)).astype(np.int32)
    metrics = {
        "f1_micro": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "f1_weighted": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "f1_samples": float(f1_score(y_true, y_pred, average="samples", zero_division=0)),
        "exact_match": float(np.mean(np.all(y_pred == y_true, axis=1))),
    }
    if per_class:
        metrics["per_class"] = _per_class(y_true, y_pred, list(range(len(names))), names)
    return metrics


def compute_metrics(label_space: LabelSpace, logits: np.ndarray, y_true: np.ndarray, threshold=0.5, per_class=True) -> dict:
    """Metrics from raw logits, for either kind of task."""
    if label_space.multi_label:
        return multilabel_metrics(y_true, sigmoid(logits), threshold, label_space.names, per_class)
    return multiclass_metrics(y_true, logits.argmax(axis=-1), label_space.names, per_class)


def trainer_metrics_fn(label_space: LabelSpace, threshold: float = 0.5, windows=None, pooling: str = "mean"):
    """`compute_metrics` for the Trainer: scalar metrics only, so they can be logged.

    `windows` holds the number of evaluation rows of each text (long texts read as windows): the rows' logits are
    pooled per text first, so the scores are per text, never per window.
    """

    def compute(eval_prediction) -> dict:
        logits = eval_prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        y_true = eval_prediction.label_ids
        if windows is not None and len(windows) != len(logits):
            logits, y_true = pool_windows(logits, windows, pooling), first_of_each(y_true, windows)
        if label_space.multi_label:
            y_true = (np.asarray(y_true) >= 0.5).astype(np.int64)  # soft labels are scored binarised at 0.5
        return compute_metrics(label_space, logits, y_true, threshold, per_class=False)

    return compute


def _per_class(y_true, y_pred, labels, names) -> dict:
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=list(names), output_dict=True, zero_division=0
    )
    return {
        name: {
            "precision": float(report[name]["precision"]),
            "recall": float(report[name]["recall"]),
            "f1": float(report[name]["f1-score"]),
            "support": int(report[name]["support"]),
        }
        for name in names
    }
