"""Fit a calibration on the validation split and fold it into the classifier's last linear layer.

Temperature and Platt scaling are affine maps of the logits, `z' = a·z + c` per label, and the logits are
`W h + b`, so `z' = (a·W) h + (a·b + c)`: the saved model gives the calibrated scores itself, in `pipeline()`,
`predict`, `serve` and the ONNX export alike. `model/calibration.json` records what was fitted, for people and for
`calibrate` (which undoes the previous map before folding a new one); no score is read from it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

from fineclass.errors import ConfigError
from fineclass.evaluation.calibration import AffineMap, calibration_metrics, cross_fit_ece, fit_map
from fineclass.outputs import atomic_path, write_json_atomic

logger = logging.getLogger(__name__)

CALIBRATION = "calibration.json"
METHODS = ("none", "temperature", "platt", "auto")
WEIGHTS = "model.safetensors"


def classifier_layer(model, num_labels: int) -> tuple[str, torch.nn.Linear]:
    """The final classification layer: the last nn.Linear whose out_features is the number of labels
    (BERT's `classifier`, RoBERTa's and ELECTRA's `classifier.out_proj`, DistilBERT's `classifier`)."""
    found = [(name, m) for name, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and m.out_features == num_labels]
    if not found:
        raise ConfigError(f"{type(model).__name__} has no linear layer with {num_labels} outputs to calibrate; "
                          "use --calibration none")
    return found[-1]


def fold_into_layer(layer: torch.nn.Linear, mapping: AffineMap) -> None:
    """Make `layer` output `mapping.apply(its old output)`."""
    with torch.no_grad():
        scale = torch.as_tensor(mapping.scale, dtype=layer.weight.dtype)
        layer.weight.mul_(scale[:, None])
        if layer.bias is None:
            layer.bias = torch.nn.Parameter(torch.zeros(layer.out_features, dtype=layer.weight.dtype))
        layer.bias.mul_(scale).add_(torch.as_tensor(mapping.bias, dtype=layer.weight.dtype))


def compose(outer: AffineMap, inner: AffineMap) -> AffineMap:
    """The map `outer(inner(z))`."""
    return AffineMap(outer.scale * inner.scale, outer.scale * inner.bias + outer.bias)


def inverse(mapping: AffineMap) -> AffineMap:
    return AffineMap(1 / mapping.scale, -mapping.bias / mapping.scale)


def fold_into_model_dir(model_dir: Path, mapping: AffineMap) -> None:
    """Rewrite model.safetensors so its classification layer outputs `mapping` of what it output before."""
    # Loaded only to find the layer's name (a student being built has no tokenizer yet, so not load_classifier).
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True, trust_remote_code=False)
    name, _ = classifier_layer(model, model.config.num_labels)
    tensors = load_file(str(model_dir / WEIGHTS))
    weight, bias = tensors[f"{name}.weight"].double(), tensors.get(f"{name}.bias")
    bias = torch.zeros(weight.shape[0], dtype=torch.float64) if bias is None else bias.double()
    scale = torch.as_tensor(mapping.scale, dtype=torch.float64)
    dtype = tensors[f"{name}.weight"].dtype
    tensors[f"{name}.weight"] = (weight * scale[:, None]).to(dtype).contiguous()
    tensors[f"{name}.bias"] = (bias * scale + torch.as_tensor(mapping.bias, dtype=torch.float64)).to(dtype).contiguous()
    with atomic_path(model_dir / WEIGHTS) as tmp:  # a killed process leaves the old weights, never half of the new
        save_file(tensors, str(tmp), metadata={"format": "pt"})


def read_folded_map(model_dir: Path, num_labels: int) -> AffineMap:
    """The map folded into the saved model (identity when none was, or when calibration.json is absent)."""
    path = Path(model_dir) / CALIBRATION
    if not path.is_file():
        return AffineMap.identity(num_labels)
    record = json.loads(path.read_text(encoding="utf-8"))
    if not record.get("kept"):
        return AffineMap.identity(num_labels)
    return AffineMap(np.asarray(record["scale"], float), np.asarray(record["bias"], float))


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ConfigError(f"--calibration {method!r} is not a method; use one of {', '.join(METHODS)}")
    return method


def resolve_method(method: str, multi_label: bool) -> str:
    """`auto` is temperature scaling for multi-class and Platt scaling for multi-label."""
    check_method(method)
    if method == "platt" and not multi_label:
        raise ConfigError("--calibration platt is for multi-label models; use temperature (or auto) for multi-class")
    if method == "auto":
        return "platt" if multi_label else "temperature"
    return method


def choose_map(raw_logits: np.ndarray, y_true: np.ndarray, method: str, multi_label: bool, seed: int = 0) -> dict:
    """Fit the method on the uncalibrated validation logits; `auto` keeps it only when a 2-fold cross-fit lowers ECE."""
    resolved, num_labels = resolve_method(method, multi_label), raw_logits.shape[1]
    record: dict = {"method": method, "fitted": resolved}
    if resolved == "none":
        mapping, kept = AffineMap.identity(num_labels), False
    else:
        mapping, kept = fit_map(raw_logits, y_true, resolved), True
        if method == "auto":
            before, after = cross_fit_ece(raw_logits, y_true, resolved, seed)
            record["cross_fit_ece"] = {"before": round(before, 6), "after": round(after, 6)}
            kept = after < before
    if resolved == "temperature":
        record["temperature"] = round(float(1 / mapping.scale[0]), 6)
    chosen = mapping if kept else AffineMap.identity(num_labels)
    record.update(kept=kept, scale=chosen.scale.tolist(), bias=chosen.bias.tolist(), validation={
        "before": calibration_metrics(raw_logits, y_true, multi_label),
        "after": calibration_metrics(chosen.apply(raw_logits), y_true, multi_label)})
    return record


def calibrate_model_dir(model_dir: Path, logits: np.ndarray, y_true: np.ndarray, method: str, multi_label: bool,
                        seed: int = 0) -> dict:
    """Fit a calibration on validation `logits` of the saved model (as it is now, maybe calibrated already), fold it
    in place of any earlier one, and write calibration.json. Returns the record."""
    folded = read_folded_map(model_dir, logits.shape[1])
    raw = folded.invert(logits)
    record = choose_map(raw, y_true, method, multi_label, seed)
    new = AffineMap(np.asarray(record["scale"]), np.asarray(record["bias"]))
    change = compose(new, inverse(folded))
    if not (np.allclose(change.scale, 1) and np.allclose(change.bias, 0)):
        fold_into_model_dir(model_dir, change)
    write_json_atomic(Path(model_dir) / CALIBRATION, record)
    logger.info("calibration: %s (kept: %s), validation ECE %.4f -> %.4f", record["fitted"], record["kept"],
                record["validation"]["before"]["ece"], record["validation"]["after"]["ece"])
    return record
