"""The training recipe: data → split → tokenize → fine-tune → save → test."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    TrainerCallback,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback

from fineclass.config import TrainConfig, parse_strategy, read_options, save_config
from fineclass.data.load import RawData, load_raw_data
from fineclass.data.prepare import TaskData, prepare_task
from fineclass.data.split import (
    label_shares,
    rare_classes,
    sample_stratified,
    split_task,
)
from fineclass.data.long_texts import describe
from fineclass.data.tokenize import encode_frame
from fineclass.devices import resolve_precision
from fineclass.evaluation.evaluate import evaluate_frame
from fineclass.evaluation.metrics import multilabel_metrics, trainer_metrics_fn
from fineclass.evaluation.report import write_report
from fineclass.evaluation.thresholds import tune_thresholds, write_thresholds
from fineclass.inference.predictor import Predictor
from fineclass.labels import LabelSpace
from fineclass.modelcard import write_model_card
from fineclass.modeling import (
    append_mean_pooling_layer,
    build_model,
    check_reinit_layers,
    compute_last_layer_for_cls_only,
    load_model_config,
    load_tokenizer,
    model_max_length,
    reinit_top_layers,
    resolve_model_path,
)
from fineclass.outputs import (
    OURS,
    OutputKind,
    atomic_path,
    check_output_dir,
    prepare_output_dir,
    record_entries,
    remove_entries,
    replace_dir_atomic,
)
from fineclass.recipes.results import RunResult
from fineclass.redact import redact_source
from fineclass.rundir import (
    CHECKPOINTS,
    CONFIG,
    DATA,
    METRICS,
    MODEL,
    PLOTS,
    REPORT,
    RUN_OUTPUT,
    SPLITS,
    LongTexts,
    RunMetrics,
    SplitsRecord,
)
from fineclass.training.arguments import (
    build_training_arguments,
    check_metric,
    default_metric,
)
from fineclass.training.distill import (
    DistillCollator,
    DistillTrainer,
    Teacher,
    distillation_dataset,
    teacher_targets,
)
from fineclass.training.distributed import (
    end_process_group,
    is_main_process,
    sum_over_processes,
)
from fineclass.training.hardware import measure_matmul_peak
from fineclass.training.interrupt import (
    StopOnSignal,
    TrainingInterrupted,
    stop_on_signals,
)
from fineclass.training.long_texts import choose_long_texts, texts_by_length
from fineclass.training.resume import check_same_split, find_checkpoint
from fineclass.training.small_data import choose_pooling, fit_linear_probe, plan_small_data, small_validation_warning
from fineclass.training.throughput import throughput_report
from fineclass.training.trainer import FineclassTrainer, MultiLabelCollator
from fineclass.training.weights import balanced_class_weights, balanced_pos_weight

logger = logging.getLogger(__name__)

STAGING_MODEL = f"{OURS}-staging.{MODEL}"


def load_task(config: TrainConfig, announce=None, raw: RawData | None = None) -> tuple[TaskData, dict[str, pd.DataFrame]]:
    """Read, clean and split the data; every problem surfaces here, before any model loads.

    `announce` receives the one line that says what was detected (the CLI prints it); it is logged otherwise.
    `raw` is data already in memory (a DataFrame, a Dataset); config.data then only describes it.
    """
    raw = raw or load_raw_data(config.data, read_options(config))
    task = prepare_task(raw, config.text_column, config.label_column, config.label_names, config.multi_label,
                        label_columns=config.label_columns, text_pair_column=config.text_pair_column)
    (announce or logger.info)(task.describe(config.data))
    check_metric(config.metric, task.label_space)
    frames = split_task(task, config.split, config.seed)
    frames["train"] = sample_stratified(frames["train"], config.max_train_samples, task.label_space.multi_label, config.seed)
    for split in ("validation", "test"):
        if split in frames and config.max_eval_samples and len(frames[split]) > config.max_eval_samples:
            total = len(frames[split])
            frames[split] = sample_stratified(frames[split], config.max_eval_samples, task.label_space.multi_label, config.seed)
            frames[split].attrs["sampled_from"] = total
            logger.warning("%s: scoring a stratified sample of %d of %d rows (--max-eval-samples); its scores are "
                           "estimates", split, len(frames[split]), total)
    return task, frames


def run_training(config: TrainConfig, progress: TrainerCallback | None = None, resume: str | None = None,
                 announce=None, raw: RawData | None = None, teacher: Teacher | None = None) -> RunResult:
    """Train and write the run directory.

    `progress` is the caller's progress display (a TrainerCallback: rich in the CLI, tqdm in a notebook), or None.
    `resume` is "latest" or a checkpoint path inside the run; `announce` gets the line that says how the data
    was read; `raw` is data already in memory; `teacher` makes the run a distillation (see `recipes/distill.py`).
    """
    out = Path(config.output_dir)
    kind, inputs, checkpoint = check_run_dir(config, resume, teacher)
    task, frames = load_task(config, announce, raw)
    if checkpoint:
        check_same_split(out, frames)
    label_space = task.label_space
    model_path = resolve_model_path(config.model)
    tokenizer = load_tokenizer(model_path)
    # How long texts are read is settled (and any problem with it raised) before the output directory is touched.
    model_config = load_model_config(model_path)
    max_length = model_max_length(tokenizer, model_config, config.max_length)
    check_reinit_layers(model_config, config.reinit_layers)
    long_texts, long_texts_record = choose_long_texts(config, tokenizer, frames["train"], max_length)
    (announce or logger.info)(f"long texts: {long_texts_record['reason']}; {describe(long_texts, tokenizer)}; "
                              f"attention dropout {long_texts_record['attention_dropout_reason']}")
    encoded = {"train": encode_frame(frames["train"], tokenizer, label_space, max_length, "train", long_texts)}
    unlabeled = len(teacher.unlabeled) if teacher is not None else 0  # counted as texts: their windows are cut later
    plan = plan_small_data(config, len(encoded["train"][0]) + unlabeled, len(frames["validation"]))
    # The checkpoint choice may read a sample of validation; tuned thresholds read all of it.
    checkpoint_validation = sample_stratified(frames["validation"], plan.validation_texts, label_space.multi_label, config.seed)
    encoded["validation"] = encode_frame(checkpoint_validation, tokenizer, label_space, max_length, "validation", long_texts)
    if teacher is not None:
        plan.contrastive_weight = 0.0  # a student learns the teacher's outputs, not a pair structure of its own
    pooling, pooling_reason = choose_pooling(config.pooling, model_path, plan.small)
    (announce or logger.info)(f"schedule: {plan.reason}; pooling: {pooling_reason}"
                              + (f"; pair loss weight {plan.contrastive_weight:g}" if plan.contrastive_weight else ""))
    warning = small_validation_warning(list(frames["validation"]["labels"]), label_space.names, label_space.multi_label)
    if warning:
        logger.warning(warning)
    if not checkpoint and is_main_process():
        # --resume with no complete checkpoint starts over in the run's own directory: a continuation, not an overwrite
        prepare_output_dir(out, kind, config.overwrite, inputs, resume=bool(resume))
    set_seed(config.seed)  # the new head's initial weights depend on it
    model = build_model(model_path, label_space, long_texts_record["attention_dropout"])
    if config.reinit_layers:
        reinit_top_layers(model, config.reinit_layers)  # before the mean layer: it re-initialises pretrained layers only
    if pooling == "mean" and not append_mean_pooling_layer(model):
        pooling, pooling_reason = "cls", f"cls: {type(model).__name__} has no BERT layer to append for mean pooling"
        logger.warning("--pooling mean: %s", pooling_reason)
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.cls_only_last_layer:
        compute_last_layer_for_cls_only(model)  # after the mean layer, which then is the last one
    if config.linear_probe and not checkpoint:
        rows = fit_linear_probe(model, tokenizer, encoded["train"][0], label_space)
        (announce or logger.info)(f"linear probe: the head starts from a logistic regression on {rows} training rows' features"
                                  if rows else "linear probe: skipped, the training rows hold one class")
    if not checkpoint and is_main_process():
        write_run_inputs(out, replace(config, model=teacher.student) if teacher else config, task, frames)

    precision = resolve_precision(config.precision)
    targets = teacher_targets(teacher, frames["train"], announce) if teacher is not None else None
    trainer = build_trainer(plan.apply(config), out, model, tokenizer, label_space, encoded, max_length, precision,
                            progress, long_texts, teacher, targets)
    stopper = StopOnSignal()
    trainer.add_callback(stopper)
    if is_main_process():
        record_entries(out, CHECKPOINTS)
    start = time.perf_counter()
    with stop_on_signals(stopper):
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = time.perf_counter() - start
    trainer.token_counter = sum_over_processes(trainer.token_counter)
    end_process_group()
    if not trainer.is_world_process_zero():
        return RunResult(run_dir=out, model_dir=out / MODEL, metrics=None, label_space=label_space, config=config)  # rank 0 writes
    if stopper.received is not None:
        raise TrainingInterrupted(
            f"stopped by signal {stopper.received} after step {trainer.state.global_step}; a checkpoint is in "
            f"{out / CHECKPOINTS}: run the same command with --resume to continue"
        )

    model_dir = save_model(out, trainer, tokenizer, label_space, config, long_texts)
    # Score the saved model as `evaluate` and `predict` will load it (accelerate leaves the in-memory
    # model wrapped in bf16 autocast after mixed-precision training).
    predictor = Predictor.from_dir(model_dir, batch_size=config.eval_batch_size, max_length=max_length,
                                   thresholds=np.full(label_space.num_labels, config.threshold))
    if label_space.multi_label:
        predictor.thresholds = tune_on_validation(predictor, frames["validation"], model_dir, config)
    recorded = replace(config, model=teacher.student) if teacher else config  # a distilled student starts from a temporary copy
    metrics, test_result = collect_metrics(plan.apply(recorded), task, frames, trainer, predictor, train_seconds, precision, max_length, model_path)
    metrics["train"]["long_texts"] = long_texts_record
    metrics["train"]["small_data"] = {**asdict(plan), "pooling": pooling, "pooling_reason": pooling_reason}
    if teacher is not None:
        metrics["train"]["distillation"] = {"teacher": teacher.source, "temperature": teacher.temperature,
                                            "alpha": teacher.alpha, "unlabeled_texts": len(teacher.unlabeled)}
    if test_result is not None and config.baseline:
        metrics["baseline"] = baseline_metrics(model_path, tokenizer, label_space, frames["test"], config, long_texts)
    record = RunMetrics.from_dict(metrics)
    record.write(out)
    if test_result is not None and config.report:
        record_entries(out, REPORT, PLOTS)
        write_report(out, label_space, test_result, list(frames["test"]["text"]), metrics, predictor.thresholds,
                     f"fineclass report: {redact_source(config.data)} (test split)")
    write_model_card(model_dir, recorded.model, label_space, metrics, metrics["train"])
    if not config.keep_checkpoints:
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    return RunResult(run_dir=out, model_dir=model_dir, metrics=record, label_space=label_space, config=config)


def check_run_dir(config: TrainConfig, resume: str | None, teacher: Teacher | None) -> tuple[OutputKind, list, Path | None]:
    """Before anything is read: may the run write into config.output_dir, and which checkpoint does it continue from
    (None: the beginning, also when --resume finds no complete checkpoint)? Returns the run's kind and its inputs too."""
    kind = replace(RUN_OUTPUT, command="distill" if teacher is not None else "train")
    inputs = [("DATA", config.data), ("--label-names", config.label_names), ("--model", config.model)]
    # Only rank 0 writes the run, so only it checks: another rank could start after rank 0 has begun writing.
    if is_main_process():
        check_output_dir(Path(config.output_dir), kind, config.overwrite, inputs, resume=bool(resume))
    return kind, inputs, find_checkpoint(Path(config.output_dir), resume) if resume else None


def write_run_inputs(out: Path, config: TrainConfig, task: TaskData, frames: dict[str, pd.DataFrame]) -> None:
    """The resolved config, the split record, and each split's rows, so `evaluate` uses exactly this test set."""
    record_entries(out, CONFIG, DATA, SPLITS)
    save_config(config, out / CONFIG)
    (out / DATA).mkdir(exist_ok=True)
    for split, frame in frames.items():
        kept = [c for c in ("row", "text", "text_pair", "labels", "targets") if c in frame.columns]
        with atomic_path(out / DATA / f"{split}.jsonl") as tmp:
            frame[kept].to_json(tmp, orient="records", lines=True, force_ascii=False)
    record = SplitsRecord(
        source=config.data, seed=config.seed, split=list(config.split), text_column=task.text_column,
        label_column=task.label_column, rows={split: [int(r) for r in frame["row"]] for split, frame in frames.items()},
        label_shares=label_shares(frames, task.label_space.names), reading=task.reading(),
        sampled_from={split: frame.attrs["sampled_from"] for split, frame in frames.items() if "sampled_from" in frame.attrs},
    )
    record.write(out)


def build_trainer(config, out, model, tokenizer, label_space, encoded, max_length, precision, progress=None,
                  long_texts: LongTexts | None = None, teacher: Teacher | None = None, targets=None):
    """The Trainer for `encoded` {"train", "validation": (dataset, windows per text)}, with `config`'s schedule."""
    datasets = {split: dataset for split, (dataset, _) in encoded.items()}
    if teacher is not None:
        datasets["train"] = distillation_dataset(encoded["train"], targets, teacher, tokenizer, label_space,
                                                 max_length, long_texts)
    # Validation in length order, each text's windows together (pooled into one score per text). The Trainer's
    # length-grouped sampler sorts only within a few random batches of a small split: 1,000 tweets ran at a third
    # of the Predictor's speed.
    datasets["validation"], windows = texts_by_length(datasets["validation"], encoded["validation"][1])
    collator_cls = MultiLabelCollator if label_space.multi_label else DataCollatorWithPadding
    collator = collator_cls(tokenizer=tokenizer)
    callbacks = [progress] if progress is not None else []
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    args = build_training_arguments(config, str(out / CHECKPOINTS), label_space, precision)
    trainer_cls, extra = FineclassTrainer, {}
    if teacher is not None:
        args.remove_unused_columns = False  # the teacher's columns reach compute_loss; the collator drops `length`
        collator = DistillCollator(collator)
        trainer_cls, extra = DistillTrainer, {"temperature": teacher.temperature, "alpha": teacher.alpha}
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=datasets["train"],
        eval_dataset=datasets["validation"],
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=trainer_metrics_fn(label_space, config.threshold, windows, config.window_pooling),
        callbacks=callbacks,
        head_lr_scale=config.head_lr_scale,
        layer_lr_decay=config.layer_lr_decay,
        ordered_eval=True,
        contrastive_weight=config.contrastive_weight or 0.0,
        **extra,
        **loss_weights(config, label_space, datasets["train"]),
    )
    trainer.remove_callback(PrinterCallback)
    return trainer


def loss_weights(config: TrainConfig, label_space: LabelSpace, train_dataset) -> dict:
    labels = np.asarray(train_dataset["labels"])
    if label_space.multi_label and config.pos_weight == "balanced":
        return {"pos_weight": balanced_pos_weight(labels)}
    if not label_space.multi_label and config.class_weights == "balanced":
        return {"class_weight": balanced_class_weights(labels, label_space.num_labels)}
    return {}


def save_model(out: Path, trainer, tokenizer, label_space: LabelSpace, config: TrainConfig,
               long_texts: LongTexts | None = None) -> Path:
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


def collect_metrics(config, task, frames, trainer, predictor, train_seconds, precision, max_length, model_path) -> dict:
    label_space = task.label_space
    metric = config.metric or default_metric(label_space)
    history = trainer.state.log_history
    validation = [
        {"epoch": round(h["epoch"], 2), "step": h["step"], **{k[5:]: v for k, v in h.items() if k.startswith("eval_")}}
        for h in history if "eval_loss" in h
    ]
    train_loss = [{"step": h["step"], "epoch": round(h["epoch"], 3), "loss": h["loss"]} for h in history if "loss" in h]
    peak = measure_matmul_peak(torch.bfloat16 if precision == "bf16" else torch.float32)
    train = {
        "epochs": config.train_epochs,
        "max_steps": config.max_steps,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "trainer_args": config.trainer_args,
        "learning_rate": config.learning_rate,
        "batch_size": config.batch_size,
        "precision": precision,
        "threads": torch.get_num_threads(),
        "world_size": trainer.args.world_size,
        "effective_batch_size": config.batch_size * trainer.args.world_size * trainer.args.gradient_accumulation_steps,
        "max_length": max_length,
        "steps": trainer.state.global_step,
        "best_epoch": best_epoch(validation, metric),
        "best_metric": {metric: trainer.state.best_metric},
        # Counts summed over every process, so the figures are the whole job's.
        **throughput_report(trainer.token_counter, train_seconds, trainer.model, peak, trainer.args.world_size),
        "seconds": round(train_seconds, 2),
    }
    metrics = {
        "task": {"multi_label": label_space.multi_label, "num_labels": label_space.num_labels, "labels": list(label_space.names)},
        "data": {"source": redact_source(config.data), "rows": {s: len(f) for s, f in frames.items()}, "dropped": task.dropped,
                 **({"sampled_from": sampled} if (sampled := {s: f.attrs["sampled_from"] for s, f in frames.items()
                                                              if "sampled_from" in f.attrs}) else {}),
                 **({"rare_classes": rare} if (rare := rare_classes(frames, config.split)) else {})},
        "model": model_summary(trainer.model, config.model),
        "selection_metric": metric,
        "train": train,
        "train_loss": train_loss,
        "validation": validation,
        "label_shares": label_shares(frames, label_space.names),
    }
    result = None
    if "test" in frames:
        start = time.perf_counter()
        result = evaluate_frame(predictor, frames["test"], "test")
        metrics["test"] = {**result.metrics, "rows": result.rows, "seconds": round(time.perf_counter() - start, 2)}
        if "sampled_from" in frames["test"].attrs:
            metrics["test"]["sampled_from"] = frames["test"].attrs["sampled_from"]  # the scores are a sample's
        if label_space.multi_label:
            # The saved thresholds are what the model uses; 0.5 is shown beside them for comparison.
            metrics["test"]["thresholds"] = config.thresholds
            metrics["test"]["at_0.5"] = multilabel_metrics(result.y_true, result.probs, 0.5, label_space.names, per_class=False)
    return metrics, result


def model_summary(model, base: str) -> dict:
    """Tutorial 003's parameter counts: the whole model, and the new classification head's share."""
    total = sum(p.numel() for p in model.parameters())
    head = sum(p.numel() for n, p in model.named_parameters() if n.startswith("classifier"))
    return {
        "base": base,
        "architecture": (model.config.architectures or [type(model).__name__])[0],
        "layers": getattr(model.config, "num_hidden_layers", None),
        "hidden_size": getattr(model.config, "hidden_size", None),
        "parameters": total,
        "head_parameters": head,
        "head_share": round(head / total, 6),
    }


def baseline_metrics(model_path: str, tokenizer, label_space: LabelSpace, test: pd.DataFrame, config: TrainConfig,
                     long_texts: LongTexts) -> dict:
    """Tutorial 003's comparison: the pretrained encoder with an untrained head, on the same test rows."""
    set_seed(config.seed)
    untrained = build_model(model_path, label_space)
    predictor = Predictor(untrained, tokenizer, config.eval_batch_size, long_texts.max_length,
                          np.full(label_space.num_labels, config.threshold), long_texts=long_texts)
    metrics = evaluate_frame(predictor, test, "test").metrics
    metrics.pop("per_class", None)
    return metrics


def tune_on_validation(predictor: Predictor, validation: pd.DataFrame, model_dir: Path, config: TrainConfig) -> np.ndarray:
    """Tune multi-label thresholds on the validation split and save them with the model."""
    strategy, fixed = parse_strategy(config.thresholds)
    result = evaluate_frame(predictor, validation, "validation", threshold=0.5)
    thresholds = tune_thresholds(result.y_true, result.probs, strategy, config.min_positives, fixed or config.threshold)
    write_thresholds(model_dir, predictor.label_space, thresholds, config.thresholds, config.min_positives)
    return thresholds


def best_epoch(validation: list[dict], metric: str) -> float | None:
    """The epoch whose weights were kept (the first with the best validation score)."""
    scored = [v for v in validation if metric in v]
    if not scored:
        return None
    sign = -1 if metric == "loss" else 1
    return max(scored, key=lambda v: (sign * v[metric], -v["epoch"]))["epoch"]
