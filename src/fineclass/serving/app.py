"""The HTTP API: /predict, /health, /info, /metrics and a small page at /, around one Predictor."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from fineclass.inference.predictor import Predictor
from fineclass.rundir import (
    METRICS,
    RunMetrics,
    resolve_model_dir,
    run_dir_of,
    run_reading,
)
from fineclass.serving.batcher import BatchingSettings, MicroBatcher
from fineclass.serving.telemetry import Telemetry

logger = logging.getLogger(__name__)
ROUTES = ("/", "/predict", "/health", "/info", "/metrics", "/openapi.json")


@dataclass
class ServeSettings:
    """Request limits and batching of one server."""

    max_texts: int = 64
    """Texts per request; more gets 413."""
    max_chars: int = 10_000
    """Characters per text; longer gets 413 (the model truncates to its token limit anyway)."""
    batching: BatchingSettings = field(default_factory=BatchingSettings)

    @property
    def max_body_bytes(self) -> int:
        # A JSON string may escape each character as \uXXXX (6 bytes), in texts and text_pairs; 64 KiB covers the rest.
        return 2 * self.max_texts * self.max_chars * 6 + 65_536


class PredictRequest(BaseModel):
    """Texts to classify."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["i feel wonderful today"], "top_k": 3, "threshold": None}]})

    texts: list[StrictStr] = Field(min_length=1, description="One or more texts.")
    text_pairs: list[StrictStr] | None = Field(None, description="For a model trained on text pairs: the second text "
                                               "of each pair, one per text.")
    top_k: int = Field(1, ge=1, le=1000, description="Also return the k most likely labels with their scores.")
    threshold: float | None = Field(None, gt=0, lt=1, description="Multi-label: one threshold for every label, "
                                    "instead of the model's tuned thresholds.")


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


class PredictResponse(BaseModel):
    model: str
    predictions: list[TextPrediction]


class ErrorResponse(BaseModel):
    error: str = Field(description="What is wrong and how to fix it, in one line.")


def create_app(predictor: Predictor, settings: ServeSettings | None = None, model_dir: str | Path | None = None,
               executor: ThreadPoolExecutor | None = None) -> FastAPI:
    """A FastAPI app serving `predictor`; `model_dir` supplies the name and training metrics for /info.

    `executor` is the one-thread pool that loaded the predictor (`batcher.model_thread()`); the model runs there.
    """
    settings = settings or ServeSettings()
    telemetry = Telemetry()
    batcher = MicroBatcher(predictor.logits_from_encoded, settings.batching, telemetry.observe_batch, executor)
    info = model_info(predictor, model_dir, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        await batcher.start()
        logger.info("serving %s (%s, %s)", info["name"], info["task"], info["backend"])
        yield
        await batcher.stop()
        logger.info("stopped: requests in flight were answered and the model worker released")

    app = FastAPI(title="fineclass", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description=f"Text classification with {info['name']} ({info['task']}, labels: {', '.join(info['labels'])}).")
    app.state.batcher, app.state.telemetry, app.state.info = batcher, telemetry, info
    install_middleware(app, settings, telemetry)
    page = resources.files("fineclass.serving").joinpath("static/index.html").read_text(encoding="utf-8")
    errors = {413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 500: {"model": ErrorResponse}}

    @app.post("/predict", response_model=PredictResponse, responses=errors)
    async def predict(request: PredictRequest):
        """Classify texts with the same Predictor as `fineclass predict`."""
        for i, text in enumerate(request.texts):
            if len(text) > settings.max_chars:
                return error(413, f"texts[{i}] has {len(text)} characters, over the limit of {settings.max_chars}; "
                                  "shorten it or start the server with a larger --max-chars")
        if len(request.texts) > settings.max_texts:
            return error(413, f"{len(request.texts)} texts in one request, over the limit of {settings.max_texts}; "
                              "split the request or start the server with a larger --max-texts")
        pairs = request.text_pairs
        if pairs is not None and len(pairs) != len(request.texts):
            return error(422, f"invalid request: {len(request.texts)} texts but {len(pairs)} text_pairs; give one pair per text")
        if pairs is not None and (long := next((i for i, t in enumerate(pairs) if len(t) > settings.max_chars), None)) is not None:
            return error(413, f"text_pairs[{long}] has {len(pairs[long])} characters, over the limit of {settings.max_chars}; "
                              "shorten it or start the server with a larger --max-chars")
        try:
            encoded, windows = predictor.encode_documents(request.texts, pairs)
            logits = predictor.pool(await batcher.submit(encoded), windows)
        except Exception as err:  # the failure is this request's; the server carries on
            logger.exception("prediction failed")
            return error(500, f"prediction failed: {type(err).__name__}: {err}")
        results = predictor.decide(request.texts, predictor.probabilities(logits), request.top_k, request.threshold, windows)
        # A Response skips FastAPI's re-validation of the payload against PredictResponse (it is built to match).
        return JSONResponse({"model": info["name"], "predictions": [r.to_dict() for r in results]})

    @app.get("/health")
    async def health():
        """Liveness and readiness: 200 while the model worker runs, 503 otherwise."""
        if batcher.alive:
            return {"status": "ok", "ready": True}
        return JSONResponse({"status": "unavailable", "ready": False}, status_code=503)

    @app.get("/info")
    async def model_information():
        """The model's name, task, labels, thresholds, training metrics, and the server's limits."""
        return info

    @app.get("/metrics", response_class=Response)
    async def metrics():
        """Prometheus text format: requests, latency histogram, texts and batch sizes."""
        return Response(telemetry.render(), media_type=telemetry.content_type)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return page

    return app


def install_middleware(app: FastAPI, settings: ServeSettings, telemetry: Telemetry) -> None:
    """Body-size cap, one-line JSON validation errors, and request metrics."""
    app.add_middleware(RequestGuard, settings=settings, telemetry=telemetry)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = f"invalid request: {where}: {first.get('msg', 'invalid value')}"
        if first.get("type") == "json_invalid":
            message = f"invalid request: the body is not valid JSON ({first.get('ctx', {}).get('error', 'decode error')})"
        elif where == "body" and first.get("type") == "model_attributes_type":
            message = 'invalid request: the body must be a JSON object such as {"texts": ["some text"]}, sent as application/json'

        if len(exc.errors()) > 1:
            message += f" (and {len(exc.errors()) - 1} more problem(s))"
        return JSONResponse({"error": message, "detail": json.loads(json.dumps(exc.errors(), default=str))}, status_code=422)


class RequestGuard:
    """ASGI middleware: refuse a body over the cap before it is parsed, and count every request.

    A declared content-length over the cap is refused before anything is read; a chunked body is counted as it
    arrives and answered 413 once past the cap. Plain ASGI rather than `@app.middleware("http")`, whose
    per-request task and streams cost the event loop more than the rest of a small request.
    """

    def __init__(self, app, settings: ServeSettings, telemetry: Telemetry):
        self.app, self.settings, self.telemetry = app, settings, telemetry

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped the app
        cap = self.settings.max_body_bytes
        received, refused = 0, False

        async def send_and_record(message) -> None:
            nonlocal status
            if refused:
                return  # the 413 went out already; what the app answers to the cut-off body is dropped
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def receive_under_cap():
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > cap and not refused and status == 500:
                await error(413, f"request body is over the limit of {cap} bytes")(scope, receive, send_and_record)
                refused = True
                return {"type": "http.disconnect"}  # the app stops reading
            return message

        try:
            declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
            if declared.isdigit() and int(declared) > cap:
                await error(413, f"request body of {declared} bytes is over the limit of {cap}")(scope, receive, send_and_record)
            else:
                await self.app(scope, receive_under_cap, send_and_record)
        finally:
            path = scope["path"] if scope["path"] in ROUTES else "other"
            self.telemetry.observe_request(path, status, time.perf_counter() - started)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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
        "limits": {"max_texts": settings.max_texts, "max_chars": settings.max_chars},
        # How the run built each text: a client of a model trained on several columns joins them with text_join.
        "input": {key: reading[key] for key in ("text_columns", "text_join", "text_pair_column") if key in reading},
        "batching": asdict(settings.batching),
    }
