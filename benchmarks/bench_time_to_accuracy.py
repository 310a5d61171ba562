"""Issue 28's time to accuracy on the full emotion data: train's defaults against cheaper schedules, test scored for each.

Balanced class weights, which every sampled trial of the 2,000-tweet search chose, are measured at full size beside them.

    python benchmarks/bench_time_to_accuracy.py --json benchmarks/results/time_to_accuracy_emotion_epyc_bf16.json
    python benchmarks/bench_time_to_accuracy.py --only defaults epochs2 --seeds 43     # a second seed for two arms

Each arm is one `fineclass train` command, run one after another on a quiet machine. `--seed` seeds the split as well
as the head and the data order, so the arms of one seed share one split and test set, and arms are compared within a
seed. The table gives the command's wall time, the Trainer's training seconds, and test accuracy and macro-F1; an arm
"keeps the accuracy" when its test accuracy is within 0.2 points of the best arm's of the same seed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "emotion" / "emotion.csv"
ARMS = {  # name: train options beyond the data and output directory
    "defaults": [],                                          # 3 epochs at 1e-4 (head 20x)
    "epochs2": ["--epochs", "2"],
    "epochs2-lr1.5e-4": ["--epochs", "2", "--learning-rate", "1.5e-4"],
    "epochs1": ["--epochs", "1"],
    "epochs1-lr2e-4": ["--epochs", "1", "--learning-rate", "2e-4"],
    "balanced": ["--class-weights", "balanced"],             # what every sampled trial chose at 2,000 tweets
    "epochs2-balanced": ["--epochs", "2", "--class-weights", "balanced"],
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(ARMS), default=list(ARMS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-tta"))
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def run_arm(name: str, seed: int, out: Path) -> dict:
    run_dir = out / f"{name}-seed{seed}"
    command = ["fineclass", "train", str(DATA), "-o", str(run_dir), "--seed", str(seed), "--overwrite", "--quiet",
               "--no-baseline", *ARMS[name]]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - start
    metrics = json.loads((run_dir / "metrics.json").read_text())
    train, test = metrics["train"], metrics["test"]
    return {"arm": name, "seed": seed, "command": " ".join(command[1:]), "wall_seconds": round(wall, 1),
            "train_seconds": train["seconds"], "epochs": train["epochs"], "best_epoch": train["best_epoch"],
            "precision": train["precision"], "validation_per_epoch": [
                {k: round(row[k], 4) for k in ("epoch", "accuracy", "f1_macro")} for row in metrics["validation"]],
            "test_accuracy": round(test["accuracy"], 4), "test_f1_macro": round(test["f1_macro"], 4)}


def main(argv=None) -> int:
    args = parse_args(argv)
    if not DATA.exists():
        print(f"{DATA} is missing: see ../shared/datasets/README.md", file=sys.stderr)
        return 2
    rows = [run_arm(name, seed, args.out) for seed in args.seeds for name in args.only]
    best = {seed: max(row["test_accuracy"] for row in rows if row["seed"] == seed) for seed in args.seeds}
    print("| arm | seed | wall s | train s | best epoch | test accuracy | test macro-F1 | within 0.2 points |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        row["within_0.2_points_of_best"] = best[row["seed"]] - row["test_accuracy"] <= 0.002 + 1e-9
        print(f"| {row['arm']} | {row['seed']} | {row['wall_seconds']:.0f} | {row['train_seconds']:.0f} | "
              f"{row['best_epoch']:g} | {row['test_accuracy']:.4f} | {row['test_f1_macro']:.4f} | "
              f"{'yes' if row['within_0.2_points_of_best'] else 'no'} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": rows, "argv": sys.argv[1:]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
