"""Evaluate a model directory on its run's test split, or on any labeled data."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass.data.columns import match_columns
from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.data.read import ReadOptions
from fineclass.errors import DataError, first_line
from fineclass.evaluation.metrics import multiclass_metrics, multilabel_metrics
from fineclass.inference.predictor import Predictor
from fineclass.labels import LabelSpace
from fineclass.rundir import DATA, run_dir_of, run_reading

logger = logging.getLogger(__name__)


@dataclass
class EvalResult:
    """Metrics of one model on one labeled split, with the probabilities behind them."""

    split: str
    rows: int
    metrics: dict
    probs: np.ndarray
    y_true: np.ndarray

    def at_half(self, names: list[str]) -> dict:
        """Multi-label: the scores with every threshold at 0.5, shown beside the tuned thresholds."""
        return multilabel_metrics(self.y_true, self.probs, 0.5, names, per_class=False)


def evaluate_frame(predictor: Predictor, frame: pd.DataFrame, split: str = "test", threshold: float | None = None) -> EvalResult:
    """Predict every text of `frame` and score it against its labels."""
    label_space = predictor.label_space
    y_true = encode_for_model(frame, label_space, split)
    pairs = list(frame["text_pair"]) if "text_pair" in frame.columns else None
    probs = predictor.predict_proba(list(frame["text"]), pairs)
    if label_space.multi_label:
        thresholds = predictor.thresholds if threshold is None else threshold
        metrics = multilabel_metrics(y_true, probs, thresholds, label_space.names)
    else:
        metrics = multiclass_metrics(y_true, probs.argmax(axis=1), label_space.names)
    return EvalResult(split=split, rows=len(frame), metrics=metrics, probs=probs, y_true=y_true)


def encode_for_model(frame: pd.DataFrame, label_space: LabelSpace, split: str) -> np.ndarray:
    """Labels to the model's ids; a label the model was never trained on is the user's error."""
    known = set(label_space.names)
    for row, labels in zip(frame.get("row", range(len(frame))), frame["labels"]):
        unknown = [name for name in labels if name not in known]
        if unknown:
            raise DataError(
                f"{split} row {row}: label {unknown[0]!r} was never seen in training; "
                f"the model knows {', '.join(label_space.names[:30])}"
            )
        if not label_space.multi_label and len(labels) != 1:
            raise DataError(f"{split} row {row}: has labels {labels}, but the model is single-label")
    if label_space.multi_label:
        return label_space.encode(list(frame["labels"]))
    return label_space.encode([labels[0] for labels in frame["labels"]])


def load_eval_frame(model_dir: Path, data: str | None, split: str, text_column=None, label_column=None, label_names=None,
                    options: ReadOptions | None = None, label_columns=None, text_pair_column=None, announce=None,
                    raw=None) -> pd.DataFrame:
    """The run's saved split when DATA is not given; otherwise DATA read exactly as `train` reads it, with the
    run's own text, pair and label columns when DATA has them."""
    if data is None and raw is None:
        run_dir = run_dir_of(model_dir)
        if run_dir is None:
            raise DataError(f"{model_dir} is not inside a fineclass run directory; give DATA to evaluate on")
        path = run_dir / DATA / f"{split}.jsonl"
        if not path.is_file():
            saved = sorted(p.stem for p in (run_dir / DATA).glob("*.jsonl"))
            raise DataError(f"the run in {run_dir} has no {split!r} split; it has {saved}")
        return read_saved_split(path)
    raw = raw or load_raw_data(data, options)
    columns = {"text_column": text_column, "label_column": label_column, "label_columns": label_columns,
               "text_pair_column": text_pair_column}
    reading = run_reading(model_dir)
    if not any(columns.values()):
        columns = recorded_columns(reading, raw) or columns
    task = prepare_task(raw, label_names_file=label_names, for_training=False,
                        one_based_ids=reading.get("one_based_ids"), **columns)
    (announce or logger.info)(task.describe(data or raw.source))
    if split in task.frames:
        return task.frames[split]
    if "all" in task.frames:
        logger.debug("%s is one file: evaluating all %d rows", data, len(task.frames["all"]))
        return task.frames["all"]
    raise DataError(f"{data} has no {split!r} split; it has {sorted(task.frames)}")


def read_saved_split(path: Path) -> pd.DataFrame:
    """A split that train saved (data/<split>.jsonl): one record of text and label names a line. A damaged or
    hand-edited file is one DataError, not pandas' ValueError or a TypeError deep in scoring."""
    fix = "train the run again, or give DATA to evaluate on"
    try:
        frame = pd.read_json(path, lines=True, dtype=False)
    except (ValueError, RecursionError) as err:  # pandas' parser: bad JSON, nesting past its limit
        raise DataError(f"{path} is not a split that train saved ({first_line(err)}); {fix}") from None
    texts = frame["text"] if "text" in frame.columns else [None] * len(frame)
    labels = frame["labels"] if "labels" in frame.columns else [None] * len(frame)
    pairs = frame["text_pair"] if "text_pair" in frame.columns else [""] * len(frame)
    for line, (text, names, pair) in enumerate(zip(texts, labels, pairs), start=1):
        if not (isinstance(text, str) and isinstance(pair, str) and isinstance(names, list)
                and all(isinstance(name, str) for name in names)):
            raise DataError(f"{path} is not a split that train saved (line {line} is not a record of a text and a "
                            f"list of label names); {fix}")
    if frame.empty:
        raise DataError(f"{path} is not a split that train saved (it holds no rows); {fix}")
    return frame


def recorded_columns(reading: dict, raw) -> dict | None:
    """The run's columns as prepare_task arguments, when the new data has every one of them (in any case)."""
    if not reading.get("text_columns"):
        return None
    first = raw.frames.get("train", raw.frames.get("all", next(iter(raw.frames.values()))))
    needed = reading["text_columns"] + reading.get("label_columns", []) + [reading.get("text_pair_column") or ""]
    if match_columns([str(c) for c in first.columns], [name for name in needed if name]) is None:
        return None
    labels = reading.get("label_columns") or []
    wide = reading.get("wide_labels")
    return {"text_column": ",".join(reading["text_columns"]), "text_pair_column": reading.get("text_pair_column"),
            "label_column": None if wide else (labels[0] if labels else None),
            "label_columns": ",".join(labels) if wide else None}
