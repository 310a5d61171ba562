"""`fineclass serve` in a subprocess: for load tests, benchmarks and notebooks that talk to a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    """The real `fineclass serve` in a subprocess on a free loopback port, once /health answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "fineclass", "serve", str(model_dir), "--port", str(port), *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not become healthy in 60 s")
