"""`fineclass serve`: an HTTP API and a small web page for a trained model."""

from __future__ import annotations

from typing import Annotated, Optional

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
from fineclass.errors import FineclassError

SAFETY = "Safety and limits options"


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
    min_confidence: Annotated[Optional[float], typer.Option(help="Mark answers less sure than this (0 to 1) as abstained; a request's min_confidence replaces it.", show_default="never abstain")] = None,
    api_key_file: Annotated[Optional[str], typer.Option(help="A file of API keys, one a line: /predict, /info and /metrics then need the header Authorization: Bearer KEY. FINECLASS_API_KEYS=KEY1,KEY2 adds keys too.", rich_help_panel=SAFETY)] = None,
    max_queue: Annotated[int, typer.Option(help="Requests waiting for the model at most; one more gets HTTP 503 with Retry-After.", rich_help_panel=SAFETY)] = 256,
    timeout_s: Annotated[float, typer.Option(help="Deadline of one request in seconds: past it HTTP 503 and its queued work dropped. /health answers 503 when the model finishes nothing for this long while work waits.", rich_help_panel=SAFETY)] = 30.0,
    allowed_hosts: Annotated[Optional[str], typer.Option(help="Host names the server answers to, comma-separated (*.example.com for subdomains). Default: the loopback names on a loopback address, any name otherwise.", rich_help_panel=SAFETY)] = None,
    cors_origins: Annotated[Optional[str], typer.Option(help="Origins whose web pages may call the API, comma-separated (https://app.example.com). Default: none.", rich_help_panel=SAFETY)] = None,
    limit_concurrency: Annotated[int, typer.Option(help="Connections and requests at once; past it HTTP 503.", rich_help_panel=SAFETY)] = 512,
    timeout_keep_alive: Annotated[int, typer.Option(help="Seconds an idle kept-alive connection stays open.", rich_help_panel=SAFETY)] = 5,
    header_timeout_s: Annotated[float, typer.Option(help="Seconds a request's headers may take to arrive; a slower connection gets HTTP 408 and is closed.", rich_help_panel=SAFETY)] = 10.0,
    ssl_keyfile: Annotated[Optional[str], typer.Option(help="HTTPS: the private key file (PEM), with --ssl-certfile.", rich_help_panel=SAFETY)] = None,
    ssl_certfile: Annotated[Optional[str], typer.Option(help="HTTPS: the certificate chain file (PEM), with --ssl-keyfile.", rich_help_panel=SAFETY)] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="One JSON line per request on stderr: id, path, status, number of texts, latency (never texts or keys).", rich_help_panel=SAFETY)] = True,
    **long_text,
) -> None:
    """Serve a model over HTTP: POST /predict, GET /info, /health, /metrics, and a web page at /."""
    from fineclass.recipes.serve import check_serve_options, serve as serve_model

    check_serve_options(port, max_wait_ms, max_batch_tokens, max_texts, max_chars, batch_size, max_queue, timeout_s)
    check_device(device, model_dir)
    check_precision(precision, None)
    if min_confidence is not None and not 0 <= min_confidence <= 1:
        raise FineclassError(f"--min-confidence must be from 0 to 1, got {min_confidence}; for example 0.8")

    def announce(listen) -> None:
        scheme = "https" if listen.ssl_certfile else "http"
        console.print(f"serving {model_dir} on {scheme}://{host}:{port}/ (batching {'on' if batching else 'off'}); "
                      "Ctrl+C or SIGTERM stops it")

    serve_model(model_dir, host, port, on_ready=announce, batching=batching, max_wait_ms=max_wait_ms,
                max_batch_tokens=max_batch_tokens, max_texts=max_texts, max_chars=max_chars, batch_size=batch_size,
                precision=precision, device=device, compile=compile, long_texts=pop_long_texts(long_text),
                on_compile=lambda: console.print("compiling the model (torch.compile, about 25 s)..."),
                api_key_file=api_key_file, max_queue=max_queue, timeout_s=timeout_s, allowed_hosts=allowed_hosts,
                cors_origins=cors_origins or (), limit_concurrency=limit_concurrency,
                timeout_keep_alive=timeout_keep_alive, header_timeout_s=header_timeout_s, ssl_keyfile=ssl_keyfile,
                ssl_certfile=ssl_certfile, access_log=access_log, min_confidence=min_confidence)
