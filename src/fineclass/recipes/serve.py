"""The serve recipe: check every option, load the model on its own thread, warm it up, freeze the garbage
collector, then run uvicorn with limits on connections, idle time and slow headers.

    serve(model, host, port, **options)  =  build_server(model, ...)  then  run_server(app, ListenSettings(...))
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from fineclass.devices import PRECISIONS, resolve_device, resolve_precision
from fineclass.errors import ConfigError, FineclassError
from fineclass.inference.backends import TorchBackend, is_onnx_dir
from fineclass.inference.predictor import Predictor
from fineclass.rundir import resolve_model_dir

logger = logging.getLogger(__name__)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass
class ListenSettings:
    """How uvicorn listens: the address, connection limits and TLS."""

    host: str = "127.0.0.1"
    """Address to listen on; 0.0.0.0 exposes the server to the network."""
    port: int = 8000
    limit_concurrency: int = 512
    """Connections (and requests) at once; past it uvicorn answers 503."""
    timeout_keep_alive: int = 5
    """Seconds an idle kept-alive connection stays open."""
    header_timeout_s: float = 10.0
    """Seconds a request's headers may take to arrive; a slower connection gets 408 and is closed."""
    ssl_keyfile: str | None = None
    """TLS: the private key (PEM); with ssl_certfile, the server speaks HTTPS."""
    ssl_certfile: str | None = None
    """TLS: the certificate chain (PEM)."""
    access_log: bool = True
    """Write one JSON line per request to stderr (id, path, status, texts, latency; never texts or keys)."""


LISTEN_OPTIONS = tuple(f.name for f in fields(ListenSettings) if f.name not in ("host", "port"))


def check_serve_options(port: int, max_wait_ms: float, max_batch_tokens: int, max_texts: int, max_chars: int,
                        batch_size: int, max_queue: int = 1, timeout_s: float = 1.0) -> None:
    problems = [message for bad, message in (
        (not 0 < port < 65536, f"--port must be between 1 and 65535, got {port}"),
        (max_wait_ms < 0, f"--max-wait-ms must be >= 0, got {max_wait_ms}"),
        (max_batch_tokens < 1, f"--max-batch-tokens must be >= 1, got {max_batch_tokens}"),
        (max_texts < 1, f"--max-texts must be >= 1, got {max_texts}"),
        (max_chars < 1, f"--max-chars must be >= 1, got {max_chars}"),
        (batch_size < 1, f"--batch-size must be >= 1, got {batch_size}"),
        (max_queue < 1, f"--max-queue must be >= 1, got {max_queue}"),
        (not timeout_s > 0, f"--timeout-s must be > 0, got {timeout_s}"),
    ) if bad]
    if problems:
        raise FineclassError("; ".join(problems))


def check_listen(listen: ListenSettings) -> None:
    problems = [message for bad, message in (
        (not 0 < listen.port < 65536, f"--port must be between 1 and 65535, got {listen.port}"),
        (listen.limit_concurrency < 1, f"--limit-concurrency must be >= 1, got {listen.limit_concurrency}"),
        (listen.timeout_keep_alive < 1, f"--timeout-keep-alive must be >= 1, got {listen.timeout_keep_alive}"),
        (not listen.header_timeout_s > 0, f"--header-timeout-s must be > 0, got {listen.header_timeout_s}"),
        ((listen.ssl_keyfile is None) != (listen.ssl_certfile is None),
         "--ssl-keyfile and --ssl-certfile go together; give both for HTTPS, or neither"),
    ) if bad]
    problems += [f"--{name.replace('_', '-')} {path}: no such file" for name in ("ssl_keyfile", "ssl_certfile")
                 if (path := getattr(listen, name)) is not None and not Path(path).is_file()]
    if problems:
        raise FineclassError("; ".join(problems))


def serve(model: str | Path, host: str = "127.0.0.1", port: int = 8000, on_ready=None, **options) -> None:
    """Check the options, load the model, and serve until SIGTERM or Ctrl+C. `options` are `build_server`'s
    and ListenSettings' fields; `on_ready(listen)` runs once the model is loaded, before listening."""
    listen = ListenSettings(host, port, **{name: options.pop(name) for name in LISTEN_OPTIONS if name in options})
    check_listen(listen)
    app = build_server(model, host=host, port=port, **options)
    if on_ready is not None:
        on_ready(listen)
    run_server(app, listen)


def build_server(model: str | Path, *, batching: bool = True, max_wait_ms: float = 5.0, max_batch_tokens: int = 8192,
                 max_texts: int = 64, max_chars: int = 10_000, batch_size: int = 64, precision: str = "fp32",
                 device: str = "auto", compile: bool = False, port: int = 8000, on_compile=None, long_texts=None,
                 max_queue: int = 256, timeout_s: float = 30.0, host: str = "127.0.0.1", api_keys=(),
                 api_key_file: str | Path | None = None, allowed_hosts=None, cors_origins=(),
                 min_confidence: float | None = None):
    """The FastAPI app for `model`, with its model loaded on the one thread that will run it.

    `long_texts` changes how texts over the window are read (a mode or a dict, as `Predictor.from_dir` takes it).
    `api_keys`, the lines of `api_key_file` and the comma-separated FINECLASS_API_KEYS are all accepted.
    `allowed_hosts`: Host names answered besides the loopback names (when `host` is loopback); None on another
    host answers any name. `min_confidence`: answers less sure than it are marked abstained, unless a request
    gives its own."""
    try:
        from fineclass.serving.app import ServeSettings, create_app
        from fineclass.serving.batcher import BatchingSettings, model_thread
        from fineclass.serving.security import AccessSettings, read_api_keys
    except ImportError as err:
        raise FineclassError(f"serving needs its extras ({err.name} is missing): pip install 'fineclass[serve]'") from None
    check_serve_options(port, max_wait_ms, max_batch_tokens, max_texts, max_chars, batch_size, max_queue, timeout_s)
    access = AccessSettings(read_api_keys(api_keys, api_key_file), hosts_answered(host, allowed_hosts),
                            tuple(check_names(cors_origins, "--cors-origins")))
    if precision not in PRECISIONS:
        raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    device = "cpu" if is_onnx_dir(resolve_model_dir(model)) else resolve_device(device)
    # Load on the thread that will run the model: torch's OpenMP threads stay with it (see model_thread).
    executor = model_thread()
    predictor = executor.submit(Predictor.from_dir, model, batch_size=batch_size, device=device,
                                precision=resolve_precision(precision, device), compile=compile,
                                long_texts=long_texts, min_confidence=min_confidence).result()
    if compile and isinstance(predictor.backend, TorchBackend) and on_compile:  # an ONNX export has nothing to compile
        on_compile()
    executor.submit(predictor.warm_up).result()  # the first request should not pay for compiling or kernel set-up
    batching_settings = BatchingSettings(batching, max_wait_ms, max_batch_tokens, max_queue=max_queue)
    settings = ServeSettings(max_texts, max_chars, batching_settings, timeout_s, access)
    # torch and transformers leave about 480,000 objects behind; a full garbage collection walks them all
    # (180 ms here) and stalls every request in flight. Move them out of the collector's sight.
    gc.collect()
    gc.freeze()
    return create_app(predictor, settings, model, executor)


def hosts_answered(host: str, allowed_hosts) -> tuple[str, ...] | None:
    """The Host names to answer: loopback names on a loopback address (a web page re-pointing its own name at
    127.0.0.1 is refused), plus `allowed_hosts`; on another address only `allowed_hosts`, or any when None."""
    named = tuple(check_names(allowed_hosts or (), "--allowed-hosts"))
    if is_loopback(host):
        return LOOPBACK_HOSTS + named
    return named or None


def check_names(names, option: str) -> list[str]:
    if isinstance(names, str):
        names = names.split(",")
    names = [str(name).strip() for name in names]
    if any(not name or any(c.isspace() for c in name) for name in names):
        raise ConfigError(f"{option} takes names separated by commas, without spaces or empty entries; got {names!r}")
    return names


def run_server(app, listen: ListenSettings | None = None) -> None:
    """Serve until SIGTERM or Ctrl+C: uvicorn stops accepting, lets requests in flight finish, then shuts the app down."""
    import uvicorn

    from fineclass.serving.limits import header_deadline_protocol

    listen = listen or ListenSettings()
    settings = getattr(app.state, "settings", None)
    if not is_loopback(listen.host) and settings is not None and not settings.access.api_keys:
        logger.warning("listening on %s without API keys: anyone who can reach this address can use the model. Add "
                       "keys with --api-key-file FILE (one key a line) or FINECLASS_API_KEYS=KEY1,KEY2 (Python: "
                       "fineclass.serve(..., api_keys=[...])), and name the server with --allowed-hosts", listen.host)
    set_up_access_log(listen.access_log)
    # On SIGTERM, uvicorn cancels what is still running after this long; every request ends by its deadline,
    # so waiting a little longer than that answers them all (with their result, or a 503 past the deadline).
    graceful = int(settings.timeout_s) + 5 if settings is not None else 10
    uvicorn.run(app, host=listen.host, port=listen.port, log_level="warning", timeout_graceful_shutdown=graceful,
                limit_concurrency=listen.limit_concurrency, timeout_keep_alive=listen.timeout_keep_alive,
                http=header_deadline_protocol(listen.header_timeout_s), access_log=False,
                ssl_keyfile=listen.ssl_keyfile, ssl_certfile=listen.ssl_certfile)


def set_up_access_log(enabled: bool) -> None:
    """The access log's JSON lines go to stderr as they are (the CLI's rich handler would wrap and prefix them).
    The server process owns its logging the way uvicorn's own loggers do; a handler set by the caller is kept."""
    access = logging.getLogger("fineclass.access")
    access.propagate = False
    access.setLevel(logging.INFO if enabled else logging.WARNING)
    if enabled and not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
