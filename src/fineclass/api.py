"""The Python API: the same jobs as the CLI, with Python arguments and typed results.

    import fineclass
    run = fineclass.train(df, text_column="text", label_column="label", output_dir="runs/x", epochs=3)
    run.metrics.test["accuracy"]; run.run_dir; run.label_names
    run.predictor().predict(["i feel great"])
    ev = fineclass.evaluate(run, other_df)
    fineclass.export(run, quantize="int8"); fineclass.compare(df, models=[...]); fineclass.explore(df)
    fineclass.audit(df, "runs/audit").issues.head(20)
    curve = fineclass.learning_curve(df, sizes=[48, 96, "all"], seeds=3)
    search = fineclass.tune(df, "runs/tune", trials=12); search.best_run_dir
    student = fineclass.distill(run, layers=3)

Options are the `TrainConfig` fields, checked exactly as the CLI checks its flags: a bad value raises a
`FineclassError` with the message the CLI prints. Progress is the caller's choice: `progress="auto"` shows
transformers' tqdm bar (a widget in a notebook), "rich" the CLI's bar, None nothing, or pass a TrainerCallback.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

from fineclass.config import (
    DISTILL_ALPHA,
    DISTILL_TEMPERATURE,
    FIELD_NAMES,
    LONG_TEXTS,
    TrainConfig,
    build_config,
    load_config_file,
    pop_long_texts,
)
from fineclass.data.options import READ_FIELDS, ReadOptions
from fineclass.errors import ConfigError

READ_OPTIONS = READ_FIELDS
"""The file-layout keywords: ReadOptions' fields."""

logger = logging.getLogger(__name__)


def check_options(options: dict, known, function: str) -> None:
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the options are {', '.join(sorted(known))}"
            raise ConfigError(f"fineclass.{function}() got an unknown option {name!r}{hint}")


def resolve_data(data, options: dict, name: str = "data"):
    """(config value, RawData or None): a path stays a path; in-memory tables are read here."""
    from fineclass.data.memory import is_in_memory, raw_from_memory

    if data is None or not is_in_memory(data):
        return (None if data is None else str(data)), None
    raw = raw_from_memory(data, name)
    return raw.source, raw


def make_progress(progress):
    """The TrainerCallback that shows progress, as the caller chose it."""
    if progress in (None, False):
        return None
    if progress in ("auto", True):
        from transformers.trainer_callback import ProgressCallback

        return ProgressCallback()  # tqdm.auto: a widget in a notebook, a bar in a terminal
    if progress == "rich":
        from fineclass.progress import RichProgressCallback

        return RichProgressCallback()
    if isinstance(progress, str):
        raise ConfigError(f"progress must be 'auto', 'rich', None or a TrainerCallback, got {progress!r}")
    return progress


def train_config(data, output_dir=None, config: str | Path | TrainConfig | None = None, **options) -> tuple[TrainConfig, object]:
    """The validated TrainConfig for these arguments, and the in-memory data if any."""
    check_options(options, FIELD_NAMES - {"data", "output_dir"}, "train")
    if isinstance(config, TrainConfig):
        file_values = {k: v for k, v in config.to_dict().items()}
    else:
        file_values = load_config_file(config) if config else {}
    source, raw = resolve_data(data, options)
    flags = {**options, "data": source, "output_dir": None if output_dir is None else str(output_dir)}
    if flags["output_dir"] is None and not file_values.get("output_dir"):
        from fineclass.rundir import default_output_dir

        named = source or file_values.get("data")
        flags["output_dir"] = default_output_dir(str(named)) if raw is None and named else "runs/data"
    return build_config(file_values, flags), raw


def train(data, output_dir: str | Path | None = None, *, config: str | Path | TrainConfig | None = None,
          progress="auto", resume: str | None = None, **options):
    """Fine-tune a model on labeled text; returns a `RunResult` (run_dir, model_dir, metrics, label_names).

    `data`: a path, URL or hf:NAME, a DataFrame, a datasets Dataset or DatasetDict, or a dict of split name to either.
    `options`: any TrainConfig field (epochs=3, model="...", text_column="text", max_steps=50, ...).
    """
    from fineclass.recipes.train import run_training
    from fineclass.rundir import output_errors

    run_config, raw = train_config(data, output_dir, config, **options)
    with output_errors(Path(run_config.output_dir)):
        return run_training(run_config, progress=make_progress(progress), resume=resume, raw=raw)


DISTILL_EXCLUDED = {"data", "model", "text_column", "text_pair_column", "label_column", "label_columns", "label_names",
                    "multi_label", "split", "max_train_samples", "max_eval_samples", *READ_OPTIONS}


def distill(teacher, output_dir: str | Path | None = None, *, layers: int | None = None, student: str | None = None,
            temperature: float = DISTILL_TEMPERATURE, alpha: float = DISTILL_ALPHA, unlabeled: str | Path | None = None,
            unlabeled_column: str | None = None, progress="auto", **options):
    """Distil a teacher run into a student trained on the teacher's split; returns the student's `RunResult`.

    The student is the teacher's first `layers` layers, or `student` (a model with the teacher's tokenizer).
    `options`: train's training options (epochs=3, learning_rate=1e-4, batch_size=32, ...).
    """
    from fineclass.recipes.distill import check_distill_options, run_distillation
    from fineclass.rundir import output_errors

    check_options(options, FIELD_NAMES - DISTILL_EXCLUDED - {"output_dir"}, "distill")
    check_distill_options(layers, student, temperature, alpha)
    teacher_dir = model_path(teacher)
    if output_dir is None:
        output_dir = f"{str(getattr(teacher, 'run_dir', teacher_dir)).rstrip('/')}-student-{layers if layers else 'model'}"
    config = build_config({}, {**options, "data": str(teacher_dir), "output_dir": str(output_dir)})
    with output_errors(Path(config.output_dir)):
        return run_distillation(teacher_dir, config, layers=layers, student=student, temperature=temperature,
                                alpha=alpha, unlabeled=unlabeled, unlabeled_column=unlabeled_column,
                                progress=make_progress(progress))


def model_path(model) -> Path:
    """A RunResult, or a run, model or ONNX directory."""
    return Path(getattr(model, "model_dir", model))


def pop_read_options(options: dict) -> ReadOptions:
    """Take the file-layout keywords out of `options`."""
    return ReadOptions(**{k: options.pop(k) for k in READ_OPTIONS if k in options})


def evaluate(model, data=None, *, split: str = "test", report_dir: str | Path | None = None, overwrite: bool = False,
             **options):
    """Score a model on its run's `split`, or on `data` (any form `train` takes); returns an `EvaluationResult`."""
    from fineclass.recipes.evaluate import evaluate_model

    known = {"text_column", "label_column", "label_columns", "text_pair_column", "label_names", "threshold",
             "batch_size", "device", "output", *READ_OPTIONS, *LONG_TEXTS}
    check_options(options, known, "evaluate")
    source, raw = resolve_data(data, options)
    reading = pop_read_options(options)
    long_texts = pop_long_texts(options)
    return evaluate_model(model_path(model), source, split, options=reading, report_dir=report_dir,
                          overwrite=overwrite, raw=raw, long_texts=long_texts, **options)


def tune_thresholds(model, strategy: str = "per-label", min_positives: int = 10) -> dict[str, float]:
    """Re-tune a multi-label run's thresholds on its validation split; returns {label: threshold}."""
    from fineclass.recipes.evaluate import tune_run_thresholds

    return tune_run_thresholds(model_path(model), strategy, min_positives)


def calibrate(model, method: str = "auto") -> dict:
    """Refit a run's calibration on its validation split (none, temperature, platt or auto), folded into its model;
    returns metrics.json's `calibration` (ECE, Brier and NLL before and after)."""
    from fineclass.recipes.calibrate import calibrate_run

    return calibrate_run(model_path(model), method)


def export(model, quantize: str | None = None, output_dir: str | Path | None = None, *, overwrite: bool = False,
           check: bool = True, **long_texts):
    """Export to ONNX (quantize="int8" for dynamic int8); returns an `ExportResult` (path, size, check metrics).
    The long-text keywords (long_texts="windows", max_windows=4, ...) change how the export reads long texts."""
    from fineclass.recipes.export import export_model

    check_options(long_texts, set(LONG_TEXTS), "export")
    return export_model(model_path(model), quantize, None if output_dir is None else Path(output_dir), overwrite, check,
                        long_texts=pop_long_texts(long_texts))


def compare(data, models: list[str], output_dir: str | Path | None = None, *, progress="auto", **options):
    """Train or evaluate every candidate on one split of `data`; returns a `CompareResult` (ranked candidates)."""
    from fineclass.recipes.compare.run import run_compare

    if isinstance(models, str):
        raise ConfigError("models must be a list of candidates, like ['tfidf-logreg', 'bundled:all-MiniLM-L6-v2']")
    if output_dir is None and isinstance(data, (str, Path)):
        from fineclass.rundir import default_output_dir

        output_dir = default_output_dir(str(data)) + "-compare"
    run_config, raw = train_config(data, output_dir or "runs/data-compare", **options)
    return run_compare(run_config, list(models), progress=make_progress(progress), raw=raw)


def learning_curve(data, sizes=(48, 96, 192, 384, 768, "all"), *, seeds: int = 3, models: list[str] | None = None,
                   output_dir: str | Path | None = None, keep_models: bool = False, progress="auto", **options):
    """Train at each training-set size (`seeds` seeded, stratified samples below the whole split) on one fixed split;
    returns a `CurveResult` (summary per size, the fitted curve, the plot; shown inline in a notebook).

    `sizes`: whole numbers and "all" (a list, or "48,96,all"); `models`: candidates as for `compare` (default: the
    `model` option alone); `options`: any TrainConfig field, as for `train`.
    """
    from fineclass.recipes.learning_curve import parse_sizes, run_learning_curve

    if isinstance(models, str):
        raise ConfigError("models must be a list of candidates, like ['bundled:all-MiniLM-L6-v2', 'tfidf-logreg']")
    parsed = parse_sizes(sizes)
    if output_dir is None and isinstance(data, (str, Path)):
        from fineclass.rundir import default_output_dir

        output_dir = default_output_dir(str(data)) + "-curve"
    run_config, raw = train_config(data, output_dir or "runs/data-curve", **options)
    return run_learning_curve(run_config, parsed, seeds, models, keep_models, progress=make_progress(progress), raw=raw)


def tune(data, output_dir: str | Path | None = None, *, trials: int | None = 20, timeout: str | float | None = None,
         space: str | Path | dict | None = None, sampler: str = "tpe", pruner: str = "median", rescore_top: int = 3,
         with_defaults: bool = True, storage: str | None = None, study_name: str | None = None,
         keep_trials: bool = False, **options):
    """Search training settings with Optuna, as `fineclass tune` does; returns a `TuneResult` (the best trial by mean
    validation metric over seeds, its run directory, the test split beside trial 0's, every trial; shown inline).

    `options`: any TrainConfig field; the ones given are fixed, not searched. `space`: a YAML file or a dict
    ({"learning_rate": {"low": 1e-5, "high": 5e-4, "log": True}, "batch_size": [16, 32]}). Calling it again with the
    same arguments continues the search.
    """
    from fineclass.tuning import TuneOptions, run_tune

    if output_dir is None and isinstance(data, (str, Path)):
        from fineclass.rundir import default_output_dir

        output_dir = default_output_dir(str(data)) + "-tune"
    run_config, raw = train_config(data, output_dir or "runs/data-tune", **options)
    fixed = set(options) - {"overwrite"}
    tune_options = TuneOptions(trials=trials, timeout=timeout, space=space, sampler=sampler, pruner=pruner,
                               rescore_top=rescore_top, with_defaults=with_defaults, storage=storage,
                               study_name=study_name, keep_trials=keep_trials, fixed=fixed)
    return run_tune(run_config, tune_options, raw=raw)


def explore(data, output_dir: str | Path | None = None, *, model: str | None = None, overwrite: bool = False, **options):
    """Class balance, lengths and figures; returns an `Exploration` (shown inline in a notebook)."""
    from fineclass.recipes.explore import explore_data

    known = {"text_column", "label_column", "label_columns", "text_pair_column", "label_names", "multi_label",
             "max_length", *READ_OPTIONS}
    check_options(options, known, "explore")
    source, raw = resolve_data(data, options)
    if output_dir is None:
        from fineclass.rundir import default_output_dir

        output_dir = default_output_dir(source) + "-explore" if raw is None else "runs/data-explore"
    reading = pop_read_options(options)
    return explore_data(source, Path(output_dir), model, options=reading, overwrite=overwrite, raw=raw, **options)


def audit(data, output_dir: str | Path | None = None, *, folds: int = 5, rank_by: str = "self-confidence",
          similarity: float = 0.95, fix: str | None = None, fix_test: bool = False, model: str | None = None,
          epochs: float | None = None, embedder: str | None = None, overwrite: bool = False, progress=None, **options):
    """Rank the rows most likely to be mislabelled, and find duplicates and train/test leakage; returns an `AuditResult`
    (`issues`: audit.csv's table, most likely problem first; shown inline in a notebook).

    `data`: any form `train` takes; every row of every split is audited. `model`/`epochs` fine-tune a model per fold
    instead of the fast frozen encoder + logistic regression; `fix="drop"` or `"relabel"` writes a cleaned copy to
    `output_dir/cleaned/`. `progress`: None, or an object with `stage(description, total)` and `advance(amount)`.
    `options`: the reading options (text_column, label_column, label_names, multi_label, delimiter, ...), batch_size, seed.
    """
    from fineclass.config import DEFAULT_MODEL
    from fineclass.recipes.audit import AuditOptions, run_audit

    known = {"text_column", "label_column", "label_columns", "text_pair_column", "label_names", "multi_label",
             "batch_size", "seed", *READ_OPTIONS}
    check_options(options, known, "audit")
    source, raw = resolve_data(data, options)
    if output_dir is None:
        from fineclass.rundir import default_output_dir

        output_dir = default_output_dir(source) + "-audit" if raw is None else "runs/data-audit"
    reading = pop_read_options(options)
    settings = {name: options.pop(name) for name in ("batch_size", "seed") if name in options}
    audit_options = AuditOptions(folds=folds, rank_by=rank_by, similarity=similarity, fix=fix, fix_test=fix_test,
                                 model=model, epochs=epochs, embedder=embedder or DEFAULT_MODEL, **settings)
    return run_audit(source, output_dir, audit_options, overwrite=overwrite, read=reading, columns=options, raw=raw,
                     progress=progress)


def predict(model, texts, *, top_k: int = 1, threshold: float | None = None, text_pairs=None, **options):
    """Labels for texts with a run or model directory (options as for `Predictor.from_dir`).

    `texts` may be a `ray.data.Dataset` instead: the result is a lazy Dataset with every column plus `labels`,
    `scores` and `top_k`, computed by a pool of Ray actors that each load the model once (options: text_column,
    text_pair_column, actors=1, and batch_size, precision, device, compile as for `Predictor.from_dir`).
    """
    from fineclass.inference.predictor import Predictor

    if set(LONG_TEXTS) & set(options):
        options["long_texts"] = pop_long_texts(options)  # long_texts="windows", max_windows=4, ...
    if type(texts).__module__.startswith("ray.data"):  # no import of ray unless it is already in use
        from fineclass.inference.ray_batch import predict_dataset

        known = {"text_column", "text_pair_column", "actors", "batch_size", "precision", "device", "compile", "long_texts"}
        check_options(options, known, "predict")
        return predict_dataset(texts, model_path(model), top_k=top_k, threshold=threshold, **options)
    predictor = model.predictor(**options) if hasattr(model, "predictor") else Predictor.from_dir(model_path(model), **options)
    predictions = predictor.predict(list(texts), top_k=top_k, threshold=threshold, text_pairs=text_pairs)
    unknown = predictor.unknown_token_warning()
    if unknown:
        logger.warning(unknown)  # as `fineclass predict` warns
    return predictions


def serve(model, host: str = "127.0.0.1", port: int = 8000, **settings) -> None:
    """Serve a model over HTTP until interrupted (settings as `fineclass serve`'s options: batching, precision,
    api_keys=[...], api_key_file, max_queue, timeout_s, allowed_hosts, cors_origins, limit_concurrency,
    header_timeout_s, timeout_keep_alive, ssl_keyfile, ssl_certfile, access_log, ...)."""
    from fineclass.recipes.serve import serve as serve_model

    if set(LONG_TEXTS) & set(settings):
        settings["long_texts"] = pop_long_texts(settings)
    serve_model(model_path(model), host, port, **settings)


def push(model, repo_id: str, *, private: bool = False, revision: str | None = None, commit_message: str | None = None,
         dry_run: bool = False):
    """Upload a run's model directory to the Hugging Face Hub (`create_repo`, then `upload_folder`); returns a
    `PushResult` (repo_id, files with sizes, commit_url). The token comes from HF_TOKEN or `hf auth login`;
    `dry_run=True` lists the files and uploads nothing."""
    from fineclass.recipes.push import push_model

    return push_model(getattr(model, "run_dir", model), repo_id, private=private, revision=revision,
                      commit_message=commit_message, dry_run=dry_run)
