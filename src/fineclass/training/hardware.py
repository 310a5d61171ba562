"""The measured matmul peak: the denominator of the MFU estimate."""

from __future__ import annotations

import time
from functools import lru_cache

import torch


@lru_cache(maxsize=None)
def measure_matmul_peak(dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 5) -> float:
    """Best-of-N GFLOP/s of a square matmul: the denominator of our MFU estimate. Measured once per process and
    dtype (about 1 s on 2 cores): a machine's peak does not change between two runs in one session."""
    a = torch.randn(size, size, dtype=dtype)
    b = torch.randn(size, size, dtype=dtype)
    torch.matmul(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
