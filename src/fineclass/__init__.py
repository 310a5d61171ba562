"""fineclass: fine-tune BERT-family encoders into fast, dependable text classifiers.

    import fineclass
    run = fineclass.train(df, text_column="text", label_column="label", output_dir="runs/x", epochs=3)
    run.metrics.test["accuracy"]
    run.predictor().predict(["i feel great"])

See `fineclass.api` for every function, and docs/python-api.md.
"""

__version__ = "0.1.0"

from fineclass.errors import ConfigError, DataError, FineclassError, ModelError  # noqa: E402 (light: no torch)

_API = ("train", "distill", "evaluate", "tune_thresholds", "calibrate", "export", "compare", "learning_curve", "tune", "explore",
        "predict", "serve", "push", "audit")
_TYPES = {
    "Predictor": "fineclass.inference.predictor",
    "Prediction": "fineclass.inference.predictor",
    "TrainConfig": "fineclass.config",
    "ReadOptions": "fineclass.data.options",
    "RunResult": "fineclass.recipes.results",
    "EvaluationResult": "fineclass.recipes.results",
    "RunMetrics": "fineclass.rundir",
    "CompareResult": "fineclass.recipes.compare.run",
    "ExportResult": "fineclass.recipes.export",
    "Exploration": "fineclass.data.explore",
    "AuditResult": "fineclass.evaluation.audit_report",
    "CurveResult": "fineclass.recipes.learning_curve",
    "TuneResult": "fineclass.tuning.report",
    "PushResult": "fineclass.recipes.push",
}

__all__ = ["__version__", "FineclassError", "ConfigError", "DataError", "ModelError", *_API, *_TYPES]


def __getattr__(name):
    # Importing torch and transformers takes seconds: load them only when the API is used.
    import importlib

    if name in _API:
        return getattr(importlib.import_module("fineclass.api"), name)
    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    raise AttributeError(f"module 'fineclass' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
