"""What each candidate costs: inference speed, parameters and bytes on disk, measured the same way for all."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx", ".onnx.data", ".joblib", ".pt")


def remove_weights(directory: Path) -> None:
    """The weight files under a directory (GBs over a sweep); each run's metrics.json, config and split stay."""
    for path in Path(directory).rglob("*"):
        if path.is_file() and path.name.endswith(WEIGHT_SUFFIXES):
            path.unlink()


WARMUP_TEXTS = 8
"""Texts in the untimed warm-up call (first calls allocate buffers and pick kernels)."""
LATENCY_TEXTS = 100
"""Texts predicted one at a time for the single-text latency."""


@dataclass
class Speed:
    """Inference speed on the compare's test texts."""

    texts_per_second: float
    """Batch prediction of every test text in one call, warm-up excluded."""
    latency_ms_p50: float
    """Median milliseconds to predict one text alone, over up to LATENCY_TEXTS texts."""
    batch_texts: int
    latency_texts: int


def measure_speed(predict: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[np.ndarray, Speed]:
    """Predict every text in one timed call (its decisions are also what the metrics score), then one text at a time."""
    predict(texts[:WARMUP_TEXTS])
    start = time.perf_counter()
    decisions = predict(texts)
    batch_seconds = time.perf_counter() - start
    singles = texts[:LATENCY_TEXTS]
    predict(singles[:1])
    times = []
    for text in singles:
        start = time.perf_counter()
        predict([text])
        times.append(time.perf_counter() - start)
    speed = Speed(
        texts_per_second=round(len(texts) / max(batch_seconds, 1e-9), 1),
        latency_ms_p50=round(float(np.median(times)) * 1000, 3),
        batch_texts=len(texts),
        latency_texts=len(singles),
    )
    return decisions, speed


def weight_bytes(directory: Path) -> int:
    """Bytes of the weight files directly in a directory (safetensors, bin, onnx, joblib)."""
    return sum(p.stat().st_size for p in Path(directory).iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def torch_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def onnx_parameters(onnx_file: Path) -> int:
    """Elements of the graph's stored weights (int8 weights count one each, like the float ones they replace)."""
    import onnx

    graph = onnx.load(str(onnx_file), load_external_data=False).graph
    return int(sum(np.prod(t.dims, dtype=np.int64) for t in graph.initializer))


def sklearn_parameters(classifier) -> int:
    """Coefficients and intercepts of a logistic regression, or of each one-vs-rest estimator."""
    estimators = getattr(classifier, "estimators_", [classifier])
    return int(sum(e.coef_.size + e.intercept_.size for e in estimators if hasattr(e, "coef_")))
