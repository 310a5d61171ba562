"""Forward passes for the Predictor: a torch model (fp32 or bf16 autocast) or an ONNX Runtime session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from fineclass.devices import PRECISIONS, resolve_precision
from fineclass.errors import ConfigError, ModelError, first_line

ONNX_FILE = "model.onnx"

# The fixed cost of one forward pass, in padded tokens' worth of compute, for the Predictor to decide when a
# batch of mixed lengths runs faster as several passes of similar length (`predictor.split_by_length`).
# Measured for MiniLM on a 2-core Xeon: fp32 about 4 ms a pass against 88 us a token, ONNX int8 0.8 ms
# against 31 us. bf16 is about 3.5 ms against 26 us, but small bf16 batches run less efficiently, so it
# splits only where the padding is large.
BF16_CALL_COST_TOKENS = 256
FP32_CALL_COST_TOKENS = 48
ONNX_CALL_COST_TOKENS = 24


class TorchBackend:
    """Runs a transformers model under `torch.inference_mode`, in fp32 or in bf16.

    bf16 casts the model's weights to bf16 in place (inference only): on a CPU with native bf16 that beats
    autocast, which re-casts every weight on every call. Batches are then padded to a multiple of 8 tokens,
    so oneDNN reuses its compiled kernels across batches of nearly the same length.
    """

    def __init__(self, model, precision: str = "fp32", compile: bool = False, device: str | None = None):
        """`precision`: fp32, bf16, or auto (bf16 where the CPU or GPU has native bf16, as `resolve_precision` says).
        `compile`: torch.compile the model with dynamic shapes; the first calls take tens of seconds.
        `device`: move the model there ("cpu", "cuda", "cuda:1"); None leaves it where it is."""
        if precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.model = model.eval() if device is None else model.eval().to(device)
        self.config = model.config
        precision = resolve_precision(precision, str(self.model.device)) if precision == "auto" else precision
        self.precision = precision
        self.pad_multiple = None
        self.call_cost_tokens = FP32_CALL_COST_TOKENS
        if precision == "bf16":
            self.model.to(torch.bfloat16)
            self.pad_multiple = 8
            self.call_cost_tokens = BF16_CALL_COST_TOKENS
        if self.model.device.type != "cpu":
            self.call_cost_tokens = None  # a GPU pass costs about the same for 1 text as for 64: never split
        if compile:
            self.model = torch.compile(self.model, dynamic=True)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        tensors = {k: torch.from_numpy(v).to(self.model.device) for k, v in batch.items()}
        with torch.inference_mode():
            return self.model(**tensors).logits.float().cpu().numpy()


class OnnxBackend:
    """Runs an exported `model.onnx` with onnxruntime on the CPU, all graph optimisations on."""

    def __init__(self, model_dir: Path, threads: int | None = None):
        """`threads` caps the session's threads (default: all cores)."""
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError(f"{model_dir} is an ONNX export; running it needs: pip install 'fineclass[onnx]'") from None
        from transformers import AutoConfig

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(Path(model_dir) / ONNX_FILE), options, providers=["CPUExecutionProvider"])
            self.config = AutoConfig.from_pretrained(model_dir)
        except Exception as err:  # onnxruntime raises its own exception types for corrupt files
            raise ModelError(f"could not load the ONNX model in {model_dir}: {first_line(err)}") from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.precision = "onnx"
        self.call_cost_tokens = ONNX_CALL_COST_TOKENS

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feed = {name: batch[name].astype(np.int64) for name in self.input_names}
        return self.session.run(["logits"], feed)[0]


def is_onnx_dir(model_dir: Path) -> bool:
    return (Path(model_dir) / ONNX_FILE).is_file()
