"""SetFit 1.2, the few-label reference, on the exact samples a `fineclass learning-curve` run trained on.

Runs in its own virtual environment (setfit pins its own sentence-transformers):

    python -m venv /tmp/setfit-venv && /tmp/setfit-venv/bin/pip install torch==2.13.0 setfit==1.2.0
    /tmp/setfit-venv/bin/python benchmarks/setfit_reference.py CURVE_DIR --model MODEL_DIR --out setfit.json

For every point CURVE_DIR/points/<size>-seed<seed>/data/ (train.jsonl, test.jsonl, labels.txt, as the curve wrote
them), it trains SetFit with the settings of issue 16's reference run (20 iterations of pair sampling, 1 epoch,
batch 16, a logistic-regression head) on the same model, and scores it on the same test split.
Multi-label data uses SetFit's one-vs-rest head.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score


def read_split(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows], [r["labels"] for r in rows]


def run_point(data: Path, model: str, seed: int, multi_label: bool) -> dict:
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    names = (data / "labels.txt").read_text(encoding="utf-8").split("\n")
    names = [n for n in names if n]
    index = {n: i for i, n in enumerate(names)}
    texts, labels = read_split(data / "train.jsonl")
    test_texts, test_labels = read_split(data / "test.jsonl")
    if multi_label:
        encode = lambda ls: [int(n in ls) for n in names]  # noqa: E731
    else:
        encode = lambda ls: index[ls[0]]  # noqa: E731
    train = Dataset.from_dict({"text": texts, "label": [encode(ls) for ls in labels]})
    setfit_model = SetFitModel.from_pretrained(model, multi_target_strategy="one-vs-rest" if multi_label else None)
    # output_dir: SetFit's default is ./checkpoints, which would put model weights in the working tree.
    with tempfile.TemporaryDirectory(prefix="setfit-") as output_dir:
        args = TrainingArguments(output_dir=output_dir, batch_size=16, num_epochs=1, num_iterations=20, seed=seed,
                                 report_to="none", save_strategy="no")
        trainer = Trainer(model=setfit_model, args=args, train_dataset=train)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    predicted = np.asarray(setfit_model.predict(test_texts, batch_size=128))
    truth = np.array([encode(ls) for ls in test_labels])
    if multi_label:
        scores = {"f1_micro": f1_score(truth, predicted, average="micro", zero_division=0),
                  "f1_macro": f1_score(truth, predicted, average="macro", zero_division=0)}
    else:
        scores = {"accuracy": accuracy_score(truth, predicted),
                  "f1_macro": f1_score(truth, predicted, average="macro", zero_division=0)}
    return {**{k: float(v) for k, v in scores.items()}, "train_seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curve", type=Path, help="a fineclass learning-curve output directory")
    parser.add_argument("--model", required=True, help="the model directory fineclass trained from")
    parser.add_argument("--out", type=Path, required=True, help="JSON results, updated after every point")
    parser.add_argument("--points", nargs="*", help="only these points (like 96-seed42); all when not given")
    args = parser.parse_args()
    curve = json.loads((args.curve / "learning_curve.json").read_text())
    multi_label = curve["task"]["multi_label"]
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    for point in sorted((args.curve / "points").iterdir(), key=lambda p: (int(p.name.split("-")[0]), p.name)):
        if (args.points and point.name not in args.points) or point.name in results:
            continue
        seed = int(point.name.split("seed")[1])
        results[point.name] = run_point(point / "data", args.model, seed, multi_label)
        print(point.name, results[point.name], flush=True)
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
