"""The export recipe: an ONNX (optionally int8) directory, checked against the torch model on the run's test split."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
from fineclass.inference.export import export_onnx
from fineclass.inference.predictor import Predictor
from fineclass.rundir import DATA, resolve_model_dir, run_dir_of


@dataclass
class ExportResult:
    path: Path
    """The export directory; `Predictor.from_dir` and `fineclass predict` load it like a torch model."""
    size_mb: float
    check: dict[str, dict] = field(default_factory=dict)
    """{"torch": metrics, "onnx": metrics} on the run's test split, when it was checked."""
    rows: int = 0


def export_model(model: str | Path, quantize: str | None = None, output_dir: Path | None = None,
                 overwrite: bool = False, check: bool = True, long_texts=None) -> ExportResult:
    """Export to ONNX; with `check`, score the export and the torch model on the run's saved test split.

    `long_texts` changes how the export reads texts over the window (saved in its long_texts.json); the run's by default.
    """
    target = export_onnx(model, output_dir, quantize, overwrite, long_texts)
    result = ExportResult(path=target, size_mb=(target / "model.onnx").stat().st_size / 1e6)
    model_dir = resolve_model_dir(model)
    run_dir = run_dir_of(model_dir)
    if check and run_dir is not None and (run_dir / DATA / "test.jsonl").is_file():
        frame = load_eval_frame(model_dir, None, "test")
        result.rows = len(frame)
        for name, path in (("torch", model_dir), ("onnx", target)):
            result.check[name] = evaluate_frame(Predictor.from_dir(path, batch_size=128, long_texts=long_texts), frame).metrics
    return result
