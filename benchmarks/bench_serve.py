"""Load test of `fineclass serve` on loopback: 1, 8 and 32 concurrent clients, micro-batching on and off.

Each client sends single-text requests from the run's test split, back to back, for --seconds per cell.
The server runs in its own process (`fineclass serve`); this process is the load generator, so both share
the machine's cores, as a sidecar client would.

    python benchmarks/bench_serve.py runs/emotion [--seconds 20] [--clients 1 8 32] [--json out.json]
    python benchmarks/bench_serve.py runs/emotion/onnx-int8      # an export inside a run: texts from the run

The client is aiohttp (pip install aiohttp).

Reported per cell: requests/s, p50/p95/p99 latency, errors, and the mean texts per forward pass, read from
the server's own /metrics. A 3 s warm-up at the cell's concurrency is excluded from each cell.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import time
from pathlib import Path

import aiohttp
import httpx
import numpy as np

from fineclass.serving.process import start_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path, help="run, model or ONNX export directory")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--serve-args", default="", help="extra flags for fineclass serve, e.g. '--precision bf16'")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from fineclass.evaluation.evaluate import load_eval_frame
    from fineclass.rundir import resolve_model_dir

    run_model = resolve_model_dir(args.model_dir if (args.model_dir / "config.yaml").exists() else args.model_dir.parent)
    texts = list(load_eval_frame(run_model, None, "test")["text"])
    results = []
    for batching in ("--batching", "--no-batching"):
        process, url = start_server(args.model_dir, batching, *args.serve_args.split())
        try:
            for clients in args.clients:
                run_load(url, texts, clients, 3.0)  # warm-up
                before = batch_counts(url)
                cell = run_load(url, texts, clients, args.seconds)
                after = batch_counts(url)
                forward_passes = after[1] - before[1]
                cell.update(batching=batching == "--batching", clients=clients,
                            mean_batch_texts=round((after[0] - before[0]) / forward_passes, 2) if forward_passes else None)
                results.append(cell)
                print(format_row(cell), flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "model_dir": str(args.model_dir),
                                         "seconds_per_cell": args.seconds, "serve_args": args.serve_args,
                                         "cells": results}, indent=2))


def run_load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    """`clients` loops sending one text per request until the deadline; latencies of finished requests."""

    async def client_loop(session: aiohttp.ClientSession, offset: int, deadline: float, latencies: list, errors: list):
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                async with session.post(f"{url}/predict", json={"texts": [texts[i % len(texts)]]}) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            (latencies if ok else errors).append(time.perf_counter() - started)
            i += clients

    async def main():
        latencies, errors = [], []
        # aiohttp rather than httpx: it costs the shared CPU several times less per request
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
            started = time.perf_counter()
            deadline = started + seconds
            await asyncio.gather(*(client_loop(session, k, deadline, latencies, errors) for k in range(clients)))
            return latencies, errors, time.perf_counter() - started

    latencies, errors, elapsed = asyncio.run(main())
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies), "errors": len(errors), "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
    }


def batch_counts(url: str) -> tuple[float, float]:
    """(texts, forward passes) so far, from the server's Prometheus metrics."""
    values = {}
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(("fineclass_batch_texts_sum", "fineclass_batch_texts_count")):
            name, value = line.split()
            values[name] = float(value)
    return values["fineclass_batch_texts_sum"], values["fineclass_batch_texts_count"]


def format_row(cell: dict) -> str:
    return (f"| {'on' if cell['batching'] else 'off'} | {cell['clients']} | {cell['requests_per_second']} | {cell['p50_ms']} "
            f"| {cell['p95_ms']} | {cell['p99_ms']} | {cell['errors']} | {cell['mean_batch_texts']} |")


def print_table(results: list[dict]) -> None:
    print("\n| batching | clients | requests/s | p50 ms | p95 ms | p99 ms | errors | mean texts per forward pass |")
    print("|---|---|---|---|---|---|---|---|")
    for cell in results:
        print(format_row(cell))
    by_key = {(c["batching"], c["clients"]): c["requests_per_second"] for c in results}
    for clients in sorted({c["clients"] for c in results}):
        if (True, clients) in by_key and by_key.get((False, clients)):
            print(f"{clients} clients: batching on / off = {by_key[(True, clients)] / by_key[(False, clients)]:.2f}x")


def machine() -> dict:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    import os

    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version()}


if __name__ == "__main__":
    main()
