"""Finish a fitted run: save the model, tune its thresholds, score the test split, and write the run's records
(metrics.json, report.html, the model card), then remove the checkpoints."""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import set_seed

from fineclass.config import TrainConfig, parse_strategy
from fineclass.data.split import label_shares, rare_classes
from fineclass.evaluation.evaluate import evaluate_frame
from fineclass.evaluation.report import write_report
from fineclass.evaluation.thresholds import tune_thresholds, write_thresholds
from fineclass.inference.predictor import Predictor
from fineclass.inspection import model_summary
from fineclass.modelcard import write_model_card
from fineclass.modeling import build_model
from fineclass.outputs import OURS, record_entries, remove_entries, replace_dir_atomic
from fineclass.recipes.calibrate import calibrate_saved_model, calibration_report
from fineclass.recipes.results import RunResult
from fineclass.recipes.train.fit import Fitted
from fineclass.recipes.train.hooks import TrainHooks
from fineclass.recipes.train.setup import TrainSetup
from fineclass.redact import redact_source
from fineclass.rundir import CHECKPOINTS, METRICS, MODEL, PLOTS, REPORT, LongTexts, RunMetrics
from fineclass.training.arguments import default_metric
from fineclass.training.hardware import measure_matmul_peak
from fineclass.training.throughput import throughput_report

STAGING_MODEL = f"{OURS}-staging.{MODEL}"


def finish(setup: TrainSetup, fitted: Fitted, hooks: TrainHooks | None = None) -> RunResult:
    """Save and score the model, and write the run's records."""
    hooks = hooks or TrainHooks()
    config, out, space = setup.config, setup.out, setup.label_space
    model_dir = save_model(out, fitted.trainer, setup.tokenizer, setup.long_texts)
    # Score the saved model as `evaluate` and `predict` will load it (accelerate leaves the in-memory
    # model wrapped in bf16 autocast after mixed-precision training).
    predictor, calibration = calibrate(setup, model_dir)
    if space.multi_label:  # tuned on the calibrated validation scores
        predictor.thresholds = tune_on_validation(predictor, setup.frames["validation"], model_dir, config)
    recorded = hooks.recorded_config(config)
    metrics, test_result = collect_metrics(setup, fitted, predictor, setup.plan.apply(recorded))
    if calibration is not None:
        metrics["calibration"] = calibration_report(predictor, model_dir, setup.frames.get("test"), calibration)
    hooks.record(metrics["train"])
    if test_result is not None and config.baseline:
        metrics["baseline"] = baseline_metrics(setup.model_path, setup.tokenizer, space, setup.frames["test"], config,
                                               setup.long_texts)
    record = RunMetrics.from_dict(metrics)
    record.write(out)
    if test_result is not None and config.report:
        record_entries(out, REPORT, PLOTS)
        write_report(out, space, test_result, list(setup.frames["test"]["text"]), metrics, predictor.thresholds,
                     f"fineclass report: {redact_source(config.data)} (test split)")
    write_model_card(model_dir, recorded.model, space, metrics, metrics["train"], config.card_example)
    if not config.keep_checkpoints:
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    return RunResult(run_dir=out, model_dir=model_dir, metrics=record, label_space=space, config=config)


def save_model(out: Path, trainer, tokenizer, long_texts: LongTexts | None = None) -> Path:
    """Write the best model into a staging directory, then swap it in for the old one (see `replace_dir_atomic`)."""
    staging = out / STAGING_MODEL
    remove_entries(out, [STAGING_MODEL])  # a staging directory a killed run left behind
    record_entries(out, MODEL, METRICS)
    # config.json keeps the pretrained attention dropout: a later fine-tune of this model starts from the model's own.
    for name, value in getattr(trainer.model, "pretrained_attention_dropout", {}).items():
        setattr(trainer.model.config, name, value)
    trainer.save_model(str(staging))
    tokenizer.save_pretrained(str(staging))
    if long_texts is not None:
        long_texts.write(staging)  # evaluate, predict, serve and exports read long texts as training did
    (staging / "training_args.bin").unlink(missing_ok=True)  # a Trainer pickle, not part of the model
    replace_dir_atomic(staging, out / MODEL)
    return out / MODEL


def calibrate(setup: TrainSetup, model_dir: Path) -> tuple[Predictor, dict | None]:
    """Fit the calibration on the validation split, fold it into the saved model, and load the calibrated model
    (with no validation rows there is nothing to fit on: the model stays as trained, and the record is None)."""
    config, validation = setup.config, setup.frames.get("validation")

    def load() -> Predictor:
        return Predictor.from_dir(model_dir, batch_size=config.eval_batch_size, max_length=setup.max_length,
                                  thresholds=np.full(setup.label_space.num_labels, config.threshold))

    if validation is None or not len(validation):
        return load(), None
    record = calibrate_saved_model(load(), model_dir, validation, config.calibration, config.seed)
    return load(), record


def tune_on_validation(predictor: Predictor, validation: pd.DataFrame, model_dir: Path, config: TrainConfig) -> np.ndarray:
    """Tune multi-label thresholds on the validation split and save them with the model."""
    strategy, fixed = parse_strategy(config.thresholds)
    result = evaluate_frame(predictor, validation, "validation", threshold=0.5)
    thresholds = tune_thresholds(result.y_true, result.probs, strategy, config.min_positives, fixed or config.threshold)
    write_thresholds(model_dir, predictor.label_space, thresholds, config.thresholds, config.min_positives)
    return thresholds


def collect_metrics(setup: TrainSetup, fitted: Fitted, predictor: Predictor, config: TrainConfig) -> tuple[dict, object]:
    """metrics.json's content, and the test split's result (None without a test split).

    `config` is the settings as the run recorded them, with the planned schedule applied."""
    space, frames, history = setup.label_space, setup.frames, fitted.trainer.state.log_history
    metric = config.metric or default_metric(space)
    validation = [
        {"epoch": round(h["epoch"], 2), "step": h["step"], **{k[5:]: v for k, v in h.items() if k.startswith("eval_")}}
        for h in history if "eval_loss" in h
    ]
    metrics = {
        "task": {"multi_label": space.multi_label, "num_labels": space.num_labels, "labels": list(space.names)},
        "data": data_record(config, setup.task, frames),
        "model": model_summary(fitted.trainer.model, config.model),
        "selection_metric": metric,
        "train": {**train_record(config, fitted, setup.max_length, best_epoch(validation, metric), metric),
                  "long_texts": setup.long_texts_record,
                  "small_data": {**asdict(setup.plan), "pooling": setup.pooling, "pooling_reason": setup.pooling_reason}},
        "train_loss": [{"step": h["step"], "epoch": round(h["epoch"], 3), "loss": h["loss"]} for h in history if "loss" in h],
        "validation": validation,
        "label_shares": label_shares(frames, space.names),
    }
    if "test" not in frames:
        return metrics, None
    start = time.perf_counter()
    result = evaluate_frame(predictor, frames["test"], "test")
    metrics["test"] = {**result.metrics, "rows": result.rows, "seconds": round(time.perf_counter() - start, 2)}
    if "sampled_from" in frames["test"].attrs:
        metrics["test"]["sampled_from"] = frames["test"].attrs["sampled_from"]  # the scores are a sample's
    if space.multi_label:
        # The saved thresholds are what the model uses; 0.5 is shown beside them for comparison.
        metrics["test"]["thresholds"] = config.thresholds
        metrics["test"]["at_0.5"] = result.at_half(space.names)
    return metrics, result


def data_record(config: TrainConfig, task, frames: dict[str, pd.DataFrame]) -> dict:
    """metrics.json's `data`: the source, the rows of each split, what was dropped, sampled or rare."""
    record = {"source": redact_source(config.data), "rows": {s: len(f) for s, f in frames.items()}, "dropped": task.dropped}
    sampled = {s: f.attrs["sampled_from"] for s, f in frames.items() if "sampled_from" in f.attrs}
    if sampled:
        record["sampled_from"] = sampled
    rare = rare_classes(frames, config.split)
    if rare:
        record["rare_classes"] = rare
    return record


def train_record(config: TrainConfig, fitted: Fitted, max_length: int, best: float | None, metric: str) -> dict:
    """metrics.json's `train`: the schedule as it ran, the best epoch, and throughput."""
    trainer, args = fitted.trainer, fitted.trainer.args
    peak = measure_matmul_peak(torch.bfloat16 if fitted.precision == "bf16" else torch.float32)
    return {
        "epochs": config.train_epochs, "max_steps": config.max_steps,
        "gradient_accumulation_steps": config.gradient_accumulation_steps, "trainer_args": config.trainer_args,
        "learning_rate": config.learning_rate, "batch_size": config.batch_size, "precision": fitted.precision,
        "threads": torch.get_num_threads(), "world_size": args.world_size,
        "effective_batch_size": config.batch_size * args.world_size * args.gradient_accumulation_steps,
        "max_length": max_length, "steps": trainer.state.global_step, "best_epoch": best,
        "best_metric": {metric: trainer.state.best_metric},
        # Counts summed over every process, so the figures are the whole job's.
        **throughput_report(trainer.token_counter, fitted.seconds, trainer.model, peak, args.world_size),
        "seconds": round(fitted.seconds, 2),
    }


def baseline_metrics(model_path: str, tokenizer, label_space, test: pd.DataFrame, config: TrainConfig,
                     long_texts: LongTexts) -> dict:
    """Tutorial 003's comparison: the pretrained encoder with an untrained head, on the same test rows."""
    set_seed(config.seed)
    untrained = build_model(model_path, label_space)
    predictor = Predictor(untrained, tokenizer, config.eval_batch_size, long_texts.max_length,
                          np.full(label_space.num_labels, config.threshold), long_texts=long_texts)
    metrics = evaluate_frame(predictor, test, "test").metrics
    metrics.pop("per_class", None)
    return metrics


def best_epoch(validation: list[dict], metric: str) -> float | None:
    """The epoch whose weights were kept (the first with the best validation score)."""
    scored = [v for v in validation if metric in v]
    if not scored:
        return None
    sign = -1 if metric == "loss" else 1
    return max(scored, key=lambda v: (sign * v[metric], -v["epoch"]))["epoch"]
