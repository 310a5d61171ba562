"""`fineclass audit` measured (issue 27): how many known label flips it ranks first, against cleanlab on the same
out-of-fold probabilities; how long a default audit of the emotion data takes; and what it flags in GoEmotions.

    python benchmarks/bench_audit.py flips ../shared/datasets/emotion/emotion.csv --share 0.08 --json out.json
    PYTHONPATH=/tmp/cleanlab-pkgs python benchmarks/bench_audit.py flips ...   # adds cleanlab's find_label_issues
    python benchmarks/bench_audit.py flips ../shared/datasets/emotion/emotion.csv --sample 2000 --model bundled:all-MiniLM-L6-v2
    python benchmarks/bench_audit.py time ../shared/datasets/emotion/emotion.csv --json out.json
    python benchmarks/bench_audit.py read ../shared/datasets/go_emotions/train.tsv --show 20 --json out.json

`flips` flips the labels of a seeded share of the rows, half to a uniformly drawn other class and half to a similar
emotion (joy<->love, anger<->fear, sadness->fear, surprise->joy), writes that copy to a temporary directory (never to
the repository), audits it with the defaults and scores precision at k (k = the rows flipped): the share of flipped
rows among the first k label issues. cleanlab is AGPL-3.0: it is imported here only, when it is importable (install it
outside the project, as `pip install --target /tmp/cleanlab-pkgs cleanlab termcolor`), never by fineclass.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIMILAR = {"joy": "love", "love": "joy", "anger": "fear", "fear": "anger", "sadness": "fear", "surprise": "joy"}
"""Flips between emotions people confuse; the other half of the flips draw any other class."""
LABEL_KIND = r"\blabel(?:;|$)"


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout
                  .splitlines() if line.startswith("Model name")), "unknown")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "load_average": os.getloadavg(), "commit": commit}


def flip_labels(frame: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A copy with `share` of the rows flipped; returns it, the flipped positions and which of them went to a
    similar emotion."""
    rng = np.random.default_rng(seed)
    names = sorted(frame["label_name"].unique(), key=lambda n: frame.loc[frame["label_name"] == n, "label"].iat[0])
    chosen = rng.choice(len(frame), int(round(share * len(frame))), replace=False)
    similar = np.arange(len(chosen)) % 2 == 1
    noisy = frame.copy()
    for position, to_similar in zip(chosen, similar):
        given = frame["label_name"].iat[position]
        new = SIMILAR[given] if to_similar else rng.choice([n for n in names if n != given])
        noisy.iloc[position, noisy.columns.get_loc("label_name")] = new
        noisy.iloc[position, noisy.columns.get_loc("label")] = names.index(new)
    return noisy, chosen, similar


def precision_at(ranked: np.ndarray, flipped: set[int], k: int) -> float:
    return round(len(set(ranked[:k].tolist()) & flipped) / k, 4)


def cleanlab_scores(labels: np.ndarray, probs: np.ndarray, flipped: set[int], k: int, ours: set[int]) -> dict:
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        return {"skipped": "cleanlab is not importable (PYTHONPATH=/tmp/cleanlab-pkgs)"}
    import cleanlab

    start = time.perf_counter()
    ranked = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
    theirs = set(ranked.tolist())
    return {"version": cleanlab.__version__, "seconds": round(time.perf_counter() - start, 2), "flagged": len(theirs),
            "precision_at_k": precision_at(ranked, flipped, k), "recall_of_flagged": round(len(theirs & flipped) / k, 4),
            "flagged_by_both": len(theirs & ours), "jaccard_with_fineclass": round(len(theirs & ours) / len(theirs | ours), 4)}


def run_flips(args) -> dict:
    import fineclass

    frame = pd.read_csv(args.data)
    if args.sample:
        frame = frame.groupby("label", group_keys=False).sample(frac=args.sample / len(frame), random_state=args.seed)
        frame = frame.reset_index(drop=True)
    noisy, chosen, similar = flip_labels(frame, args.share, args.seed)
    flipped, k = set(chosen.tolist()), len(chosen)
    options = {"model": args.model, "epochs": args.epochs} if args.model or args.epochs else {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "emotion-flipped.csv"
        noisy.to_csv(path, index=False)
        start = time.perf_counter()
        result = fineclass.audit(path, Path(tmp) / "audit", rank_by=args.rank_by, **options)
        seconds = time.perf_counter() - start
    issues = result.issues
    label_rows = issues[issues["kind"].str.contains(LABEL_KIND)]["row"].to_numpy()
    ours = set(label_rows.tolist())
    given = noisy["label"].to_numpy()
    everything = np.argsort(result.probabilities[np.arange(len(given)), given], kind="stable")
    top = set(label_rows[:k].tolist())
    report = {
        "rows": len(noisy), "flipped": k, "share": args.share, "seed": args.seed, "rank_by": args.rank_by,
        "method": result.summary["method"], "embedding_weight": result.summary.get("embedding_weight"),
        "seconds": round(seconds, 1), "out_of_fold_accuracy_against_true_labels":
            round(float((result.probabilities.argmax(axis=1) == frame["label"].to_numpy()).mean()), 4),
        "flagged": len(ours), "precision_at_k": precision_at(label_rows, flipped, k),
        "precision_at_k_whole_table": precision_at(issues["row"].to_numpy(), flipped, k),
        "precision_at_k_self_confidence_of_every_row": precision_at(everything, flipped, k),
        "recall_of_flagged": round(len(ours & flipped) / k, 4),
        "found_in_top_k": {"uniform": int(sum(p in top for p in chosen[~similar])),
                           "similar": int(sum(p in top for p in chosen[similar]))},
        "cleanlab": cleanlab_scores(given, result.probabilities, flipped, k, ours),
    }
    return report


def run_time(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        before = os.getloadavg()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fineclass", "audit", args.data, "-o", str(Path(tmp) / "audit"), "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = json.loads((Path(tmp) / "audit" / "audit.json").read_text())
    # On a busy machine the wall clock measures the other work too; the CPU seconds are the audit's own.
    return {"command": f"fineclass audit {args.data} -o OUT --quiet", "wall_seconds": round(seconds, 1),
            "cpu_seconds": round(used.ru_utime + used.ru_stime, 1),
            "audit_seconds": summary["seconds"], "load_average_before": before, "load_average_after": os.getloadavg(),
            "rows": summary["rows"], "flagged": summary["flagged"], "counts": summary["counts"]}


def run_read(args) -> dict:
    import fineclass

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = fineclass.audit(args.data, Path(tmp) / "audit")
        seconds = time.perf_counter() - start
    issues = result.issues
    labelled = issues[issues["kind"].str.contains(LABEL_KIND)]
    half = args.show // 2
    rest = labelled.iloc[half:]
    shown = pd.concat([labelled.head(half), rest.sample(n=min(args.show - half, len(rest)), random_state=args.seed)])
    for position, line in enumerate(shown.itertuples(index=False), start=1):
        print(f"{position:2d}. row {line.row} [{line.split}] score {line.score:.3f}: {line.text!r}\n"
              f"    given: {line.given}   suggested: {line.suggested}   kind: {line.kind}")
    return {"rows": result.rows, "flagged": len(issues), "counts": result.counts, "summary": result.summary,
            "seconds": round(seconds, 1), "cleanlab": cleanlab_multilabel(args.data, result, set(labelled["row"].tolist())),
            "shown": shown.to_dict(orient="records")}


def cleanlab_multilabel(data: str, result, ours: set[int]) -> dict:
    """cleanlab's multi-label find_label_issues on the audit's own probabilities (DATA must be one file)."""
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:
        return {"skipped": "cleanlab is not importable (PYTHONPATH=/tmp/cleanlab-pkgs)"}
    from fineclass.data.load import load_raw_data
    from fineclass.data.prepare import prepare_task

    task = prepare_task(load_raw_data(data))
    index = {name: i for i, name in enumerate(result.label_names)}
    given = [[index[name] for name in names] for names in task.frames["all"]["labels"]]
    start = time.perf_counter()
    theirs = set(np.flatnonzero(find_label_issues(given, result.probabilities, multi_label=True)).tolist())
    return {"seconds": round(time.perf_counter() - start, 1), "flagged": len(theirs), "flagged_by_both": len(theirs & ours),
            "jaccard_with_fineclass": round(len(theirs & ours) / max(len(theirs | ours), 1), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["flips", "time", "read"])
    parser.add_argument("data")
    parser.add_argument("--share", type=float, default=0.08, help="flips: the share of rows flipped")
    parser.add_argument("--sample", type=int, help="flips: a stratified sample of this many rows first")
    parser.add_argument("--model", help="flips: fine-tune this model per fold instead of the fast default")
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--rank-by", default="self-confidence")
    parser.add_argument("--show", type=int, default=20, help="read: label issues to print (half the top, half drawn)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    start = machine()
    report = {"flips": run_flips, "time": run_time, "read": run_read}[args.what](args)
    report = {"benchmark": args.what, "data": args.data, **report, "machine": {**start, "load_average_end": os.getloadavg()}}
    print(json.dumps({k: v for k, v in report.items() if k != "shown"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
