"""Abstention: answers less sure than a minimum confidence are marked, in Predictor, predict and serve."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from fineclass.errors import ConfigError
from fineclass.inference.predictor import Predictor
from fineclass.recipes.serve import build_server
from tests.conftest import run_cli
from tests.serving_fixtures import TEXTS, save_classifier


@pytest.fixture(scope="module")
def multiclass_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("abstain") / "model", multi_label=False)


@pytest.fixture(scope="module")
def multilabel_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("abstain-ml") / "model", multi_label=True)


def middle_floor(predictor: Predictor) -> tuple[float, np.ndarray]:
    """A minimum confidence between the texts' confidences, so some answers abstain and some do not."""
    probs = predictor.predict_proba(TEXTS)
    sure = np.maximum(probs, 1 - probs).min(axis=1) if predictor.label_space.multi_label else probs.max(axis=1)
    floor = float(np.median(sure))
    return floor, sure < floor


@pytest.mark.parametrize("model", ["multiclass_dir", "multilabel_dir"])
def test_predictor_abstains_below_the_floor_and_keeps_the_label(model, request):
    model_dir = request.getfixturevalue(model)
    plain = Predictor.from_dir(model_dir).predict(TEXTS)
    floor, below = middle_floor(Predictor.from_dir(model_dir))
    assert 0 < below.sum() < len(TEXTS)
    for predictor, kwargs in ((Predictor.from_dir(model_dir, min_confidence=floor), {}),
                              (Predictor.from_dir(model_dir, min_confidence=0.0), {"min_confidence": floor})):
        found = predictor.predict(TEXTS, **kwargs)
        assert [p.abstained for p in found] == below.tolist()
        assert [p.labels for p in found] == [p.labels for p in plain]
    assert all(p.abstained is None and "abstained" not in p.to_dict() for p in plain)


def test_predictor_refuses_a_floor_outside_0_to_1(multiclass_dir):
    with pytest.raises(ConfigError, match=r"^min_confidence must be a number from 0 to 1, not 1.5; for example 0.8$"):
        Predictor.from_dir(multiclass_dir, min_confidence=1.5)


def test_cli_predict_marks_abstained_answers(multiclass_dir):
    floor, below = middle_floor(Predictor.from_dir(multiclass_dir))
    result = run_cli("predict", multiclass_dir, *TEXTS, "--json", "--min-confidence", str(floor))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["abstained"] for r in rows] == below.tolist()


def test_cli_predict_refuses_a_floor_over_1(multiclass_dir):
    result = run_cli("predict", multiclass_dir, "hello", "--min-confidence", "1.5")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].endswith("--min-confidence must be from 0 to 1, got 1.5; for example 0.8")


def test_serve_floor_and_a_request_that_overrides_it(multiclass_dir):
    floor, below = middle_floor(Predictor.from_dir(multiclass_dir))
    # as `fineclass serve --min-confidence`; TestClient sends Host: testserver
    app = build_server(multiclass_dir, device="cpu", min_confidence=floor, allowed_hosts=["testserver"])
    with TestClient(app) as client:
        served = client.post("/predict", json={"texts": TEXTS}).json()["predictions"]
        assert [p["abstained"] for p in served] == below.tolist()
        none = client.post("/predict", json={"texts": TEXTS, "min_confidence": 0}).json()["predictions"]
        assert [p["abstained"] for p in none] == [False] * len(TEXTS)
        everything = client.post("/predict", json={"texts": TEXTS, "min_confidence": 1}).json()["predictions"]
        assert [p["abstained"] for p in everything] == [True] * len(TEXTS)
        bad = client.post("/predict", json={"texts": TEXTS, "min_confidence": 1.5})
        assert bad.status_code == 422
        assert bad.json() == {"error": "invalid request: min_confidence: Input should be less than or equal to 1"}
