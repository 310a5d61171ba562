"""Stream prediction over a file in chunks, so memory stays bounded on large inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from fineclass.data.columns import TEXT_COLUMNS
from fineclass.data.load import DELIMITERS, format_of, read_options, read_table
from fineclass.errors import DataError
from fineclass.inference.predictor import Prediction, Predictor

OUTPUT_FORMATS = ("csv", "tsv", "jsonl")


def iter_input_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    fmt = format_of(path)
    if not path.is_file():
        raise DataError(f"input file not found: {path}")
    try:
        if fmt in DELIMITERS:
            yield from pd.read_csv(path, **read_options(fmt), chunksize=chunk_rows)
        elif fmt == "jsonl":
            yield from pd.read_json(path, **read_options(fmt), chunksize=chunk_rows)
        else:
            frame = read_table(path)
            for start in range(0, len(frame), chunk_rows):
                yield frame.iloc[start:start + chunk_rows]
    except UnicodeDecodeError:
        raise DataError(f"{path} is not valid UTF-8; re-save it as UTF-8") from None
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(f"could not read {path}: {str(err).strip().splitlines()[0]}") from None


def predict_file(predictor: Predictor, source: Path, target: Path, text_column: str | None, top_k: int,
                 threshold: float | None, chunk_rows: int = 10_000, on_rows=None) -> int:
    """Predict every row of `source` into `target` (CSV, TSV or JSONL); returns the row count.

    Rows are written chunk by chunk: if row k is bad, rows before its chunk are already valid output.
    """
    out_fmt = format_of(target)
    if out_fmt not in OUTPUT_FORMATS:
        raise DataError(f"--output {target} must end in .csv, .tsv or .jsonl")
    written = 0
    with open(target, "w", encoding="utf-8", newline="") as handle:
        for chunk in iter_input_chunks(source, chunk_rows):
            column = text_column or next((c for c in TEXT_COLUMNS if c in chunk.columns), None)
            if column is None or column not in chunk.columns:
                raise DataError(f"{source} has no text column {text_column or ''!r}; pass --text-column (columns: {list(chunk.columns)})")
            texts = chunk[column]
            bad = texts.isna()
            if bad.any():
                row = written + int(bad.to_numpy().argmax())
                raise DataError(f"{source} row {row}: the text is empty; {written} rows before its chunk were written to {target}")
            predictions = predictor.predict(texts.astype(str).tolist(), top_k=top_k, threshold=threshold)
            write_predictions(handle, predictions, out_fmt, header=written == 0)
            handle.flush()
            written += len(predictions)
            if on_rows:
                on_rows(len(predictions))
    return written


def write_predictions(handle, predictions: list[Prediction], fmt: str, header: bool) -> None:
    if fmt == "jsonl":
        for p in predictions:
            handle.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
        return
    frame = pd.DataFrame(
        {
            "text": [p.text for p in predictions],
            "label": [",".join(p.labels) for p in predictions],
            "score": [",".join(f"{s:.6f}" for s in p.scores) for p in predictions],
            "top_k": [json.dumps([[n, round(s, 6)] for n, s in p.top_k]) for p in predictions],
        }
    )
    frame.to_csv(handle, sep=DELIMITERS[fmt], header=header, index=False)
