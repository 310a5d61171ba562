"""Memory allocator and OpenMP settings for training, each arm a fresh process running the same step-speed A/B
(`bench_training.py --max-steps N --arms fp32`), the arms interleaved over --rounds so that the machine's drift
falls on all of them alike.

    apt-get install libjemalloc2 libtcmalloc-minimal4
    python benchmarks/bench_runtime_env.py ../shared/datasets/emotion/emotion.csv --max-steps 60 --rounds 2 [--json out.json]

Arms: the default (glibc malloc, OpenMP's defaults); jemalloc with the settings PyTorch's CPU tuning guide gives;
tcmalloc; OpenMP threads bound to cores (OMP_PROC_BIND=close, OMP_PLACES=cores); OpenMP threads that spin
while waiting (OMP_WAIT_POLICY=ACTIVE).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LIBRARIES = Path("/usr/lib/x86_64-linux-gnu")
ARMS = {
    "default": {},
    "jemalloc": {"LD_PRELOAD": str(LIBRARIES / "libjemalloc.so.2"),
                 "MALLOC_CONF": "oversize_threshold:1,background_thread:true,metadata_thp:auto,dirty_decay_ms:-1,muzzy_decay_ms:-1"},
    "tcmalloc": {"LD_PRELOAD": str(LIBRARIES / "libtcmalloc_minimal.so.4")},
    "OMP_PROC_BIND=close": {"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"},
    "OMP_WAIT_POLICY=ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--max-steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--arms", nargs="+", default=list(ARMS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    unknown = [arm for arm in args.arms if arm not in ARMS]
    missing = [lib for arm in args.arms if arm in ARMS for lib in ARMS[arm].get("LD_PRELOAD", "").split() if not Path(lib).is_file()]
    if unknown or missing:  # the loader ignores a missing LD_PRELOAD library and the arm would measure the default
        parser.error(f"unknown arms {unknown} or missing libraries {missing}")
    bench = Path(__file__).with_name("bench_training.py")
    speeds: dict[str, list[float]] = {arm: [] for arm in args.arms}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for arm in args.arms:
                out = Path(tmp) / f"{arm}-{round_}.json".replace("=", "-")
                command = [sys.executable, str(bench), args.data, "--max-steps", str(args.max_steps), "--arms", "fp32",
                           "--json", str(out)]
                done = subprocess.run(command, env={**os.environ, **ARMS[arm]}, capture_output=True, text=True)
                if done.returncode:
                    sys.exit(f"{arm} failed:\n{done.stderr[-3000:]}")
                result = next(iter(json.loads(out.read_text())["arms"].values()))
                speeds[arm].append(result["samples_per_second"])
                print(f"round {round_ + 1}, {arm}: {result['samples_per_second']} samples/s, "
                      f"test accuracy {result['test_accuracy']}", flush=True)
    base = statistics.mean(speeds[args.arms[0]])
    print(f"\n| arm | samples/s, rounds 1..{args.rounds} | mean | vs {args.arms[0]} |")
    print("|---|---|---:|---:|")
    for arm, values in speeds.items():
        print(f"| {arm} | {' / '.join(f'{v:.1f}' for v in values)} | {statistics.mean(values):.1f} | "
              f"{statistics.mean(values) / base:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps(speeds, indent=2))


if __name__ == "__main__":
    main()
