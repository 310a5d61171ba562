"""Prediction on Ray: a pool of actors, each holding one model, over many files or a `ray.data.Dataset`.

Files go through Ray Core: an `ActorPool` of `FilePredictor`s, one input file per task, so each input keeps its
one output file (Ray Data re-blocks rows and names its own files). A Dataset goes through `map_batches` with an
actor class, and comes back as a Dataset with the prediction columns added. Ray is imported only here, and only
when used: it is the optional extra fineclass[ray].
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fineclass.data.columns import TEXT_COLUMNS, first_present, resolve_one
from fineclass.errors import ConfigError, DataError, FineclassError
from fineclass.inference.batch_files import FileDone, FileJob, FilePredictor, load_worker_predictor

logger = logging.getLogger(__name__)

DATASET_COLUMNS = ("labels", "scores", "top_k")
"""What `predict_dataset` adds to every row."""
BATCH_ROWS = 1024
"""Rows of a Dataset sent to an actor at a time."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray; install it with: pip install 'fineclass[ray]'") from None
    return ray


@dataclass
class BatchResult:
    """The files a batch run finished, and those an earlier run had finished."""

    done: list[FileDone] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.done if not d.skipped)

    @property
    def skipped(self) -> list[FileDone]:
        return [d for d in self.done if d.skipped]


def start_ray(address: str | None) -> bool:
    """Connect to the cluster at `address`, or start a local instance; False when Ray was already running here
    (a notebook's, a test's), which is then left running."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except ConnectionError as err:
        raise ConfigError(f"could not connect to the Ray cluster at --ray-address {address}: {err}; check that it "
                          "is running (ray status) and reachable") from None
    return True


def run_file_jobs(jobs: list[FileJob], model_dir: str | Path, *, actors: int = 2, address: str | None = None,
                  predictor_options: dict | None = None, top_k: int = 1, threshold: float | None = None,
                  wide: bool = False, on_file: Callable[[FileDone], None] | None = None) -> BatchResult:
    """Predict every job not already done on a pool of `actors` Ray actors (each loads the model once)."""
    result = BatchResult()
    pending = []
    for job in jobs:
        if earlier := job.earlier_result():
            result.done.append(earlier)
            if on_file:
                on_file(earlier)
        else:
            pending.append(job)
    if not pending:
        return result
    ray = import_ray()
    started = start_ray(address)
    try:
        pool = make_pool(ray, model_dir, min(actors, len(pending)), predictor_options or {}, top_k, threshold, wide)
        for done in unwrap_task_errors(ray, pool.map_unordered(lambda actor, job: actor.run.remote(job), pending)):
            result.done.append(done)
            if on_file:
                on_file(done)
    finally:
        if started:
            ray.shutdown()
    return result


def make_pool(ray, model_dir, actors: int, options: dict, top_k, threshold, wide):
    """`actors` actors that share the cluster's CPUs: each gets (and tells torch to use) CPUs // actors of them."""
    from ray.util import ActorPool

    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)) // actors)
    gpus = 1 if str(options.get("device") or "").startswith("cuda") else 0
    remote = ray.remote(FilePredictor).options(num_cpus=cpus, num_gpus=gpus)
    return ActorPool([remote.remote(str(Path(model_dir).absolute()), options, top_k, threshold, wide, threads=cpus)
                      for _ in range(actors)])


def unwrap_task_errors(ray, results):
    """A user's mistake raised in an actor (an empty text in row k) is that mistake here, not Ray's wrapper."""
    try:
        yield from results
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, FineclassError):
            raise cause from None
        raise


# ---- a ray.data.Dataset --------------------------------------------------------------------------------------


class DatasetPredictor:
    """The `map_batches` class: one model per actor; each batch comes back with labels, scores and top_k added."""

    def __init__(self, model_dir: str, text_column: str, text_pair_column: str | None, predictor_options: dict,
                 top_k: int, threshold: float | None):
        self.predictor = load_worker_predictor(model_dir, predictor_options)
        self.text_column, self.text_pair_column = text_column, text_pair_column
        self.top_k, self.threshold = top_k, threshold

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        texts = batch[self.text_column]
        pairs = batch[self.text_pair_column] if self.text_pair_column else None
        if texts.isna().any() or (pairs is not None and pairs.isna().any()):
            raise DataError(f"a row of the dataset has no text in {self.text_column!r}; drop or fill such rows "
                            "first (ds.filter(...))")
        predictions = self.predictor.predict(texts.astype(str).tolist(), top_k=self.top_k, threshold=self.threshold,
                                             text_pairs=None if pairs is None else pairs.astype(str).tolist())
        out = batch.copy()
        out["labels"] = [p.labels for p in predictions]
        out["scores"] = [[round(s, 6) for s in p.scores] for p in predictions]
        out["top_k"] = [[{"label": n, "score": round(s, 6)} for n, s in p.top_k] for p in predictions]
        return out


def predict_dataset(dataset, model_dir: str | Path, *, text_column: str | None = None,
                    text_pair_column: str | None = None, top_k: int = 1, threshold: float | None = None,
                    actors: int = 1, **predictor_options):
    """A lazy Dataset: every column of `dataset`, plus `labels`, `scores` and `top_k`, computed by `actors`
    actors that each hold one model. BATCH_ROWS rows go to an actor at a time; `batch_size` in `predictor_options`
    is the texts per forward pass, as everywhere."""
    ray = import_ray()
    if actors < 1:
        raise ConfigError(f"actors must be at least 1, got {actors}")
    columns = list(dataset.schema().names)
    text = resolve_one(columns, text_column, "text_column") if text_column else first_present(columns, TEXT_COLUMNS)
    if text is None:
        raise DataError(f"the dataset has no text column (text, sentence, content, ...); pass text_column= "
                        f"(its columns are {columns})")
    pair = resolve_one(columns, text_pair_column, "text_pair_column") if text_pair_column else None
    clash = [c for c in DATASET_COLUMNS if c in columns]
    if clash:
        raise DataError(f"the dataset already has a column {clash[0]!r}, which the predictions fill; rename it first "
                        f"(ds.rename_columns({{{clash[0]!r}: 'gold_{clash[0]}'}}))")
    return dataset.map_batches(
        DatasetPredictor, batch_format="pandas", batch_size=BATCH_ROWS,
        compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={"model_dir": str(Path(model_dir).absolute()), "text_column": text,
                               "text_pair_column": pair, "predictor_options": predictor_options,
                               "top_k": top_k, "threshold": threshold},
    )
