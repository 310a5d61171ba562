"""Calibration end to end: `calibrate` on a trained run, folded into the saved model, idempotent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fineclass.inference.predictor import Predictor
from tests.conftest import copy_run, run_cli


def test_train_records_calibration_and_the_report_draws_it(multiclass_run):
    run = multiclass_run[0]
    record = json.loads((run / "model" / "calibration.json").read_text())
    assert record["method"] == "auto" and record["fitted"] == "temperature"
    assert set(record["cross_fit_ece"]) == {"before", "after"}
    assert record["kept"] == (record["cross_fit_ece"]["after"] < record["cross_fit_ece"]["before"])
    metrics = json.loads((run / "metrics.json").read_text())["calibration"]
    assert set(metrics["test"]["before"]) == {"ece", "brier", "nll"}
    assert set(metrics["test"]["coverage_at_accuracy"]) == {"0.90", "0.95", "0.99"}
    assert (run / "plots" / "reliability.png").is_file() and (run / "plots" / "risk_coverage.png").is_file()
    assert "Calibration and abstention" in (run / "report.html").read_text()


def test_multilabel_train_fits_platt_before_tuning_thresholds(multilabel_run):
    record = json.loads((multilabel_run[0] / "model" / "calibration.json").read_text())
    assert record["fitted"] == "platt" and len(record["scale"]) == 3
    assert "calibration" in json.loads((multilabel_run[0] / "metrics.json").read_text())


def test_calibrate_twice_gives_the_same_model_and_figures(multiclass_run, tmp_path):
    run = copy_run(multiclass_run[0], tmp_path)
    texts = ["i feel so happy today", "sad and gloomy", "hello how are you"]
    removed = run_cli("calibrate", run, "--calibration", "none")
    assert removed.exit_code == 0 and "calibration none (the model's own scores): validation ECE" in removed.output
    raw = Predictor.from_dir(run).predict_logits(texts)
    first = run_cli("calibrate", run, "--calibration", "temperature")
    assert first.exit_code == 0, first.output
    assert "calibration temperature kept: validation ECE" in first.output
    record = json.loads((run / "model" / "calibration.json").read_text())
    calibrated = Predictor.from_dir(run).predict_logits(texts)
    np.testing.assert_allclose(calibrated, raw / record["temperature"], rtol=1e-4, atol=1e-5)
    metrics = json.loads((run / "metrics.json").read_text())["calibration"]
    assert metrics["kept"] is True and set(metrics["test"]) == {"before", "after", "aurc", "coverage_at_accuracy"}
    assert run_cli("calibrate", run, "--calibration", "temperature").exit_code == 0
    np.testing.assert_allclose(Predictor.from_dir(run).predict_logits(texts), calibrated, rtol=1e-4, atol=1e-5)
    again = json.loads((run / "metrics.json").read_text())["calibration"]
    assert again["temperature"] == pytest.approx(metrics["temperature"], rel=1e-3)
    assert "<p>calibration: temperature</p>" in (run / "report.html").read_text()
    assert run_cli("calibrate", run, "--calibration", "none").exit_code == 0
    np.testing.assert_allclose(Predictor.from_dir(run).predict_logits(texts), raw, rtol=1e-4, atol=1e-5)
    assert "<p>calibration: none</p>" in (run / "report.html").read_text()  # the report follows calibrate


def test_temperature_keeps_accuracy_and_pipeline_matches_predict(multiclass_run, tmp_path):
    from transformers import pipeline

    run = copy_run(multiclass_run[0], tmp_path)
    before = json.loads((run / "metrics.json").read_text())["test"]
    assert run_cli("calibrate", run, "--calibration", "temperature").exit_code == 0
    after = json.loads((run / "metrics.json").read_text())["test"]
    assert after["accuracy"] == before["accuracy"] and after["f1_macro"] == before["f1_macro"]
    texts = ["i feel so happy today", "furious and mad"]
    result = run_cli("predict", run, *texts, "--json", "--top-k", "4")
    ours = [{t["label"]: t["score"] for t in json.loads(line)["top_k"]} for line in result.stdout.splitlines()]
    classify = pipeline("text-classification", model=str(run / "model"), top_k=None)
    theirs = [{d["label"]: d["score"] for d in row} for row in classify(texts)]
    for mine, other in zip(ours, theirs):
        assert mine == pytest.approx({k: other[k] for k in mine}, abs=1e-5)


def test_calibrate_refuses_an_unknown_method(multiclass_run):
    result = run_cli("calibrate", multiclass_run[0], "--calibration", "foo")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].endswith(
        "--calibration 'foo' is not a method; use one of none, temperature, platt, auto")


def test_the_onnx_export_of_a_calibrated_model_gives_the_calibrated_scores(multiclass_run, tmp_path):
    run = copy_run(multiclass_run[0], tmp_path)
    texts = ["i feel so happy today", "furious and mad", "hello how are you"]
    assert run_cli("calibrate", run, "--calibration", "none").exit_code == 0
    raw = Predictor.from_dir(run).predict_logits(texts)
    assert run_cli("calibrate", run, "--calibration", "temperature").exit_code == 0
    temperature = json.loads((run / "model" / "calibration.json").read_text())["temperature"]
    exported = run_cli("export", run, "-o", tmp_path / "onnx")
    assert exported.exit_code == 0, exported.output
    onnx_logits = Predictor.from_dir(tmp_path / "onnx").predict_logits(texts)
    np.testing.assert_allclose(onnx_logits, raw / temperature, rtol=1e-3, atol=1e-4)
    assert temperature != pytest.approx(1.0, abs=1e-3)  # otherwise the check above says nothing


def test_calibrate_rewrites_the_multilabel_scores_at_half(multilabel_run, tmp_path):
    """Platt scaling moves the scores against 0.5, so `at_0.5` follows the model that `calibrate` leaves."""
    from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
    from fineclass.evaluation.metrics import multilabel_metrics

    run = copy_run(multilabel_run[0], tmp_path)
    for method in ("platt", "none"):
        metrics = json.loads((run / "metrics.json").read_text())
        metrics["test"]["at_0.5"] = {"f1_micro": -1.0}  # a stale figure, which calibrate must replace
        (run / "metrics.json").write_text(json.dumps(metrics))
        assert run_cli("calibrate", run, "--calibration", method).exit_code == 0
        predictor = Predictor.from_dir(run / "model")
        result = evaluate_frame(predictor, load_eval_frame(run / "model", None, "test"), "test")
        recorded = json.loads((run / "metrics.json").read_text())["test"]["at_0.5"]
        expected = multilabel_metrics(result.y_true, result.probs, 0.5, predictor.label_space.names, per_class=False)
        assert recorded == pytest.approx(expected, abs=1e-9)
