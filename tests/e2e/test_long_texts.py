"""Long documents on a tiny model: a text whose label is decided by its last paragraph, past the window.

`windows` reads the end and gets it right; `truncate` never sees it. The windows run is trained with the default
`--long-texts auto`, which must choose windows here (every text is longer than the window), and everything that
runs the model afterwards (evaluate, predict, the Python API, serve, the ONNX export) must read windows the same way.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from fineclass.inference.predictor import Predictor
from tests.conftest import CLASS_WORDS, FILLER, TRAINED_RUN_FLAGS, run_cli

WINDOW = 24
"""Tokens per model input: the documents have 40 filler tokens, then a last paragraph whose two words decide the label."""
FLAGS = ["--max-length", str(WINDOW), "--no-baseline", "--no-report", "--max-windows", "3", "--epochs", "20"]
"""20 epochs, not 12: at 12, test accuracy over 4 seeds ranged 0.90-1.0, too close to the 0.9 asserted below."""


def make_documents(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    names = list(CLASS_WORDS)
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        opening = " ".join(rng.choice(FILLER) for _ in range(40))
        last = " and ".join(rng.sample(CLASS_WORDS[name], 2))
        rows.append({"text": f"{opening}\n\nin the end i am {last}", "label": name})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def long_runs(tiny_model_dir, tmp_path_factory):
    """The same documents trained with the default (auto: windows) and with --long-texts truncate."""
    tmp = tmp_path_factory.mktemp("long-texts")
    data = tmp / "documents.csv"
    make_documents(240, seed=0).to_csv(data, index=False)
    outputs = {}
    for name, extra in (("auto", []), ("truncate", ["--long-texts", "truncate"])):
        result = run_cli("train", data, "--model", tiny_model_dir, "-o", tmp / name, *TRAINED_RUN_FLAGS, *FLAGS, *extra)
        assert result.exit_code == 0, result.output + str(result.exception)
        outputs[name] = result.output
    return tmp, data, outputs


def metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_windows_read_the_last_paragraph_and_truncation_does_not(long_runs):
    tmp, _, outputs = long_runs
    windows, truncated = metrics(tmp / "auto"), metrics(tmp / "truncate")
    assert windows["train"]["long_texts"]["mode"] == "windows"
    assert "--long-texts auto: 100.0% of the training texts exceed 24 tokens" in outputs["auto"]
    assert windows["test"]["accuracy"] >= 0.9, windows["test"]
    assert truncated["test"]["accuracy"] <= 0.6, truncated["test"]
    assert windows["test"]["rows"] == truncated["test"]["rows"] == 48  # scored per document, never per window
    assert json.loads((tmp / "auto" / "model" / "long_texts.json").read_text())["mode"] == "windows"


def test_validation_during_training_is_scored_per_document(long_runs):
    tmp, _, _ = long_runs
    record = metrics(tmp / "auto")
    accuracies = [v["accuracy"] for v in record["validation"]]
    assert all(round(a * 24) == a * 24 for a in accuracies)  # 24 validation documents, not their 72 windows
    # The Trainer orders evaluation rows by length; a text's windows must still be pooled together (they were not
    # at first, and validation then stayed near chance while the test split, pooled by the Predictor, scored 1.0).
    assert max(accuracies) >= 0.9, accuracies


def test_predict_reports_windows_and_the_run_choice_can_be_overridden(long_runs):
    tmp, data, _ = long_runs
    document = make_documents(3, seed=5)["text"].tolist()[0]
    result = run_cli("predict", tmp / "auto", document, "glad", "--json")
    assert result.exit_code == 0, result.output
    long, short = [json.loads(line) for line in result.output.strip().splitlines()]
    assert long["labels"] == ["joy"] and long["windows"] == 3 and short["windows"] == 1
    truncated = run_cli("predict", tmp / "auto", document, "--json", "--long-texts", "truncate")
    assert json.loads(truncated.stdout.splitlines()[0])["windows"] == 1
    assert "1 text(s) reached the model's 24-token limit" in truncated.output
    evaluated = run_cli("evaluate", tmp / "auto", "--long-texts", "truncate", "--report-dir", tmp / "eval-truncate")
    assert evaluated.exit_code == 0, evaluated.output
    bad = run_cli("predict", tmp / "auto", "x", "--long-texts", "sliding")
    assert bad.exit_code == 2
    assert "--long-texts must be one of auto, truncate, head-tail, windows, got 'sliding'" in bad.output


def test_python_api_and_pooling(long_runs):
    import fineclass

    tmp, _, _ = long_runs
    documents = make_documents(30, seed=7)  # 30, not 9: one text more or less right is 11% of 9 (it varies by CPU)
    predictions = fineclass.predict(tmp / "auto", documents["text"].tolist())
    assert [p.windows for p in predictions] == [3] * 30
    assert sum(p.label == want for p, want in zip(predictions, documents["label"])) >= 23  # 26 on an EPYC without AVX-512
    pooled_max = Predictor.from_dir(tmp / "auto", long_texts={"window_pooling": "max"})
    assert pooled_max.long_texts.mode == "windows" and pooled_max.long_texts.window_pooling == "max"
    head_tail = fineclass.predict(tmp / "auto", documents["text"].tolist(), long_texts="head-tail")
    assert sum(p.label == want for p, want in zip(head_tail, documents["label"])) >= 26  # the tail holds the word (30 here)
    truncated = fineclass.predict(tmp / "auto", documents["text"].tolist(), long_texts="truncate")
    assert sum(p.label == want for p, want in zip(truncated, documents["label"])) <= 15  # the opening holds none (12 here)


def test_serve_pools_windows_and_says_how_many(long_runs):
    from fastapi.testclient import TestClient

    from fineclass.serving.app import create_app

    tmp, _, _ = long_runs
    documents = make_documents(3, seed=9)["text"].tolist()
    predictor = Predictor.from_dir(tmp / "auto")
    with TestClient(create_app(predictor, model_dir=tmp / "auto")) as client:
        body = client.post("/predict", json={"texts": documents + ["sad"]}).json()
        info = client.get("/info").json()
    assert [p["windows"] for p in body["predictions"]] == [3, 3, 3, 1]
    assert [p["labels"] for p in body["predictions"]] == [p.labels for p in predictor.predict(documents + ["sad"])]
    assert info["long_texts"]["mode"] == "windows"


def test_onnx_export_runs_windows_the_same_way(long_runs):
    pytest.importorskip("onnxruntime")
    tmp, _, _ = long_runs
    result = run_cli("export", tmp / "auto", "-o", tmp / "onnx", "--no-check")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp / "onnx" / "long_texts.json").read_text())["mode"] == "windows"
    documents = make_documents(6, seed=11)["text"].tolist()
    torch_model, onnx_model = Predictor.from_dir(tmp / "auto"), Predictor.from_dir(tmp / "onnx")
    np.testing.assert_allclose(onnx_model.predict_proba(documents), torch_model.predict_proba(documents), atol=1e-4)
    assert list(onnx_model.window_counts) == [3] * 6
