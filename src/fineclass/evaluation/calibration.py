"""How far scores can be trusted, and the affine maps of the logits that make them more so.

Metrics (Guo et al., "On Calibration of Modern Neural Networks", 2017): ECE over 15 equal-width bins of the
top-label confidence (multi-label: of p(label), per label, averaged), the Brier score and the negative
log-likelihood. Fits: one temperature for multi-class, per-label Platt scaling (a scale and a bias on each logit)
for multi-label; both are affine maps `logits * scale + bias` that `training/calibration.py` folds into the model.
Selective prediction: the risk-coverage curve, its area (AURC) and the coverage reachable at a target accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_expit, log_softmax, softmax

from fineclass.inference.predictor import confidence

BINS = 15
EPS = 1e-12


@dataclass
class AffineMap:
    """`logits * scale + bias`, per label (a temperature T is scale 1/T and bias 0 on every label)."""

    scale: np.ndarray
    bias: np.ndarray

    def apply(self, logits: np.ndarray) -> np.ndarray:
        return logits * self.scale + self.bias

    def invert(self, logits: np.ndarray) -> np.ndarray:
        return (logits - self.bias) / self.scale

    @classmethod
    def identity(cls, num_labels: int) -> AffineMap:
        return cls(np.ones(num_labels), np.zeros(num_labels))


def probabilities(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    return expit(logits) if multi_label else softmax(logits, axis=1)


def binned_ece(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> float:
    """Σ_b |B_b|/n · |accuracy(B_b) − confidence(B_b)| over equal-width bins of (0, 1]."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if confidence.size == 0:
        return 0.0
    # Bin b holds confidences in (b/bins, (b+1)/bins]; a confidence of exactly 0 goes to the first bin.
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    gap = 0.0
    for b in np.unique(index):
        member = index == b
        gap += member.sum() * abs(correct[member].mean() - confidence[member].mean())
    return float(gap / confidence.size)


def reliability_bins(probs: np.ndarray, y_true: np.ndarray, multi_label: bool, bins: int = BINS) -> dict[str, list]:
    """A reliability diagram's bars: per non-empty bin, its mean confidence, its accuracy and its rows.
    Multi-class: the top label's probability and whether it is right; multi-label: every p(label) against the label."""
    if multi_label:
        confidences, correct = probs.ravel(), np.asarray(y_true, float).ravel()
    else:
        confidences, correct = probs.max(axis=1), (probs.argmax(axis=1) == y_true).astype(float)
    index = np.clip(np.ceil(confidences * bins).astype(int) - 1, 0, bins - 1)
    found = [b for b in range(bins) if (index == b).any()]
    return {"confidence": [float(confidences[index == b].mean()) for b in found],
            "accuracy": [float(correct[index == b].mean()) for b in found],
            "rows": [int((index == b).sum()) for b in found], "bin_edges": [b / bins for b in found]}


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, multi_label: bool, bins: int = BINS) -> float:
    """Multi-class: ECE of the top label's probability; multi-label: ECE of each p(label), averaged over labels."""
    if multi_label:
        return float(np.mean([binned_ece(probs[:, j], y_true[:, j], bins) for j in range(probs.shape[1])]))
    return binned_ece(probs.max(axis=1), probs.argmax(axis=1) == y_true, bins)


def brier_score(probs: np.ndarray, y_true: np.ndarray, multi_label: bool) -> float:
    """Mean squared distance to the truth: Σ_k (p_k − y_k)² per row for multi-class; per row and label for multi-label."""
    if multi_label:
        return float(np.mean((probs - y_true) ** 2))
    onehot = np.eye(probs.shape[1])[y_true]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def negative_log_likelihood(logits: np.ndarray, y_true: np.ndarray, multi_label: bool) -> float:
    """Mean −log p(true label) (multi-class), or mean binary cross-entropy per row and label (multi-label)."""
    if multi_label:
        return float(-np.mean(y_true * log_expit(logits) + (1 - y_true) * log_expit(-logits)))
    return float(-np.mean(log_softmax(logits, axis=1)[np.arange(len(y_true)), y_true]))


def calibration_metrics(logits: np.ndarray, y_true: np.ndarray, multi_label: bool) -> dict[str, float]:
    """ECE, Brier score and NLL of the scores `logits` give."""
    probs = probabilities(logits, multi_label)
    return {"ece": round(expected_calibration_error(probs, y_true, multi_label), 6),
            "brier": round(brier_score(probs, y_true, multi_label), 6),
            "nll": round(negative_log_likelihood(logits, y_true, multi_label), 6)}


def fit_temperature(logits: np.ndarray, y_true: np.ndarray) -> float:
    """The temperature T minimising the NLL of softmax(logits / T); searched on log T, so T stays positive."""
    logits = np.asarray(logits, float)

    def nll(log_t: float) -> float:
        return negative_log_likelihood(logits / np.exp(log_t), y_true, multi_label=False)

    found = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(found.x))


def fit_platt(logits: np.ndarray, y_true: np.ndarray) -> AffineMap:
    """Per label, the scale a and bias b minimising the BCE of sigmoid(a·logit + b).

    A label with no positive or no negative row in the data keeps a = 1, b = 0: nothing there to fit."""
    logits, y_true = np.asarray(logits, float), np.asarray(y_true, float)
    scale, bias = np.ones(logits.shape[1]), np.zeros(logits.shape[1])
    for j in range(logits.shape[1]):
        x, y = logits[:, j], y_true[:, j]
        if y.min() == y.max():
            continue

        def loss(params, x=x, y=y):
            z = params[0] * x + params[1]
            value = -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z))
            residual = expit(z) - y  # d(BCE)/dz
            return value, np.array([np.mean(residual * x), np.mean(residual)])

        scale[j], bias[j] = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    return AffineMap(scale, bias)


def fit_map(logits: np.ndarray, y_true: np.ndarray, method: str) -> AffineMap:
    """The affine map of a method: "temperature" (one T over every label) or "platt" (per label)."""
    if method == "temperature":
        if y_true.ndim == 2:  # multi-label: one temperature shared by every sigmoid
            found = minimize_scalar(
                lambda log_t: negative_log_likelihood(logits / np.exp(log_t), y_true, multi_label=True),
                bounds=(np.log(0.05), np.log(20.0)), method="bounded")
            temperature = float(np.exp(found.x))
        else:
            temperature = fit_temperature(logits, y_true)
        return AffineMap(np.full(logits.shape[1], 1 / temperature), np.zeros(logits.shape[1]))
    if method == "platt":
        if y_true.ndim == 1:  # multi-class: one-vs-rest Platt on each logit, then softmax
            y_true = np.eye(logits.shape[1])[y_true]
        return fit_platt(logits, y_true)
    raise ValueError(f"unknown calibration method {method!r}")


def cross_fit_ece(logits: np.ndarray, y_true: np.ndarray, method: str, seed: int = 0) -> tuple[float, float]:
    """Mean ECE before and after, fitting on one half of the rows and measuring on the other, both ways round.

    A fit that minimises the NLL of the rows it measures cannot fail to look better on them; this test can."""
    multi_label = y_true.ndim == 2
    order = np.random.default_rng(seed).permutation(len(logits))
    halves = [order[: len(order) // 2], order[len(order) // 2:]]
    before, after = [], []
    for fit_rows, test_rows in (halves, halves[::-1]):
        mapping = fit_map(logits[fit_rows], y_true[fit_rows], method)
        y_test = y_true[test_rows]
        before.append(expected_calibration_error(probabilities(logits[test_rows], multi_label), y_test, multi_label))
        after.append(expected_calibration_error(probabilities(mapping.apply(logits[test_rows]), multi_label), y_test,
                                                multi_label))
    return float(np.mean(before)), float(np.mean(after))


def risk_coverage(confidences: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Coverage and risk (error rate of the answers kept) when keeping the k most confident, k = 1..n; and AURC."""
    order = np.argsort(-np.asarray(confidences), kind="stable")
    errors = np.cumsum(1 - np.asarray(correct, float)[order])
    kept = np.arange(1, len(order) + 1)
    coverage, risk = kept / len(order), errors / kept
    return coverage, risk, float(risk.mean()) if len(risk) else 0.0


def coverage_at_accuracy(confidences: np.ndarray, correct: np.ndarray, accuracy: float) -> float:
    """The largest share of rows answered (most confident first) whose accuracy is at least `accuracy`; 0 if none."""
    coverage, risk, _ = risk_coverage(confidences, correct)
    reachable = coverage[risk <= 1 - accuracy + 1e-12]
    return float(reachable.max()) if reachable.size else 0.0


def answers_correct(probs: np.ndarray, y_true: np.ndarray, thresholds, multi_label: bool) -> np.ndarray:
    """Whether each row's answer is right (multi-label: every label's decision, an exact match)."""
    if multi_label:
        return ((probs >= thresholds) == y_true.astype(bool)).all(axis=1)
    return probs.argmax(axis=1) == y_true


def selective_metrics(probs: np.ndarray, y_true: np.ndarray, thresholds, multi_label: bool) -> dict:
    """AURC and the coverage at 90%, 95% and 99% accuracy (exact match for multi-label)."""
    correct = answers_correct(probs, y_true, thresholds, multi_label)
    sure = confidence(probs, multi_label)
    _, _, aurc = risk_coverage(sure, correct)
    return {"aurc": round(aurc, 6),
            "coverage_at_accuracy": {f"{a:.2f}": round(coverage_at_accuracy(sure, correct, a), 6)
                                     for a in (0.90, 0.95, 0.99)}}
