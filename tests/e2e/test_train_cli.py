"""The real CLI on a tiny model: train, evaluate and predict, multi-class and multi-label."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import copy_run, run_cli


@pytest.fixture
def trained_run(multiclass_run):
    return multiclass_run


def test_run_directory_layout(trained_run):
    out, _ = trained_run
    for name in ("model/config.json", "model/model.safetensors", "model/README.md", "model/tokenizer.json",
                 "metrics.json", "config.yaml", "splits.json", "data/test.jsonl"):
        assert (out / name).is_file(), name
    assert not (out / "checkpoints").exists()
    config = json.loads((out / "model/config.json").read_text())
    assert config["id2label"] == {"0": "joy", "1": "sadness", "2": "anger"}
    assert config["problem_type"] == "single_label_classification"


def test_metrics_json_has_epochs_test_and_throughput(trained_run):
    metrics = json.loads((trained_run[0] / "metrics.json").read_text())
    assert [v["epoch"] for v in metrics["validation"]] == list(range(1, 13))
    assert metrics["test"]["rows"] == 60
    assert metrics["test"]["accuracy"] > 0.8  # the toy classes are separable by one word
    assert set(metrics["test"]["per_class"]) == {"joy", "sadness", "anger"}
    for key in ("samples_per_second", "real_tokens_per_second", "padded_tokens_per_second", "mfu", "seconds"):
        assert metrics["train"][key] > 0


def test_pipeline_loads_the_model_with_label_names(trained_run):
    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(trained_run[0] / "model"))
    assert classifier("i feel so furious today")[0]["label"] == "anger"


def test_training_changed_the_predictions(trained_run, tiny_model_dir):
    from fineclass.inference.predictor import Predictor
    from fineclass.modeling import build_model, load_tokenizer

    texts = ["happy day", "so sad", "furious today", "glad", "gloomy", "mad"]
    trained = Predictor.from_dir(trained_run[0])
    untrained = Predictor(build_model(str(tiny_model_dir), trained.label_space), load_tokenizer(str(tiny_model_dir)))
    assert [p.label for p in trained.predict(texts)] == ["joy", "sadness", "anger"] * 2
    assert not np.allclose(trained.predict_logits(texts), untrained.predict_logits(texts))


def test_evaluate_defaults_to_the_runs_test_split(trained_run, tmp_path):
    out, _ = trained_run
    result = run_cli("evaluate", out, "--output", tmp_path / "m.json")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "m.json").read_text())
    recorded = json.loads((out / "metrics.json").read_text())["test"]
    assert metrics["rows"] == 60
    assert metrics["accuracy"] == pytest.approx(recorded["accuracy"])


def test_evaluate_on_new_data(trained_run):
    out, data = trained_run
    result = run_cli("evaluate", out / "model", data)
    assert result.exit_code == 0, result.output
    assert "300 rows" in result.output


def test_predict_texts_and_files(trained_run, tmp_path):
    out, data = trained_run
    result = run_cli("predict", out, "so happy today", "--json", "--top-k", "2")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.strip().splitlines()[0])
    assert row["labels"] == ["joy"] and len(row["top_k"]) == 2
    target = tmp_path / "pred.csv"
    assert run_cli("predict", out, "--input", data, "--output", target).exit_code == 0
    predictions = pd.read_csv(target)
    assert len(predictions) == 300 and (predictions["label"] == pd.read_csv(data)["label_name"]).mean() > 0.8
    again = run_cli("predict", out, "--input", data, "--output", target)
    assert again.exit_code == 2 and "already exists; pass --overwrite" in again.stderr


def test_refuses_to_overwrite_a_run(trained_run, tiny_model_dir):
    out, data = trained_run
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", out, "--quiet")
    assert result.exit_code == 2
    assert "is not empty; pass --overwrite" in result.stderr


def test_multilabel_run(multilabel_run, tmp_path):
    out = copy_run(multilabel_run[0], tmp_path)  # tune-thresholds below rewrites thresholds.json
    config = json.loads((out / "model/config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert config["label2id"] == {"joy": 0, "sadness": 1, "anger": 2}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"]["multi_label"] and metrics["selection_metric"] == "f1_micro"
    assert metrics["test"]["rows"] == 90 and metrics["test"]["f1_micro"] > 0.6
    saved = json.loads((out / "model/thresholds.json").read_text())
    assert saved["strategy"] == "per-label" and set(saved["thresholds"]) == {"joy", "sadness", "anger"}
    assert "f1_macro" in metrics["test"]["at_0.5"] and metrics["test"]["thresholds"] == "per-label"
    assert "Tuned thresholds against 0.5" in (out / "report.html").read_text()
    retuned = run_cli("tune-thresholds", out, "--thresholds", "fixed:0.3")
    assert retuned.exit_code == 0, retuned.output
    assert set(json.loads((out / "model/thresholds.json").read_text())["thresholds"].values()) == {0.3}
    from fineclass.inference.predictor import Predictor

    assert np.allclose(Predictor.from_dir(out).thresholds, 0.3)  # saved thresholds are applied on load
    predicted = run_cli("predict", out, "i am happy and furious", "--json", "--top-k", "3")
    assert predicted.exit_code == 0
    row = json.loads(predicted.stdout.splitlines()[0])
    assert {entry["label"] for entry in row["top_k"][:2]} == {"joy", "anger"}
    assert row["labels"] and set(row["labels"]) <= {"joy", "anger"}


def test_weighted_losses_train(tiny_model_dir, emotion_like_csv, multilabel_dir, tmp_path):
    for data, flag in ((emotion_like_csv, "--class-weights"), (multilabel_dir, "--pos-weight")):
        out = tmp_path / flag.strip("-")
        result = run_cli("train", data, "--model", tiny_model_dir, "-o", out, flag, "balanced", "--epochs", "1", "--quiet")
        assert result.exit_code == 0, result.output + str(result.exception)
        assert f"{flag[2:].replace('-', '_')}: balanced" in (out / "config.yaml").read_text()
    bad = run_cli("train", emotion_like_csv, "-o", tmp_path / "bad", "--class-weights", "heavy")
    assert bad.exit_code == 2 and "--class-weights must be none or balanced" in bad.stderr


def test_report_and_baseline(trained_run, tmp_path):
    import re

    out, _ = trained_run
    metrics = json.loads((out / "metrics.json").read_text())
    baseline, test = metrics["baseline"], metrics["test"]
    assert baseline["accuracy"] < 0.6 < test["accuracy"]  # an untrained head is near chance (1/3)
    assert metrics["model"]["architecture"] == "BertForSequenceClassification"
    assert metrics["model"]["head_parameters"] == 32 * 3 + 3
    page = (out / "report.html").read_text()
    assert f"{test['accuracy']:.4f}" in page and f"{baseline['accuracy']:.4f}" in page
    assert "Split balance" in page and abs(metrics["label_shares"]["train"]["joy"] - metrics["label_shares"]["test"]["joy"]) < 0.02
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 6  # 2 confusion matrices, 2 curves, reliability, risk-coverage
    for png in ("confusion_matrix", "confusion_matrix_normalized", "loss", "selection_metric"):
        assert (out / "plots" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    result = run_cli("evaluate", out, "--report-dir", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    assert "Confusion matrix" in (tmp_path / "ev" / "report.html").read_text()
