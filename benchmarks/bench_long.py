"""Training throughput on long inputs against short ones, side by side in one process (issue 15).

Each arm is a real `fineclass train` run (the training recipe, its Trainer, collator and length-grouped batches)
stopped after --steps optimizer steps, with the default model and batch size:
- emotion: the emotion tweets (about 25 tokens each);
- bbc-512: the BBC news articles read as 512-token windows (`--long-texts windows`), so nearly every input is 512
  tokens long.
Both run with the attention dropout given by --attention-dropout: `model` (the model's own 0.1, the default before
issue 15) and auto (the default after it: 0 for the long arm, the model's own for emotion). Real tokens/s and MFU come from the run's metrics.json (`train`); the
ratio column is each bbc-512 arm's real tokens/s over the emotion arm's with the same settings.

    python benchmarks/bench_long.py --shared ../shared --steps 40 --long-steps 10 [--attention-dropout model 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default="../shared")
    parser.add_argument("--steps", type=int, default=40, help="Optimizer steps of the emotion arms.")
    parser.add_argument("--long-steps", type=int, default=10, help="Optimizer steps of the bbc-512 arms.")
    parser.add_argument("--attention-dropout", nargs="+", default=["model", "auto"],
                        help="Values to measure, in this order; repeat them (model 0 model 0) to interleave repetitions.")
    parser.add_argument("--arms", nargs="+", default=["emotion", "bbc-512"])
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets = Path(args.shared) / "datasets"
    arms = {
        "emotion": {"data": str(datasets / "emotion" / "emotion.csv"), "max_steps": args.steps, "long_texts": "truncate"},
        "bbc-512": {"data": str(datasets / "bbc_news" / "bbc-text.csv"), "max_steps": args.long_steps,
                    "long_texts": "windows"},
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for repetition, dropout in enumerate(args.attention_dropout):
            for name in args.arms:
                rows.append(run_arm(name, arms[name], dropout, args.precision, Path(tmp) / f"{name}-{dropout}-{repetition}"))
                print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        short = [r["real_tokens_per_second"] for r in rows if r["arm"] == "emotion" and r["attention_dropout"] == row["attention_dropout"]]
        row["ratio_to_emotion"] = round(row["real_tokens_per_second"] / (sum(short) / len(short)), 3) if short else None
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=2))


def run_arm(name: str, settings: dict, dropout: str, precision: str, out: Path) -> dict:
    from fineclass.config import build_config
    from fineclass.recipes.train import run_training

    config = build_config({}, {
        **settings, "output_dir": str(out), "precision": precision, "max_eval_samples": 64, "baseline": False,
        "report": False, "attention_dropout": dropout,
    })
    run = run_training(config)
    train = run.metrics.train
    return {"arm": name, "attention_dropout": dropout, "precision": train["precision"], "steps": train["steps"],
            "samples": train["samples"], "mean_tokens": round(train["real_tokens_per_second"] / train["samples_per_second"], 1),
            "real_tokens_per_second": train["real_tokens_per_second"], "mfu": train.get("mfu"),
            "seconds": train["seconds"]}


def print_table(rows: list[dict]) -> None:
    print("\n| arm | attention dropout | precision | steps | inputs | mean tokens | real tokens/s | MFU | ratio to emotion |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['arm']} | {r['attention_dropout']} | {r['precision']} | {r['steps']} | {r['samples']} | "
              f"{r['mean_tokens']} | {r['real_tokens_per_second']:,.0f} | {r['mfu']} | {r['ratio_to_emotion']} |")


if __name__ == "__main__":
    main()
