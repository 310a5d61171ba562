"""Checkpoints, --resume, and a clean stop on SIGTERM."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from transformers import TrainerControl

from fineclass.training.interrupt import StopOnSignal
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--epochs", "1", "--min-steps", "0", "--batch-size", "8", "--split", "0.7,0,0.3", "--quiet", "--no-baseline",
        "--no-report"]
STEPS = 27
"""300 toy rows, 210 of them training rows (0.7), in batches of 8: 27 steps an epoch."""


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


def test_resume_without_checkpoint_starts_from_the_beginning(tiny_model_dir, emotion_like_csv, tmp_path, caplog):
    out = tmp_path / "none"
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, "--resume", *FAST)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert f"no complete checkpoint in {out / 'checkpoints'}: training starts from the beginning" in caplog.messages
    assert json.loads((out / "metrics.json").read_text())["train"]["steps"] == STEPS


def train_with_checkpoints(tiny_model_dir, data, out, *extra) -> list[str]:
    """A finished run that kept its checkpoints, then lost its model: what a kill during the final save leaves."""
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", out, *FAST, "--keep-checkpoints", *extra)
    assert result.exit_code == 0, result.output + str(result.exception)
    shutil.rmtree(out / "model")
    (out / "metrics.json").unlink()
    return sorted(p.name for p in (out / "checkpoints").iterdir())


def test_resume_falls_back_from_a_checkpoint_whose_state_is_cut_short(tiny_model_dir, emotion_like_csv, tmp_path, caplog):
    out = tmp_path / "run"
    assert train_with_checkpoints(tiny_model_dir, emotion_like_csv, out, "--save-steps", "10", "--save-total-limit", "5") == [
        "checkpoint-10", "checkpoint-20", f"checkpoint-{STEPS}"]
    state = out / "checkpoints" / f"checkpoint-{STEPS}" / "trainer_state.json"
    state.write_text(state.read_text()[:100])  # killed while the Trainer wrote it
    resumed = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, *FAST, "--resume")
    assert resumed.exit_code == 0, resumed.output + str(resumed.exception)
    warning = next(m for m in caplog.messages if "is incomplete" in m)
    assert warning.startswith(f"{state.parent} is incomplete (trainer_state.json does not parse: ")
    assert warning.endswith("); trying the one before it")
    assert "Traceback" not in resumed.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["steps"] == STEPS and [v["step"] for v in metrics["validation"]] == [10, 20, STEPS]


def test_resume_with_no_complete_checkpoint_starts_over_in_its_own_directory(tiny_model_dir, emotion_like_csv, tmp_path,
                                                                              caplog):
    out = tmp_path / "run"
    assert train_with_checkpoints(tiny_model_dir, emotion_like_csv, out) == [f"checkpoint-{STEPS}"]
    (out / "checkpoints" / f"checkpoint-{STEPS}" / "optimizer.pt").unlink()  # killed during the first save
    (out / ".fineclass-tmp.metrics.json.x.json").write_text("{")  # and a temporary file it left
    resumed = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, *FAST, "--resume")
    assert resumed.exit_code == 0, resumed.output + str(resumed.exception)
    assert f"no complete checkpoint in {out / 'checkpoints'}: training starts from the beginning" in caplog.messages
    assert json.loads((out / "metrics.json").read_text())["train"]["steps"] == STEPS
    assert sorted(p.name for p in out.iterdir()) == [".fineclass-manifest.json", "config.yaml", "data", "metrics.json",
                                                     "model", "splits.json"]


def test_resume_refuses_a_directory_that_is_not_its_run(tiny_model_dir, emotion_like_csv, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", mine, *FAST, "--resume")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: output directory {mine} holds files fineclass did not write (notes.txt); choose another --output-dir "
        "so they are not lost")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "mine"


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


# ---- kill -9 ------------------------------------------------------------------------------------------------

KILLED_RUN = ["--epochs", "2", "--min-steps", "0", "--batch-size", "8", "--split", "0.7,0.15,0.15", "--save-steps", "10",
              "--quiet", "--no-baseline"]
KILLED_STEPS = 2 * STEPS


def start_training(data: Path, model: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen([sys.executable, "-m", "fineclass", "train", str(data), "--model", str(model), "-o", str(out),
                             *KILLED_RUN, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def kill_when(process: subprocess.Popen, ready, deadline_s: float = 180) -> bool:
    """SIGKILL the process once `ready()` holds; False when it ended on its own first."""
    deadline = time.time() + deadline_s
    while not ready() and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    if process.poll() is not None:
        return False
    process.kill()
    process.communicate(timeout=60)
    return True


def check_finished(out: Path) -> None:
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["steps"] == KILLED_STEPS and metrics["test"]["rows"] == 45
    assert (out / "model" / "model.safetensors").is_file() and (out / "report.html").is_file()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".fineclass-") and p.name != ".fineclass-manifest.json"]


def test_a_run_killed_during_training_finishes_with_resume(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "run"
    process = start_training(emotion_like_csv, tiny_model_dir, out)
    assert kill_when(process, lambda: any((out / "checkpoints").glob("checkpoint-*/trainer_state.json")))
    assert not (out / "metrics.json").exists()
    resumed = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, *KILLED_RUN, "--resume")
    assert resumed.exit_code == 0, resumed.output + str(resumed.exception)
    check_finished(out)


@pytest.mark.slow
def test_three_kills_at_random_points_then_resume_finishes(tiny_model_dir, emotion_like_csv, tmp_path):
    """kill -9 three times at random moments (while starting, reading, training, saving a checkpoint or the model,
    writing the report), each start after the first with --resume; then --resume finishes the run. A kill comes a
    random 0-4 s after a random landmark: the start, the run's inputs written, or a checkpoint saved."""
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    out, killed_with = tmp_path / "run", []
    landmarks = (lambda: True, lambda: (out / "splits.json").is_file(),
                 lambda: any((out / "checkpoints").glob("checkpoint-*/trainer_state.json")))
    for attempt in range(3):
        process = start_training(emotion_like_csv, tiny_model_dir, out, *(["--resume"] if attempt else []))
        landmark, delay, reached = rng.choice(landmarks), rng.uniform(0, 4), []

        def ready():
            reached.extend([time.time()] if not reached and landmark() else [])
            return bool(reached) and time.time() >= reached[0] + delay

        if kill_when(process, ready):
            killed_with.append(sorted(p.name for p in out.iterdir()) if out.is_dir() else [])
    print(f"seed {seed}; the directory at each kill: {killed_with}")
    final = start_training(emotion_like_csv, tiny_model_dir, out, "--resume")
    _, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, f"seed {seed}, killed with {killed_with}: {stderr[-3000:]}"
    assert "Traceback" not in stderr
    check_finished(out)
