"""Training throughput, side by side in one process: tutorial 000's recipe against fineclass.

Same data split, same starting weights (the bundled MiniLM by default), same number of epochs.
Arms:
- recipe: the whole dataset padded to its longest text, random batches of 64, lr 2e-5, weight decay
  0.01, evaluation every epoch (tutorial 000's TrainingArguments);
- fineclass fp32 and fineclass bf16: `fineclass train` defaults (dynamic padding, length-grouped
  batches of 32, lr 1e-4), with --precision fp32 and bf16;
- a precision with changes joined by '+': `fp32+freeze` (--freeze-embeddings), `fp32+compile` (the Trainer's
  torch_compile), `fp32+fused` (adamw_torch_fused),
  `fp32+clsonly` (--cls-only-last-layer) and `fp32+fulllast` (--full-last-layer, the default since 54a5f28, 2026-12-06).

    python benchmarks/bench_training.py ../shared/datasets/emotion/emotion.csv --epochs 2 [--arms recipe fp32 bf16]
    python benchmarks/bench_training.py ../shared/datasets/emotion/emotion.csv --max-steps 150 --arms fp32 fp32+freeze
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--max-train-samples", type=int)
    parser.add_argument("--max-steps", type=int, help="stop each fineclass arm after this many steps (an A/B of step speed)")
    parser.add_argument("--arms", nargs="+", default=["recipe", "fp32", "bf16"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, arm in enumerate(args.arms):
            runner = run_recipe if arm == "recipe" else run_fineclass
            name = arm if arm not in results else f"{arm} ({i + 1})"  # an arm may run twice, for noise
            results[name] = runner(args, Path(tmp) / f"{i}-{arm}", arm)
            print(json.dumps({name: results[name]}), flush=True)
    if "recipe" in results:
        for row in results.values():
            row["speedup"] = round(row["samples_per_second"] / results["recipe"]["samples_per_second"], 2)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps({"threads": torch.get_num_threads(), "epochs": args.epochs, "arms": results}, indent=2))


CHANGES = {
    "freeze": {"freeze_embeddings": True},
    "compile": {"trainer_args": {"torch_compile": True}},
    "fused": {"trainer_args": {"optim": "adamw_torch_fused"}},
    "fulllast": {"cls_only_last_layer": False},
    "clsonly": {"cls_only_last_layer": True},
}
"""Arm suffixes (fp32+freeze): what each changes in the run's settings."""


def make_config(args, out: Path, arm: str):
    from fineclass.config import build_config

    precision, *changes = arm.split("+")
    settings = {"data": args.data, "output_dir": str(out), "model": args.model, "epochs": args.epochs,
                "max_train_samples": args.max_train_samples, "precision": precision, "max_steps": args.max_steps}
    if args.max_steps:  # a step-speed A/B: skip the untrained-head baseline and the report
        settings.update(baseline=False, report=False)
    for change in changes:
        settings.update(CHANGES[change])
    return build_config({}, settings)


def run_fineclass(args, out: Path, arm: str) -> dict:
    from fineclass.recipes.train import run_training

    start = time.perf_counter()
    metrics = run_training(make_config(args, out, arm)).metrics.to_dict()
    train = metrics["train"]
    last = metrics["validation"][-1] if metrics["validation"] else {"accuracy": float("nan"), "f1_macro": float("nan")}
    return summary(train, time.perf_counter() - start, last, metrics["test"]["accuracy"])


def run_recipe(args, out: Path, _arm: str) -> dict:
    """Tutorial 000, step for step, on fineclass's own split of the data."""
    import datasets
    from transformers import TrainingArguments

    from fineclass.evaluation.metrics import multiclass_metrics
    from fineclass.modeling import build_model, load_tokenizer, resolve_model_path
    from fineclass.recipes.train import load_task
    from fineclass.training.hardware import measure_matmul_peak
    from fineclass.training.throughput import throughput_report
    from fineclass.training.trainer import FineclassTrainer

    wall = time.perf_counter()
    task, frames = load_task(make_config(args, out, "fp32"))
    space = task.label_space
    path = resolve_model_path(args.model)
    tokenizer = load_tokenizer(path)

    def encode(frame):
        # padding=True over the whole split with batch_size=None: every text padded to the longest.
        data = datasets.Dataset.from_dict({"text": list(frame["text"]), "label": [space.label2id[l[0]] for l in frame["labels"]]})
        return data.map(lambda b: tokenizer(b["text"], padding=True, truncation=True), batched=True, batch_size=None)

    encoded = {split: encode(frames[split]) for split in ("train", "validation", "test")}
    torch.manual_seed(42)
    model = build_model(path, space)
    training_args = TrainingArguments(
        output_dir=str(out), num_train_epochs=args.epochs, learning_rate=2e-5, per_device_train_batch_size=64,
        per_device_eval_batch_size=64, weight_decay=0.01, eval_strategy="epoch", save_strategy="no",
        report_to="none", use_cpu=True, disable_tqdm=True, seed=42,
    )

    def compute_metrics(pred):
        m = multiclass_metrics(pred.label_ids, pred.predictions.argmax(-1), space.names, per_class=False)
        return {"accuracy": m["accuracy"], "f1": m["f1_weighted"], "f1_macro": m["f1_macro"]}

    trainer = FineclassTrainer(model=model, args=training_args, compute_metrics=compute_metrics,
                               train_dataset=encoded["train"], eval_dataset=encoded["validation"], processing_class=tokenizer)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    train = throughput_report(trainer.token_counter, seconds, trainer.model, measure_matmul_peak(torch.float32))
    last = [h for h in trainer.state.log_history if "eval_accuracy" in h][-1]
    test = trainer.predict(encoded["test"]).metrics["test_accuracy"]
    return summary(train, time.perf_counter() - wall, {"accuracy": last["eval_accuracy"], "f1_macro": last["eval_f1_macro"]}, test)


def summary(train: dict, wall: float, validation: dict, test_accuracy: float) -> dict:
    return {
        "train_seconds": train["seconds"],
        "wall_seconds": round(wall, 1),
        "samples_per_second": train["samples_per_second"],
        "real_tokens_per_second": train["real_tokens_per_second"],
        "padded_tokens_per_second": train["padded_tokens_per_second"],
        "padding_share": train["padding_share"],
        "mfu": train.get("mfu"),
        "peak_gflops": train.get("peak_gflops"),
        "validation_accuracy": round(validation["accuracy"], 4),
        "validation_f1_macro": round(validation["f1_macro"], 4),
        "test_accuracy": round(test_accuracy, 4),
    }


def print_table(results: dict) -> None:
    print(f"\n{torch.get_num_threads()} torch threads\n")
    print("| arm | train s | samples/s | speed-up | real tokens/s | padding | MFU (real tokens) | val accuracy | val macro-F1 | test accuracy |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['train_seconds']} | {r['samples_per_second']} | {r.get('speedup', '-')}x | "
              f"{r['real_tokens_per_second']} | {r['padding_share']:.1%} | {r['mfu']} of {r['peak_gflops']} GFLOP/s | "
              f"{r['validation_accuracy']} | {r['validation_f1_macro']} | {r['test_accuracy']} |")


if __name__ == "__main__":
    main()
