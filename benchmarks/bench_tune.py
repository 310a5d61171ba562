"""Issue 28's measurements of `fineclass tune`: how much the best non-default trial gains over trial 0 (train's
defaults) on validation and on test, beside the seed spread, the wall time, and which sampler finds better settings.

    python benchmarks/bench_tune.py emotion --json benchmarks/results/tune_emotion.json            # 2,000 rows, 12 trials
    python benchmarks/bench_tune.py emotion --samplers tpe gp --json benchmarks/results/tune_samplers.json
    python benchmarks/bench_tune.py emotion --samplers gp --rescore-top 0 --skip-defaults-spread   # GP alone, one seed
    python benchmarks/bench_tune.py go_emotions --max-train-samples 10000 --trials 0 --timeout 60m \
        --json benchmarks/results/tune_goemotions.json
    python benchmarks/bench_tune.py emotion --max-train-samples 200 --trials 2 --rescore-top 1   # a smoke run

Each sampler runs its own search (its own output directory, the same split and seed). Trial 0 is the defaults; the
best trial is chosen by mean validation metric over 3 seeds among the --rescore-top best. To judge a gain, the seed
spread is measured for trial 0 as well: trial 0 is trained with the same 2 extra seeds on the same split. A gain
smaller than the larger of the two standard deviations is reported as within the spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DATASETS = {
    "emotion": {"data": SHARED / "emotion" / "emotion.csv", "options": {}},
    "go_emotions": {"data": SHARED / "go_emotions", "options": {"label_names": str(SHARED / "go_emotions" / "labels.txt")}},
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--max-train-samples", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=12, help="0: as many as --timeout allows")
    parser.add_argument("--timeout", default=None, help="45m, 60m, 2h")
    parser.add_argument("--samplers", nargs="+", default=["tpe"], choices=["tpe", "gp"])
    parser.add_argument("--rescore-top", type=int, default=3)
    parser.add_argument("--skip-defaults-spread", action="store_true",
                        help="do not train trial 0 with the 2 extra seeds (known from an earlier run on the same split)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-tune"))
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def defaults_spread(result, config) -> list[float]:
    """Trial 0's validation metric at the trial's seed and the two rescoring seeds (the same split)."""
    from fineclass.tuning.run import RESCORE_SEEDS
    from fineclass.tuning.trial import run_scored

    trial0 = next(t for t in result.trials if t.get("queued") == "defaults")
    rescored = (result.best or {}).get("spread", {}).get(str(trial0["number"]))
    if rescored:  # trial 0 was among the rescored best: its objective values (after thresholds, for multi-label)
        return rescored
    values = [trial0["value"]]
    split_dir = result.output_dir / "data"
    validation = _validation_frame(split_dir)
    for seed in range(config.seed + 1, config.seed + 1 + RESCORE_SEEDS):
        settings = _split_settings(config, split_dir, seed, Path(result.output_dir) / "bench-defaults" / f"seed{seed}")
        values.append(run_scored(settings, result.metric, validation).value)
    return values


def _validation_frame(split_dir: Path):
    from fineclass.config import TrainConfig
    from fineclass.recipes.train import load_task

    _, frames = load_task(TrainConfig(data=str(split_dir), text_column="text", label_column="labels",
                                      label_names=str(split_dir / "labels.txt")))
    return frames["validation"]


def _split_settings(config, split_dir: Path, seed: int, output_dir: Path):
    from fineclass.data.options import ReadOptions
    from fineclass.tuning.space import trial_settings

    defaults = trial_settings(config, {})
    return replace(defaults, data=str(split_dir), text_column="text", label_column="labels",
                   label_names=str(split_dir / "labels.txt"), label_columns=None, reading=ReadOptions(),
                   max_train_samples=None, max_eval_samples=None, seed=seed, output_dir=str(output_dir),
                   overwrite=True, baseline=False, report=False)


def measure(dataset: str, sampler: str, args: argparse.Namespace) -> dict:
    import fineclass
    from fineclass.api import train_config

    spec = DATASETS[dataset]
    out = args.out / f"{dataset}-{sampler}"
    options = {**spec["options"], "max_train_samples": args.max_train_samples}
    start = time.perf_counter()
    result = fineclass.tune(str(spec["data"]), out, trials=args.trials or None, timeout=args.timeout, sampler=sampler,
                            rescore_top=args.rescore_top, overwrite=True, **options)
    wall = time.perf_counter() - start
    config, _ = train_config(str(spec["data"]), out, **options)
    best, trials = result.best, result.trials
    trial0 = next((t for t in trials if t.get("queued") == "defaults"), None)
    spread0 = defaults_spread(result, config) if trial0 and not args.skip_defaults_spread else []
    non_default = [t for t in trials if t["state"] == "complete" and t.get("queued") != "defaults"]
    best_other = max(non_default, key=lambda t: t["value"] * (1 if result.metric != "loss" else -1)) if non_default else None
    test = best.get("test", {}) if best else {}
    gain = None if not (best and spread0) else best["mean"] - statistics.mean(spread0)
    noise = max(best["std"] if best else 0.0, statistics.stdev(spread0) if len(spread0) > 1 else 0.0)
    return {
        "dataset": dataset, "sampler": sampler, "max_train_samples": args.max_train_samples, "trials": len(trials),
        "states": {s: sum(t["state"] == s for t in trials) for s in {t["state"] for t in trials}},
        "metric": result.metric, "wall_seconds": round(wall, 1),
        "defaults": {"validation": trial0["value"] if trial0 else None, "seeds": spread0,
                     "seconds": trial0["seconds"] if trial0 else None, "test": test.get("defaults")},
        "best": best and {k: best[k] for k in ("number", "value", "mean", "std", "seeds", "params", "queued")}
                | {"test": test.get("best"), "seconds": next(t["seconds"] for t in trials if t["number"] == best["number"])},
        "best_non_default_single_seed": best_other and {k: best_other[k] for k in ("number", "value", "seconds")},
        "mean_gain_over_defaults": gain, "largest_seed_std": noise,
        "within_spread": None if gain is None else abs(gain) <= noise,
        "fastest_within_0.2_points_of_best_validation": fastest_close(trials, best, result.metric),
    }


def fastest_close(trials: list[dict], best: dict | None, metric: str) -> dict | None:
    """The quickest completed trial whose validation metric is within 0.002 of the best trial's (validation only:
    the test split is scored for the best trial and trial 0 alone, by design)."""
    if not best:
        return None
    sign = -1 if metric == "loss" else 1
    close = [t for t in trials if t["state"] == "complete" and sign * (best["value"] - t["value"]) <= 0.002]
    fastest = min(close, key=lambda t: t["seconds"]) if close else None
    return fastest and {k: fastest[k] for k in ("number", "value", "seconds")} | {
        "params": {k[len("param_"):]: v for k, v in fastest.items() if k.startswith("param_")}}


def main(argv=None) -> int:
    args = parse_args(argv)
    if not DATASETS[args.dataset]["data"].exists():
        print(f"{DATASETS[args.dataset]['data']} is missing: see ../shared/datasets/README.md", file=sys.stderr)
        return 2
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial; the summary below says it
    results = [measure(args.dataset, sampler, args) for sampler in args.samplers]
    for row in results:
        d, b = row["defaults"], row["best"] or {}
        print(f"{row['dataset']} {row['sampler']}: {row['trials']} trials {row['states']} in {row['wall_seconds']:.0f} s; "
              f"trial 0 validation {d['validation']} (seeds {d['seeds']}); best trial {b.get('number')} mean "
              f"{b.get('mean')} ± {b.get('std')}; gain {row['mean_gain_over_defaults']} "
              f"({'within' if row['within_spread'] else 'beyond'} the seed spread {row['largest_seed_std']:.4f}); "
              f"test: defaults {d['test']}, best {b.get('test')}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": results, "argv": sys.argv[1:]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
