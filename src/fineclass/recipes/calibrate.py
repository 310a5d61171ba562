"""Calibrate a trained model on its validation split, and measure what that did on the test split.

`train` calls `calibrate_saved_model` and `calibration_report` in its finish phase; `fineclass calibrate RUN`
(`calibrate_run`) does both again on a run already trained: it undoes the map folded before, fits anew, re-tunes a
multi-label model's thresholds on the calibrated scores, and rewrites metrics.json's calibration and test figures
and the run's report.html.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fineclass.config import parse_strategy
from fineclass.errors import FineclassError
from fineclass.evaluation.calibration import calibration_metrics, selective_metrics
from fineclass.evaluation.evaluate import encode_for_model, evaluate_frame, load_eval_frame
from fineclass.evaluation.report import write_report
from fineclass.evaluation.thresholds import tune_thresholds, write_thresholds
from fineclass.inference.predictor import Predictor
from fineclass.redact import redact_source
from fineclass.rundir import REPORT, RunMetrics, Thresholds, resolve_model_dir, run_dir_of
from fineclass.training.calibration import calibrate_model_dir, check_method, read_folded_map, resolve_method


def frame_logits(predictor: Predictor, frame: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The model's logits on a labeled split, and its labels as ids (multi-class) or multi-hot rows (multi-label)."""
    y_true = encode_for_model(frame, predictor.label_space, split)
    pairs = list(frame["text_pair"]) if "text_pair" in frame.columns else None
    return predictor.predict_logits(list(frame["text"]), pairs).astype(np.float64), y_true


def calibrate_saved_model(predictor: Predictor, model_dir, validation: pd.DataFrame, method: str, seed: int = 0) -> dict:
    """Fit `method` on the validation split's logits of the saved model and fold it into model_dir's weights."""
    logits, y_true = frame_logits(predictor, validation, "validation")
    return calibrate_model_dir(model_dir, logits, y_true, method, predictor.label_space.multi_label, seed)


def calibration_report(predictor: Predictor, model_dir, test: pd.DataFrame, record: dict) -> dict:
    """metrics.json's `calibration`: what was fitted, the validation figures, and on the test split ECE, Brier and
    NLL before and after, with AURC and the coverage at 90/95/99% accuracy of the calibrated scores."""
    space = predictor.label_space
    report = {key: record[key] for key in ("method", "fitted", "kept", "temperature", "cross_fit_ece") if key in record}
    report["validation"] = record["validation"]
    if test is not None and len(test):
        logits, y_true = frame_logits(predictor, test, "test")
        raw = read_folded_map(model_dir, space.num_labels).invert(logits)
        report["test"] = {"before": calibration_metrics(raw, y_true, space.multi_label),
                          "after": calibration_metrics(logits, y_true, space.multi_label),
                          **selective_metrics(predictor.probabilities(logits), y_true, predictor.thresholds,
                                              space.multi_label)}
    return report


def calibrate_run(run, method: str = "auto", seed: int = 0) -> dict:
    """(Re)fit the calibration of a trained run on its saved validation split; returns metrics.json's `calibration`."""
    check_method(method)
    model_dir = resolve_model_dir(run)
    run_dir = run_dir_of(model_dir)
    if run_dir is None:
        raise FineclassError(f"{run} is not inside a fineclass run directory; calibrate needs the run's saved "
                             "validation split (data/validation.jsonl)")
    predictor = Predictor.from_dir(model_dir, thresholds=None)
    resolve_method(method, predictor.label_space.multi_label)  # a bad method is refused before any work
    record = calibrate_saved_model(predictor, model_dir, load_eval_frame(model_dir, None, "validation"), method, seed)
    predictor = Predictor.from_dir(model_dir, thresholds=None)
    if predictor.label_space.multi_label:  # thresholds tuned on the calibrated validation scores
        predictor.thresholds = retune_thresholds(predictor, model_dir)
    test = load_eval_frame(model_dir, None, "test") if (run_dir / "data" / "test.jsonl").is_file() else None
    report = calibration_report(predictor, model_dir, test, record)
    metrics = RunMetrics.read(run_dir)
    metrics.calibration = report
    if test is not None and metrics.test is not None:
        result = evaluate_frame(predictor, test, "test")
        metrics.test = {**metrics.test, **result.metrics}
        if predictor.label_space.multi_label:  # the calibrated scores meet 0.5 elsewhere
            metrics.test["at_0.5"] = result.at_half(predictor.label_space.names)
        if (run_dir / REPORT).is_file():  # the report's calibration figures and scores are the new ones
            source = redact_source(str(metrics.data.get("source", "?")))
            write_report(run_dir, predictor.label_space, result, list(test["text"]), metrics.to_dict(),
                         predictor.thresholds, f"fineclass report: {source} (test split)")
    metrics.write(run_dir)
    return report


def retune_thresholds(predictor: Predictor, model_dir) -> np.ndarray:
    """Tune again with the strategy the run used (thresholds.json's), on the calibrated validation scores."""
    saved = Thresholds.read(model_dir) or Thresholds({})
    result = evaluate_frame(predictor, load_eval_frame(model_dir, None, "validation"), "validation", threshold=0.5)
    strategy, fixed = parse_strategy(saved.strategy)
    tuned = tune_thresholds(result.y_true, result.probs, strategy, saved.min_positives, fixed or saved.default)
    write_thresholds(model_dir, predictor.label_space, tuned, saved.strategy, saved.min_positives)
    return tuned
