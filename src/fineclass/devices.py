"""Where a model runs and in what arithmetic: the one place `train`, `predict`, `serve` and `Predictor` resolve
--device and --precision."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fineclass.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 make bf16 autocast faster than fp32; without them it is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(requested: str, device: str | None = None) -> str:
    """fp32 or bf16; 'auto' and 'bf16' fall back to fp32 where the CPU lacks native bf16 (a GPU decides for itself).

    `device`: where the model will run ("cpu", "cuda", "cuda:1"); None means the GPU when there is one.
    """
    if requested == "fp32":
        return "fp32"
    import torch  # here, not at the top: config imports PRECISIONS, and torch takes seconds to import

    on_gpu = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if on_gpu:
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def resolve_device(requested: str) -> str:
    """'auto' is the GPU when torch sees one, else the CPU; 'cpu', 'cuda' and 'cuda:N' are checked here."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return "cpu"
    match = re.fullmatch(r"cuda(?::(0|[1-9][0-9]*))?", requested)
    if match is None:
        raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {requested!r}")
    if not torch.cuda.is_available():
        raise ConfigError(f"--device {requested}: torch sees no CUDA GPU here; use --device cpu (or auto)")
    index = match.group(1)
    if index and int(index) >= torch.cuda.device_count():
        raise ConfigError(f"--device {requested}: torch sees {torch.cuda.device_count()} GPU(s), numbered from 0")
    return requested
