"""--save-steps: checkpoints and validation on a step schedule; --save-total-limit: how many stay on disk."""

import json

from tests.conftest import run_cli

# 300 toy rows -> 210 training rows (0.7) -> 27 steps of 8 per epoch.
COMMON = ["--epochs", "1", "--min-steps", "0", "--batch-size", "8", "--split", "0.7,0,0.3", "--quiet", "--no-baseline", "--no-report"]  # no test split: no report


def checkpoint_names(out):
    return sorted((p.name for p in (out / "checkpoints").iterdir()), key=lambda n: int(n.split("-")[-1]))


def test_save_steps_saves_and_evaluates_every_n_steps(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "run"
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, *COMMON,
                     "--save-steps", "10", "--save-total-limit", "10", "--keep-checkpoints")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert checkpoint_names(out) == ["checkpoint-10", "checkpoint-20", "checkpoint-27"]  # and the last step
    metrics = json.loads((out / "metrics.json").read_text())
    assert [v["step"] for v in metrics["validation"]] == [10, 20, 27]
    state = json.loads((out / "checkpoints" / "checkpoint-27" / "trainer_state.json").read_text())
    assert state["best_model_checkpoint"].endswith(f"checkpoint-{metrics_best_step(metrics)}")


def metrics_best_step(metrics) -> int:
    """The first validation step with the best f1_macro: the one the Trainer keeps as best."""
    best = max(metrics["validation"], key=lambda v: (v["f1_macro"], -v["step"]))
    return best["step"]


def test_save_total_limit_keeps_the_best_and_the_newest(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "run"
    config = tmp_path / "run.yaml"
    config.write_text("save_steps: 5\nsave_total_limit: 2\n")
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, *COMMON,
                     "--config", config, "--keep-checkpoints")
    assert result.exit_code == 0, result.output + str(result.exception)
    metrics = json.loads((out / "metrics.json").read_text())
    assert [v["step"] for v in metrics["validation"]] == [5, 10, 15, 20, 25, 27]
    kept = checkpoint_names(out)
    assert kept[-1] == "checkpoint-27" and f"checkpoint-{metrics_best_step(metrics)}" in kept and len(kept) <= 2
    assert "save_steps: 5" in (out / "config.yaml").read_text()
