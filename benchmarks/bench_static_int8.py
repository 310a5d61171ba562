"""Static int8 (ONNX Runtime QDQ, per-channel weights, activations calibrated on validation texts) against the dynamic
int8 export `fineclass export --quantize int8` makes, side by side in one process, on one run's test split.

    python benchmarks/bench_static_int8.py runs/emotion [--calibration 256] [--repeats 3] [--json out.json]

Issue 17's bar for shipping `--quantize int8-static`: at least 1.3x the dynamic export's texts/s, at no more than
0.5 points of accuracy lost. Arms: the dynamic int8 export; static QDQ int8 of the MatMuls with activations as uint8
(and, since AVX2 without VNNI can saturate u8·s8 products, with `reduce_range`); ONNX fp32 as the reference.
Each arm predicts every test text through the `Predictor` (batch 64), warm-up excluded; best of --repeats.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np


class ValidationTexts:
    """onnxruntime's CalibrationDataReader over tokenized validation texts, in batches of 16."""

    def __init__(self, tokenizer, texts: list[str], names: list[str], max_length: int):
        self.batches = []
        for start in range(0, len(texts), 16):
            encoded = tokenizer(texts[start:start + 16], padding=True, truncation=True, max_length=max_length,
                                return_tensors="np")
            self.batches.append({n: encoded[n].astype(np.int64) for n in names})
        self.position = 0

    def get_next(self):
        if self.position >= len(self.batches):
            return None
        self.position += 1
        return self.batches[self.position - 1]

    def rewind(self):
        self.position = 0


def export_static(model_dir: Path, target: Path, texts: list[str], reduce_range: bool) -> Path:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from fineclass.inference.export import ONNX_FILE, export_graph, optimize_graph
    from fineclass.modeling import load_classifier

    model, tokenizer = load_classifier(model_dir)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    raw, prepared, quantized = target / "raw.onnx", target / "prepared.onnx", target / "quantized.onnx"
    export_graph(model, tokenizer, raw)
    quant_pre_process(str(raw), str(prepared), skip_symbolic_shape=True)
    names = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    reader = ValidationTexts(tokenizer, texts, names, 512)
    quantize_static(str(prepared), str(quantized), reader, quant_format=QuantFormat.QDQ, per_channel=True,
                    reduce_range=reduce_range, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul"])
    optimize_graph(quantized, target / ONNX_FILE)
    for leftover in (raw, prepared, quantized):
        leftover.unlink(missing_ok=True)
    model.config.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--calibration", type=int, default=256, help="validation texts to calibrate on")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import pandas as pd
    from transformers.utils import logging as hf_logging

    from fineclass.evaluation.evaluate import encode_for_model, load_eval_frame
    from fineclass.evaluation.metrics import multiclass_metrics
    from fineclass.inference.export import export_onnx
    from fineclass.inference.predictor import Predictor
    from fineclass.rundir import resolve_model_dir

    hf_logging.set_verbosity_error()
    model_dir = resolve_model_dir(args.run_dir)
    frame = load_eval_frame(model_dir, None, "test")
    texts = list(frame["text"])
    validation = pd.read_json(args.run_dir / "data" / "validation.jsonl", lines=True)
    calibration = list(validation["text"].sample(n=min(args.calibration, len(validation)), random_state=0))
    work = args.run_dir / "bench-int8"
    dirs = {
        "ONNX fp32": export_onnx(model_dir, work / "fp32", overwrite=True),
        "ONNX int8 dynamic (fineclass export --quantize int8)": export_onnx(model_dir, work / "dynamic", "int8", overwrite=True),
    }
    for reduce_range in (False, True):
        start = time.perf_counter()
        name = f"ONNX int8 static QDQ{' reduce_range' if reduce_range else ''}"
        dirs[name] = export_static(model_dir, work / f"static{'-rr' if reduce_range else ''}", calibration, reduce_range)
        print(f"{name}: exported and calibrated on {len(calibration)} texts in {time.perf_counter() - start:.0f} s")

    rows = []
    y_true = None
    for name, directory in dirs.items():
        predictor = Predictor.from_dir(directory, batch_size=64)
        y_true = encode_for_model(frame, predictor.label_space, "test") if y_true is None else y_true
        predictor.predict_proba(texts[:64])  # warm-up
        best = None
        for _ in range(args.repeats):
            start = time.perf_counter()
            probs = predictor.predict_proba(texts)
            seconds = time.perf_counter() - start
            best = seconds if best is None else min(best, seconds)
        metrics = multiclass_metrics(y_true, probs.argmax(axis=1), predictor.label_space.names, per_class=False)
        size = (directory / "model.onnx").stat().st_size / 1e6
        rows.append({"arm": name, "texts_per_second": round(len(texts) / best, 1), "accuracy": metrics["accuracy"],
                     "f1_macro": metrics["f1_macro"], "size_mb": round(size, 1)})
    dynamic = rows[1]["texts_per_second"]
    print(f"\n{len(texts)} test texts, batch 64, best of {args.repeats}\n")
    print("| arm | texts/s | vs dynamic int8 | accuracy | macro-F1 | MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['arm']} | {row['texts_per_second']:,.0f} | {row['texts_per_second'] / dynamic:.2f}x | "
              f"{row['accuracy']:.4f} | {row['f1_macro']:.4f} | {row['size_mb']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
