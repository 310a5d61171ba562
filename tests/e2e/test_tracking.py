"""--report-to on the real CLI: an MLflow run read back from a local SQLite store, TensorBoard scalars read back."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_texts, run_cli

FLAGS = ["--epochs", "2", "--batch-size", "8", "--min-steps", "0", "--no-baseline", "--quiet"]


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory):
    """One migrated SQLite store and experiment for the session: a new store runs migrations for seconds."""
    from mlflow.tracking import MlflowClient

    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    experiment = MlflowClient(uri).create_experiment("fineclass-tests", artifact_location=(tmp / "artifacts").as_uri())
    return uri, experiment


@pytest.fixture
def tracked_env(mlflow_store, monkeypatch):
    uri, experiment = mlflow_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # tests reach no network
    return uri, experiment


def train(tmp_path, tiny_model_dir, *flags):
    data = tmp_path / "toy.csv"
    make_texts(150).to_csv(data, index=False)
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", tmp_path / "my-run", *FLAGS, *flags)
    assert result.exit_code == 0, result.output + str(result.exception)
    return tmp_path / "my-run"


def test_an_mlflow_run_holds_the_config_every_evaluation_the_test_metrics_and_the_files(tracked_env, tiny_model_dir,
                                                                                        tmp_path):
    from mlflow.tracking import MlflowClient

    uri, experiment = tracked_env
    out = train(tmp_path, tiny_model_dir, "--report-to", "mlflow,tensorboard")
    client = MlflowClient(uri)
    [run] = client.search_runs([experiment], filter_string="attributes.run_name = 'my-run'")
    assert run.info.status == "FINISHED"
    metrics = json.loads((out / "metrics.json").read_text())
    assert run.data.params["fineclass.epochs"] == "2.0" and run.data.params["fineclass.batch_size"] == "8"
    assert run.data.params["fineclass.data"] == str(tmp_path / "toy.csv")
    assert run.data.metrics["test_accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert run.data.metrics["test_f1_macro"] == pytest.approx(metrics["test"]["f1_macro"])
    assert run.data.metrics["throughput_samples_per_second"] == pytest.approx(metrics["train"]["samples_per_second"])
    history = client.get_metric_history(run.info.run_id, "eval_f1_macro")
    assert [round(m.value, 6) for m in history] == [round(v["f1_macro"], 6) for v in metrics["validation"]]
    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "report.html", "plots", "model"} <= files
    plots = {f.path for f in client.list_artifacts(run.info.run_id, "plots")}
    assert "plots/confusion_matrix.png" in plots or any("confusion" in p for p in plots), plots
    manifest = json.loads((out / ".fineclass-manifest.json").read_text())
    assert "tensorboard" in manifest["entries"]


def test_tensorboard_scalars_are_read_back_from_the_run_directory(tiny_model_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = train(tmp_path, tiny_model_dir, "--report-to", "tensorboard")
    [events] = {p.parent for p in (out / "tensorboard").rglob("events.out.tfevents.*")}
    accumulator = EventAccumulator(str(events))
    accumulator.Reload()
    metrics = json.loads((out / "metrics.json").read_text())
    scalars = accumulator.Scalars("eval/f1_macro")
    assert [round(s.value, 5) for s in scalars] == [round(v["f1_macro"], 5) for v in metrics["validation"]]
    assert "train/loss" in accumulator.Tags()["scalars"]
    assert not (out / "checkpoints").exists()  # the events were not written into the removed checkpoints


def test_report_to_given_through_trainer_arg_still_works(tiny_model_dir, tmp_path):
    out = train(tmp_path, tiny_model_dir, "--trainer-arg", "report_to=tensorboard")
    assert list((out / "tensorboard").rglob("events.out.tfevents.*"))


def test_an_unknown_tracker_is_one_line_and_exit_2(tiny_model_dir, tmp_path):
    result = run_cli("train", tmp_path / "toy.csv", "--model", tiny_model_dir, "-o", tmp_path / "run",
                     "--report-to", "mlflow,comet")
    assert result.exit_code == 2
    assert "--report-to comet is not a tracker; use none or any of mlflow, tensorboard, trackio, wandb, " \
           "comma-separated" in result.output
    assert not (tmp_path / "run").exists()
