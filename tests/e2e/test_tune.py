"""`fineclass tune` end to end on the tiny model: trials, pruning, best.yaml through `train --config`, a kill -9 and
a rerun, and two processes sharing one journal storage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import make_texts, run_cli

FIXED = ["--batch-size", "16", "--warmup-ratio", "0", "--weight-decay", "0", "--class-weights", "none", "--calibration", "none",
         "--quiet"]
"""Fixed on the command line, so not searched: the tests search one or two settings."""


def write_space(path: Path, space: dict) -> Path:
    path.write_text(yaml.safe_dump(space))
    return path


@pytest.fixture
def toy(tmp_path) -> Path:
    path = tmp_path / "toy.csv"
    make_texts(150).to_csv(path, index=False)
    return path


def test_three_trials_rescore_and_best_yaml_reproduces_the_best_trial(toy, tiny_model_dir, tmp_path):
    space = write_space(tmp_path / "space.yaml", {"head_lr_scale": {"low": 1, "high": 5}, "epochs": {"low": 1, "high": 2}})
    out = tmp_path / "search"
    result = run_cli("tune", toy, "-o", out, "--model", tiny_model_dir, "--learning-rate", "3e-3", *FIXED,
                     "--space", space, "--trials", "3", "--rescore-top", "1", "--pruner", "none")
    assert result.exit_code == 0, result.output + str(result.exception)
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["number"]) == [0, 1, 2] and set(trials["state"]) == {"complete"}
    assert trials.loc[0, "queued"] == "defaults" and trials.loc[0, "param_head_lr_scale"] == 20.0  # out of range: still the baseline
    assert trials.loc[0, "param_epochs"] == 3
    summary = json.loads((out / "tune.json").read_text())
    best = summary["best"]
    assert len(best["seeds"]) == 3 and best["seeds"][0] == best["value"]  # the trial's own seed, then 2 more
    assert set(best["test"]) == {"best", "defaults"} or best["number"] == 0
    best_run = Path(best["run_dir"])
    assert (best_run / "model" / "model.safetensors").is_file()
    others = [Path(d) for d in trials["run_dir"] if Path(d) != best_run]
    assert others and not any((d / "model" / "model.safetensors").exists() for d in others)  # no --keep-trials
    html = (out / "tune.html").read_text()
    assert html.count("data:image/png;base64,") >= 2 and "Trials" in html
    assert "best: trial" in result.stdout and "test split (scored once)" in result.stdout

    settings = yaml.safe_load((out / "best.yaml").read_text())
    assert "output_dir" not in settings and settings["epochs"] == best["params"]["epochs"]
    assert settings["head_lr_scale"] == pytest.approx(best["params"]["head_lr_scale"])
    assert settings["learning_rate"] == 3e-3 and settings["batch_size"] == 16
    again = run_cli("train", toy, "--config", out / "best.yaml", "-o", tmp_path / "again", "--no-baseline", "--quiet")
    assert again.exit_code == 0, again.output + str(again.exception)
    reproduced = json.loads((tmp_path / "again" / "metrics.json").read_text())["train"]["best_metric"]["f1_macro"]
    assert reproduced == pytest.approx(best["value"], abs=1e-9)


@pytest.mark.slow  # 20-25 s on 2 shared cores: the default tier keeps the three-trial and API tests
def test_a_bad_trial_is_pruned_by_the_median_of_the_others(toy, tiny_model_dir, tmp_path):
    # Validation loss never ties. Trial 0 (the defaults: 1e-4, 3 epochs) and trial 1 (the known-good point: 2 epochs)
    # barely move from chance; a learning rate of 5 to 10 sends the loss far above it. With two finished trials,
    # trial 2 is worse than their median at its second evaluation and is stopped there.
    space = write_space(tmp_path / "space.yaml", {"learning_rate": {"low": 5, "high": 10}, "epochs": {"low": 2, "high": 3}})
    out = tmp_path / "search"
    result = run_cli("tune", toy, "-o", out, "--model", tiny_model_dir, *FIXED, "--head-lr-scale", "1",
                     "--metric", "loss", "--space", space, "--trials", "3", "--rescore-top", "0")
    assert result.exit_code == 0, result.output + str(result.exception)
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["state"]) == ["complete", "complete", "pruned"]
    assert trials.loc[2, "pruned_after"] == 2 and trials.loc[2, "evaluations"] == 2
    assert not (Path(trials.loc[2, "run_dir"]) / "checkpoints").exists()
    assert list(trials["queued"].fillna("")) == ["defaults", "known-good", ""]


def test_python_api_returns_a_tune_result(tiny_model_dir, tmp_path):
    import fineclass

    frame = make_texts(150)
    result = fineclass.tune(frame, tmp_path / "search", trials=1, rescore_top=0, model=str(tiny_model_dir),
                            space={"head_lr_scale": [1, 5]}, learning_rate=3e-3, epochs=2, batch_size=16,
                            warmup_ratio=0, weight_decay=0, class_weights="none")
    assert isinstance(result, fineclass.TuneResult)
    assert result.best["number"] == 0 and result.best_run_dir.is_dir()
    assert "best: trial 0" in result._repr_html_()
    assert (tmp_path / "search" / "best.yaml").is_file()


def tune_command(data: Path, model: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "fineclass", "tune", str(data), "-o", str(out), "--model", str(model),
            "--learning-rate", "3e-3", "--epochs", "2", *FIXED, "--rescore-top", "0", "--pruner", "none", *extra]


def environment() -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_kill_during_a_trial_then_the_same_command_continues(toy, tiny_model_dir, tmp_path):
    command = tune_command(toy, tiny_model_dir, tmp_path / "search", "--trials", "3",
                           "--space", str(write_space(tmp_path / "space.yaml", {"head_lr_scale": {"low": 1, "high": 5}})))
    process = subprocess.Popen(command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = tmp_path / "search" / "trials" / "trial-0001"
    deadline = time.monotonic() + 300
    while not (second / "config.yaml").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, process.stderr.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    rerun = subprocess.run(command, env=environment(), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "trials 1 were left running by a process that is gone: marked failed, not counted" in rerun.stdout
    trials = pd.read_csv(tmp_path / "search" / "trials.csv")
    assert trials.loc[1, "state"] == "fail"
    assert (trials["state"].isin(["complete", "pruned"])).sum() == 3
    assert list(trials["number"]) == [0, 1, 2, 3]


@pytest.mark.slow
def test_two_processes_share_one_journal_and_finish_the_trials_between_them(toy, tiny_model_dir, tmp_path):
    import optuna

    journal = tmp_path / "study.journal"
    space = write_space(tmp_path / "space.yaml", {"head_lr_scale": {"low": 1, "high": 5}})
    commands = [tune_command(toy, tiny_model_dir, tmp_path / f"worker{i}", "--trials", "4", "--space", str(space),
                             "--storage", f"journal:{journal}", "--study-name", "shared") for i in range(2)]
    processes = [subprocess.Popen(c, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in commands]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    study = optuna.load_study(study_name="shared", storage=JournalStorage(JournalFileBackend(str(journal))))
    finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(finished) == 4
    run_dirs = [t.user_attrs["run_dir"] for t in finished]
    assert len(set(run_dirs)) == 4 and all(Path(d, "metrics.json").is_file() for d in run_dirs)
    assert sum(t.user_attrs.get("queued") == "defaults" for t in study.trials) == 1  # trial 0 queued once
    assert {Path(d).parents[1].name for d in run_dirs} == {"worker0", "worker1"}  # both processes ran trials


def test_multi_label_objective_is_scored_after_the_thresholds_are_tuned(multilabel_dir, tiny_model_dir, tmp_path):
    import fineclass
    from fineclass.evaluation.evaluate import evaluate_frame
    from fineclass.inference.predictor import Predictor

    result = fineclass.tune(multilabel_dir, tmp_path / "search", trials=1, rescore_top=0, model=str(tiny_model_dir),
                            space={"thresholds": ["global", "per-label"]}, label_names=str(multilabel_dir / "labels.txt"),
                            learning_rate=3e-3, epochs=1, batch_size=32, warmup_ratio=0, weight_decay=0,
                            head_lr_scale=1, pos_weight="none")
    assert result.metric == "f1_micro" and result.trials[0]["param_thresholds"] == "per-label"
    validation = pd.read_json(result.best_run_dir / "data" / "validation.jsonl", lines=True, dtype=False)
    expected = evaluate_frame(Predictor.from_dir(result.best_run_dir), validation, "validation").metrics["f1_micro"]
    assert result.best["value"] == pytest.approx(expected)
