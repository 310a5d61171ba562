"""Where a loaded `fineclass serve` spends CPU: seconds per server thread and for the client, per request.

    python benchmarks/serve_cpu_split.py runs/emotion --batching --precision bf16
    python benchmarks/serve_cpu_split.py runs/emotion/onnx-int8 --no-batching

Starts the server (extra arguments go to `fineclass serve`), warms up for 3 s, then runs 32 aiohttp clients for
10 s and reads each server thread's CPU time from /proc (Linux only). The event loop is the thread with the
lowest id; the others are the model thread and torch's or onnxruntime's worker threads.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import batch_counts, run_load, start_server  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    seconds = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return seconds


def main() -> None:
    from fineclass.evaluation.evaluate import load_eval_frame
    from fineclass.rundir import resolve_model_dir

    model, flags = Path(sys.argv[1]), sys.argv[2:]
    run = model if (model / "config.yaml").exists() else model.parent
    texts = list(load_eval_frame(resolve_model_dir(run), None, "test")["text"])
    process, url = start_server(model, *flags)
    try:
        run_load(url, texts, 32, 3.0)
        server_before, client_before, batches_before = thread_cpu_seconds(process.pid), os.times(), batch_counts(url)
        cell = run_load(url, texts, 32, 10.0)
        server_after, client_after, batches_after = thread_cpu_seconds(process.pid), os.times(), batch_counts(url)
    finally:
        process.terminate()
        process.wait(timeout=30)
    requests = cell["requests"]
    passes = batches_after[1] - batches_before[1]
    print(f"{' '.join(flags)}: {cell['requests_per_second']} requests/s, "
          f"{(batches_after[0] - batches_before[0]) / max(passes, 1):.1f} texts per forward pass")
    for tid in sorted(server_after):
        used = server_after[tid] - server_before.get(tid, 0.0)
        if used > 0.05:
            print(f"  server thread {tid}: {used:6.2f} CPU s, {used / requests * 1000:5.2f} CPU ms per request")
    used = (client_after.user + client_after.system) - (client_before.user + client_before.system)
    print(f"  client:             {used:6.2f} CPU s, {used / requests * 1000:5.2f} CPU ms per request")


if __name__ == "__main__":
    main()
