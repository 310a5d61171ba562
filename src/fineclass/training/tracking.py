"""Experiment tracking through the Trainer's own integrations (`--report-to mlflow,tensorboard`).

The Trainer's callbacks log the TrainingArguments and every loss and validation score. fineclass adds what the
Trainer never sees: the resolved config, the test metrics, the throughput, and the run's files. The Trainer's MLflow
callback ends a run it started when training ends, so fineclass starts the run itself (the callback then logs into
it and leaves it open), logs the results after training, and ends it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from contextlib import contextmanager
from pathlib import Path

from fineclass.config import TRACKERS, TrainConfig, parse_report_to
from fineclass.errors import ConfigError
from fineclass.outputs import record_entries
from fineclass.rundir import METRICS
from fineclass.training.distributed import is_main_process

logger = logging.getLogger(__name__)

TENSORBOARD_DIR = "tensorboard"
"""The TensorBoard event files, inside the run directory."""
PACKAGES = {"mlflow": "mlflow", "tensorboard": "tensorboard", "trackio": "trackio", "wandb": "wandb"}
"""The module each tracker needs, and the fineclass extra that installs it (the extra has the tracker's name)."""
ARTIFACTS = ("metrics.json", "report.html", "plots", "model/thresholds.json", "model/calibration.json",
             "model/README.md")
"""The run's files logged with an MLflow run, where they exist."""


def trackers(config: TrainConfig) -> list[str]:
    """--report-to's trackers, or those of `report_to` given through --trainer-arg (the older way, kept working:
    the Trainer gets it as given, and fineclass handles the trackers it knows)."""
    given = (config.trainer_args or {}).get("report_to")
    if given is None:
        return parse_report_to(config.report_to)
    names = [str(n).strip().lower() for n in (given.split(",") if isinstance(given, str) else given or [])]
    return [n for n in dict.fromkeys(names) if n in TRACKERS and n != "none"]


def check_installed(names: list[str]) -> None:
    """Each tracker's package must be importable, before any model is loaded."""
    for name in names:
        if importlib.util.find_spec(PACKAGES[name]) is None:
            raise ConfigError(f"--report-to {name} needs the {PACKAGES[name]} package: pip install 'fineclass[{name}]'")


class RunTracking:
    """The trackers of one run: start the MLflow run, point TensorBoard at RUN/tensorboard, log the results."""

    def __init__(self, names: list[str], out: Path):
        self.names, self.out = names, Path(out)
        self.mlflow = None

    @classmethod
    def for_config(cls, config: TrainConfig) -> "RunTracking":
        names = trackers(config)
        check_installed(names)
        return cls(names, Path(config.output_dir))

    @property
    def run_name(self) -> str:
        """Runs are named after the output directory."""
        return self.out.resolve().name

    @contextmanager
    def run(self, config: TrainConfig):
        """Own the MLflow run for the whole of training and finishing; a run that raises is marked FAILED."""
        if "tensorboard" in self.names and is_main_process():
            record_entries(self.out, TENSORBOARD_DIR)  # so --overwrite removes the event files with the run
        if "mlflow" not in self.names or not is_main_process():
            yield self
            return
        import mlflow

        mlflow.start_run(run_name=self.run_name)
        self.mlflow = mlflow
        try:
            mlflow.log_params(flat_params(config.to_record()))
            yield self
        except BaseException:
            mlflow.end_run(status="FAILED")
            raise
        mlflow.end_run()

    def attach(self, trainer) -> None:
        """Point the Trainer's TensorBoard callback at RUN/tensorboard (it would write into the checkpoints)."""
        from transformers.integrations import TensorBoardCallback

        for callback in trainer.callback_handler.callbacks:
            if isinstance(callback, TensorBoardCallback):
                callback.logging_dir = str(self.out / TENSORBOARD_DIR)

    def log_results(self) -> None:
        """The test metrics, the throughput (from metrics.json) and the run's files, into the open MLflow run."""
        if self.mlflow is None:
            return
        self.mlflow.log_metrics(result_metrics(json.loads((self.out / METRICS).read_text(encoding="utf-8"))))
        for name in ARTIFACTS:
            path = self.out / name
            if path.is_dir():
                self.mlflow.log_artifacts(str(path), artifact_path=name)
            elif path.is_file():
                self.mlflow.log_artifact(str(path), artifact_path=str(Path(name).parent) if "/" in name else None)


def flat_params(record: dict) -> dict[str, str]:
    """The settings as MLflow params, prefixed so they never clash with the Trainer callback's own."""
    return {f"fineclass.{key}": str(value)[:500] for key, value in record.items() if value is not None}


def result_metrics(metrics: dict) -> dict[str, float]:
    """test_* scores (per-class ones left to metrics.json) and throughput_* figures (the Trainer logs its own
    train_samples_per_second, over a different span)."""
    test = {f"test_{k}": v for k, v in metrics.get("test", {}).items() if is_number(v)}
    keys = ("samples_per_second", "real_tokens_per_second", "padded_tokens_per_second", "achieved_gflops", "mfu",
            "seconds")
    train = {f"throughput_{k}": v for k, v in metrics.get("train", {}).items() if k in keys and is_number(v)}
    return {**test, **train}


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
