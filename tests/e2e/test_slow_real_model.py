"""The real bundled MiniLM on samples of the shared datasets (run with: make test-slow)."""

import json

import pytest

from tests.conftest import SHARED, run_cli

pytestmark = pytest.mark.slow

EMOTION = SHARED / "datasets" / "emotion" / "emotion.csv"
GO_EMOTIONS = SHARED / "datasets" / "go_emotions"


@pytest.fixture(autouse=True)
def needs_shared_data():
    if not EMOTION.is_file() or not GO_EMOTIONS.is_dir():
        pytest.skip(f"shared datasets not found under {SHARED}")


def test_emotion_sample_learns(tmp_path):
    out = tmp_path / "emotion"
    result = run_cli("train", EMOTION, "-o", out, "--max-train-samples", "1500", "--epochs", "2", "--quiet")
    assert result.exit_code == 0, result.output + str(result.exception)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"]["labels"] == ["sadness", "joy", "love", "anger", "fear", "surprise"]
    assert metrics["data"]["rows"]["test"] == 3200
    assert metrics["test"]["accuracy"] > 0.6  # chance is 0.34 (the joy share)

    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(out / "model"))
    assert classifier("i feel so happy and cheerful today")[0]["label"] == "joy"


def test_go_emotions_is_multilabel_with_28_names(tmp_path):
    out = tmp_path / "go"
    result = run_cli("train", GO_EMOTIONS, "-o", out, "--max-train-samples", "2000", "--epochs", "1", "--quiet")
    assert result.exit_code == 0, result.output + str(result.exception)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"]["multi_label"] and metrics["task"]["num_labels"] == 28
    assert metrics["task"]["labels"][0] == "admiration" and metrics["task"]["labels"][27] == "neutral"
    assert metrics["data"]["rows"] == {"train": 2000, "validation": 5426, "test": 5427}
    for key in ("f1_micro", "f1_macro", "exact_match"):
        assert key in metrics["test"]
