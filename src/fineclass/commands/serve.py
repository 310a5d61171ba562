"""`fineclass serve`: an HTTP API and a small web page for a trained model."""

from __future__ import annotations

import gc
import ipaddress
import logging
from typing import Annotated

import typer

from fineclass.commands.common import DEVICE_HELP, app, check_device, check_precision, console, user_errors
from fineclass.errors import FineclassError

logger = logging.getLogger("fineclass")


@app.command()
@user_errors
def serve(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run, model or ONNX export directory.")],
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 exposes the server to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    batching: Annotated[bool, typer.Option("--batching/--no-batching", help="Merge concurrent requests into one forward pass.")] = True,
    max_wait_ms: Annotated[float, typer.Option(help="How long a request waits for others to share its forward pass.")] = 5.0,
    max_batch_tokens: Annotated[int, typer.Option(help="Padded tokens (texts x longest) per forward pass.")] = 8192,
    max_texts: Annotated[int, typer.Option(help="Texts per request; more gets HTTP 413.")] = 64,
    max_chars: Annotated[int, typer.Option(help="Characters per text; longer gets HTTP 413.")] = 10_000,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass inside one batch.")] = 64,
    precision: Annotated[str, typer.Option(help="Torch models: fp32, bf16 (about 1.8x the requests/s of fp32 under load on CPUs with AMX) or auto.")] = "fp32",
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model before serving (about 25 s at start-up), then about 25% faster passes.")] = False,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /info, /health, /metrics, and a web page at /."""
    try:
        import uvicorn

        from fineclass.serving.app import ServeSettings, create_app
        from fineclass.serving.batcher import BatchingSettings, model_thread
    except ImportError as err:
        raise FineclassError(f"serving needs its extras ({err.name} is missing): pip install 'fineclass[serve]'") from None
    from fineclass.inference.backends import TorchBackend
    from fineclass.inference.predictor import Predictor

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
    device = check_device(device, model_dir)
    # Load on the thread that will run the model: torch's OpenMP threads stay with it (see model_thread).
    executor = model_thread()
    predictor = executor.submit(Predictor.from_dir, model_dir, batch_size=batch_size, device=device,
                                precision=check_precision(precision, device), compile=compile).result()
    if compile and isinstance(predictor.backend, TorchBackend):  # an ONNX export has nothing to compile
        console.print("compiling the model (torch.compile, about 25 s)...")
    executor.submit(predictor.warm_up).result()  # the first request should not pay for compiling or kernel set-up
    settings = ServeSettings(max_texts, max_chars, BatchingSettings(batching, max_wait_ms, max_batch_tokens))
    # torch and transformers leave about 480,000 objects behind; a full garbage collection walks them all
    # (180 ms here) and stalls every request in flight. Move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    if not is_loopback(host):
        logger.warning("listening on %s: the API has no authentication; anyone who can reach this address can use it", host)
    console.print(f"serving {model_dir} on http://{host}:{port}/ (batching {'on' if batching else 'off'}); Ctrl+C or SIGTERM stops it")
    # uvicorn stops accepting on SIGTERM/SIGINT, lets requests in flight finish, then runs the app's shutdown.
    uvicorn.run(create_app(predictor, settings, model_dir, executor), host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=10)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
