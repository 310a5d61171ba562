"""Set up a training run: every check and every read before the output directory is touched.

The run directory may be written, the data read, cleaned and split, the tokenizer loaded, the way long texts are read
chosen, the small-set plan made and the splits encoded: all of it lands in a `TrainSetup` that the later phases read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fineclass.config import TrainConfig, read_options
from fineclass.data.load import RawData, load_raw_data
from fineclass.data.long_texts import describe
from fineclass.data.prepare import TaskData, prepare_task
from fineclass.data.split import sample_stratified, split_task
from fineclass.data.tokenize import encode_frame, unknown_token_warning
from fineclass.modeling import (check_reinit_layers, check_vocabulary, load_model_config, load_tokenizer, model_max_length,
                                resolve_model_path)
from fineclass.outputs import OutputKind, check_output_dir
from fineclass.recipes.train.hooks import TrainHooks
from fineclass.rundir import RUN_OUTPUT, LongTexts
from fineclass.training.arguments import check_metric
from fineclass.training.calibration import resolve_method
from fineclass.training.distributed import is_main_process
from fineclass.training.long_texts import choose_long_texts
from fineclass.training.resume import check_same_split, find_checkpoint
from fineclass.training.small_data import SmallDataPlan, choose_pooling, plan_small_data, small_validation_warning

logger = logging.getLogger(__name__)


@dataclass
class TrainSetup:
    """What the set-up phase found out, carried to the build, fit and finish phases."""

    config: TrainConfig
    kind: OutputKind
    """The run directory's kind: train's, or the command a hook names."""
    inputs: list
    """(flag, path) pairs the run reads: the output directory must hold none of them."""
    checkpoint: Path | None
    """The checkpoint the run continues from; None: from the beginning."""
    resume: bool
    task: TaskData
    frames: dict[str, pd.DataFrame]
    model_path: str
    tokenizer: Any
    max_length: int
    long_texts: LongTexts
    long_texts_record: dict
    """How long texts are read, and why, for metrics.json."""
    encoded: dict[str, tuple] = field(default_factory=dict)
    """{"train", "validation": (dataset, windows per text)}; validation is the checkpoint choice's sample."""
    plan: SmallDataPlan | None = None
    pooling: str = "cls"
    pooling_reason: str = ""

    @property
    def out(self) -> Path:
        return Path(self.config.output_dir)

    @property
    def label_space(self):
        return self.task.label_space


def set_up(config: TrainConfig, resume: str | None = None, raw: RawData | None = None, hooks: TrainHooks | None = None,
           announce=logger.info) -> TrainSetup:
    """Check the run directory, read and split the data, load the tokenizer, plan the run and encode the splits."""
    hooks = hooks or TrainHooks()
    kind, inputs, checkpoint = check_run_dir(config, resume, hooks.command)
    task, frames = load_task(config, announce, raw)
    if checkpoint:
        check_same_split(Path(config.output_dir), frames)
    model_path = resolve_model_path(config.model)
    tokenizer = load_tokenizer(model_path)
    # How long texts are read is settled (and any problem with it raised) before the output directory is touched.
    model_config = load_model_config(model_path)
    check_vocabulary(tokenizer, model_config, repr(model_path))
    max_length = model_max_length(tokenizer, model_config, config.max_length)
    check_reinit_layers(model_config, config.reinit_layers)
    long_texts, record = choose_long_texts(config, tokenizer, frames["train"], max_length)
    announce(f"long texts: {record['reason']}; {describe(long_texts, tokenizer)}; "
             f"attention dropout {record['attention_dropout_reason']}")
    setup = TrainSetup(config, kind, inputs, checkpoint, bool(resume), task, frames, model_path, tokenizer, max_length,
                       long_texts, record)
    encode_splits(setup, hooks, announce)
    return setup


def check_run_dir(config: TrainConfig, resume: str | None, command: str = "train") -> tuple[OutputKind, list, Path | None]:
    """Before anything is read: may the run write into config.output_dir, and which checkpoint does it continue from
    (None: the beginning, also when --resume finds no complete checkpoint)? Returns the run's kind and its inputs too."""
    kind = replace(RUN_OUTPUT, command=command)
    inputs = [("DATA", config.data), ("--label-names", config.label_names), ("--model", config.model)]
    # Only rank 0 writes the run, so only it checks: another rank could start after rank 0 has begun writing.
    if is_main_process():
        check_output_dir(Path(config.output_dir), kind, config.overwrite, inputs, resume=bool(resume))
    return kind, inputs, find_checkpoint(Path(config.output_dir), resume) if resume else None


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
    resolve_method(config.calibration, task.label_space.multi_label)  # platt on multi-class data is refused now
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


def encode_splits(setup: TrainSetup, hooks: TrainHooks, announce) -> None:
    """Encode the training rows, plan the schedule from their count, then encode the validation rows the checkpoint
    choice reads (a small set's plan may read a sample of them; tuned thresholds read all of the split)."""
    config, frames, space = setup.config, setup.frames, setup.label_space
    args = (setup.tokenizer, space, setup.max_length)
    setup.encoded["train"] = encode_frame(frames["train"], *args, "train", setup.long_texts)
    # Extra texts (a hook's) are counted as texts: their windows are cut later.
    plan = plan_small_data(config, len(setup.encoded["train"][0]) + hooks.extra_texts(), len(frames["validation"]))
    checkpoint_validation = sample_stratified(frames["validation"], plan.validation_texts, space.multi_label, config.seed)
    setup.encoded["validation"] = encode_frame(checkpoint_validation, *args, "validation", setup.long_texts)
    hooks.adjust_plan(plan)
    setup.plan = plan
    setup.pooling, setup.pooling_reason = choose_pooling(config.pooling, setup.model_path, plan.small)
    announce(f"schedule: {plan.reason}; pooling: {setup.pooling_reason}"
             + (f"; pair loss weight {plan.contrastive_weight:g}" if plan.contrastive_weight else ""))
    warning = small_validation_warning(list(frames["validation"]["labels"]), space.names, space.multi_label)
    if warning:
        logger.warning(warning)
    unknown = unknown_token_warning(setup.tokenizer, list(frames["train"]["text"]))
    if unknown:
        logger.warning(unknown)
