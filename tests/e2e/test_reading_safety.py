"""Read texts as they are, and train what can be trained: the CLI on apostrophe tweets and on rare classes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import make_texts, run_cli
from tests.layouts import build

QUICK = ["--epochs", "1", "--quiet", "--no-baseline"]
EMOTION = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "emotion" / "emotion.csv"


def flat(text: str) -> str:
    """Log lines as one line: rich wraps them at the terminal's width."""
    return " ".join(text.split())


def test_33_apostrophe_tweets_train_on_33_rows_and_give_33_predictions(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build("apostrophe-tweets", tmp_path)
    result = run_cli("train", "tweets.tsv", "--model", tiny_model_dir, "-o", "run", *QUICK, "--no-report")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert sum(json.loads((tmp_path / "run" / "metrics.json").read_text())["data"]["rows"].values()) == 33
    predicted = run_cli("predict", "run", "--input", "tweets.tsv", "--output", "out.jsonl")
    assert predicted.exit_code == 0, predicted.output
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    written = [line.split("\t")[1] for line in (tmp_path / "tweets.tsv").read_text().splitlines()[1:]]
    assert [row["text"] for row in rows] == written and len(rows) == 33


def test_a_class_of_two_rows_trains_stays_in_train_and_is_marked_in_the_report(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    extra = pd.DataFrame({"text": ["odd one", "odd two", "odd three", "odd four", "odd five"],
                          "label_name": ["rare", "rare", "thin", "thin", "thin"]})
    pd.concat([make_texts(60), extra])[["text", "label_name"]].to_csv("d.csv", index=False)
    result = run_cli("train", "d.csv", "--model", tiny_model_dir, "-o", "run", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert ("2 classes with fewer than the 10 rows that stratify over every split of 0.7,0.2,0.1: 'rare' 2 (train 2, "
            "validation 0, test 0); 'thin' 3 (train 1, validation 1, test 1)") in flat(result.stderr)
    rare = json.loads((tmp_path / "run" / "metrics.json").read_text())["data"]["rare_classes"]
    assert rare == {"rare": {"train": 2, "validation": 0, "test": 0}, "thin": {"train": 1, "validation": 1, "test": 1}}
    page = (tmp_path / "run" / "report.html").read_text()
    assert "<td>thin *</td>" in page and "<td>joy</td>" in page
    assert "rare: train 2, validation 0, test 0; thin: train 1, validation 1, test 1" in page


@pytest.mark.skipif(not EMOTION.is_file(), reason="needs ../shared/datasets/emotion/emotion.csv")
def test_a_random_400_rows_of_emotion_train(tiny_model_dir, tmp_path, monkeypatch):
    """Issue 25's example: 8 rows of 'surprise', refused before with "too few rows to stratify"."""
    monkeypatch.chdir(tmp_path)
    pd.read_csv(EMOTION).sample(400, random_state=0).to_csv("emotion-400.csv", index=False)
    result = run_cli("train", "emotion-400.csv", "--model", tiny_model_dir, "-o", "run", *QUICK, "--no-report")
    assert result.exit_code == 0, result.output + str(result.exception)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data"]["rare_classes"] == {"surprise": {"train": 6, "validation": 1, "test": 1}}
    assert metrics["test"]["per_class"]["surprise"]["support"] == 1
