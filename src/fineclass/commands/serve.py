"""`fineclass serve`: an HTTP API and a small web page for a trained model."""

from __future__ import annotations

from typing import Annotated

import typer

from fineclass.commands.common import (
    DEVICE_HELP,
    app,
    check_device,
    check_precision,
    console,
    user_errors,
)
from fineclass.commands.options import long_text_options, pop_long_texts


@app.command()
@user_errors
@long_text_options
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
    **long_text,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /info, /health, /metrics, and a web page at /."""
    from fineclass.recipes.serve import build_server, check_serve_options, run_server

    check_serve_options(port, max_wait_ms, max_batch_tokens, max_texts, max_chars, batch_size)
    check_device(device, model_dir)
    check_precision(precision, None)
    app_ = build_server(model_dir, batching=batching, max_wait_ms=max_wait_ms, max_batch_tokens=max_batch_tokens,
                        max_texts=max_texts, max_chars=max_chars, batch_size=batch_size, precision=precision,
                        device=device, compile=compile, port=port, long_texts=pop_long_texts(long_text),
                        on_compile=lambda: console.print("compiling the model (torch.compile, about 25 s)..."))
    console.print(f"serving {model_dir} on http://{host}:{port}/ (batching {'on' if batching else 'off'}); Ctrl+C or SIGTERM stops it")
    run_server(app_, host, port)
