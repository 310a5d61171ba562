"""Folding an affine map of the logits into a saved classifier's last linear layer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from fineclass.evaluation.calibration import AffineMap
from fineclass.labels import LabelSpace
from fineclass.modeling import build_model, load_classifier
from fineclass.training.calibration import (
    CALIBRATION, calibrate_model_dir, choose_map, classifier_layer, fold_into_model_dir, resolve_method,
)
from fineclass.errors import ConfigError


@pytest.fixture
def classifier_dir(tiny_model_dir, tmp_path):
    torch.manual_seed(0)
    model = build_model(str(tiny_model_dir), LabelSpace(("a", "b", "c"), multi_label=False))
    model.save_pretrained(tmp_path / "model")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path / "model")
    return tmp_path / "model"


def logits_of(model_dir) -> np.ndarray:
    model, tokenizer = load_classifier(model_dir)
    encoded = tokenizer(["hello how are you", "love you"], return_tensors="pt", padding=True)
    with torch.no_grad():
        return model.eval()(**encoded).logits.double().numpy()


def test_the_classification_layer_is_the_last_linear_with_one_output_per_label(classifier_dir):
    model, _ = load_classifier(classifier_dir)
    name, layer = classifier_layer(model, 3)
    assert name == "classifier" and layer.out_features == 3


def test_folded_logits_are_the_affine_map_of_the_old_ones(classifier_dir):
    before = logits_of(classifier_dir)
    mapping = AffineMap(np.array([0.5, 2.0, 1.5]), np.array([0.1, -0.3, 0.0]))
    fold_into_model_dir(classifier_dir, mapping)
    assert logits_of(classifier_dir) == pytest.approx(mapping.apply(before), abs=1e-5)


def test_calibrating_twice_folds_once(classifier_dir):
    rng = np.random.default_rng(0)
    logits = logits_of(classifier_dir) * 5
    validation = np.concatenate([logits + rng.normal(0, 1, logits.shape) for _ in range(100)])
    y = rng.integers(0, 3, len(validation))
    original = logits_of(classifier_dir)
    first = calibrate_model_dir(classifier_dir, validation, y, "temperature", multi_label=False)
    once = logits_of(classifier_dir)
    assert once == pytest.approx(original / first["temperature"], abs=1e-5)
    # The second fit sees the calibrated logits, undoes the folded map first, and lands on the same weights.
    second = calibrate_model_dir(classifier_dir, validation / first["temperature"], y, "temperature", multi_label=False)
    assert second["temperature"] == pytest.approx(first["temperature"], rel=1e-4)
    assert logits_of(classifier_dir) == pytest.approx(once, abs=1e-5)
    record = json.loads((classifier_dir / CALIBRATION).read_text())
    assert record["kept"] is True and record["method"] == "temperature"
    calibrate_model_dir(classifier_dir, validation / first["temperature"], y, "none", multi_label=False)
    assert logits_of(classifier_dir) == pytest.approx(original, abs=1e-5)


def test_auto_drops_a_calibration_that_does_not_help():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    logits = np.where(np.eye(2)[y] == 1, 0.0, -np.log(3.0))  # p(true) = 0.75 and right 100%: ...
    logits[:100] = logits[:100, ::-1]  # ... now right 75% at confidence 0.75: calibrated already
    record = choose_map(logits, y, "auto", multi_label=False)
    assert record["kept"] is False and record["scale"] == [1.0, 1.0]
    assert record["validation"]["before"] == record["validation"]["after"]


def test_method_names_are_checked():
    with pytest.raises(ConfigError, match=r"^--calibration 'foo' is not a method; use one of none, temperature, platt, auto$"):
        resolve_method("foo", multi_label=False)
    with pytest.raises(ConfigError, match="platt is for multi-label models"):
        resolve_method("platt", multi_label=False)
    assert resolve_method("auto", multi_label=True) == "platt"


def test_a_distillation_teacher_gives_its_uncalibrated_logits():
    from fineclass.training.distill import Teacher

    class Calibrated:
        def predict_logits(self, texts, pairs=None):
            return np.array([[1.0, -2.0]]) / 2.5  # folded temperature 2.5

    teacher = Teacher(Calibrated(), folded=AffineMap(np.full(2, 1 / 2.5), np.zeros(2)))
    assert teacher.logits(["x"]) == pytest.approx(np.array([[1.0, -2.0]]))
    assert Teacher(Calibrated()).logits(["x"]) == pytest.approx(np.array([[0.4, -0.8]]))
