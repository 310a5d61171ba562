"""Two processes under torchrun on the CPU (gloo): one model comes out, and the step count halves."""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun not found")
def test_two_processes_share_the_work(tiny_model_dir, emotion_like_csv, tmp_path):
    common = ["--model", str(tiny_model_dir), "--epochs", "2", "--min-steps", "0", "--batch-size", "8", "--quiet", "--no-baseline", "--no-report"]
    single = tmp_path / "single"
    assert run_cli("train", emotion_like_csv, "-o", single, *common).exit_code == 0
    double = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [TORCHRUN, "--nproc-per-node", "2", "--master-port", "29517", "-m", "fineclass", "train", str(emotion_like_csv),
         "-o", str(double), *common], capture_output=True, text=True, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    one, two = (json.loads((d / "metrics.json").read_text())["train"] for d in (single, double))
    assert two["world_size"] == 2 and two["effective_batch_size"] == 16
    per_epoch = one["steps"] // 2  # 2 epochs
    assert two["steps"] == math.ceil(per_epoch / 2) * 2  # each rank takes half of every epoch's batches
    # Throughput is the whole job's: both ranks' samples, about as many as one process trains on
    # (plus at most one padding batch per rank and epoch, which evens out the ranks' batches).
    assert two["throughput_scope"].startswith("all 2 processes") and one["throughput_scope"] == "one process"
    assert one["samples"] <= two["samples"] <= one["samples"] + 2 * 2 * 8
    assert two["samples_per_second"] == pytest.approx(two["samples"] / two["seconds"], rel=0.01)
    assert sorted(p.name for p in double.iterdir()) == sorted(p.name for p in single.iterdir())
    assert result.stdout.count("effective batch size 16") == 1  # only rank 0 prints
