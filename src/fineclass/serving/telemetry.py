"""Prometheus metrics of one server: requests, latency, texts and batch sizes."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Telemetry:
    """One registry per app, so several apps (tests) never share counters."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("fineclass_requests", "HTTP requests by path and status code.",
                                ["path", "status"], registry=self.registry)
        self.latency = Histogram("fineclass_request_seconds", "HTTP request latency in seconds.",
                                 ["path"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.texts = Counter("fineclass_texts", "Texts classified.", registry=self.registry)
        self.batch_texts = Histogram("fineclass_batch_texts", "Texts per forward pass.",
                                     buckets=BATCH_BUCKETS, registry=self.registry)
        self.batch_requests = Histogram("fineclass_batch_requests", "Requests merged into one forward pass.",
                                        buckets=BATCH_BUCKETS, registry=self.registry)
        self.in_progress = Gauge("fineclass_predict_in_progress", "/predict requests being answered (read, tokenized, "
                                 "queued or in a forward pass); --max-queue bounds them.", registry=self.registry)

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        self.requests.labels(path=path, status=str(status)).inc()
        self.latency.labels(path=path).observe(seconds)

    def observe_batch(self, texts: int, requests: int) -> None:
        self.texts.inc(texts)
        self.batch_texts.observe(texts)
        self.batch_requests.observe(requests)

    def render(self) -> bytes:
        return generate_latest(self.registry)
