"""The first natural command on the layouts that public datasets come in: `fineclass train FILE`, no flags.

Each must train, detect the task and the number of labels, name the labels from the file, say what it
detected in one line before any work, and then `predict --input` the same file.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.layouts import LAYOUTS, NAMES, build

QUICK = ["--epochs", "1", "--quiet", "--no-baseline", "--no-report"]


def flat(text: str) -> str:
    """Log lines as one line: rich wraps them at the terminal's width."""
    return " ".join(text.split())


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_first_command_trains_and_predicts(layout, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = build(layout, tmp_path)
    result = run_cli("train", expected.data, "--model", tiny_model_dir, "-o", "run", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    first = result.stdout.splitlines()[0]
    kind = "multi-label" if expected.multi_label else "multi-class"
    assert first.startswith("read ") and f"{kind}, {len(expected.labels)} labels" in first, first
    task = json.loads((tmp_path / "run" / "metrics.json").read_text())["task"]
    assert (task["multi_label"], tuple(task["labels"])) == (expected.multi_label, expected.labels)
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert sorted(config["label2id"]) == sorted(expected.labels)

    source = expected.predict_input or expected.data
    predicted = run_cli("predict", "run", "--input", source, "--output", "out.jsonl")
    assert predicted.exit_code == 0, predicted.output + str(predicted.exception)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert rows and all(set(row["labels"]) <= set(expected.labels) for row in rows)


def test_headerless_ids_are_read_one_based_and_said(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build("headerless-1-based", tmp_path)
    result = run_cli("train", "ag_news", "--model", tiny_model_dir, "-o", "run", *QUICK)
    assert result.exit_code == 0, result.output
    assert "no header" in result.stdout and "ids 1..3 read as 1-based (1 = 'joy')" in result.stdout
    rows = [json.loads(line) for line in (tmp_path / "run" / "data" / "train.jsonl").read_text().splitlines()]
    source = pd.read_csv(tmp_path / "ag_news" / "train.csv", header=None)
    by_row = {r["row"]: r["labels"][0] for r in rows}
    assert all(by_row[i] == NAMES[int(source.iloc[i, 0]) - 1] for i in by_row)


def test_joined_text_columns_are_recorded_and_predict_joins_them_the_same_way(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build("title-description", tmp_path)
    hint = run_cli("train", "news.csv", "--model", tiny_model_dir, "-o", "plain", *QUICK)
    assert "'title' looks like text too: --text-column description,title joins them" in hint.stdout.splitlines()[0]
    result = run_cli("train", "news.csv", "--text-column", "Title,Description", "--model", tiny_model_dir, "-o", "run", *QUICK)
    assert result.exit_code == 0, result.output
    reading = json.loads((tmp_path / "run" / "splits.json").read_text())["reading"]
    assert (reading["text_columns"], reading["text_join"]) == (["title", "description"], "\n")
    saved = pd.read_json(tmp_path / "run" / "data" / "train.jsonl", lines=True)
    frame = pd.read_csv(tmp_path / "news.csv")
    assert saved["text"].iloc[0] == frame["title"].iloc[saved["row"].iloc[0]] + "\n" + frame["description"].iloc[saved["row"].iloc[0]]
    predicted = run_cli("predict", "run", "--input", "news.csv", "--output", "out.jsonl")
    assert predicted.exit_code == 0, predicted.output
    assert "text 'title' + 'description'" in predicted.stdout
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert first["text"] == frame["title"].iloc[0] + "\n" + frame["description"].iloc[0]


def test_wide_predictions_read_back_as_wide_labels(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build("wide-0-1", tmp_path)
    assert run_cli("train", "wide.csv", "--model", tiny_model_dir, "-o", "run", *QUICK).exit_code == 0
    predicted = run_cli("predict", "run", "--input", "wide.csv", "--output", "back.csv", "--wide")
    assert predicted.exit_code == 0, predicted.output
    back = pd.read_csv(tmp_path / "back.csv")
    assert list(back.columns) == ["text", *NAMES] and set(back[NAMES].to_numpy().ravel()) <= {0, 1}
    evaluated = run_cli("evaluate", "run", "wide.csv")
    assert evaluated.exit_code == 0, evaluated.output
    assert "3 0/1 columns 'joy'..'anger'" in evaluated.stdout


def test_soft_labels_train_as_soft_targets_and_score_binarised(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build("soft-labels", tmp_path)
    result = run_cli("train", "soft.csv", "--model", tiny_model_dir, "-o", "run", *QUICK)
    assert result.exit_code == 0, result.output
    assert "label cells are fractions between 0 and 1: training on them as soft targets" in flat(result.stderr)
    saved = pd.read_json(tmp_path / "run" / "data" / "train.jsonl", lines=True)
    frame = pd.read_csv(tmp_path / "soft.csv")
    row = saved.iloc[0]
    assert row["targets"] == pytest.approx(frame.loc[row["row"], NAMES].tolist())
    assert row["labels"] == [n for n in NAMES if frame.loc[row["row"], n] >= 0.5]


def test_text_pairs_are_encoded_as_pairs_everywhere(tiny_model_dir, tmp_path, monkeypatch):
    from fineclass.inference.predictor import Predictor

    monkeypatch.chdir(tmp_path)
    build("text-pairs", tmp_path)
    result = run_cli("train", "quora.csv", "--model", tiny_model_dir, "-o", "run", *QUICK)
    assert result.exit_code == 0, result.output
    assert "text 'question1' paired with 'question2'" in result.stdout
    predictor = Predictor.from_dir(tmp_path / "run")
    encoded = predictor.encode(["happy day"], ["sad day"])
    assert 1 in encoded["token_type_ids"][0]  # the second segment has its own segment id
    both = predictor.predict_logits(["happy day", "happy day"], ["sad day", "glad day"])
    batch = predictor.tokenizer(["happy day", "happy day"], ["sad day", "glad day"])
    assert batch["input_ids"] == predictor.encode(["happy day", "happy day"], ["sad day", "glad day"])["input_ids"]
    assert both.shape == (2, 2)
    pd.DataFrame({"text": ["a"]}).to_csv(tmp_path / "lone.csv", index=False)
    lone = run_cli("predict", "run", "--input", "lone.csv", "--output", "out.csv")
    assert lone.exit_code == 2 and "trained on text pairs" in lone.stderr and "--text-pair-column" in lone.stderr


def test_max_eval_samples_caps_validation_and_test_and_says_so(tiny_model_dir, tmp_path, monkeypatch):
    from tests.conftest import make_texts

    monkeypatch.chdir(tmp_path)
    make_texts(600).to_csv("big.csv", index=False)
    result = run_cli("train", "big.csv", "--model", tiny_model_dir, "-o", "run", "--max-train-samples", "60",
                     "--max-eval-samples", "30", *QUICK)
    assert result.exit_code == 0, result.output
    assert "test: scoring a stratified sample of 30 of 120 rows (--max-eval-samples)" in flat(result.stderr)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data"]["rows"] == {"train": 60, "validation": 30, "test": 30}
    assert metrics["data"]["sampled_from"] == {"validation": 60, "test": 120}
    assert metrics["test"]["sampled_from"] == 120 and metrics["test"]["rows"] == 30
    saved = pd.read_json(tmp_path / "run" / "data" / "test.jsonl", lines=True)
    assert saved["labels"].str[0].value_counts().to_dict() == {"joy": 10, "sadness": 10, "anger": 10}


def test_predict_reads_a_file_the_way_train_does_whatever_its_case_dialect_or_encoding(tiny_model_dir, tmp_path, monkeypatch):
    from tests.conftest import make_texts

    monkeypatch.chdir(tmp_path)
    make_texts(90).to_csv("d.csv", index=False)
    assert run_cli("train", "d.csv", "--model", tiny_model_dir, "-o", "run", *QUICK).exit_code == 0
    texts = make_texts(12, seed=5)["text"]
    (tmp_path / "upper.csv").write_bytes(("Text;Source\n" + "".join(f"café {t};x\n" for t in texts)).encode("cp1252"))
    result = run_cli("predict", "run", "--input", "upper.csv", "--output", "out.csv")
    assert result.exit_code == 0, result.output
    assert "read upper.csv: CSV (semicolon-separated, header), cp1252; text 'Text'" in result.stdout
    assert "is not UTF-8" in result.stderr
    out = pd.read_csv(tmp_path / "out.csv")
    assert len(out) == 12 and out["text"].iloc[0] == f"café {texts.iloc[0]}"


def test_serve_takes_text_pairs_and_says_how_the_run_reads_its_input(tiny_model_dir, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from fineclass.inference.predictor import Predictor
    from fineclass.serving.app import ServeSettings, create_app

    monkeypatch.chdir(tmp_path)
    build("text-pairs", tmp_path)
    assert run_cli("train", "quora.csv", "--model", tiny_model_dir, "-o", "run", *QUICK).exit_code == 0
    predictor = Predictor.from_dir(tmp_path / "run")
    with TestClient(create_app(predictor, ServeSettings(max_texts=8, max_chars=200), tmp_path / "run")) as client:
        info = client.get("/info").json()
        assert info["input"] == {"text_columns": ["question1"], "text_join": "\n", "text_pair_column": "question2"}
        body = {"texts": ["happy day", "sad day"], "text_pairs": ["glad day", "happy day"], "top_k": 2}
        served = client.post("/predict", json=body).json()["predictions"]
        expected = predictor.predict(body["texts"], top_k=2, text_pairs=body["text_pairs"])
        assert [p["top_k"][0]["score"] for p in served] == pytest.approx([p.top_k[0][1] for p in expected], abs=1e-5)
        unpaired = predictor.predict(body["texts"], top_k=2)
        assert [p.top_k[0][1] for p in unpaired] != pytest.approx([p.top_k[0][1] for p in expected], abs=1e-6)
        wrong = client.post("/predict", json={"texts": ["a", "b"], "text_pairs": ["c"]})
        assert wrong.status_code == 422 and wrong.json()["error"] == "invalid request: 2 texts but 1 text_pairs; give one pair per text"
