"""The one place where a TrainConfig becomes TrainingArguments."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import TrainingArguments

from fineclass.config import SELECTION_METRICS, TrainConfig, parse_report_to
from fineclass.errors import ConfigError, first_line
from fineclass.labels import LabelSpace


def default_metric(label_space: LabelSpace) -> str:
    return "f1_micro" if label_space.multi_label else "f1_macro"


def check_metric(metric: str | None, label_space: LabelSpace) -> None:
    """--metric must be one the validation of this task computes, or the Trainer fails after an epoch."""
    names = SELECTION_METRICS[label_space.multi_label]
    if metric is not None and metric not in names:
        kind = "multi-label" if label_space.multi_label else "multi-class"
        raise ConfigError(f"--metric {metric} is not computed for {kind} data; use one of {', '.join(names)}")


def checkpoint_schedule(config: TrainConfig) -> dict:
    """Save every epoch, or every --save-steps steps. Picking the best checkpoint needs a validation
    score for each one, so evaluation always runs on the same schedule as saving."""
    if config.save_steps is None:
        return {"eval_strategy": "epoch", "save_strategy": "epoch"}
    return {"eval_strategy": "steps", "save_strategy": "steps", "eval_steps": config.save_steps, "save_steps": config.save_steps}


def build_training_arguments(config: TrainConfig, checkpoint_dir: str, label_space: LabelSpace, precision: str) -> TrainingArguments:
    """Our settings, then --trainer-arg's fields on top (checked in validate_config: no field fineclass owns)."""
    metric = config.metric or default_metric(label_space)
    settings = dict(
        output_dir=checkpoint_dir,
        num_train_epochs=config.train_epochs,
        max_steps=config.max_steps or -1,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a share of all steps
        weight_decay=config.weight_decay,
        **checkpoint_schedule(config),
        save_total_limit=config.save_total_limit,  # always the best checkpoint and the newest, for resuming
        load_best_model_at_end=True,
        metric_for_best_model=metric,
        greater_is_better=metric not in ("loss", "eval_loss"),
        logging_strategy="steps",
        logging_steps=0.02,  # a share of all steps: about 50 loss points per run
        report_to=parse_report_to(config.report_to) or "none",  # --trainer-arg report_to=... still wins
        run_name=Path(config.output_dir).resolve().name,  # trackers name the run after the output directory
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bf16",
        # Dynamic padding wastes little when batches hold texts of similar length.
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        disable_tqdm=True,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # every parameter of a sequence classifier gets a gradient
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    settings.update(config.trainer_args or {})
    try:
        return TrainingArguments(**settings)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"--trainer-arg: TrainingArguments refused these settings: {first_line(err)}") from None
