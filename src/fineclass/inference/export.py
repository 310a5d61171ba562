"""ONNX export with onnxruntime graph optimisation and optional dynamic int8 quantisation."""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import torch

from fineclass.errors import ConfigError
from fineclass.modeling import compute_last_layer_for_cls_only, load_classifier
from fineclass.outputs import OURS, Manifest, OutputKind, check_output_dir, record_entries, replace_dir_atomic
from fineclass.rundir import (
    LONG_TEXTS,
    THRESHOLDS,
    LongTexts,
    Thresholds,
    resolve_model_dir,
    run_dir_of,
)

logger = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
OPSET = 17
EXPORT_OUTPUT = OutputKind("export", legacy_markers=(ONNX_FILE, "config.json"), legacy_entries=(
    ONNX_FILE, f"{ONNX_FILE}.data", "config.json", THRESHOLDS, LONG_TEXTS, "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json", "spiece.model",
    "sentencepiece.bpe.model", "chat_template.jinja"))
"""An export directory; one made before manifests is recognised by model.onnx and config.json, and holds only the
files an export writes."""


def default_export_dir(model_dir: Path, quantize: str | None) -> Path:
    base = run_dir_of(model_dir) or model_dir.parent
    return base / ("onnx-int8" if quantize == "int8" else "onnx")


def export_onnx(path: str | Path, output_dir: Path | None = None, quantize: str | None = None, overwrite: bool = False,
                long_texts=None) -> Path:
    """Write an ONNX model directory that `Predictor` and `fineclass predict` load like a torch one.

    The graph takes any sequence length; how long texts become windows is the Predictor's, saved beside the graph in
    long_texts.json (the run's, changed by `long_texts`: a mode or a dict as `Predictor.from_dir` takes it).
    """
    if quantize not in (None, "int8"):
        raise ConfigError(f"--quantize {quantize!r} is not supported; use --quantize int8 or leave it out")
    require_onnx()
    model_dir = resolve_model_dir(path)
    target = Path(output_dir) if output_dir else default_export_dir(model_dir, quantize)
    check_output_dir(target, EXPORT_OUTPUT, overwrite, [("MODEL", model_dir)])
    policy = LongTexts.read(model_dir, override=long_texts)  # checked before the slow export
    Thresholds.read(model_dir)  # a damaged thresholds.json is refused here, not copied into the export
    model, tokenizer = load_classifier(model_dir)
    compute_last_layer_for_cls_only(model)  # the graph's last layer then computes the [CLS] row only
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{OURS}-staging.{target.name}."))
    try:
        write_graph(model, tokenizer, staging, quantize)
        model.config.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if (model_dir / THRESHOLDS).is_file():
            shutil.copy(model_dir / THRESHOLDS, staging / THRESHOLDS)
        if policy is not None:
            policy.write(staging)
        staging.chmod(0o755)
        Manifest(EXPORT_OUTPUT.command, [p.name for p in staging.iterdir()]).write(staging)
        check_output_dir(target, EXPORT_OUTPUT, overwrite, [("MODEL", model_dir)])  # nothing of the user's arrived since
        replace_dir_atomic(staging, target)
        record_entries(target.absolute().parent, target.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def write_graph(model, tokenizer, directory: Path, quantize: str | None) -> None:
    """model.onnx in `directory`: traced, quantised when asked, then optimised."""
    raw = directory / "raw.onnx"
    export_graph(model, tokenizer, raw)
    if quantize == "int8":
        # Quantise the plain graph: the fused operators of an optimised one have no int8 kernels here.
        quantize_int8(raw, directory / "quantized.onnx")
        optimize_graph(directory / "quantized.onnx", directory / ONNX_FILE)
    else:
        optimize_graph(raw, directory / ONNX_FILE)
    for leftover in ("raw.onnx", "raw.onnx.data", "quantized.onnx"):
        (directory / leftover).unlink(missing_ok=True)


def require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ConfigError("ONNX export needs the onnx extra: pip install 'fineclass[onnx]'") from None


def export_graph(model, tokenizer, path: Path) -> None:
    """Trace the model with dynamic batch and sequence axes."""
    names = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    sample = tokenizer(["a short example", "a slightly longer example text"], padding=True, return_tensors="pt")
    inputs = tuple(sample[n] for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(**dict(zip(names, args))).logits

    # The tracer warns about Python-side branches on shapes (masking, SDPA); the parity check after export
    # is what tells whether the graph is right, so these warnings only alarm users.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LogitsOnly(model.eval()), inputs, str(path), input_names=names, output_names=["logits"],
            dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )


def optimize_graph(source: Path, target: Path) -> None:
    """onnxruntime's extended graph optimisations (fused attention, GELU and layer norm), saved offline."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights (activations are quantised at run time; VNNI speeds it up)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
