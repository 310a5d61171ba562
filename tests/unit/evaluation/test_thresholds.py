import numpy as np
import pytest

from fineclass.config import parse_strategy
from fineclass.errors import ConfigError
from fineclass.evaluation.thresholds import tune_thresholds


def test_per_label_thresholds_find_the_known_optimum():
    # label 0 separates positives (0.30..0.39) from negatives (<= 0.2): best threshold is in (0.2, 0.30]
    # label 1 separates positives (>= 0.8) from negatives (0.6..0.7): best threshold is in (0.7, 0.8]
    rng = np.random.default_rng(0)
    y = np.zeros((40, 2), dtype=int)
    y[:20, 0] = 1
    y[20:, 1] = 1
    probs = np.zeros((40, 2))
    probs[:20, 0] = rng.uniform(0.30, 0.39, 20)
    probs[20:, 0] = rng.uniform(0.0, 0.2, 20)
    probs[20:, 1] = rng.uniform(0.8, 0.95, 20)
    probs[:20, 1] = rng.uniform(0.6, 0.7, 20)
    thresholds = tune_thresholds(y, probs, "per-label", min_positives=10)
    assert 0.2 < thresholds[0] <= 0.30 and 0.7 < thresholds[1] <= 0.8
    assert ((probs >= thresholds) == y.astype(bool)).all()


def test_rare_labels_fall_back_to_the_global_threshold():
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]] * 5)
    probs = np.where(y == 1, 0.6, 0.1).astype(float)
    tuned = tune_thresholds(y, probs, "per-label", min_positives=6)
    global_only = tune_thresholds(y, probs, "global")
    assert tuned[1] == global_only[1]  # label 1 has 5 positives < 6
    assert np.allclose(tune_thresholds(y, probs, "fixed", fixed=0.3), 0.3)


@pytest.mark.parametrize("text,expected", [("per-label", ("per-label", None)), ("global", ("global", None)), ("fixed:0.4", ("fixed", 0.4))])
def test_parse_strategy(text, expected):
    assert parse_strategy(text) == expected


@pytest.mark.parametrize("bad", ["fixed:2", "best", "fixed:x"])
def test_parse_strategy_refuses(bad):
    with pytest.raises(ConfigError, match="--thresholds"):
        parse_strategy(bad)
