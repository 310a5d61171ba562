"""Static int8 through OpenVINO and NNCF (activations calibrated on validation texts) against the dynamic int8 ONNX
export `fineclass export --quantize int8` makes, side by side in one process, on one run's test split.

    python -m venv /tmp/ov-venv && /tmp/ov-venv/bin/pip install openvino==2026.4.1 nncf==3.4.0 onnxruntime tokenizers pandas
    fineclass export RUN && fineclass export RUN --quantize int8          # RUN/onnx and RUN/onnx-int8
    # RUN/onnx-raw/model.onnx: the export's graph before ONNX Runtime's fusions, which OpenVINO reads
    python -c "from pathlib import Path; from fineclass.modeling import load_classifier, compute_last_layer_for_cls_only; \
        from fineclass.inference.export import export_graph; m, t = load_classifier('RUN/model'); \
        compute_last_layer_for_cls_only(m); export_graph(m, t, Path('RUN/onnx-raw/model.onnx'))"
    /tmp/ov-venv/bin/python benchmarks/bench_openvino.py RUN [--calibration 300] [--repeats 3] [--json out.json]

It needs neither torch nor fineclass: every arm reads the same batches (test texts in length order, 64 a batch,
padded per batch with the export's tokenizer), so the arms differ only in their runtime and weights. Single-label,
single-text runs only. Issue 17's bar for `--quantize int8-static`: at least 1.3x the dynamic export's texts/s, at no more than 0.5
points of accuracy lost. Arms: ONNX Runtime fp32 and dynamic int8; OpenVINO fp32 (the fp32 ONNX graph); OpenVINO
int8 (`nncf.quantize` of that graph, transformer preset, calibrated on --calibration validation texts). Both OpenVINO
arms are compiled with f32 inference precision, so that a CPU with bf16 does not turn the fp32 arm into bf16.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def batches(tokenizer, texts: list[str], names: list[str], size: int = 64, pad: int = 0):
    """(indices, inputs) in length order, padded per batch, as the Predictor batches."""
    lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), size):
        chosen = order[start:start + size]
        encoded = tokenizer.encode_batch([texts[i] for i in chosen])
        width = max(len(e.ids) for e in encoded)
        columns = {"input_ids": [e.ids + [pad] * (width - len(e.ids)) for e in encoded],
                   "attention_mask": [e.attention_mask + [0] * (width - len(e.ids)) for e in encoded],
                   "token_type_ids": [[0] * width for _ in encoded]}
        yield chosen, {name: np.asarray(columns[name], dtype=np.int64) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--calibration", type=int, default=300, help="validation texts to calibrate on")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import nncf
    import onnxruntime as ort
    import openvino as ov
    import pandas as pd
    from tokenizers import Tokenizer

    onnx_dir, int8_dir = args.run_dir / "onnx", args.run_dir / "onnx-int8"
    tokenizer = Tokenizer.from_file(str(onnx_dir / "tokenizer.json"))
    tokenizer.enable_truncation(json.loads((onnx_dir / "long_texts.json").read_text()).get("max_length") or 512)
    tokenizer.no_padding()
    pad = tokenizer.token_to_id(json.loads((onnx_dir / "tokenizer_config.json").read_text()).get("pad_token", "[PAD]")) or 0
    label2id = json.loads((onnx_dir / "config.json").read_text())["label2id"]
    test = pd.read_json(args.run_dir / "data" / "test.jsonl", lines=True)
    texts, y_true = list(test["text"]), np.asarray([label2id[labels[0]] for labels in test["labels"]])
    validation = pd.read_json(args.run_dir / "data" / "validation.jsonl", lines=True)
    calibration = list(validation["text"].sample(n=min(args.calibration, len(validation)), random_state=0))

    names = [i.name for i in ort.InferenceSession(str(onnx_dir / "model.onnx")).get_inputs()]
    test_batches = list(batches(tokenizer, texts, names, pad=pad))

    def onnxruntime_arm(path: Path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda inputs: session.run(None, inputs)[0]

    core = ov.Core()
    raw = args.run_dir / "onnx-raw" / "model.onnx"
    fp32_graph = core.read_model(str(raw))

    def openvino_arm(graph):
        compiled = core.compile_model(graph, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        print("OpenVINO inference precision:", compiled.get_property("INFERENCE_PRECISION_HINT"))
        request = compiled.create_infer_request()
        return lambda inputs: request.infer(inputs)[compiled.output(0)]

    start = time.perf_counter()
    dataset = nncf.Dataset([inputs for _, inputs in batches(tokenizer, calibration, names, 1, pad)])
    int8_graph = nncf.quantize(core.read_model(str(raw)), dataset, model_type=nncf.ModelType.TRANSFORMER,
                               subset_size=len(calibration))
    print(f"nncf.quantize on {len(calibration)} validation texts: {time.perf_counter() - start:.0f} s")
    arms = {
        "ONNX Runtime fp32": onnxruntime_arm(onnx_dir / "model.onnx"),
        "ONNX Runtime int8 dynamic (fineclass export --quantize int8)": onnxruntime_arm(int8_dir / "model.onnx"),
        "OpenVINO fp32": openvino_arm(fp32_graph),
        "OpenVINO int8 static (NNCF)": openvino_arm(int8_graph),
    }
    rows = []
    for name, run in arms.items():
        run(test_batches[0][1])  # warm-up
        best, logits = None, np.zeros((len(texts), len(label2id)), dtype=np.float32)
        for _ in range(args.repeats):
            start = time.perf_counter()
            for chosen, inputs in test_batches:
                logits[chosen] = run(inputs)
            seconds = time.perf_counter() - start
            best = seconds if best is None else min(best, seconds)
        predicted = logits.argmax(axis=1)
        macro = np.mean([2 * np.sum((predicted == c) & (y_true == c)) / max(np.sum(predicted == c) + np.sum(y_true == c), 1)
                         for c in range(len(label2id))])
        rows.append({"arm": name, "texts_per_second": round(len(texts) / best, 1),
                     "accuracy": float(np.mean(predicted == y_true)), "f1_macro": float(macro)})
    dynamic = rows[1]["texts_per_second"]
    print(f"\n{len(texts)} test texts in length order, batch 64, best of {args.repeats}\n")
    print("| arm | texts/s | vs dynamic int8 | accuracy | macro-F1 |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['arm']} | {row['texts_per_second']:,.0f} | {row['texts_per_second'] / dynamic:.2f}x | "
              f"{row['accuracy']:.4f} | {row['f1_macro']:.4f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
