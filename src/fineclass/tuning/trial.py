"""One search trial: a `train` run with the trial's settings, its evaluations reported to the study, stopped early
when the pruner says so, and scored by the validation metric train selects checkpoints by."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from transformers import TrainerCallback

from fineclass.config import TrainConfig
from fineclass.recipes.compare.measure import remove_weights
from fineclass.recipes.train import TrainHooks, run_training
from fineclass.rundir import CHECKPOINTS, MODEL

logger = logging.getLogger(__name__)


class ReportToTrial(TrainerCallback):
    """Reports the validation metric at every evaluation (every epoch, or every --save-steps) as the trial's
    intermediate value, step 0, 1, 2, ...; raises optuna.TrialPruned when the pruner stops the trial."""

    def __init__(self, trial, metric: str):
        self.trial, self.metric, self.step = trial, metric, 0

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        import optuna

        value = (metrics or {}).get(f"eval_{self.metric}")
        if value is None:
            return
        self.trial.report(float(value), self.step)
        self.step += 1
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after evaluation {self.step} ({self.metric} {value:.4f})")


class SearchTrialHooks(TrainHooks):
    """The train recipe's hooks for a search trial: the pruning reporter, and the trial recorded in metrics.json."""

    def __init__(self, trial, metric: str):
        self.trial, self.metric = trial, metric

    def callbacks(self) -> list:
        return [ReportToTrial(self.trial, self.metric)]

    def record(self, train: dict) -> None:
        train["search_trial"] = {"number": self.trial.number, "params": dict(self.trial.params)}


@dataclass
class TrialScore:
    value: float
    seconds: float
    run_dir: Path


def run_scored(config: TrainConfig, metric: str, validation: pd.DataFrame, hooks: TrainHooks | None = None,
               progress=None, raw=None) -> TrialScore:
    """Train with `config` and return the objective: the validation metric of the model train kept; for multi-label
    data after the per-label thresholds were tuned on validation (the kept model's saved thresholds)."""
    result = run_training(config, progress=progress, hooks=hooks, announce=logger.debug, raw=raw)
    train = result.metrics.train
    value = (train.get("best_metric") or {}).get(metric)
    if result.label_space.multi_label and metric != "loss" or value is None:
        value = validation_score(result.model_dir, validation, metric, config)
    return TrialScore(float(value), float(train["seconds"]), result.run_dir)


def validation_score(model_dir: Path, validation: pd.DataFrame, metric: str, config: TrainConfig) -> float:
    """`metric` of the saved model (its tuned thresholds) on the whole validation split."""
    from fineclass.evaluation.evaluate import evaluate_frame
    from fineclass.inference.predictor import Predictor

    predictor = Predictor.from_dir(model_dir, batch_size=config.eval_batch_size, max_length=config.max_length)
    return float(evaluate_frame(predictor, validation, "validation").metrics[metric])


def score_test_split(run_dir: Path, test: pd.DataFrame, config: TrainConfig) -> dict:
    """The headline test metrics of a trial's saved model."""
    from fineclass.evaluation.evaluate import evaluate_frame
    from fineclass.inference.predictor import Predictor
    from fineclass.recipes.results import HEADLINE

    predictor = Predictor.from_dir(run_dir / MODEL, batch_size=config.eval_batch_size, max_length=config.max_length)
    metrics = evaluate_frame(predictor, test, "test").metrics
    return {key: float(metrics[key]) for key in HEADLINE if key in metrics} | {"rows": len(test)}


def remove_trial_weights(run_dir: Path) -> None:
    """A trial's checkpoints and weight files; its config.yaml, metrics.json and split stay."""
    shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)
    remove_weights(run_dir)
