"""`fineclass serve` in a subprocess: for load tests, benchmarks and notebooks that talk to a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, *flags: str, log: Path | None = None, env: dict[str, str] | None = None
                 ) -> tuple[subprocess.Popen, str]:
    """The real `fineclass serve` in a subprocess on a free loopback port, once /health answers.

    Its output (the access log among it) goes to `log`, or to an unnamed temporary file: a pipe that nobody
    reads fills after a few hundred requests and stops the server. `env` is added to this process's environment.
    """
    port = free_port()
    output = open(log, "w+") if log is not None else tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed below)
    process = subprocess.Popen([sys.executable, "-m", "fineclass", "serve", str(model_dir), "--port", str(port), *flags],
                               stdout=output, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
    try:
        return process, wait_until_healthy(process, f"http://127.0.0.1:{port}", output)
    finally:
        output.close()  # the child has its own copy


def wait_until_healthy(process: subprocess.Popen, url: str, output) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output.seek(0)
            raise RuntimeError(f"server exited with {process.returncode}: {output.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not become healthy in 60 s")
