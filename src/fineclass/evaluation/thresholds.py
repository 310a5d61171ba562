"""Multi-label decision thresholds, tuned on the validation split (never on test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fineclass.labels import LabelSpace
from fineclass.rundir import Thresholds

GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
MIN_POSITIVES = 10
"""A label needs at least this many validation positives to get its own threshold; fewer gives the global one."""


def f1_per_threshold(y_true: np.ndarray, probs: np.ndarray, grid: np.ndarray = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives per (threshold, label)."""
    decided = probs[None, :, :] >= grid[:, None, None]  # (thresholds, rows, labels)
    truth = y_true.astype(bool)[None, :, :]
    tp = (decided & truth).sum(axis=1)
    fp = (decided & ~truth).sum(axis=1)
    fn = (~decided & truth).sum(axis=1)
    return tp, fp, fn


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray, strategy: str = "per-label",
                    min_positives: int = MIN_POSITIVES, fixed: float = 0.5) -> np.ndarray:
    """One threshold per label: each label's best-F1 threshold, or the best global (micro-F1) one."""
    labels = y_true.shape[1]
    if strategy == "fixed":
        return np.full(labels, fixed)
    tp, fp, fn = f1_per_threshold(y_true, probs)
    micro = 2 * tp.sum(1) / np.maximum(2 * tp.sum(1) + fp.sum(1) + fn.sum(1), 1)
    global_threshold = plateau_middle(micro)
    thresholds = np.full(labels, global_threshold)
    if strategy == "global":
        return thresholds
    per_label_f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    positives = y_true.sum(axis=0)
    for label in range(labels):
        # A label the model never gets right at any threshold keeps the global one.
        if positives[label] >= min_positives and per_label_f1[:, label].max() > 0:
            thresholds[label] = plateau_middle(per_label_f1[:, label])
    return thresholds


def plateau_middle(scores: np.ndarray) -> float:
    """The middle of the best-scoring run of thresholds: ties are common on small validation sets,
    and the middle generalises better than an edge."""
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(GRID[best[len(best) // 2]])


def write_thresholds(model_dir: Path, label_space: LabelSpace, thresholds: np.ndarray, strategy: str, min_positives: int) -> None:
    record = Thresholds(dict(zip(label_space.names, map(float, thresholds))), strategy, min_positives)
    record.write(model_dir)

