"""What calibration did to a trained run, on its test split: ECE, Brier and NLL before and after, the scores that do
not depend on calibration (accuracy, macro-F1), how far any single temperature could go, and the abstention table.

    python benchmarks/bench_calibration.py runs/emotion --json benchmarks/results/calibration_emotion.json
    python benchmarks/bench_calibration.py /tmp/cal/goemo --json benchmarks/results/calibration_goemotions.json

The run is any `fineclass train` run directory (the default `--calibration auto` folds the fitted map into the model;
the "before" figures undo it). Nothing is trained: the model's logits on the saved validation and test splits are all
it reads. Three more things are measured, to say where the bar "ECE cut by half" can be met:

- the test ECE of every temperature on a grid, fitted on the test split itself: no temperature fitted on validation
  can do better than the best of these;
- the ECE a perfectly calibrated model with the same scores would show on this many rows (labels drawn from the
  calibrated scores, 200 draws): the noise floor of a 15-bin ECE;
- for multi-class, the coverage at 90/95/99% accuracy and the `--min-confidence` that gives it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fineclass.evaluation.calibration import (calibration_metrics, coverage_at_accuracy, expected_calibration_error,
                                              probabilities)
from fineclass.evaluation.evaluate import load_eval_frame
from fineclass.inference.predictor import Predictor
from fineclass.recipes.calibrate import frame_logits
from fineclass.training.calibration import read_folded_map

TEMPERATURES = (0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.7, 2.0, 2.5)


def noise_floor(probs: np.ndarray, multi_label: bool, draws: int = 200, seed: int = 0) -> dict:
    """ECE of labels drawn from the scores themselves (a perfectly calibrated model), on as many rows."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(draws):
        if multi_label:
            labels = (rng.random(probs.shape) < probs).astype(int)
        else:
            cumulative = probs.cumsum(axis=1)
            labels = (rng.random((len(probs), 1)) > cumulative).sum(axis=1).clip(max=probs.shape[1] - 1)
        values.append(expected_calibration_error(probs, labels, multi_label))
    return {"mean": round(float(np.mean(values)), 4), "p5": round(float(np.percentile(values, 5)), 4),
            "p95": round(float(np.percentile(values, 95)), 4)}


def abstention_table(probs: np.ndarray, y_true: np.ndarray) -> dict:
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y_true
    order = np.argsort(-confidence, kind="stable")
    table = {}
    for accuracy in (0.90, 0.95, 0.99):
        coverage = coverage_at_accuracy(confidence, correct, accuracy)
        kept = int(round(coverage * len(confidence)))
        table[f"{accuracy:.2f}"] = {"coverage": round(coverage, 4), "answered": kept,
                                    "min_confidence": round(float(confidence[order][kept - 1]), 4) if kept else None}
    by_p = {f"{p:g}": {"answered": round(float((confidence >= p).mean()), 4),
                       "accuracy": round(float(correct[confidence >= p].mean()), 4)} for p in (0.5, 0.7, 0.8, 0.9)}
    return {"coverage_at_accuracy": table, "by_min_confidence": by_p}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    model_dir = args.run / "model"
    predictor = Predictor.from_dir(model_dir, thresholds=None)
    multi = predictor.label_space.multi_label
    folded = read_folded_map(model_dir, predictor.label_space.num_labels)
    logits, y_true = frame_logits(predictor, load_eval_frame(model_dir, None, "test"), "test")
    raw = folded.invert(logits)
    result = {"run": str(args.run), "multi_label": multi, "test_rows": len(y_true),
              "calibration": json.loads((model_dir / "calibration.json").read_text()).get("fitted"),
              "test": {"before": calibration_metrics(raw, y_true, multi), "after": calibration_metrics(logits, y_true, multi)}}
    before, after = result["test"]["before"], result["test"]["after"]
    result["ece_cut"] = round(1 - after["ece"] / before["ece"], 4)
    result["test_temperatures"] = {f"{t:g}": calibration_metrics(raw / t, y_true, multi) for t in TEMPERATURES}
    result["noise_floor"] = noise_floor(probabilities(logits, multi), multi)
    if not multi:
        result["abstention"] = abstention_table(probabilities(logits, multi), y_true)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
