"""The evaluate and tune-thresholds recipes: score a model on its run's split or on new data, write the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fineclass.config import parse_strategy
from fineclass.data.read import ReadOptions
from fineclass.devices import resolve_device
from fineclass.errors import ConfigError, FineclassError
from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
from fineclass.evaluation.report import write_report
from fineclass.evaluation.thresholds import tune_thresholds, write_thresholds
from fineclass.inference.backends import is_onnx_dir
from fineclass.inference.predictor import Predictor
from fineclass.outputs import OutputKind, check_output_dir, prepare_output_dir, record_entries
from fineclass.recipes.results import EvaluationResult
from fineclass.redact import source_stem
from fineclass.rundir import (
    PLOTS,
    REPORT,
    REPORT_INCOMPLETE,
    RunMetrics,
    output_errors,
    resolve_model_dir,
    run_dir_of,
    write_json_atomic,
)

REPORT_OUTPUT = OutputKind("evaluate", legacy_markers=(REPORT,), legacy_entries=(REPORT, PLOTS), result=REPORT,
                           option="--report-dir")


def default_report_dir(model_dir: Path, data: str | None, split: str) -> Path:
    """RUN/evaluation-SPLIT for the run's own split, RUN/evaluation-DATA-SPLIT for other data (./ outside a run)."""
    run_dir = run_dir_of(model_dir)
    name = f"evaluation-{split}" if data is None else f"evaluation-{source_stem(str(data))}-{split}"
    return (run_dir or Path(".")) / name


def evaluate_model(model: str | Path, data: str | None = None, split: str = "test", *, text_column=None,
                   label_column=None, label_columns=None, text_pair_column=None, label_names=None,
                   options: ReadOptions | None = None, threshold: float | None = None, batch_size: int = 128,
                   device: str = "auto", report_dir: Path | None = None, overwrite: bool = False,
                   output: Path | None = None, announce=None, raw=None, long_texts=None) -> EvaluationResult:
    """Score `model` (a run, model or ONNX directory) on its run's `split`, or on `data` read as `train` reads it.

    Writes report.html and plots/ into `report_dir`, and the metrics to `output` when given. `long_texts` changes
    how texts over the window are read (a mode, or a dict as `Predictor.from_dir` takes it); the run's by default.
    """
    if threshold is not None and not 0 < threshold < 1:
        raise ConfigError(f"--threshold must be between 0 and 1, got {threshold}")
    model_dir = resolve_model_dir(model)
    device = "cpu" if is_onnx_dir(model_dir) else resolve_device(device)
    out = Path(report_dir) if report_dir else default_report_dir(model_dir, data, split)
    inputs = [("MODEL", model_dir), ("DATA", data), ("--label-names", label_names)]
    check_output_dir(out, REPORT_OUTPUT, overwrite, inputs)
    frame = load_eval_frame(model_dir, data, split, text_column, label_column, label_names, options=options,
                            label_columns=label_columns, text_pair_column=text_pair_column, announce=announce, raw=raw)
    predictor = Predictor.from_dir(model_dir, batch_size=batch_size, device=device, long_texts=long_texts)
    result = evaluate_frame(predictor, frame, split, threshold)
    run_dir = run_dir_of(model_dir)
    run_metrics = RunMetrics.read(run_dir).to_dict() if run_dir and (run_dir / "metrics.json").is_file() else {}
    run_metrics.pop("baseline", None)  # it was measured on the run's own test split, not necessarily this data
    thresholds = predictor.thresholds if threshold is None else threshold
    with output_errors(out, "--report-dir", REPORT_INCOMPLETE):
        prepare_output_dir(out, REPORT_OUTPUT, overwrite, inputs)
        record_entries(out, REPORT, PLOTS)
        report = write_report(out, predictor.label_space, result, list(frame["text"]), run_metrics, thresholds,
                              f"fineclass report: {model} on {data or 'the run'} ({split})")
    if output:
        with output_errors(Path(output).parent, "--output",
                           f"{output} was not written: free some space or choose another --output, then run again"):
            write_json_atomic(Path(output), {"split": split, "rows": result.rows, **result.metrics})
    return EvaluationResult(split=split, rows=result.rows, metrics=result.metrics, report_path=report,
                            label_space=predictor.label_space)


def tune_run_thresholds(run: str | Path, strategy: str = "per-label", min_positives: int = 10) -> dict[str, float]:
    """Re-tune a multi-label model's thresholds on its run's validation split, save them, and return them."""
    kind, fixed = parse_strategy(strategy)
    model_dir = resolve_model_dir(run)
    predictor = Predictor.from_dir(model_dir, thresholds=None)  # the saved ones are being replaced: even a damaged file
    if not predictor.label_space.multi_label:
        raise FineclassError(f"{run} holds a single-label model; thresholds apply to multi-label models only")
    result = evaluate_frame(predictor, load_eval_frame(model_dir, None, "validation"), "validation", threshold=0.5)
    tuned = tune_thresholds(result.y_true, result.probs, kind, min_positives, fixed or 0.5)
    write_thresholds(model_dir, predictor.label_space, tuned, strategy, min_positives)
    return dict(zip(predictor.label_space.names, np.asarray(tuned, dtype=float).tolist()))
