import numpy as np
import pytest

from fineclass.evaluation.metrics import (
    compute_metrics,
    multiclass_metrics,
    multilabel_metrics,
)
from fineclass.labels import LabelSpace


def test_multiclass_metrics_on_known_arrays():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    m = multiclass_metrics(y_true, y_pred, ("a", "b", "c"))
    assert m["accuracy"] == pytest.approx(4 / 6)
    # per class F1: a: p=1/2 r=1/2 -> .5 ; b: p=2/3 r=1 -> .8 ; c: p=1 r=1/2 -> 2/3
    assert m["f1_macro"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert m["per_class"]["b"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "f1": pytest.approx(0.8), "support": 2}


def test_multilabel_metrics_on_known_arrays():
    y_true = np.array([[1, 0], [1, 1], [0, 1]])
    probs = np.array([[0.9, 0.2], [0.6, 0.4], [0.1, 0.7]])
    m = multilabel_metrics(y_true, probs, 0.5, ("a", "b"))
    # predictions: [1,0], [1,0], [0,1]; TP=3, FP=0, FN=1
    assert m["f1_micro"] == pytest.approx(2 * 3 / (2 * 3 + 1))
    assert m["exact_match"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["recall"] == pytest.approx(0.5)
    lower = multilabel_metrics(y_true, probs, np.array([0.5, 0.3]), ("a", "b"))
    assert lower["exact_match"] == 1.0  # per-label thresholds are applied


def test_compute_metrics_uses_argmax_or_sigmoid():
    single = LabelSpace(("a", "b"), multi_label=False)
    assert compute_metrics(single, np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 1]))["accuracy"] == 1.0
    multi = LabelSpace(("a", "b"), multi_label=True)
    logits = np.array([[3.0, -3.0], [3.0, 3.0]])
    assert compute_metrics(multi, logits, np.array([[1, 0], [1, 1]]))["exact_match"] == 1.0


def test_label_space_encoding():
    space = LabelSpace(("x", "y", "z"), multi_label=True)
    assert space.encode([["x", "z"], []]).tolist() == [[1, 0, 1], [0, 0, 0]]
    assert LabelSpace(("x", "y"), False).encode(["y", "x"]).tolist() == [1, 0]
    assert space.problem_type == "multi_label_classification"


def test_best_epoch_is_the_first_with_the_best_score():
    from fineclass.recipes.train import best_epoch

    history = [{"epoch": 1.0, "f1_macro": 0.5, "loss": 0.9}, {"epoch": 2.0, "f1_macro": 0.7, "loss": 0.5},
               {"epoch": 3.0, "f1_macro": 0.7, "loss": 0.6}]
    assert best_epoch(history, "f1_macro") == 2.0
    assert best_epoch(history, "loss") == 2.0
    assert best_epoch([], "f1_macro") is None


def test_trainer_metrics_pool_each_texts_windows_before_scoring():
    from types import SimpleNamespace

    from fineclass.evaluation.metrics import trainer_metrics_fn
    from fineclass.labels import LabelSpace

    space = LabelSpace(("a", "b"), multi_label=False)
    # Text 0 has three windows: two lean to b, one strongly to a; the mean of the logits says a. Text 1 is one window.
    logits = np.array([[0.0, 1.0], [0.0, 1.0], [6.0, 0.0], [0.0, 2.0]], dtype=np.float32)
    labels = np.array([0, 0, 0, 1])
    prediction = SimpleNamespace(predictions=logits, label_ids=labels)
    pooled = trainer_metrics_fn(space, windows=np.array([3, 1]))(prediction)
    assert pooled["accuracy"] == 1.0  # two texts, both right
    per_window = trainer_metrics_fn(space)(prediction)
    assert per_window["accuracy"] == 0.5  # four windows, two wrong
    assert trainer_metrics_fn(space, windows=np.array([3, 1]), pooling="max")(prediction)["accuracy"] == 1.0
