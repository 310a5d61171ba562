"""The learning curve's arithmetic on known numbers: sizes, the summary per size, and the fitted power law."""

from __future__ import annotations

import pytest

from fineclass.errors import ConfigError
from fineclass.recipes.learning_curve import CurvePoint, fit_curve, parse_sizes, summarise


def test_sizes_take_whole_numbers_and_all():
    assert parse_sizes("48, 96,all") == [48, 96, None]
    assert parse_sizes([48, "ALL"]) == [48, None]
    with pytest.raises(ConfigError, match="--sizes '1' must be a whole number of training texts >= 2"):
        parse_sizes("1,48")


def test_the_summary_gives_mean_sample_std_min_and_max_per_size():
    points = [CurvePoint("m", 48, seed, {"accuracy": acc, "f1_macro": acc / 2}, 10.0 + seed, 0.0)
              for seed, acc in ((0, 0.5), (1, 0.6), (2, 0.7))]
    (row,) = summarise(points, "accuracy")
    assert row["runs"] == 3 and row["accuracy"] == pytest.approx(0.6)
    assert row["accuracy_std"] == pytest.approx(0.1) and (row["accuracy_min"], row["accuracy_max"]) == (0.5, 0.7)
    assert row["f1_macro"] == pytest.approx(0.3) and row["train_seconds"] == 11.0


def test_the_fit_recovers_a_known_inverse_power_law():
    sizes = [48, 96, 192, 384, 768]
    means = [(n, 0.9 - 2.0 * n ** -0.5) for n in sizes]
    fit = fit_curve(means, full_size=10_000)
    assert fit["fitted"] and fit["a"] == pytest.approx(0.9, abs=1e-3) and fit["c"] == pytest.approx(0.5, abs=1e-2)
    expected_gain = (0.9 - 2.0 * 1768 ** -0.5) - (0.9 - 2.0 * 768 ** -0.5)
    assert fit["gain_with_1000_more"] == pytest.approx(expected_gain, abs=1e-3)
    # A doubling adds b·n^-c·(1 - 2^-c) = 0.01 at n = (2·(1 - 2^-0.5) / 0.01)^2, about 3,431.
    assert fit["flattens_at"] == pytest.approx(3431, rel=0.02) and not fit["at_plateau_bound"]
    assert fit_curve(means[:2], 10_000) == {"fitted": False, "reason": "needs at least three sizes"}
