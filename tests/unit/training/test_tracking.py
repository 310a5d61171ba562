"""Choosing trackers: --report-to parsed and checked before any model loads; what an MLflow run is given."""

from __future__ import annotations

import pytest

from fineclass.config import TrainConfig
from fineclass.errors import ConfigError
from fineclass.training import tracking
from fineclass.training.tracking import check_installed, flat_params, parse_report_to, result_metrics, trackers


@pytest.mark.parametrize(("value", "names"), [
    ("none", []), ("", []), ("mlflow", ["mlflow"]), ("MLflow, tensorboard,mlflow", ["mlflow", "tensorboard"]),
    (["wandb", "trackio"], ["wandb", "trackio"]), ("none,tensorboard", ["tensorboard"]),
])
def test_report_to_is_a_comma_separated_list_of_trackers(value, names):
    assert parse_report_to(value) == names


def test_an_unknown_tracker_names_itself_and_the_known_ones():
    with pytest.raises(ConfigError) as raised:
        parse_report_to("mlflow,comet,neptune")
    assert str(raised.value) == ("--report-to comet,neptune is not a tracker; use none or any of mlflow, tensorboard, "
                                 "trackio, wandb, comma-separated")


def test_the_config_checks_report_to_and_trainer_arg_report_to_still_counts():
    with pytest.raises(ConfigError, match="--report-to comet is not a tracker"):
        TrainConfig(report_to="comet")
    assert trackers(TrainConfig(report_to="mlflow,tensorboard")) == ["mlflow", "tensorboard"]
    assert trackers(TrainConfig(trainer_args={"report_to": "tensorboard"})) == ["tensorboard"]
    assert trackers(TrainConfig()) == []


def test_a_missing_tracker_package_says_which_extra_installs_it(monkeypatch):
    monkeypatch.setattr(tracking.importlib.util, "find_spec", lambda name: None if name == "wandb" else object())
    check_installed(["mlflow", "tensorboard"])
    with pytest.raises(ConfigError) as raised:
        check_installed(["mlflow", "wandb"])
    assert str(raised.value) == "--report-to wandb needs the wandb package: pip install 'fineclass[wandb]'"


def test_results_are_the_test_scores_and_the_throughput_not_per_class_or_settings():
    metrics = {"test": {"accuracy": 0.9, "rows": 60, "per_class": {"joy": {"f1": 1.0}}, "thresholds": "per-label"},
               "train": {"samples_per_second": 120.5, "mfu": 0.01, "learning_rate": 1e-4, "precision": "fp32"}}
    assert result_metrics(metrics) == {"test_accuracy": 0.9, "test_rows": 60, "throughput_samples_per_second": 120.5,
                                       "throughput_mfu": 0.01}


def test_params_are_prefixed_and_skip_unset_values():
    assert flat_params({"epochs": 2.0, "metric": None, "split": [0.7, 0.2, 0.1]}) == {
        "fineclass.epochs": "2.0", "fineclass.split": "[0.7, 0.2, 0.1]"}
