"""Stream prediction over a file in chunks, so memory stays bounded on large inputs."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from fineclass.data.columns import TEXT_COLUMNS
from fineclass.data.diagnose import check_delimiter, check_not_empty, describe_decode_error, describe_json_error
from fineclass.data.load import DELIMITERS, FORMATS, first_line, format_of, read_options, read_table
from fineclass.errors import DataError
from fineclass.inference.predictor import Prediction, Predictor

OUTPUT_FORMATS = ("csv", "tsv", "jsonl")


def iter_input_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of a CSV, TSV or JSONL file, `chunk_rows` at a time; other formats are read whole."""
    fmt = format_of(path)
    if not path.is_file():
        raise DataError(f"input file not found: {path}")
    check_not_empty(path, fmt)
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
        raise DataError(describe_decode_error(path)) from None
    except (pd.errors.ParserError, ValueError, TypeError) as err:  # TypeError: a JSON Lines line that is not an object
        detail = describe_json_error(path, fmt) if fmt == "jsonl" else None
        raise DataError(detail or f"could not read {path}: {first_line(err)}") from None


def check_prediction_files(source: Path, target: Path, text_column: str | None) -> str:
    """What can be checked about --input and --output before a model loads: the output format, and the
    input's first rows and text column. Returns the output format."""
    out_fmt = format_of(target) if target.suffix.lower() in FORMATS else None
    if out_fmt not in OUTPUT_FORMATS:
        raise DataError(f"--output {target} must end in .csv, .tsv or .jsonl (got {target.suffix or 'no extension'!r})")
    if target.exists() and source.exists() and os.path.samefile(source, target):
        raise DataError(f"--output {target} is the --input file; choose another --output so the input is kept")
    first = next((chunk for chunk in iter_input_chunks(source, 100)), None)
    if first is None or len(first) == 0:
        raise DataError(f"{source} has a header but no rows; add the texts to classify")
    if format_of(source) in DELIMITERS:
        check_delimiter(source, format_of(source), list(first.columns))
    find_text_column(first, source, text_column)
    return out_fmt


def find_text_column(chunk: pd.DataFrame, source: Path, text_column: str | None) -> str:
    column = text_column or next((c for c in TEXT_COLUMNS if c in chunk.columns), None)
    if column is None or column not in chunk.columns:
        wanted = f"column {text_column!r}" if text_column else "text column (text, sentence, content, ...)"
        raise DataError(f"{source} has no {wanted}; pass --text-column NAME (its columns are {list(chunk.columns)})")
    return column


def predict_file(predictor: Predictor, source: Path, target: Path, text_column: str | None, top_k: int,
                 threshold: float | None, chunk_rows: int = 10_000, on_rows=None) -> int:
    """Predict every row of `source` into `target` (CSV, TSV or JSONL); returns the row count.

    Rows are written chunk by chunk: if row k is bad, the rows before its chunk are already valid output.
    """
    out_fmt = check_prediction_files(source, target, text_column)
    written, chunks = 0, iter_input_chunks(source, chunk_rows)
    with contextlib.ExitStack() as stack:
        handle = None  # opened with the first predictions, so a bad first chunk leaves `target` as it was
        while (chunk := _next_chunk(chunks, written, target)) is not None:
            texts = chunk[find_text_column(chunk, source, text_column)]
            bad = texts.isna()
            if bad.any():
                row = written + int(bad.to_numpy().argmax())
                raise DataError(f"{source} row {row}: the text is empty; {_kept(written, target)}; "
                                f"fill in or drop that row and {_rerun(written)}")
            predictions = predictor.predict(texts.astype(str).tolist(), top_k=top_k, threshold=threshold)
            handle = handle or stack.enter_context(open_output(target))
            _write_chunk(handle, predictions, out_fmt, written, target)
            written += len(predictions)
            if on_rows:
                on_rows(len(predictions))
    return written


def _write_chunk(handle, predictions: list[Prediction], fmt: str, written: int, target: Path) -> None:
    """Append one chunk to an unbuffered binary file; if the disk is full, cut the file back to its last
    whole chunk (a half-written line would read as a prediction) and say so."""
    text = io.StringIO()
    write_predictions(text, predictions, fmt, header=written == 0)
    data, good = memoryview(text.getvalue().encode("utf-8")), handle.tell()
    try:
        while data:
            data = data[handle.write(data):]
    except OSError as err:
        os.ftruncate(handle.fileno(), good)
        if not written:
            os.unlink(target)  # an empty file would look like a run that found nothing to predict
        raise DataError(
            f"could not write {target}: {err.strerror}; {_kept(written, target)}; "
            f"free some disk space (or write elsewhere) and {_rerun(written)}"
        ) from None


def open_output(target: Path):
    """Unbuffered, so a failed write leaves nothing behind to be flushed at close."""
    return open(target, "wb", buffering=0)


def _next_chunk(chunks: Iterator[pd.DataFrame], written: int, target: Path) -> pd.DataFrame | None:
    """The next chunk; a read error part-way says what was already written."""
    try:
        return next(chunks, None)
    except DataError as err:
        if not written:
            raise
        raise DataError(f"{err}; {_kept(written, target)} ({_rerun(written)} once it is fixed)") from None


def _kept(written: int, target: Path) -> str:
    return f"the predictions for rows 0 to {written - 1} are in {target}" if written else f"nothing was written to {target}"


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


def _rerun(written: int) -> str:
    return "run again with --overwrite" if written else "run again"
