"""Stream prediction over a file in chunks, so memory stays bounded on large inputs."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fineclass.data.columns import (
    TEXT_COLUMNS,
    first_present,
    join_text_columns,
    known_pair,
    match_columns,
    resolve_names,
    string_columns_by_length,
)
from fineclass.data.read import (
    FORMATS,
    FileLayout,
    ReadOptions,
    detect_layout,
    format_of,
    iter_chunks,
)
from fineclass.errors import DataError
from fineclass.inference.predictor import Prediction, Predictor
from fineclass.inference.rows import (
    check_kept_names,
    jsonl_lines,
    output_columns,
    prediction_frame,
    prediction_records,
    resolve_kept_columns,
)
from fineclass.outputs import sync_directory

OUTPUT_FORMATS = ("csv", "tsv", "jsonl")
DELIMITERS = {"csv": ",", "tsv": "\t"}


@dataclass
class InputPlan:
    """How `predict --input` reads a file: its layout, the column(s) the texts (and pairs) come from, and the
    columns every output row carries."""

    layout: FileLayout
    text_columns: list[str]
    text_pair_column: str | None = None
    kept: list[str] = field(default_factory=list)
    """The id column, then --keep-columns: copied into every output row, in this order."""

    def describe(self, source: Path) -> str:
        pair = f" paired with {self.text_pair_column!r}" if self.text_pair_column else ""
        kept = f"; keeps {', '.join(map(repr, self.kept))}" if self.kept else ""
        return f"read {source.name}: {self.layout.describe()}; text {' + '.join(map(repr, self.text_columns))}{pair}{kept}"

    def texts(self, chunk: pd.DataFrame) -> pd.Series:
        return join_text_columns(chunk, self.text_columns)

    def chunk_texts(self, chunk: pd.DataFrame, source: Path) -> tuple[pd.Series, pd.Series | None, int | None]:
        """A chunk's texts, its pairs (or None), and the position of its first empty text (None when every row has one)."""
        missing = [c for c in [*self.text_columns, self.text_pair_column] if c and c not in chunk.columns]
        if missing:
            raise DataError(f"{source} has no column {missing[0]!r}; pass --text-column NAME")
        if gone := [c for c in self.kept if c not in chunk.columns]:
            raise DataError(f"{source} has rows without {gone[0]!r}, a column copied into every output row; fill it "
                            "in there, or name another with --id-column / --keep-columns")
        texts = self.texts(chunk)
        pairs = chunk[self.text_pair_column] if self.text_pair_column else None
        bad = texts.isna() if pairs is None else texts.isna() | pairs.isna()
        return texts, pairs, int(bad.to_numpy().argmax()) if bad.any() else None


def iter_input_chunks(path: Path, chunk_rows: int, options: ReadOptions | None = None,
                      layout: FileLayout | None = None) -> Iterator[pd.DataFrame]:
    """The rows of a file, `chunk_rows` at a time, read as `train` reads it (same detection, same errors); a CSV's
    cells stay the text they are, so the texts and the columns copied into the output are as the file has them."""
    if not path.is_file():
        raise DataError(f"input file not found: {path}")
    yield from iter_chunks(path, layout or detect_layout(path, options), chunk_rows, as_text=True)


def plan_input(source: Path, text_column: str | None, options: ReadOptions | None = None,
               text_pair_column: str | None = None, reading: dict | None = None, id_column: str | None = None,
               keep_columns=None) -> InputPlan:
    """Detect the file's layout and its text column(s): the flag, then the run's own columns (`reading`, from
    its splits.json), then a well-known name, then the string column with the longest cells. The kept columns are
    `id_column` (else a column named id in any case) and `keep_columns` ('a,b' or a list)."""
    layout = detect_layout(source, options)
    chunks = iter_chunks(source, layout, 100)
    first = next(chunks, None)
    chunks.close()  # only the first rows are needed here: let go of the file
    if first is None or len(first) == 0:
        raise DataError(f"{source} has a header but no rows; add the texts to classify")
    columns = [str(c) for c in first.columns]
    reading = reading or {}
    texts = resolve_names(columns, text_column, "--text-column") if text_column else match_columns(columns, reading.get("text_columns"))
    pair = resolve_names(columns, text_pair_column, "--text-pair-column")[0] if text_pair_column else None
    trained_on_pairs = bool(reading.get("text_pair_column"))
    if pair is None and trained_on_pairs:
        recorded_pair = match_columns(columns, [reading["text_pair_column"]])
        pair = recorded_pair[0] if recorded_pair else None
        if pair is None and texts is None and (found := known_pair(columns, exclude=set())):
            texts, pair = [found[0]], found[1]
        if pair is None:
            raise DataError(f"the model was trained on text pairs ({reading.get('text_columns', ['text'])[0]!r} with "
                            f"{reading['text_pair_column']!r}); pass --text-pair-column NAME (the columns of {source} "
                            f"are {columns})")
    if texts is None:
        named = first_present(columns, TEXT_COLUMNS, exclude={pair})
        texts = [named] if named else string_columns_by_length(first, exclude={pair})[:1] or None
    if texts is None:
        wanted = "text column (text, sentence, content, ...)"
        raise DataError(f"{source} has no {wanted}; pass --text-column NAME (its columns are {columns})")
    kept = resolve_kept_columns(columns, id_column, keep_columns, source)
    return InputPlan(layout=layout, text_columns=texts, text_pair_column=pair, kept=kept)


def check_prediction_files(source: Path, target: Path, text_column: str | None, options: ReadOptions | None = None,
                           text_pair_column: str | None = None, reading: dict | None = None,
                           id_column: str | None = None, keep_columns=None, wide: bool = False) -> InputPlan:
    """What can be checked about --input and --output before a model loads: the output format, and the
    input's layout, text column and kept columns. Returns how the input will be read."""
    out_fmt = format_of(target) if target.suffix.lower() in FORMATS else None
    if out_fmt not in OUTPUT_FORMATS:
        raise DataError(f"--output {target} must end in .csv, .tsv or .jsonl (got {target.suffix or 'no extension'!r})")
    if target.exists() and source.exists() and os.path.samefile(source, target):
        raise DataError(f"--output {target} is the --input file; choose another --output so the input is kept")
    partial = partial_path(target)
    if partial.exists() and source.exists() and os.path.samefile(source, partial):
        raise DataError(f"--output {target} is written as {partial} until it is complete, and that is the --input file; "
                        "choose another --output so the input is kept")
    if not source.is_file():
        raise DataError(f"input file not found: {source}")
    plan = plan_input(source, text_column, options, text_pair_column, reading, id_column, keep_columns)
    if not wide:  # the label names, which a wide file's columns are, are checked once the model is loaded
        check_kept_names(plan.kept, output_columns(out_fmt))
    return plan


def check_wide_columns(plan: InputPlan, target: Path, label_names: list[str]) -> None:
    """A --wide file's columns are the label names: no kept column may have one (known once the model is loaded)."""
    check_kept_names(plan.kept, output_columns(format_of(target), label_names))


def predict_file(predictor: Predictor, source: Path, target: Path, text_column: str | None, top_k: int,
                 threshold: float | None, chunk_rows: int = 10_000, on_rows=None, options: ReadOptions | None = None,
                 text_pair_column: str | None = None, reading: dict | None = None, wide: bool = False,
                 plan: InputPlan | None = None, id_column: str | None = None, keep_columns=None) -> int:
    """Predict every row of `source` into `target` (CSV, TSV or JSONL); returns the row count. Each output row
    starts with the plan's kept columns (the id, --keep-columns) as they were read.

    Rows are written chunk by chunk into TARGET.partial, renamed to `target` once every row is in: if row k is bad,
    the rows before its chunk are valid output in TARGET.partial, and an earlier `target` is as it was.
    `wide` writes one 0/1 column per label, the layout of many multi-label datasets.
    """
    plan = plan or check_prediction_files(source, target, text_column, options, text_pair_column, reading, id_column,
                                          keep_columns, wide)
    out_fmt = format_of(target)
    names = predictor.label_space.names if wide else None
    if wide:
        check_wide_columns(plan, target, names)
    written, chunks = 0, iter_input_chunks(source, chunk_rows, layout=plan.layout)
    with contextlib.ExitStack() as stack:
        handle = None  # opened with the first predictions, so a bad first chunk writes nothing
        while (chunk := _next_chunk(chunks, written, target)) is not None:
            texts, pairs, empty = plan.chunk_texts(chunk, source)
            if empty is not None:
                raise DataError(f"{source} row {written + empty}: the text is empty; {_kept(written, target)}; "
                                f"fill in or drop that row and {_rerun(target)}")
            predictions = predictor.predict(texts.astype(str).tolist(), top_k=top_k, threshold=threshold,
                                            text_pairs=None if pairs is None else pairs.astype(str).tolist())
            handle = handle or stack.enter_context(open_output(partial_path(target)))
            _write_chunk(handle, predictions, out_fmt, written, target, names, chunk[plan.kept])
            written += len(predictions)
            if on_rows:
                on_rows(len(predictions))
        if handle is not None:
            os.fsync(handle.fileno())
    if handle is not None:
        os.replace(partial_path(target), target)
        sync_directory(target.absolute().parent)
    return written


def _write_chunk(handle, predictions: list[Prediction], fmt: str, written: int, target: Path, wide_names=None,
                 kept: pd.DataFrame | None = None) -> None:
    """Append one chunk to an unbuffered binary file; if the disk is full, cut the file back to its last
    whole chunk (a half-written line would read as a prediction) and say so."""
    text = io.StringIO()
    write_predictions(text, predictions, fmt, header=written == 0, wide_names=wide_names, kept=kept)
    data, good = memoryview(text.getvalue().encode("utf-8")), handle.tell()
    try:
        while data:
            data = data[handle.write(data):]
    except OSError as err:
        os.ftruncate(handle.fileno(), good)
        if not written:
            os.unlink(partial_path(target))  # an empty file would look like a run that found nothing to predict
        raise DataError(
            f"could not write {target}: {err.strerror}; {_kept(written, target)}; "
            f"free some disk space (or write elsewhere) and {_rerun(target)}"
        ) from None


def partial_path(target: Path) -> Path:
    """Where predictions go until every row is in: NAME.partial beside NAME."""
    return target.with_name(target.name + ".partial")


def open_output(path: Path):
    """Unbuffered, so a failed write leaves nothing behind to be flushed at close."""
    return open(path, "wb", buffering=0)


def _next_chunk(chunks: Iterator[pd.DataFrame], written: int, target: Path) -> pd.DataFrame | None:
    """The next chunk; a read error part-way says what was already written."""
    try:
        return next(chunks, None)
    except DataError as err:
        if not written:
            raise
        raise DataError(f"{err}; {_kept(written, target)} ({_rerun(target)} once it is fixed)") from None


def _kept(written: int, target: Path) -> str:
    if not written:
        return f"nothing was written to {target}"
    return f"the predictions for rows 0 to {written - 1} are in {partial_path(target)}"


def write_predictions(handle, predictions: list[Prediction], fmt: str, header: bool, wide_names=None,
                      kept: pd.DataFrame | None = None) -> None:
    """One row per prediction: the kept columns, then text, label(s), scores and top-k; or, with `wide_names`, text
    and one 0/1 column per label (the layout `train` reads back as wide labels)."""
    if fmt == "jsonl":
        handle.write(jsonl_lines(prediction_records(predictions, kept, wide_names)))
    else:
        prediction_frame(predictions, kept, wide_names).to_csv(handle, sep=DELIMITERS[fmt], header=header, index=False)


def _rerun(target: Path) -> str:
    return "run again with --overwrite" if target.exists() else "run again"
