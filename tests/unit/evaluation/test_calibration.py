"""Calibration metrics and fits on arrays whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

from fineclass.evaluation.calibration import (
    AffineMap, binned_ece, brier_score, confidence, coverage_at_accuracy, cross_fit_ece, expected_calibration_error,
    fit_map, fit_platt, fit_temperature, negative_log_likelihood, risk_coverage, selective_metrics,
)


def test_binned_ece_by_hand():
    # Bin (0.8667, 0.9333]: 0.9, 0.9 with 1 right -> |0.5 - 0.9| * 2/4; bin (0.5333, 0.6]: 0.6, 0.6 both right
    # -> |1 - 0.6| * 2/4. ECE = 0.2 + 0.2.
    assert binned_ece(np.array([0.9, 0.9, 0.6, 0.6]), np.array([1, 0, 1, 1])) == pytest.approx(0.4)


def test_multiclass_ece_reads_the_top_label():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    # Row 0: confidence 0.9, right; row 1: confidence 0.8, wrong (truth 0). Two bins: 0.1/2 + 0.8/2.
    assert expected_calibration_error(probs, np.array([0, 0]), multi_label=False) == pytest.approx(0.45)


def test_multilabel_ece_averages_the_labels():
    probs = np.array([[1.0, 0.5], [1.0, 0.5]])
    y = np.array([[1, 1], [1, 0]])
    # Label 0 is exact (ECE 0); label 1 has p = 0.5 and half positives (ECE 0).
    assert expected_calibration_error(probs, y, multi_label=True) == pytest.approx(0.0)
    # Label 0 says 1.0 but is never present (ECE 1); label 1 stays exact: the mean is 0.5.
    assert expected_calibration_error(probs, np.array([[0, 1], [0, 0]]), multi_label=True) == pytest.approx(0.5)


def test_brier_by_hand():
    probs = np.array([[0.7, 0.3], [0.4, 0.6]])
    # Row 0, truth 0: 0.09 + 0.09; row 1, truth 0: 0.36 + 0.36. Mean 0.45.
    assert brier_score(probs, np.array([0, 0]), multi_label=False) == pytest.approx(0.45)
    assert brier_score(probs, np.array([[1, 0], [1, 1]]), multi_label=True) == pytest.approx((0.09 + 0.09 + 0.36 + 0.16) / 4)


def test_nll_by_hand():
    logits = np.log(np.array([[0.25, 0.75]]))
    assert negative_log_likelihood(logits, np.array([1]), multi_label=False) == pytest.approx(-np.log(0.75))
    # sigmoid(0) = 0.5 on both labels: BCE log 2 whatever the truth.
    assert negative_log_likelihood(np.zeros((1, 2)), np.array([[1, 0]]), multi_label=True) == pytest.approx(np.log(2))


def test_temperature_fit_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=(20000, 4))
    y = np.array([rng.choice(4, p=p) for p in softmax(true_logits, axis=1)])
    assert fit_temperature(true_logits * 3.0, y) == pytest.approx(3.0, rel=0.05)


def test_platt_fit_recovers_a_known_map():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, size=(20000, 2))
    y = (rng.random(z.shape) < 1 / (1 + np.exp(-z))).astype(float)
    # The model's logits are (z - 1) / 2 on label 0 and 4z on label 1: the fit must undo both.
    fitted = fit_platt(np.stack([(z[:, 0] - 1) / 2, 4 * z[:, 1]], axis=1), y)
    assert fitted.scale == pytest.approx([2.0, 0.25], rel=0.06)
    assert fitted.bias == pytest.approx([1.0, 0.0], abs=0.06)


def test_platt_leaves_a_label_with_one_class_alone():
    fitted = fit_platt(np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[1, 1], [1, 0]]))
    assert fitted.scale[0] == 1.0 and fitted.bias[0] == 0.0


def test_affine_map_inverts():
    mapping = AffineMap(np.array([0.5, 2.0]), np.array([1.0, -1.0]))
    logits = np.array([[3.0, 4.0]])
    assert mapping.apply(logits) == pytest.approx(np.array([[2.5, 7.0]]))
    assert mapping.invert(mapping.apply(logits)) == pytest.approx(logits)


def test_cross_fit_sees_an_overconfident_model_improve():
    rng = np.random.default_rng(2)
    true_logits = rng.normal(0, 1, size=(2000, 3))
    y = np.array([rng.choice(3, p=p) for p in softmax(true_logits, axis=1)])
    before, after = cross_fit_ece(true_logits * 4, y, "temperature")
    assert after < before / 2


def test_temperature_keeps_the_argmax():
    logits = np.random.default_rng(3).normal(size=(50, 5))
    mapping = fit_map(logits, np.zeros(50, dtype=int), "temperature")
    assert (mapping.apply(logits).argmax(axis=1) == logits.argmax(axis=1)).all()


def test_multilabel_confidence_is_the_least_sure_label():
    assert confidence(np.array([[0.9, 0.4], [0.99, 0.01]]), multi_label=True) == pytest.approx([0.6, 0.99])
    assert confidence(np.array([[0.7, 0.3]]), multi_label=False) == pytest.approx([0.7])


def test_risk_coverage_and_aurc_by_hand():
    coverage, risk, aurc = risk_coverage(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 1, 0, 1]))
    assert coverage == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert risk == pytest.approx([0, 0, 1 / 3, 1 / 4])
    assert aurc == pytest.approx((1 / 3 + 1 / 4) / 4)
    assert coverage_at_accuracy(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 1, 0, 1]), 0.95) == 0.5
    assert coverage_at_accuracy(np.array([0.9, 0.8]), np.array([0, 0]), 0.9) == 0.0


def test_selective_metrics_use_exact_match_for_multilabel():
    probs = np.array([[0.9, 0.1], [0.9, 0.6], [0.55, 0.1]])
    y = np.array([[1, 0], [1, 0], [1, 0]])
    found = selective_metrics(probs, y, np.array([0.5, 0.5]), multi_label=True)
    # Confidence 0.9, 0.6, 0.55; right, wrong, right: risk 0, 1/2, 1/3.
    assert found["aurc"] == pytest.approx((0 + 0.5 + 1 / 3) / 3, abs=1e-6)
    assert found["coverage_at_accuracy"] == {"0.90": pytest.approx(1 / 3), "0.95": pytest.approx(1 / 3),
                                             "0.99": pytest.approx(1 / 3)}


def test_reliability_bins_by_hand():
    from fineclass.evaluation.calibration import reliability_bins

    probs = np.array([[0.9, 0.1], [0.95, 0.05], [0.4, 0.6]])
    bars = reliability_bins(probs, np.array([0, 1, 1]), multi_label=False)
    # 0.6 falls in (0.5333, 0.6], 0.9 in (0.8667, 0.9333], 0.95 in (0.9333, 1]: three bins, one row each.
    assert bars["rows"] == [1, 1, 1] and bars["accuracy"] == [1.0, 1.0, 0.0]
    assert bars["confidence"] == pytest.approx([0.6, 0.9, 0.95])
