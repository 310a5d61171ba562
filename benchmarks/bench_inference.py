"""Inference throughput, side by side in one process, on one fine-tuned model and its test split.

Arms: tutorial 000's one-text-at-a-time `pipeline` loop; fineclass Predictor on torch fp32 and bf16;
ONNX fp32 and ONNX int8 exports of the same weights, one session with every core. torch bf16 casts the
weights to bf16 (no autocast). The "full last layer" arms run the last encoder layer for every token, as before
`compute_last_layer_for_cls_only` (the Predictor's and the export's default now).

    python benchmarks/bench_inference.py runs/emotion [--latency-samples 200] [--json out.json] [--no-bf16]

Exports are written to RUN/onnx and RUN/onnx-int8 if missing. Warm-up is excluded from every timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 arms (a CPU without native bf16)")
    args = parser.parse_args()

    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    from fineclass.evaluation.evaluate import encode_for_model, load_eval_frame
    from fineclass.inference import export
    from fineclass.inference.export import export_onnx
    from fineclass.inference.predictor import Predictor
    from fineclass.modeling import load_classifier
    from fineclass.rundir import resolve_model_dir

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model_dir = resolve_model_dir(args.run_dir)
    frame = load_eval_frame(model_dir, None, "test")
    texts = list(frame["text"])
    for quantize, name in ((None, "onnx"), ("int8", "onnx-int8")):
        if not (args.run_dir / name / "model.onnx").is_file():
            export_onnx(model_dir, args.run_dir / name, quantize)
    if not (args.run_dir / "onnx-int8-full" / "model.onnx").is_file():
        cls_only, export.compute_last_layer_for_cls_only = export.compute_last_layer_for_cls_only, lambda model: False
        try:
            export_onnx(model_dir, args.run_dir / "onnx-int8-full", "int8")
        finally:
            export.compute_last_layer_for_cls_only = cls_only

    base = Predictor.from_dir(model_dir)
    y_true = encode_for_model(frame, base.label_space, "test")
    full_model, tokenizer = load_classifier(model_dir)
    arms = {
        "pipeline loop (tutorial)": pipeline_arm(pipeline("text-classification", model=str(model_dir), device="cpu"), base),
        "Predictor torch fp32, full last layer": Predictor(full_model, tokenizer, batch_size=args.batch_size,
                                                           thresholds=base.thresholds, long_texts=base.long_texts),
        "Predictor torch fp32": Predictor.from_dir(model_dir, batch_size=args.batch_size),
    }
    if not args.no_bf16:
        arms["Predictor torch bf16"] = Predictor.from_dir(model_dir, batch_size=args.batch_size, precision="bf16")
        # compiled once in the warm-up (about 30 s, excluded like every warm-up), then timed
        arms["Predictor torch bf16 + torch.compile"] = Predictor.from_dir(model_dir, batch_size=args.batch_size,
                                                                          precision="bf16", compile=True)
    arms["Predictor ONNX fp32"] = Predictor.from_dir(args.run_dir / "onnx", batch_size=args.batch_size)
    arms["Predictor ONNX int8, full last layer"] = Predictor.from_dir(args.run_dir / "onnx-int8-full", batch_size=args.batch_size)
    arms["Predictor ONNX int8"] = Predictor.from_dir(args.run_dir / "onnx-int8", batch_size=args.batch_size)
    rng = np.random.default_rng(0)
    singles = [texts[i] for i in rng.choice(len(texts), args.latency_samples, replace=False)]
    rows = {name: measure(arm, texts, singles, y_true) for name, arm in arms.items()}
    reference = rows["pipeline loop (tutorial)"]["texts_per_second"]
    for row in rows.values():
        row["speedup"] = round(row["texts_per_second"] / reference, 2)
    print_table(rows, len(texts))
    if args.json:
        args.json.write_text(json.dumps({"threads": torch.get_num_threads(), "rows": len(texts), "arms": rows}, indent=2))


class pipeline_arm:
    """Tutorial 000's loop: one pipeline call per text, argmax label mapped back to an id."""

    def __init__(self, classifier, base):
        self.classifier = classifier
        self.label2id = base.label_space.label2id

    def predict_labels(self, texts):
        return np.array([self.label2id[self.classifier(t)[0]["label"]] for t in texts])


def predict_labels(arm, texts):
    if isinstance(arm, pipeline_arm):
        return arm.predict_labels(texts)
    return arm.predict_logits(texts).argmax(axis=1)


def measure(arm, texts, singles, y_true) -> dict:
    predict_labels(arm, texts[:64])  # warm-up: thread pools, allocator, ONNX kernels
    if getattr(getattr(arm, "backend", None), "model", None) is not None and hasattr(arm.backend.model, "_orig_mod"):
        predict_labels(arm, texts)  # a compiled model also compiles for the other shapes it will see
        predict_labels(arm, singles[:1])
    start = time.perf_counter()
    predicted = predict_labels(arm, texts)
    seconds = time.perf_counter() - start
    latencies = []
    for text in singles:
        t0 = time.perf_counter()
        predict_labels(arm, [text])
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    return {
        "texts_per_second": round(len(texts) / seconds, 1),
        "batch_seconds": round(seconds, 2),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "accuracy": round(float((predicted == y_true).mean()), 4),
    }


def print_table(rows: dict, count: int) -> None:
    print(f"\n{count} test texts, {torch.get_num_threads()} torch threads\n")
    print("| arm | texts/s | speed-up | single-text p50 ms | p95 ms | test accuracy |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['texts_per_second']} | {r['speedup']}x | {r['p50_ms']} | {r['p95_ms']} | {r['accuracy']} |")


if __name__ == "__main__":
    main()
