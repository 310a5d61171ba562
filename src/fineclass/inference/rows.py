"""Prediction rows for output files: the input's id and kept columns, then the text and its predictions.

One shape per format: CSV and TSV hold flat strings (label, score, top_k as JSON); JSONL and Parquet hold the same
records (`labels`, `scores`, `top_k` as lists, `windows`); `wide` rows hold one 0/1 column per label instead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pandas as pd

from fineclass.data.columns import resolve_one
from fineclass.errors import DataError
from fineclass.inference.predictor import Prediction

FLAT_COLUMNS = ("text", "label", "score", "top_k")
"""CSV and TSV prediction columns."""
RECORD_COLUMNS = ("text", "labels", "scores", "top_k", "windows")
"""JSONL and Parquet prediction fields (`Prediction.to_dict`)."""
ID_COLUMN = "id"
"""Carried into every output row when the input has it (in any case), without --id-column."""


def resolve_kept_columns(columns: list[str], id_column: str | None, keep_columns: str | Sequence[str] | None,
                         source) -> list[str]:
    """The input columns every output row carries, in order: the id (--id-column, else a column named id in any
    case), then --keep-columns. An unknown name is an error that lists the file's columns."""
    kept = []
    if id_column:
        kept.append(_find(columns, id_column, "--id-column", source))
    elif found := [c for c in columns if c.lower() == ID_COLUMN]:
        kept.append(ID_COLUMN if ID_COLUMN in found else found[0])
    wanted = [n.strip() for n in keep_columns.split(",")] if isinstance(keep_columns, str) else list(keep_columns or [])
    kept += [_find(columns, name, "--keep-columns", source) for name in wanted if name]
    return list(dict.fromkeys(kept))


def _find(columns: list[str], name: str, flag: str, source) -> str:
    try:
        return resolve_one(columns, name, flag)
    except DataError:
        raise DataError(f"{flag} {name!r} is not a column of {source}; its columns are {columns}") from None


def check_kept_names(kept: list[str], output_columns: Sequence[str], flag: str = "--keep-columns") -> None:
    """A kept column may not share a name with a column the predictions fill: one would hide the other."""
    clash = [name for name in kept if name in output_columns]
    if clash:
        raise DataError(f"{flag} {clash[0]!r} has the name of a column the predictions fill ({', '.join(output_columns)}); "
                        "rename it in the input, or leave it out")


def output_columns(fmt: str, wide_names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The columns the predictions fill in a file of format `fmt` (csv, tsv, jsonl, parquet)."""
    if wide_names is not None:
        return ("text", *wide_names)
    return FLAT_COLUMNS if fmt in ("csv", "tsv") else RECORD_COLUMNS


def kept_records(kept: pd.DataFrame | None, count: int) -> list[dict]:
    """The kept cells as JSON-ready dicts: a missing cell (NaN, NaT, None) is null, numpy scalars are Python's."""
    if kept is None or kept.shape[1] == 0:
        return [{} for _ in range(count)]
    rows = kept.astype(object).where(kept.notna(), None).to_dict("records")
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows]


def prediction_records(predictions: list[Prediction], kept: pd.DataFrame | None = None, wide_names=None) -> list[dict]:
    """One dict per prediction: the kept cells, then the prediction (or text and one 0/1 per label)."""
    front = kept_records(kept, len(predictions))
    if wide_names is not None:
        return [{**row, "text": p.text, **{n: int(n in p.labels) for n in wide_names}} for row, p in zip(front, predictions)]
    return [{**row, **p.to_dict()} for row, p in zip(front, predictions)]


def prediction_frame(predictions: list[Prediction], kept: pd.DataFrame | None = None, wide_names=None) -> pd.DataFrame:
    """CSV and TSV rows: the kept columns as they were read, then text, label(s), score(s) and top-k as strings."""
    if wide_names is not None:
        flat = pd.DataFrame([{"text": p.text, **{n: int(n in p.labels) for n in wide_names}} for p in predictions],
                            columns=["text", *wide_names])
    else:
        flat = pd.DataFrame({
            "text": [p.text for p in predictions],
            "label": [",".join(p.labels) for p in predictions],
            "score": [",".join(f"{s:.6f}" for s in p.scores) for p in predictions],
            "top_k": [json.dumps([[n, round(s, 6)] for n, s in p.top_k]) for p in predictions],
        })
    if kept is None or kept.shape[1] == 0:
        return flat
    return pd.concat([kept.reset_index(drop=True), flat], axis=1)


def jsonl_lines(records: list[dict]) -> str:
    """JSON Lines; a value JSON has no type for (a date, a decimal) is written as its text."""
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
