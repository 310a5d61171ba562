"""Prediction over many files, one output file per input file, safe to kill and rerun.

Each input file is one unit of work. Its output, in the same format and under the same name in the output directory,
is written under a temporary name, fsynced and renamed into place; then a marker NAME.done records which input it
came from. A rerun skips every file whose marker matches its input and output, so a killed job loses nothing and
writes no row twice. The engines (Ray, in ray_batch.py) only decide where `FilePredictor.run` runs.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fineclass.data.read import FORMATS, ReadOptions, format_of
from fineclass.errors import ConfigError, DataError
from fineclass.inference.files import InputPlan, iter_input_chunks, plan_input
from fineclass.inference.predictor import Predictor
from fineclass.inference.rows import (
    check_kept_names,
    jsonl_lines,
    output_columns,
    prediction_frame,
    prediction_records,
)
from fineclass.outputs import OURS, Manifest, OutputKind, check_output_dir, remove_entries, sync_directory, write_json_atomic

BATCH_FORMATS = ("csv", "tsv", "jsonl", "parquet")
DONE = ".done"
TEMPORARY = f"{OURS}-tmp."
BATCH_KIND = OutputKind("predict", option="--output")
DELIMITERS = {"csv": ",", "tsv": "\t"}


@dataclass
class FileDone:
    """A finished unit of work."""

    source: Path
    target: Path
    rows: int
    skipped: bool = False
    """True when an earlier run had already written it."""


@dataclass
class FileJob:
    """One input file and the output file it becomes."""

    source: Path
    target: Path
    plan: InputPlan
    """How it is read, and the columns every output row carries (`plan.kept`)."""

    @property
    def marker(self) -> Path:
        return self.target.with_name(self.target.name + DONE)

    def fingerprint(self) -> dict:
        """What identifies the input: a changed file (size or modification time) is predicted again."""
        stat = self.source.stat()
        return {"source": str(self.source.resolve()), "source_bytes": stat.st_size, "source_mtime_ns": stat.st_mtime_ns}

    def earlier_result(self) -> FileDone | None:
        """What an earlier run wrote, when its output is there and its marker matches the input as it is now."""
        try:
            record = json.loads(self.marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not (self.target.is_file() and isinstance(record, dict)):
            return None
        if {k: record.get(k) for k in self.fingerprint()} != self.fingerprint():
            return None
        return FileDone(self.source, self.target, int(record.get("rows", 0)), skipped=True)


def find_input_files(spec: str | Path) -> list[Path]:
    """A directory's Parquet, CSV, TSV and JSONL files, a glob's, or one file; in name order."""
    path = Path(spec).expanduser()
    if path.is_dir():
        found = [p for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith(".")]
    elif path.is_file():
        found = [path]
    else:
        found = [Path(p) for p in sorted(glob.glob(str(path), recursive=True)) if Path(p).is_file()]
    files = [p for p in found if FORMATS.get(p.suffix.lower()) in BATCH_FORMATS]
    if not files:
        seen = f" (it holds {', '.join(p.name for p in found[:3])}{', ...' if len(found) > 3 else ''})" if found else ""
        raise DataError(f"--input {spec} names no Parquet, CSV, TSV or JSONL files{seen}; give a directory or a glob "
                        "of such files, like 'data/*.parquet'")
    names = [p.name for p in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataError(f"--input {spec} matches two files named {twice[0]!r}, and each input's output takes its "
                        "name; predict the directories one at a time, into different --output directories")
    return files


def prepare_batch_output(output_dir: Path, jobs: list[FileJob], overwrite: bool) -> None:
    """The output directory: fineclass's own (a rerun continues it), or new. No input may be inside it.
    Every output and marker name goes into its manifest before any is written, and leftover temporary files go."""
    root = output_dir.resolve()
    for job in jobs:
        if root in job.source.resolve().parents:
            raise ConfigError(f"--input {job.source} is inside --output {output_dir}, where outputs are written; "
                              "choose another --output")
    names = [n for job in jobs for n in (job.target.name, job.marker.name)]
    if output_dir.is_dir() and any(not p.name.startswith(OURS) for p in output_dir.iterdir()):
        # an earlier batch: --overwrite starts again, otherwise it continues
        check_output_dir(output_dir, BATCH_KIND, overwrite=True)
        manifest = Manifest.read(output_dir)
        if overwrite:
            remove_entries(output_dir, manifest.entries)
            manifest.entries = []
    else:
        check_output_dir(output_dir, BATCH_KIND, overwrite=False)
        with contextlib.suppress(FileExistsError):
            output_dir.mkdir(parents=True)
        manifest = Manifest(BATCH_KIND.command)
    remove_entries(output_dir, [p.name for p in output_dir.iterdir() if p.name.startswith(TEMPORARY)])
    manifest.entries += names
    manifest.write(output_dir)


def plan_batch(spec: str | Path, output_dir: Path, text_column: str | None = None, options: ReadOptions | None = None,
               text_pair_column: str | None = None, reading: dict | None = None, id_column: str | None = None,
               keep_columns=None, wide: bool = False) -> list[FileJob]:
    """Every input file's job, checked before a model loads: its layout, text and kept columns."""
    jobs = []
    for source in find_input_files(spec):
        plan = plan_input(source, text_column, options, text_pair_column, reading, id_column, keep_columns)
        if not wide:
            check_kept_names(plan.kept, output_columns(format_of(source)))
        jobs.append(FileJob(source, Path(output_dir) / source.name, plan))
    return jobs


class FilePredictor:
    """Predicts whole files into output files; an engine holds one per worker, so the model loads once per worker.

    `threads`: torch threads for this worker (None: torch's default), so workers sharing a machine do not
    oversubscribe its cores.
    """

    def __init__(self, model_dir: str | Path, predictor_options: dict | None = None, top_k: int = 1,
                 threshold: float | None = None, wide: bool = False, chunk_rows: int = 10_000, threads: int | None = None):
        self.predictor = load_worker_predictor(model_dir, predictor_options or {}, threads)
        self.top_k, self.threshold, self.wide, self.chunk_rows = top_k, threshold, wide, chunk_rows

    def run(self, job: FileJob) -> FileDone:
        """Predict `job.source` into a temporary file, rename it to `job.target`, then write the marker."""
        if earlier := job.earlier_result():
            return earlier
        fingerprint = job.fingerprint()  # before reading: a file changed while it is read is predicted again
        tmp = job.target.with_name(f"{TEMPORARY}{job.target.name}.{uuid.uuid4().hex[:8]}")
        try:
            rows = self.write_output(job, tmp)
            os.replace(tmp, job.target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        sync_directory(job.target.parent)
        write_json_atomic(job.marker, {**fingerprint, "rows": rows})
        return FileDone(job.source, job.target, rows)

    def write_output(self, job: FileJob, path: Path) -> int:
        fmt, rows = format_of(job.source), 0
        wide_names = self.predictor.label_space.names if self.wide else None
        if wide_names is not None:
            check_kept_names(job.plan.kept, output_columns(fmt, wide_names))
        with open_writer(path, fmt) as write:
            for chunk, predictions in self.predict_chunks(job):
                write(chunk[job.plan.kept], predictions, wide_names)
                rows += len(predictions)
        return rows

    def predict_chunks(self, job: FileJob):
        """(chunk, its predictions) for every chunk of the input; an empty text stops the file with its row."""
        rows = 0
        for chunk in iter_input_chunks(job.source, self.chunk_rows, layout=job.plan.layout):
            texts, pairs, empty = job.plan.chunk_texts(chunk, job.source)
            if empty is not None:
                raise DataError(f"{job.source} row {rows + empty}: the text is empty; fill in or drop that row and run "
                                "again (the files already finished are kept)")
            yield chunk, self.predictor.predict(texts.astype(str).tolist(), top_k=self.top_k, threshold=self.threshold,
                                                text_pairs=None if pairs is None else pairs.astype(str).tolist())
            rows += len(chunk)


def load_worker_predictor(model_dir: str | Path, options: dict, threads: int | None = None) -> Predictor:
    """A Predictor on a worker, with --device and --precision resolved there: a cluster's workers may have GPUs
    (or bf16) that the machine that started the job has not."""
    from fineclass.devices import resolve_device, resolve_precision

    if threads:
        import torch

        torch.set_num_threads(threads)
    device = resolve_device(options.get("device") or "auto")
    precision = resolve_precision(options.get("precision") or "fp32", device)
    return Predictor.from_dir(model_dir, **{**options, "device": device, "precision": precision})


@contextlib.contextmanager
def open_writer(path: Path, fmt: str):
    """A function that appends (kept columns, predictions, wide names) to `path` in `fmt`; fsynced at the end."""
    if fmt == "parquet":
        with parquet_writer(path) as write:
            yield write
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        state = {"header": True}

        def write(kept: pd.DataFrame, predictions, wide_names) -> None:
            if fmt == "jsonl":
                handle.write(jsonl_lines(prediction_records(predictions, kept, wide_names)))
            else:
                prediction_frame(predictions, kept, wide_names).to_csv(handle, sep=DELIMITERS[fmt], index=False,
                                                                       header=state["header"])
            state["header"] = False

        yield write
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def parquet_writer(path: Path):
    """Parquet row groups, one per chunk: the kept columns with their own types, then the prediction records
    (labels, scores and top-k as lists), typed explicitly so a chunk without a label reads as the others."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    top_k = pa.list_(pa.struct([("label", pa.string()), ("score", pa.float64())]))
    types = {"text": pa.string(), "labels": pa.list_(pa.string()), "scores": pa.list_(pa.float64()), "top_k": top_k,
             "windows": pa.int64()}
    holder: dict = {}

    def write(kept: pd.DataFrame, predictions, wide_names) -> None:
        table = pa.Table.from_pandas(kept.reset_index(drop=True), preserve_index=False)
        for name, values in pd.DataFrame(prediction_records(predictions, None, wide_names)).items():
            table = table.append_column(name, pa.array(values.tolist(), type=types.get(name, pa.int64())))
        if "writer" not in holder:
            holder["writer"] = pq.ParquetWriter(path, table.schema)
        holder["writer"].write_table(table.cast(holder["writer"].schema))

    try:
        yield write
    finally:
        if "writer" in holder:
            holder["writer"].close()
    if "writer" not in holder:  # an input without rows: an output without rows
        pq.write_table(pa.table({}), path)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
