"""Checkpoints, --resume, and a clean stop on SIGTERM."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from transformers import TrainerControl

from fineclass.training.interrupt import StopOnSignal
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_signal_turns_into_save_and_stop():
    callback = StopOnSignal()
    control = callback.on_step_end(None, None, TrainerControl())
    assert not control.should_save
    callback.handle(signal.SIGTERM, None)
    control = callback.on_step_end(None, None, TrainerControl())
    assert control.should_save and control.should_training_stop


def test_resume_finishes_a_run_that_lost_its_model(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "run"
    # The epoch schedule: resuming a finished run of --max-steps N (the few-label schedule) makes the Trainer take
    # one more step.
    args = ["train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, "--epochs", "2", "--min-steps", "0", "--quiet",
            "--no-baseline", "--no-report"]
    assert run_cli(*args, "--keep-checkpoints").exit_code == 0
    steps = json.loads((out / "metrics.json").read_text())["train"]["steps"]
    shutil.rmtree(out / "model")
    (out / "metrics.json").unlink()
    resumed = run_cli(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output + str(resumed.exception)
    assert (out / "model" / "model.safetensors").is_file()
    assert json.loads((out / "metrics.json").read_text())["train"]["steps"] == steps


def test_resume_without_checkpoint(tiny_model_dir, emotion_like_csv, tmp_path):
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", tmp_path / "none", "--resume")
    assert result.exit_code == 2
    assert "no checkpoint to resume from" in result.stderr


def test_resume_with_other_split_is_refused(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "run"
    args = ["train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, "--epochs", "1", "--quiet", "--no-baseline", "--no-report"]
    assert run_cli(*args, "--keep-checkpoints").exit_code == 0
    result = run_cli(*args, "--resume", "--seed", "7")
    assert result.exit_code == 2 and "differ from the run" in result.stderr


def test_sigterm_saves_a_checkpoint_and_says_how_to_resume(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "fineclass", "train", str(emotion_like_csv), "--model", str(tiny_model_dir), "-o", str(out),
         "--epochs", "400", "--quiet", "--no-baseline", "--no-report"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.time() + 120
    # The first epoch's checkpoint shows the training loop is running (an epoch of the toy data is a few steps).
    while not (out / "checkpoints").is_dir() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "--resume" in stderr and "Traceback" not in stderr
    assert list((out / "checkpoints").glob("checkpoint-*/trainer_state.json"))
    assert not (out / "model").exists()
