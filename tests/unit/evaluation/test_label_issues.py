"""Confident learning on arrays small enough to work out by hand (the arithmetic is in each docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from fineclass.evaluation.label_issues import (
    calibrate_joint,
    class_thresholds,
    confident_guesses,
    confident_joint,
    find_label_issues,
    keep_at_least,
    label_quality,
    pool_worst_last,
)

# Eight rows, three classes: row 2 says 0 but looks like 1, row 7 says 2 but looks like 0.
LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2])
PROBS = np.array([
    [0.90, 0.05, 0.05],
    [0.70, 0.20, 0.10],
    [0.20, 0.70, 0.10],
    [0.10, 0.80, 0.10],
    [0.10, 0.60, 0.30],
    [0.30, 0.40, 0.30],
    [0.10, 0.10, 0.80],
    [0.60, 0.10, 0.30],
])


def test_thresholds_are_the_mean_self_confidence_per_class():
    """t0 = (0.9 + 0.7 + 0.2) / 3, t1 = (0.8 + 0.6 + 0.4) / 3, t2 = (0.8 + 0.3) / 2."""
    np.testing.assert_allclose(class_thresholds(LABELS, PROBS), [0.6, 0.6, 0.55])


def test_a_class_no_row_has_is_never_confident():
    thresholds = class_thresholds(np.array([0, 0]), np.array([[0.9, 0.1, 0.0], [0.8, 0.1, 0.1]]))
    assert thresholds[1] == np.inf and thresholds[2] == np.inf


def test_confident_guesses():
    """Row 4's 0.6 equals t1 and counts; row 5 reaches no threshold (0.3 < 0.6, 0.4 < 0.6, 0.3 < 0.55)."""
    assert confident_guesses(LABELS, PROBS).tolist() == [0, 0, 1, 1, 1, -1, 2, 0]


def test_the_most_probable_of_several_confident_classes_is_the_guess():
    labels = np.array([0, 1])
    probs = np.array([[0.5, 0.5], [0.45, 0.55]])  # t0 = 0.5, t1 = 0.55: row 1 reaches both, 0.55 is larger
    assert confident_guesses(labels, probs).tolist() == [0, 1]


def test_confident_joint_counts_given_against_guessed():
    """Given 0: rows 0, 1 -> 0 and row 2 -> 1. Given 1: rows 3, 4 -> 1 (row 5 has no guess). Given 2: 6 -> 2, 7 -> 0."""
    np.testing.assert_array_equal(confident_joint(LABELS, PROBS), [[2, 1, 0], [0, 2, 0], [1, 0, 1]])


def test_calibration_scales_each_row_to_its_class_count_and_keeps_whole_rows():
    """Row 0: [5, 1, 0] / 6 * 10 = [8.33, 1.67, 0] -> floors [8, 1, 0] and the one left to the largest remainder.
    Row 1: [2, 2, 0] / 4 * 4 stays. Row 2 has 3 rows and stays."""
    joint = np.array([[5, 1, 0], [2, 2, 0], [0, 0, 3]])
    np.testing.assert_array_equal(calibrate_joint(joint, np.array([10, 4, 3])), [[8, 2, 0], [2, 2, 0], [0, 0, 3]])


def test_calibration_counts_back_rows_without_a_confident_class():
    """Class 1 has 3 rows but only 2 in the joint: [0, 2, 0] becomes [0, 3, 0]."""
    calibrated = calibrate_joint(confident_joint(LABELS, PROBS), np.bincount(LABELS))
    np.testing.assert_array_equal(calibrated, [[2, 1, 0], [0, 3, 0], [1, 0, 1]])


def test_keep_at_least_takes_the_rise_from_the_noise_cells():
    """Diagonal 0 raised to 1; the one non-zero noise cell besides gives it up: [0, 3, 0] -> [1, 2, 0]."""
    np.testing.assert_array_equal(keep_at_least(np.array([[0, 3, 0], [0, 2, 0], [0, 0, 2]]), 1)[0], [1, 2, 0])


def test_find_label_issues_flags_and_ranks_the_two_mislabelled_rows():
    """Prune by noise rate: C[0, 1] = 1 takes the class-0 row with the largest p1 - p0 (row 2: +0.5), C[2, 0] = 1 the
    class-2 row with the largest p0 - p2 (row 7: +0.3). Self-confidence 0.2 < 0.3 ranks row 2 first."""
    issues = find_label_issues(LABELS, PROBS)
    assert np.flatnonzero(issues.is_issue).tolist() == [2, 7]
    assert issues.ranked().tolist() == [2, 7]
    assert issues.suggested[[2, 7]].tolist() == [1, 0]
    np.testing.assert_array_equal(issues.joint, [[2, 1, 0], [0, 3, 0], [1, 0, 1]])
    np.testing.assert_allclose(issues.quality[[2, 7]], [0.2, 0.3])


def test_normalized_margin_ranks_by_the_gap_to_the_best_other_class():
    """Row 2: (0.2 - 0.7 + 1) / 2 = 0.25; row 7: (0.3 - 0.6 + 1) / 2 = 0.35."""
    issues = find_label_issues(LABELS, PROBS, rank_by="normalized-margin")
    np.testing.assert_allclose(issues.quality[[2, 7]], [0.25, 0.35])
    assert issues.ranked().tolist() == [2, 7]


def test_the_two_rankings_can_disagree():
    """A: self-confidence 0.2, margin (0.2 - 0.3 + 1) / 2 = 0.45. B: 0.3, (0.3 - 0.7 + 1) / 2 = 0.3."""
    labels, probs = np.array([0, 0]), np.array([[0.2, 0.25, 0.25, 0.3], [0.3, 0.7, 0.0, 0.0]])
    np.testing.assert_allclose(label_quality(labels, probs, "self-confidence"), [0.2, 0.3])
    np.testing.assert_allclose(label_quality(labels, probs, "normalized-margin"), [0.45, 0.3])


def test_a_row_the_model_agrees_with_is_never_flagged():
    """Class 0 has one off-diagonal count but its only candidates' top class is 0 itself."""
    labels = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.55, 0.45], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])
    assert not find_label_issues(labels, probs).is_issue.any()


def test_an_unknown_ranking_is_refused():
    with pytest.raises(ValueError, match="rank_by must be one of self-confidence, normalized-margin, got 'margin'"):
        find_label_issues(LABELS, PROBS, rank_by="margin")


# Multi-label: label 0 is wrong on rows 2 (given, looks absent) and 5 (absent, looks given); label 1 is clean.
ML_LABELS = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]])
ML_PROBS = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.1], [0.2, 0.9], [0.1, 0.8], [0.85, 0.9]])


def test_multilabel_audits_each_label_as_a_binary_task():
    """Label 0 present: t = (0.9 + 0.8 + 0.1) / 3 = 0.6; absent: t = (0.8 + 0.9 + 0.15) / 3 = 0.6167. The binary joint
    is [[2, 1], [1, 2]]: row 5 (p1 - p0 = +0.7 among the absent) and row 2 (p0 - p1 = +0.8 among the present)."""
    issues = find_label_issues(ML_LABELS, ML_PROBS)
    assert np.flatnonzero(issues.is_issue).tolist() == [2, 5]
    np.testing.assert_array_equal(issues.joint[0], [[2, 1], [1, 2]])
    np.testing.assert_allclose(issues.thresholds[0], 0.6)
    assert issues.suggested[[2, 5]].tolist() == [[0, 0], [1, 1]]  # exactly label 0 flipped


def test_multilabel_rows_rank_by_the_pooled_label_qualities():
    """Row 2: qualities [0.1, 0.9] -> sorted best first [0.9, 0.1] -> 0.8 * 0.1 + 0.2 * 0.9 = 0.26.
    Row 5: [1 - 0.85, 0.9] -> [0.9, 0.15] -> 0.8 * 0.15 + 0.2 * 0.9 = 0.30."""
    issues = find_label_issues(ML_LABELS, ML_PROBS)
    np.testing.assert_allclose(issues.quality[[2, 5]], [0.26, 0.30])
    assert issues.ranked().tolist() == [2, 5]


def test_pooling_weighs_the_worst_label_most():
    np.testing.assert_allclose(pool_worst_last(np.array([[0.2, 1.0, 1.0]])), [0.8 * 0.2 + 0.2 * 1.0])
