"""Rows whose given label is probably wrong, by confident learning on out-of-fold probabilities.

Multi-class: Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70
(2021). Each class's threshold is the mean probability the model gives it on the rows labelled with it; a row counts
towards the confident joint C[given, guess] for the most probable class whose probability reaches its threshold.
The joint is calibrated to the class counts, and "prune by noise rate" flags, for every off-diagonal cell (i, j),
the C[i, j] rows labelled i with the largest margin p_j - p_i.

Multi-label: the one-vs-rest variant of Thyagarajan, Snorrason, Northcutt and Mueller, "Identifying Incorrect
Annotations in Multi-Label Classification Data" (2022): every label is a binary task [absent, present] audited as
above, a row is flagged when any of its labels is, and rows are ranked by an exponential moving average of the
per-label qualities sorted worst last, so the worst label weighs most.

Pure numpy: the arrays in, the arrays out; cleanlab (AGPL) is the reference implementation, never imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RANKINGS = ("self-confidence", "normalized-margin")
"""Label quality scores to rank flagged rows by (--rank-by)."""
EMA_ALPHA = 0.8
"""Weight of each next-worse label quality in a multi-label row's score (Thyagarajan et al.'s pooling)."""
TOLERANCE = 1e-6
"""A probability this close below its class threshold still counts as reaching it (float rounding)."""


@dataclass
class LabelIssues:
    """What confident learning found, row by row, in the order of the probabilities given."""

    is_issue: np.ndarray
    """(n,) bool: the row's given label is probably wrong."""
    quality: np.ndarray
    """(n,) label quality in [0, 1]: lower is more likely mislabelled."""
    suggested: np.ndarray
    """(n,) class ids, or (n, K) 0/1 matrix for multi-label: the labels the model believes instead."""
    joint: np.ndarray
    """The calibrated confident joint, counts [given, true]: (K, K), or (K, 2, 2) one binary joint per label."""
    thresholds: np.ndarray
    """(K,) the per-class confidence thresholds (mean self-confidence); for multi-label, of each label's presence."""

    def ranked(self) -> np.ndarray:
        """Indices of the flagged rows, most likely mislabelled first (ties keep row order)."""
        flagged = np.flatnonzero(self.is_issue)
        return flagged[np.argsort(self.quality[flagged], kind="stable")]


def find_label_issues(labels: np.ndarray, probs: np.ndarray, rank_by: str = "self-confidence") -> LabelIssues:
    """Confident learning: `labels` are class ids (n,) or a 0/1 matrix (n, K); `probs` are out-of-fold (n, K)."""
    labels, probs = np.asarray(labels), np.asarray(probs, dtype=np.float64)
    if rank_by not in RANKINGS:
        raise ValueError(f"rank_by must be one of {', '.join(RANKINGS)}, got {rank_by!r}")
    if labels.ndim == 2:
        return find_multilabel_issues(labels, probs, rank_by)
    joint = calibrate_joint(confident_joint(labels, probs), np.bincount(labels, minlength=probs.shape[1]))
    issues = prune_by_noise_rate(labels, probs, joint)
    issues &= probs.argmax(axis=1) != labels  # the model itself agrees with the given label: keep it
    return LabelIssues(issues, label_quality(labels, probs, rank_by), probs.argmax(axis=1), joint,
                       class_thresholds(labels, probs))


def class_thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """t_j: the mean probability of class j over the rows labelled j (inf for a class no row has: never confident)."""
    counts = np.bincount(labels, minlength=probs.shape[1])
    sums = np.bincount(labels, weights=probs[np.arange(len(labels)), labels], minlength=probs.shape[1])
    return np.divide(sums, counts, out=np.full(probs.shape[1], np.inf), where=counts > 0)


def confident_guesses(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Each row's confident class: the most probable class at or over its threshold; -1 where none reaches it."""
    confident = probs >= class_thresholds(labels, probs) - TOLERANCE
    masked = np.where(confident, probs, -np.inf)
    return np.where(confident.any(axis=1), masked.argmax(axis=1), -1)


def confident_joint(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """C[i, j]: rows labelled i whose confident class is j. Every diagonal cell is at least 1, so that no class
    is estimated as entirely mislabelled (as the reference implementation guarantees)."""
    k = probs.shape[1]
    guesses = confident_guesses(labels, probs)
    kept = guesses >= 0
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (labels[kept], guesses[kept]), 1)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    return joint


def calibrate_joint(joint: np.ndarray, class_counts: np.ndarray) -> np.ndarray:
    """Scale each row to its class's count of given labels (rows without a confident class are counted back),
    then round each row to whole rows while keeping its total."""
    rows = joint.sum(axis=1, keepdims=True)
    scaled = joint / np.maximum(rows, TOLERANCE) * class_counts[:, None]
    return np.vstack([round_keeping_total(row) for row in scaled])


def round_keeping_total(values: np.ndarray) -> np.ndarray:
    """Whole numbers that sum to the rounded total: floors, plus one for the largest remainders."""
    floors = np.floor(values)
    missing = int(round(values.sum() - floors.sum()))
    order = np.argsort(-(values - floors), kind="stable")
    floors[order[:missing]] += 1
    return floors.astype(np.int64)


def prune_by_noise_rate(labels: np.ndarray, probs: np.ndarray, joint: np.ndarray, min_per_class: int = 1) -> np.ndarray:
    """For each off-diagonal (i, j), flag the joint[i, j] rows labelled i with the largest p_j - p_i. A class keeps
    at least `min_per_class` rows: its off-diagonal counts shrink by what its diagonal is raised."""
    counts = keep_at_least(joint, min_per_class)
    issues = np.zeros(len(labels), dtype=bool)
    for i in range(joint.shape[0]):
        rows = np.flatnonzero(labels == i)
        if len(rows) <= min_per_class:
            continue
        for j in np.flatnonzero(counts[i]):
            if j == i:
                continue
            margin = probs[rows, j] - probs[rows, i]
            worst = np.argsort(-margin, kind="stable")[:counts[i, j]]
            issues[rows[worst]] = True
    return issues


def keep_at_least(joint: np.ndarray, n: int) -> np.ndarray:
    """The joint with each diagonal cell raised to n, taking the rise evenly from that row's non-zero noise cells."""
    diagonal = joint.diagonal()
    raised = np.maximum(diagonal, n)
    noisy = np.maximum(np.count_nonzero(joint, axis=1) - 1, 1)
    counts = np.clip(joint - ((raised - diagonal) / noisy)[:, None], 0, None)
    np.fill_diagonal(counts, raised)
    return np.vstack([round_keeping_total(row) for row in counts])


def label_quality(labels: np.ndarray, probs: np.ndarray, rank_by: str) -> np.ndarray:
    """Self-confidence p_given, or the normalized margin (p_given - max other p + 1) / 2; both in [0, 1]."""
    given = probs[np.arange(len(labels)), labels]
    if rank_by == "self-confidence":
        return given
    others = probs.copy()
    others[np.arange(len(labels)), labels] = -np.inf
    return (given - others.max(axis=1) + 1) / 2


def find_multilabel_issues(labels: np.ndarray, probs: np.ndarray, rank_by: str) -> LabelIssues:
    """One binary confident-learning audit per label; a row is an issue when any of its labels is."""
    n, k = labels.shape
    labels = labels.astype(np.int64)
    per_label = np.zeros((n, k), dtype=bool)
    qualities = np.zeros((n, k))
    joints = np.zeros((k, 2, 2), dtype=np.int64)
    thresholds = np.zeros(k)
    for j in range(k):
        binary = np.column_stack([1 - probs[:, j], probs[:, j]])
        audit = find_label_issues(labels[:, j], binary, rank_by)
        per_label[:, j], qualities[:, j], joints[j] = audit.is_issue, audit.quality, audit.joint
        thresholds[j] = audit.thresholds[1]
    suggested = np.where(per_label, 1 - labels, labels).astype(np.int8)  # flip exactly the flagged labels
    return LabelIssues(per_label.any(axis=1), pool_worst_last(qualities), suggested, joints, thresholds)


def pool_worst_last(qualities: np.ndarray, alpha: float = EMA_ALPHA) -> np.ndarray:
    """An exponential moving average over each row's label qualities sorted best first, so the worst weighs most."""
    ordered = -np.sort(-qualities, axis=1)
    pooled = ordered[:, 0]
    for column in ordered.T[1:]:
        pooled = alpha * column + (1 - alpha) * pooled
    return pooled
