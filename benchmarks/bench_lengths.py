"""Training-step throughput by sequence length (issue 15): where the time goes at 64-512 tokens.

Full training steps (forward, backward, AdamW) of the bundled MiniLM classifier on batches of equal-length random
token ids, with the same number of tokens per batch at every length, for each attention implementation (sdpa,
eager), with and without a padding mask, with the model's attention-probability dropout (0.1) or none, in bf16
autocast and fp32. Reports real tokens/s and MFU against the measured matmul peak of the same dtype, as
`fineclass train` does.

    python benchmarks/bench_lengths.py [--lengths 64 128 256 512] [--tokens 4096] [--steps 4]
        [--attention-dropout model 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

import torch
from transformers import AutoModelForSequenceClassification

from fineclass.modeling import resolve_model_path
from fineclass.training.hardware import measure_matmul_peak
from fineclass.training.throughput import (
    non_embedding_parameters,
    training_flops_per_token,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2")
    parser.add_argument("--lengths", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--tokens", type=int, default=4096, help="Tokens per batch at every length.")
    parser.add_argument("--steps", type=int, default=4, help="Timed steps per cell, after one warm-up step.")
    parser.add_argument("--attention", nargs="+", default=["sdpa", "eager"])
    parser.add_argument("--precisions", nargs="+", default=["bf16", "fp32"])
    parser.add_argument("--attention-dropout", nargs="+", default=["model"],
                        help="Attention-probability dropout while training: 'model' (its config's, 0.1 for MiniLM) or a number.")
    parser.add_argument("--json")
    args = parser.parse_args()
    path = resolve_model_path(args.model)
    peaks = {p: measure_matmul_peak(torch.bfloat16 if p == "bf16" else torch.float32) for p in args.precisions}
    rows = []
    for precision in args.precisions:
        for attention in args.attention:
            for dropout in args.attention_dropout:
                extra = {} if dropout == "model" else {"attention_probs_dropout_prob": float(dropout)}
                model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=5, attn_implementation=attention, **extra)
                model.train()
                optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
                for length in args.lengths:
                    for masked in (True, False):
                        rows.append(measure(model, optimizer, length, args, precision, attention, masked, peaks[precision]))
                        rows[-1]["attention_dropout"] = model.config.attention_probs_dropout_prob
                        print(json.dumps(rows[-1]), flush=True)
    print_table(rows)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"threads": torch.get_num_threads(), "peaks_gflops": peaks, "rows": rows}, handle, indent=2)


def measure(model, optimizer, length: int, args, precision: str, attention: str, masked: bool, peak: float) -> dict:
    batch = max(1, args.tokens // length)
    torch.manual_seed(0)
    inputs = {"input_ids": torch.randint(1000, 20000, (batch, length)), "labels": torch.randint(0, 5, (batch,))}
    if masked:
        inputs["attention_mask"] = torch.ones(batch, length, dtype=torch.long)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()

    def step():
        with autocast:
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm-up: oneDNN builds its kernels for this shape
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    tokens = batch * length * args.steps
    flops = training_flops_per_token(model.config, non_embedding_parameters(model), length) * tokens
    return {"precision": precision, "attention": attention, "mask": masked, "length": length, "batch": batch,
            "tokens_per_second": round(tokens / seconds, 1), "mfu": round(flops / seconds / 1e9 / peak, 4)}


def print_table(rows: list[dict]) -> None:
    print("\n| precision | attention | attention dropout | mask | length | batch | tokens/s | MFU |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['precision']} | {r['attention']} | {r['attention_dropout']} | {'yes' if r['mask'] else 'no'} | "
              f"{r['length']} | {r['batch']} | "
              f"{r['tokens_per_second']:,.0f} | {r['mfu']:.3f} |")


if __name__ == "__main__":
    main()
