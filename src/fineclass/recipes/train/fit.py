"""Fit: the Trainer for a set-up run and its model, stopped cleanly by a signal, continued from a checkpoint."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from transformers import DataCollatorWithPadding, EarlyStoppingCallback, TrainerCallback
from transformers.trainer_callback import PrinterCallback

from fineclass.config import TrainConfig
from fineclass.devices import resolve_precision
from fineclass.evaluation.metrics import trainer_metrics_fn
from fineclass.labels import LabelSpace
from fineclass.outputs import record_entries
from fineclass.recipes.train.hooks import TrainHooks
from fineclass.recipes.train.setup import TrainSetup
from fineclass.rundir import CHECKPOINTS
from fineclass.training.arguments import build_training_arguments
from fineclass.training.distributed import end_process_group, is_main_process, sum_over_processes
from fineclass.training.interrupt import StopOnSignal, TrainingInterrupted, stop_on_signals
from fineclass.training.long_texts import texts_by_length
from fineclass.training.trainer import MultiLabelCollator
from fineclass.training.tracking import RunTracking
from fineclass.training.weights import balanced_class_weights, balanced_pos_weight

logger = logging.getLogger(__name__)


@dataclass
class Fitted:
    """A finished fit on rank 0: the Trainer (its best model loaded), and how long training took."""

    trainer: object
    seconds: float
    precision: str
    """fp32 or bf16, as the run trained."""


def fit(setup: TrainSetup, model, progress: TrainerCallback | None = None, hooks: TrainHooks | None = None,
        announce=logger.info, tracking: RunTracking | None = None) -> Fitted | None:
    """Train `model`; None on the other ranks of a multi-process run (rank 0 writes the run).

    A SIGINT or SIGTERM stops at the next step with a checkpoint saved, and raises `TrainingInterrupted`.
    """
    hooks = hooks or TrainHooks()
    precision = resolve_precision(setup.config.precision)
    hooks.prepare(setup, announce)
    trainer = build_trainer(setup, model, precision, progress, hooks)
    if tracking is not None:
        tracking.attach(trainer)
    stopper = StopOnSignal()
    trainer.add_callback(stopper)
    if is_main_process():
        record_entries(setup.out, CHECKPOINTS)
    start = time.perf_counter()
    with stop_on_signals(stopper):
        trainer.train(resume_from_checkpoint=str(setup.checkpoint) if setup.checkpoint else None)
    seconds = time.perf_counter() - start
    trainer.token_counter = sum_over_processes(trainer.token_counter)
    end_process_group()
    if not trainer.is_world_process_zero():
        return None
    if stopper.received is not None:
        raise TrainingInterrupted(
            f"stopped by signal {stopper.received} after step {trainer.state.global_step}; a checkpoint is in "
            f"{setup.out / CHECKPOINTS}: run the same command with --resume to continue"
        )
    return Fitted(trainer, seconds, precision)


def build_trainer(setup: TrainSetup, model, precision: str, progress: TrainerCallback | None = None,
                  hooks: TrainHooks | None = None):
    """The Trainer for the encoded splits, with the planned schedule (`plan.apply`) and the hooks' changes."""
    hooks = hooks or TrainHooks()
    config, space = setup.plan.apply(setup.config), setup.label_space
    train_dataset = hooks.train_dataset(setup)
    # Validation in length order, each text's windows together (pooled into one score per text). The Trainer's
    # length-grouped sampler sorts only within a few random batches of a small split: 1,000 tweets ran at a third
    # of the Predictor's speed.
    validation, windows = texts_by_length(*setup.encoded["validation"])
    collator = (MultiLabelCollator if space.multi_label else DataCollatorWithPadding)(tokenizer=setup.tokenizer)
    callbacks = ([progress] if progress is not None else []) + hooks.callbacks()
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    args = build_training_arguments(config, str(setup.out / CHECKPOINTS), space, precision)
    trainer_cls, collator, extra = hooks.trainer_class(args, collator)
    trainer = trainer_cls(
        model=model, args=args, train_dataset=train_dataset, eval_dataset=validation,
        processing_class=setup.tokenizer, data_collator=collator, callbacks=callbacks,
        compute_metrics=trainer_metrics_fn(space, config.threshold, windows, config.window_pooling),
        head_lr_scale=config.head_lr_scale, layer_lr_decay=config.layer_lr_decay, ordered_eval=True,
        contrastive_weight=config.contrastive_weight or 0.0, **extra, **loss_weights(config, space, train_dataset),
    )
    trainer.remove_callback(PrinterCallback)
    return trainer


def loss_weights(config: TrainConfig, label_space: LabelSpace, train_dataset) -> dict:
    """class_weight (multi-class) or pos_weight (multi-label) for the Trainer, when the settings ask for balanced ones."""
    labels = np.asarray(train_dataset["labels"])
    if label_space.multi_label and config.pos_weight == "balanced":
        return {"pos_weight": balanced_pos_weight(labels)}
    if not label_space.multi_label and config.class_weights == "balanced":
        return {"class_weight": balanced_class_weights(labels, label_space.num_labels)}
    return {}
