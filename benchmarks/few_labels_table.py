"""The few-label table: a `fineclass learning-curve` run beside SetFit on the same samples (setfit_reference.py).

    python benchmarks/few_labels_table.py runs/emotion-curve setfit.json

Prints, per size, the mean ± std (over the seeds both ran) of each side's headline metric and macro-F1, and the mean
training time, as a markdown table; and per point, both sides' figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(curve_dir: str, setfit_json: str) -> None:
    curve = json.loads((Path(curve_dir) / "learning_curve.json").read_text())
    setfit = json.loads(Path(setfit_json).read_text())
    metric = curve["metric"]
    first = curve["points"][0]["candidate"]
    ours = {f"{p['size']}-seed{p['seed']}": p for p in curve["points"] if p["candidate"] == first}
    shared = sorted(set(ours) & set(setfit), key=lambda k: (int(k.split("-")[0]), k))
    print(f"| texts | seeds | SetFit {metric} / macro-F1 | fineclass {metric} / macro-F1 | SetFit train s | fineclass train s |")
    print("|---:|---:|---|---|---:|---:|")
    for size in sorted({int(k.split("-")[0]) for k in shared}):
        keys = [k for k in shared if int(k.split("-")[0]) == size]

        def stat(rows, key):
            values = np.array([r[key] for r in rows], dtype=float)
            return f"{values.mean():.3f}" + (f" ± {values.std(ddof=1):.3f}" if len(values) > 1 else "")

        s_rows, o_rows = [setfit[k] for k in keys], [{**ours[k]["metrics"], "train_seconds": ours[k]["train_seconds"]} for k in keys]
        print(f"| {size} | {len(keys)} | {stat(s_rows, metric)} / {stat(s_rows, 'f1_macro')} | "
              f"{stat(o_rows, metric)} / {stat(o_rows, 'f1_macro')} | {np.mean([r['train_seconds'] for r in s_rows]):.0f} | "
              f"{np.mean([r['train_seconds'] for r in o_rows]):.0f} |")
    print()
    print(f"| point | SetFit {metric} | SetFit macro-F1 | fineclass {metric} | fineclass macro-F1 |")
    print("|---|---:|---:|---:|---:|")
    for k in shared:
        print(f"| {k} | {setfit[k][metric]:.4f} | {setfit[k]['f1_macro']:.4f} | {ours[k]['metrics'][metric]:.4f} | "
              f"{ours[k]['metrics']['f1_macro']:.4f} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
