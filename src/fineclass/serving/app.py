"""The HTTP API: /predict, /health, /info, /metrics and a small page at /, around one Predictor.

`create_app` is a list of named pieces: the batcher and its threads, the routes, the error shape, and the
middleware that checks who may call (security.py), how much they may send (limits.py) and traces each answer
(tracing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from fineclass.inference.predictor import Predictor
from fineclass.rundir import (
    METRICS,
    RunMetrics,
    resolve_model_dir,
    run_dir_of,
    run_reading,
)
from fineclass.serving.batcher import BatchingSettings, MicroBatcher, QueueFull, Unavailable
from fineclass.serving.body import BadRequest, PredictRequest, read_predict_body
from fineclass.serving.limits import Admission, BodyCap
from fineclass.serving.responses import error, install_error_handlers
from fineclass.serving.security import AccessSettings, ApiKeyGuard, HostGuard
from fineclass.serving.telemetry import Telemetry
from fineclass.serving.tracing import RequestTracing

logger = logging.getLogger(__name__)
ROUTES = ("/", "/predict", "/health", "/info", "/metrics", "/openapi.json")
RETRY_AFTER = {"Retry-After": "1"}
@dataclass
class ServeSettings:
    """Request limits, batching and access rules of one server."""

    max_texts: int = 64
    """Texts per request; more gets 413."""
    max_chars: int = 10_000
    """Characters per text; longer gets 413 (the model truncates to its token limit anyway)."""
    batching: BatchingSettings = field(default_factory=BatchingSettings)
    timeout_s: float = 30.0
    """Deadline of one /predict request, from reading its body to its answer; past it the answer is 503 and
    work still queued is dropped. Also how long the model may finish nothing while work waits before /health
    answers 503."""
    access: AccessSettings = field(default_factory=AccessSettings)

    @property
    def max_body_bytes(self) -> int:
        # A JSON string may escape each character as \uXXXX (6 bytes), in texts and text_pairs; 64 KiB covers the rest.
        return 2 * self.max_texts * self.max_chars * 6 + 65_536


class ScoredLabel(BaseModel):
    label: str
    score: float


class TextPrediction(BaseModel):
    text: str
    labels: list[str] = Field(description="The label (multi-class) or every label at or above its threshold (multi-label).")
    scores: list[float] = Field(description="The scores of `labels`, in the same order.")
    top_k: list[ScoredLabel]
    windows: int = Field(1, description="How many windows of the text the model read (over 1 only for long texts "
                                        "with --long-texts windows; their scores are pooled).")
    abstained: bool | None = Field(None, description="With a minimum confidence (the request's min_confidence or the "
                                   "server's --min-confidence): true when the answer is less sure than it.")


class PredictResponse(BaseModel):
    model: str
    predictions: list[TextPrediction]


class ErrorResponse(BaseModel):
    error: str = Field(description="What is wrong and how to fix it, in one line (under 1 KB).")


ERRORS = {status: {"model": ErrorResponse} for status in (400, 401, 413, 415, 422, 500, 503)}
REQUEST_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": PredictRequest.model_json_schema()}}}}
"""/predict reads its body itself (body.py); this shows the schema it checks in /openapi.json."""


def create_app(predictor: Predictor, settings: ServeSettings | None = None, model_dir: str | Path | None = None,
               executor: ThreadPoolExecutor | None = None) -> FastAPI:
    """A FastAPI app serving `predictor`; `model_dir` supplies the name and training metrics for /info.

    `executor` is the one-thread pool that loaded the predictor (`batcher.model_thread()`); the model runs there.
    Tokenizing runs on a thread of its own, so neither blocks the event loop.
    """
    settings = settings or ServeSettings()
    telemetry = Telemetry()
    batcher = MicroBatcher(predictor.logits_from_encoded, settings.batching, telemetry.observe_batch, executor)
    admission = Admission(settings.batching.max_queue)
    telemetry.in_progress.set_function(lambda: admission.inside)
    tokenizer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fineclass-tokenize")
    info = model_info(predictor, model_dir, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await batcher.start()
        logger.info("serving %s (%s, %s)", info["name"], info["task"], info["backend"])
        yield
        await batcher.stop()
        tokenizer_thread.shutdown(wait=True)
        logger.info("stopped: requests in flight were answered and the model worker released")

    app = FastAPI(title="fineclass", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description=f"Text classification with {info['name']} ({info['task']}, labels: {', '.join(info['labels'])}).")
    app.state.batcher, app.state.telemetry, app.state.info, app.state.settings = batcher, telemetry, info, settings
    add_predict_route(app, predictor, settings, batcher, admission, tokenizer_thread, info["name"])
    add_other_routes(app, settings, batcher, telemetry, info)
    install_error_handlers(app)
    install_middleware(app, settings, telemetry)
    return app


def add_predict_route(app: FastAPI, predictor: Predictor, settings: ServeSettings, batcher: MicroBatcher,
                      admission: Admission, tokenizer_thread: ThreadPoolExecutor, name: str) -> None:
    async def classify(request: Request) -> Response:
        body = await request.body()
        try:  # reading, checking and tokenizing the body happen off the event loop, on the tokenizer's thread
            parsed, encoded, windows = await asyncio.get_running_loop().run_in_executor(
                tokenizer_thread, prepare, predictor, body, settings)
        except BadRequest as bad:
            return error(bad.status, str(bad))
        request.state.texts = len(parsed.texts)
        logits = predictor.pool(await batcher.submit(encoded), windows)
        results = predictor.decide(parsed.texts, predictor.probabilities(logits), parsed.top_k, parsed.threshold, windows,
                                   parsed.min_confidence)
        # A Response skips FastAPI's re-validation of the payload against PredictResponse (it is built to match).
        return JSONResponse({"model": name, "predictions": [r.to_dict() for r in results]})

    @app.post("/predict", response_model=PredictResponse, responses=ERRORS, openapi_extra=REQUEST_BODY)
    async def predict(request: Request):
        """Classify texts with the same Predictor as `fineclass predict`."""
        content_type = request.headers.get("content-type")
        if not is_json(content_type):
            return error(415, f"the body must be JSON sent with Content-Type: application/json, not "
                              f"{'no Content-Type' if content_type is None else repr(content_type[:80])}")
        try:
            with admission:
                return await asyncio.wait_for(classify(request), settings.timeout_s)
        except QueueFull as full:
            return error(503, f"the server is busy: {full}; try again in a second (--max-queue)", RETRY_AFTER)
        except Unavailable as unavailable:
            return error(503, f"the server cannot answer now: {unavailable}; try again shortly", RETRY_AFTER)
        except (asyncio.TimeoutError, TimeoutError):
            return error(503, f"no answer within the server's deadline of {settings.timeout_s:g} s (--timeout-s); the "
                              "work was dropped; try again, or send fewer texts", RETRY_AFTER)
        except Exception as err:  # the failure is this request's; the server carries on
            logger.exception("prediction failed")
            return error(500, f"prediction failed: {type(err).__name__}: {err}")


def prepare(predictor: Predictor, body: bytes, settings: ServeSettings):
    """The checked request and its encoded texts (run on the tokenizer's thread)."""
    parsed = read_predict_body(body, settings.max_texts, settings.max_chars)
    encoded, windows = predictor.encode_documents(parsed.texts, parsed.text_pairs)
    return parsed, encoded, windows


def is_json(content_type: str | None) -> bool:
    """application/json (or application/...+json), in UTF-8 if a charset is named."""
    media, *params = (content_type or "").lower().split(";")
    media = media.strip()
    charsets = [p.split("=", 1)[1].strip().strip('"') for p in params if p.strip().startswith("charset=")]
    json_type = media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
    return json_type and all(charset in ("utf-8", "utf8") for charset in charsets)


def add_other_routes(app: FastAPI, settings: ServeSettings, batcher: MicroBatcher, telemetry: Telemetry,
                     info: dict) -> None:
    page = resources.files("fineclass.serving").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.get("/health")
    async def health():
        """Liveness and readiness: 200 while the model worker runs and keeps up, 503 otherwise."""
        if not batcher.alive:
            return JSONResponse({"status": "unavailable", "ready": False}, status_code=503)
        if batcher.stalled(settings.timeout_s):
            return JSONResponse({"status": "stalled", "ready": False, "reason": "requests are waiting and the model has "
                                 f"finished nothing for over {settings.timeout_s:g} s"}, status_code=503)
        return {"status": "ok", "ready": True}

    @app.get("/info")
    async def model_information():
        """The model's name, task, labels, thresholds, training metrics, and the server's limits."""
        return info

    @app.get("/metrics", response_class=Response)
    async def metrics():
        """Prometheus text format: requests, latency histogram, texts, batch sizes and requests waiting."""
        return Response(telemetry.render(), media_type=telemetry.content_type)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return page


def install_middleware(app: FastAPI, settings: ServeSettings, telemetry: Telemetry) -> None:
    """From the outside in: tracing, the Host check, CORS, API keys, the body cap. Each added one wraps
    those added before it, so they are added inside out."""
    access = settings.access
    app.add_middleware(BodyCap, cap=settings.max_body_bytes)
    if access.api_keys:
        app.add_middleware(ApiKeyGuard, api_keys=access.api_keys)
    if access.cors_origins:  # outside the key check: a browser's preflight carries no key
        app.add_middleware(CORSMiddleware, allow_origins=list(access.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    if access.allowed_hosts is not None and "*" not in access.allowed_hosts:
        app.add_middleware(HostGuard, allowed_hosts=access.allowed_hosts)
    app.add_middleware(RequestTracing, telemetry=telemetry, routes=ROUTES)


def model_info(predictor: Predictor, model_dir: str | Path | None, settings: ServeSettings) -> dict:
    """What /info returns: read once at start-up."""
    space = predictor.label_space
    metrics, name = {}, "model"
    reading = run_reading(model_dir) if model_dir is not None else {}
    if model_dir is not None:
        resolved = resolve_model_dir(model_dir)
        run_dir = run_dir_of(resolved)
        name = (run_dir or resolved).name
        if run_dir is not None and (run_dir / METRICS).is_file():
            metrics = RunMetrics.read(run_dir).to_dict()
    return {
        "name": name,
        "base_model": metrics.get("model", {}).get("base"),
        "task": "multi-label" if space.multi_label else "multi-class",
        "labels": list(space.names),
        "thresholds": dict(zip(space.names, map(float, predictor.thresholds))) if space.multi_label else None,
        "backend": getattr(predictor.backend, "precision", type(predictor.backend).__name__),
        "max_length": predictor.max_length,
        "long_texts": asdict(predictor.long_texts),
        "metrics": {key: metrics[key] for key in ("test", "baseline", "selection_metric") if key in metrics},
        "limits": {"max_texts": settings.max_texts, "max_chars": settings.max_chars, "timeout_s": settings.timeout_s},
        # How the run built each text: a client of a model trained on several columns joins them with text_join.
        "input": {key: reading[key] for key in ("text_columns", "text_join", "text_pair_column") if key in reading},
        "batching": asdict(settings.batching),
    }
