"""`fineclass compare` on a tiny model and toy data: one leaderboard row per candidate, all on one split."""

import json
import shutil

import pandas as pd
import pytest
import torch

from tests.conftest import make_texts, run_cli

FAST = ["--epochs", "3", "--learning-rate", "1e-3", "--batch-size", "8", "--warmup-ratio", "0", "--no-baseline", "--quiet"]
KINDS = {"fine-tune", "tfidf-logreg", "frozen", "onnx-int8", "shrink"}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from a second thread, and lose 10x when another process holds the other core."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def compared(tiny_model_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    data = tmp / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    out = tmp / "out"
    models = [str(tiny_model_dir), "tfidf-logreg", f"frozen:{tiny_model_dir}", f"{tiny_model_dir}@onnx-int8",
              f"shrink:{tiny_model_dir}:1"]
    result = run_cli("compare", data, "--models", *models, "-o", out, *FAST)
    assert result.exit_code == 0, result.output + str(result.exception)
    return out, data, result


def candidates_by_kind(out):
    return {c["kind"]: c for c in json.loads((out / "compare.json").read_text())["candidates"]}


def test_one_row_per_candidate_with_metrics_speed_and_size(compared):
    out, _, result = compared
    payload = json.loads((out / "compare.json").read_text())
    assert payload["data"]["rows"] == {"train": 210, "test": 60, "validation": 30}
    assert payload["headline_metric"] == "accuracy" and len(payload["candidates"]) == 5
    assert {c["kind"] for c in payload["candidates"]} == KINDS
    for candidate in payload["candidates"]:
        assert set(candidate["metrics"]) >= {"accuracy", "f1_macro"}, candidate["name"]
        assert 0 <= candidate["metrics"]["accuracy"] <= 1
        assert candidate["texts_per_second"] > 0 and candidate["latency_ms_p50"] > 0
        assert candidate["parameters"] > 0 and candidate["size_bytes"] > 0
        assert candidate["train_seconds"] > 0
        assert candidate["name"] in result.stdout
    accuracies = [c["metrics"]["accuracy"] for c in payload["candidates"]]
    assert accuracies == sorted(accuracies, reverse=True)
    assert any(c["pareto"] for c in payload["candidates"])
    assert candidates_by_kind(out)["tfidf-logreg"]["metrics"]["accuracy"] > 0.9  # chance is 1/3
    assert (out / "plots" / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "compare.html").read_text()
    assert "Leaderboard" in page and 'src="data:image/png;base64,' in page and "tfidf-logreg" in page


def test_every_candidate_uses_the_one_split(compared, tiny_model_dir):
    out, _, _ = compared
    kinds = candidates_by_kind(out)
    written = pd.read_json(out / "data" / "test.jsonl", lines=True)
    run_test = pd.read_json(out / "candidates" / tiny_model_dir.name / "data" / "test.jsonl", lines=True)
    assert list(run_test["text"]) == list(written["text"])
    shrink_train = pd.read_json(out / "candidates" / f"shrink-{tiny_model_dir.name}-1" / "run" / "data" / "train.jsonl", lines=True)
    assert list(shrink_train["text"]) == list(pd.read_json(out / "data" / "train.jsonl", lines=True)["text"])
    # X@onnx-int8 exports the X that was fine-tuned for its own row instead of training it again.
    assert kinds["onnx-int8"]["details"]["exported_from"] == str(out / "candidates" / tiny_model_dir.name / "model")
    assert kinds["onnx-int8"]["train_seconds"] == kinds["fine-tune"]["train_seconds"]
    student = json.loads((out / "candidates" / f"shrink-{tiny_model_dir.name}-1" / "student" / "config.json").read_text())
    assert student["num_hidden_layers"] == 1


def test_an_existing_run_is_only_evaluated_on_the_same_test_set(compared, tiny_model_dir, tmp_path):
    out, data, _ = compared
    run_dir = tmp_path / "run"  # a copy of the fine-tuned candidate's run, with an int8 export already in it
    shutil.copytree(out / "candidates" / tiny_model_dir.name, run_dir)
    shutil.copytree(out / "candidates" / f"{tiny_model_dir.name}-onnx-int8" / "onnx-int8", run_dir / "onnx-int8")
    result = run_cli("compare", data, "--models", run_dir, f"{run_dir}@onnx-int8", "-o", tmp_path / "again", *FAST)
    assert result.exit_code == 0, result.output + str(result.exception)
    again = candidates_by_kind(tmp_path / "again")
    assert again["evaluate"]["train_seconds"] is None and again["evaluate"]["details"]["evaluated_only"]
    assert again["onnx-int8"]["details"]["reused_export"] and again["onnx-int8"]["path"] == str(run_dir / "onnx-int8")
    train = set(pd.read_json(out / "data" / "train.jsonl", lines=True)["text"])
    in_training = sum(text in train for text in pd.read_json(out / "data" / "test.jsonl", lines=True)["text"])
    assert again["evaluate"]["details"]["test_texts_in_its_training"] == in_training  # duplicates across the toy split
    first = candidates_by_kind(out)
    assert again["evaluate"]["metrics"]["accuracy"] == pytest.approx(first["fine-tune"]["metrics"]["accuracy"])
    assert again["onnx-int8"]["metrics"]["accuracy"] == pytest.approx(first["onnx-int8"]["metrics"]["accuracy"])


def test_refuses_to_replace_a_compare(compared):
    out, data, _ = compared
    result = run_cli("compare", data, "--models", "tfidf-logreg", "-o", out, "--quiet")
    assert result.exit_code == 2
    assert f"{out / 'compare.json'} already exists; pass --overwrite to replace it" in result.stderr


def test_bad_models_fail_before_anything_is_trained(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "bad"
    result = run_cli("compare", emotion_like_csv, "--models", "tfidf-logreg", f"shrink:{tiny_model_dir}:9", "-o", out)
    assert result.exit_code == 2
    assert f"K=9, but {tiny_model_dir} has only 2 layers; use K from 1 to 2" in result.stderr
    assert not out.exists()
    result = run_cli("compare", emotion_like_csv, "--models", f"{tiny_model_dir}@onnx-fp16", "-o", out)
    assert result.exit_code == 2 and "unknown suffix @onnx-fp16" in result.stderr
    result = run_cli("compare", emotion_like_csv, "--models", "tfidf-logreg", "--split", "0.8,0,0.2", "-o", out)
    assert result.exit_code == 2 and "compare scores every candidate on a test split" in result.stderr


def test_multilabel_leaderboard(tiny_model_dir, multilabel_dir, tmp_path):
    out = tmp_path / "ml"
    result = run_cli("compare", multilabel_dir, "--models", "tfidf-logreg", tiny_model_dir, "-o", out, *FAST)
    assert result.exit_code == 0, result.output + str(result.exception)
    payload = json.loads((out / "compare.json").read_text())
    assert payload["headline_metric"] == "f1_micro" and payload["task"]["multi_label"]
    for candidate in payload["candidates"]:
        assert set(candidate["metrics"]) >= {"f1_micro", "f1_macro", "exact_match"}
    assert candidates_by_kind(out)["tfidf-logreg"]["metrics"]["f1_micro"] > 0.8
    assert "exact_match" in result.stdout
