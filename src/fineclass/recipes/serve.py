"""The serve recipe: load the model on its own thread, warm it up, freeze the garbage collector, run uvicorn."""

from __future__ import annotations

import gc
import ipaddress
import logging
from pathlib import Path

from fineclass.devices import PRECISIONS, resolve_device, resolve_precision
from fineclass.errors import ConfigError, FineclassError
from fineclass.inference.backends import TorchBackend, is_onnx_dir
from fineclass.inference.predictor import Predictor
from fineclass.rundir import resolve_model_dir

logger = logging.getLogger(__name__)


def check_serve_options(port: int, max_wait_ms: float, max_batch_tokens: int, max_texts: int, max_chars: int,
                        batch_size: int) -> None:
    problems = [message for bad, message in (
        (not 0 < port < 65536, f"--port must be between 1 and 65535, got {port}"),
        (max_wait_ms < 0, f"--max-wait-ms must be >= 0, got {max_wait_ms}"),
        (max_batch_tokens < 1, f"--max-batch-tokens must be >= 1, got {max_batch_tokens}"),
        (max_texts < 1, f"--max-texts must be >= 1, got {max_texts}"),
        (max_chars < 1, f"--max-chars must be >= 1, got {max_chars}"),
        (batch_size < 1, f"--batch-size must be >= 1, got {batch_size}"),
    ) if bad]
    if problems:
        raise FineclassError("; ".join(problems))


def build_server(model: str | Path, *, batching: bool = True, max_wait_ms: float = 5.0, max_batch_tokens: int = 8192,
                 max_texts: int = 64, max_chars: int = 10_000, batch_size: int = 64, precision: str = "fp32",
                 device: str = "auto", compile: bool = False, port: int = 8000, on_compile=None, long_texts=None):
    """The FastAPI app for `model`, with its model loaded on the one thread that will run it.

    `long_texts` changes how texts over the window are read (a mode or a dict, as `Predictor.from_dir` takes it)."""
    try:
        from fineclass.serving.app import ServeSettings, create_app
        from fineclass.serving.batcher import BatchingSettings, model_thread
    except ImportError as err:
        raise FineclassError(f"serving needs its extras ({err.name} is missing): pip install 'fineclass[serve]'") from None
    check_serve_options(port, max_wait_ms, max_batch_tokens, max_texts, max_chars, batch_size)
    if precision not in PRECISIONS:
        raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    device = "cpu" if is_onnx_dir(resolve_model_dir(model)) else resolve_device(device)
    # Load on the thread that will run the model: torch's OpenMP threads stay with it (see model_thread).
    executor = model_thread()
    predictor = executor.submit(Predictor.from_dir, model, batch_size=batch_size, device=device,
                                precision=resolve_precision(precision, device), compile=compile,
                                long_texts=long_texts).result()
    if compile and isinstance(predictor.backend, TorchBackend) and on_compile:  # an ONNX export has nothing to compile
        on_compile()
    executor.submit(predictor.warm_up).result()  # the first request should not pay for compiling or kernel set-up
    settings = ServeSettings(max_texts, max_chars, BatchingSettings(batching, max_wait_ms, max_batch_tokens))
    # torch and transformers leave about 480,000 objects behind; a full garbage collection walks them all
    # (180 ms here) and stalls every request in flight. Move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    return create_app(predictor, settings, model, executor)


def run_server(app, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until SIGTERM or Ctrl+C: uvicorn stops accepting, lets requests in flight finish, then shuts the app down."""
    import uvicorn

    if not is_loopback(host):
        logger.warning("listening on %s: the API has no authentication; anyone who can reach this address can use it", host)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
