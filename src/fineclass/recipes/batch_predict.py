"""`fineclass predict --input DIR_OR_GLOB --output DIR --engine ray`: many files, one output each, on Ray."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fineclass.data.read import ReadOptions
from fineclass.errors import ConfigError
from fineclass.inference.batch_files import FileDone, FileJob, plan_batch, prepare_batch_output
from fineclass.modelfiles import check_model_files
from fineclass.rundir import resolve_model_dir, run_reading


def plan_ray_batch(model: str | Path, input: str | Path, output: Path, *, text_column: str | None = None,
                   text_pair_column: str | None = None, id_column: str | None = None, keep_columns=None,
                   options: ReadOptions | None = None, wide: bool = False, actors: int = 2,
                   overwrite: bool = False) -> list[FileJob]:
    """Check everything that can be checked before Ray starts: the model's files, each input's layout and columns,
    and the output directory (prepared: a rerun continues it, --overwrite starts it again)."""
    if actors < 1:
        raise ConfigError(f"--actors must be at least 1, got {actors}")
    check_model_files(resolve_model_dir(model))  # a damaged model is one line here, not one per actor
    jobs = plan_batch(input, Path(output), text_column, options, text_pair_column, run_reading(model), id_column,
                      keep_columns, wide)
    prepare_batch_output(Path(output), jobs, overwrite)
    return jobs


def run_ray_batch(model: str | Path, jobs: list[FileJob], *, actors: int = 2, address: str | None = None,
                  predictor_options: dict | None = None, top_k: int = 1, threshold: float | None = None,
                  wide: bool = False, on_file: Callable[[FileDone], None] | None = None):
    """Predict the jobs not done yet on a pool of Ray actors; returns a `BatchResult`."""
    from fineclass.inference.ray_batch import run_file_jobs

    return run_file_jobs(jobs, resolve_model_dir(model), actors=actors, address=address,
                         predictor_options=predictor_options, top_k=top_k, threshold=threshold, wide=wide,
                         on_file=on_file)
