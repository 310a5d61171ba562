"""The training recipe: set up → build → fit → finish, each phase a function you can run and test alone.

    setup = set_up(config, resume, raw, hooks)  # data, tokenizer, long-text and small-set plans, encoded splits
    open_run_dir(setup)                         # only now is the output directory touched
    model = build(setup)                        # the model with its surgery (reinit, mean layer, freeze, probe)
    write_run_inputs(setup, hooks)              # config.yaml, splits.json, data/
    fitted = fit(setup, model, progress, hooks) # the Trainer, stopped by a signal, continued from a checkpoint
                                                # (inside the tracking run: --report-to mlflow logs it all)
    finish(setup, fitted, hooks)                # model/, thresholds, metrics.json, report.html, the model card

A variant of training (distillation) passes `hooks`, an object with named methods the phases call (`hooks.py`).
"""

from __future__ import annotations

import logging

from transformers import TrainerCallback

from fineclass.config import TrainConfig
from fineclass.data.load import RawData
from fineclass.recipes.results import RunResult
from fineclass.recipes.train.build import build, open_run_dir, write_run_inputs
from fineclass.recipes.train.finish import best_epoch, finish
from fineclass.recipes.train.fit import Fitted, fit
from fineclass.recipes.train.hooks import TrainHooks
from fineclass.recipes.train.setup import TrainSetup, load_task, set_up
from fineclass.rundir import MODEL
from fineclass.training.tracking import RunTracking

logger = logging.getLogger(__name__)

__all__ = ["Fitted", "TrainHooks", "TrainSetup", "best_epoch", "build", "finish", "fit", "load_task", "open_run_dir",
           "run_training", "set_up", "write_run_inputs"]


def run_training(config: TrainConfig, progress: TrainerCallback | None = None, resume: str | None = None,
                 announce=None, raw: RawData | None = None, hooks: TrainHooks | None = None) -> RunResult:
    """Train and write the run directory.

    `progress` is the caller's progress display (a TrainerCallback: rich in the CLI, tqdm in a notebook), or None.
    `resume` is "latest" or a checkpoint path inside the run; `announce` gets the lines that say how the data was
    read and how the run trains (they are logged otherwise); `raw` is data already in memory; `hooks` changes the
    recipe for a variant of training (see `recipes/distill.py`).
    """
    hooks, announce = hooks or TrainHooks(), announce or logger.info
    tracking = RunTracking.for_config(config)  # a tracker's missing package is one line before anything loads
    setup = set_up(config, resume, raw, hooks, announce)
    open_run_dir(setup)
    model = build(setup, announce)
    write_run_inputs(setup, hooks)
    with tracking.run(config):
        fitted = fit(setup, model, progress, hooks, announce, tracking)
        if fitted is None:  # another rank of a multi-process run: rank 0 writes the run
            return RunResult(run_dir=setup.out, model_dir=setup.out / MODEL, metrics=None,
                             label_space=setup.label_space, config=config)
        result = finish(setup, fitted, hooks)
        tracking.log_results()
    return result
