"""`fineclass audit DATA -o OUT`: the rows most likely to be mislabelled, duplicates, and train/test leakage.

setup (options, output directory, every row of every split) -> out-of-fold probabilities -> confident learning and
duplicates -> audit.csv, audit.html, audit.json -> with --fix, a cleaned copy of the data in OUT/cleaned/.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from fineclass.config import DEFAULT_MODEL, TrainConfig, build_config
from fineclass.data.cleaned import Fixes, write_cleaned_copy
from fineclass.data.load import RawData, load_raw_data
from fineclass.data.prepare import TaskData, prepare_task
from fineclass.data.read import ReadOptions
from fineclass.devices import resolve_device, resolve_precision
from fineclass.errors import ConfigError, DataError
from fineclass.evaluation.audit_findings import count_kinds, issue_table, row_kinds, suggested_labels
from fineclass.evaluation.audit_report import AUDIT_CSV, AUDIT_HTML, AUDIT_JSON, AuditResult, write_audit_files
from fineclass.evaluation.label_issues import RANKINGS, LabelIssues, find_label_issues
from fineclass.inference.embed import MeanPooledEncoder
from fineclass.labels import LabelSpace
from fineclass.modeling import load_model_config, load_tokenizer, resolve_model_path
from fineclass.outputs import OURS, OutputKind, check_output_dir, prepare_output_dir, record_entries
from fineclass.recipes.audit_folds import fast_probabilities, fine_tuned_probabilities, fold_indices
from fineclass.redact import redact_source

logger = logging.getLogger(__name__)

FIXES = ("drop", "relabel")
CLEANED = "cleaned"
WORK_DIR = f"{OURS}-folds"
AUDIT_OUTPUT = OutputKind("audit", result=AUDIT_CSV)


@dataclass
class AuditOptions:
    """How `audit` scores the rows; each field is a flag of the command and a keyword of `fineclass.audit`."""

    folds: int = 5
    """Out-of-fold probabilities from this many folds: each row is scored by a model that never saw it."""
    rank_by: str = "self-confidence"
    """Label quality that ranks the rows: self-confidence (the probability of the given label) or normalized-margin."""
    similarity: float = 0.95
    """Embedding cosine at or above which two different texts are near-duplicates."""
    fix: str | None = None
    """Write a cleaned copy of the data to OUT/cleaned/: drop the flagged rows, or relabel them."""
    fix_test: bool = False
    """Let --fix change the test split too (by default it is copied as it is)."""
    model: str | None = None
    """Fine-tune this model per fold instead of the fast frozen encoder and logistic regression."""
    epochs: float | None = None
    """Epochs of each per-fold fine-tuning (giving it alone fine-tunes the bundled model)."""
    embedder: str = DEFAULT_MODEL
    """The frozen encoder whose embeddings feed the fast probabilities and the near-duplicate search."""
    batch_size: int = 128
    """Texts per forward pass while embedding (and predicting a fold)."""
    seed: int = 42
    """Seed of the folds (and of each fold's fine-tuning)."""

    @property
    def fine_tunes(self) -> bool:
        return self.model is not None or self.epochs is not None


class AuditProgress(Protocol):
    """What the caller shows while an audit runs (the CLI draws rich bars, a notebook tqdm)."""

    def stage(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


def check_audit_options(options: AuditOptions) -> TrainConfig | None:
    """Every problem with the options at once, before any data is read; the per-fold training settings if any."""
    checks = [
        (isinstance(options.folds, int) and options.folds >= 2, f"--folds must be a whole number >= 2, got {options.folds}"),
        (options.rank_by in RANKINGS, f"--rank-by must be one of {', '.join(RANKINGS)}, got {options.rank_by!r}"),
        (0 < options.similarity <= 1, f"--similarity must be in (0, 1], got {options.similarity}"),
        (options.fix in (None, *FIXES), f"--fix must be one of {', '.join(FIXES)}, got {options.fix!r}"),
        (not options.fix_test or options.fix is not None, "--fix-test needs --fix drop or --fix relabel"),
        (options.batch_size >= 1, f"--batch-size must be >= 1, got {options.batch_size}"),
    ]
    problems = [message for ok, message in checks if not ok]
    if options.epochs is not None and not options.epochs > 0:
        problems.append(f"--epochs must be > 0, got {options.epochs}")
    if problems:
        raise ConfigError("; ".join(problems))
    if not options.fine_tunes:
        return None
    return build_config({}, {"data": "audit", "output_dir": "audit", "model": options.model, "epochs": options.epochs,
                             "seed": options.seed, "eval_batch_size": options.batch_size})


@dataclass
class AuditSetup:
    """What setup_audit settles before any model runs: the output directory, the rows and the models to use."""

    out: Path
    raw: RawData
    task: TaskData
    rows: pd.DataFrame
    """Every split's rows: split, row (the source row number), text, text_pair, labels."""
    targets: np.ndarray
    """Class ids, or a 0/1 matrix for multi-label."""
    embedder: MeanPooledEncoder
    train_config: TrainConfig | None
    """Each fold's fine-tuning settings (model resolved); None for the fast way."""

    @property
    def labels(self) -> LabelSpace:
        return self.task.label_space


def run_audit(data: str | None, output_dir: str | Path, options: AuditOptions | None = None, *, overwrite: bool = False,
              read: ReadOptions | None = None, columns: dict | None = None, raw: RawData | None = None,
              progress: AuditProgress | None = None, announce=None) -> AuditResult:
    """Audit every row of every split of `data` and write the results into `output_dir`.

    `columns`: the column keywords (text_column, label_column, label_columns, text_pair_column, label_names,
    multi_label); `raw`: data already in memory; `announce` gets the line that says how the data was read.
    """
    options, started = options or AuditOptions(), time.perf_counter()
    setup = setup_audit(data, Path(output_dir), options, overwrite, read, columns or {}, raw, announce)
    vectors = embed_rows(setup.embedder, setup.rows, progress)
    probs, mixing = out_of_fold(setup, vectors, options, progress)
    issues = find_label_issues(setup.targets, probs, options.rank_by)
    kinds, related = row_kinds(setup.rows, issues, vectors, options.similarity)
    suggested = suggested_labels(issues, probs, setup.labels, setup.targets)
    summary = {**audit_summary(options, setup.labels, setup.targets, probs, issues), **mixing,
               "seconds": round(time.perf_counter() - started, 1)}
    result = AuditResult(setup.out, issue_table(setup.rows, kinds, related, suggested, issues), count_kinds(kinds),
                         setup.rows["split"].value_counts(sort=False).to_dict(), summary, probabilities=probs,
                         label_names=setup.labels.names)
    result.paths = write_audit_files(result, f"fineclass audit: {redact_source(setup.raw.source if data is None else data)}")
    if options.fix:
        record_entries(setup.out, CLEANED)
        (setup.out / CLEANED).mkdir(exist_ok=True)
        fixes = plan_fixes(setup.rows, kinds, suggested, options.fix, options.fix_test)
        result.cleaned = write_cleaned_copy(setup.raw, setup.task, fixes, setup.out / CLEANED, read)
        result.paths["cleaned"] = setup.out / CLEANED
    return result


def setup_audit(data, out: Path, options: AuditOptions, overwrite: bool, read, columns: dict, raw, announce) -> AuditSetup:
    """Check the options, the output directory, the data and the models, in that order, then prepare the directory:
    every mistake is reported before anything is written."""
    train_config = check_audit_options(options)
    inputs = [("DATA", data), ("--label-names", columns.get("label_names")), ("--model", options.model),
              ("--embedder", options.embedder)]
    check_output_dir(out, AUDIT_OUTPUT, overwrite, inputs)
    raw = raw or load_raw_data(data, read)
    task = prepare_task(raw, columns.get("text_column"), columns.get("label_column"), columns.get("label_names"),
                        columns.get("multi_label"), label_columns=columns.get("label_columns"),
                        text_pair_column=columns.get("text_pair_column"))
    (announce or logger.info)(task.describe(raw.source if data is None else data))
    rows = audit_rows(task)
    if len(rows) < options.folds:
        raise DataError(f"--folds {options.folds} needs at least {options.folds} rows, and DATA has {len(rows)}; "
                        "add rows or lower --folds")
    device = resolve_device("auto")
    embedder = MeanPooledEncoder(resolve_model_path(options.embedder), options.batch_size, device=device,
                                 precision=resolve_precision("auto", device))  # bf16: a third less CPU on emotion
    if train_config is not None:
        train_config = replace(train_config, model=check_model(options.model or DEFAULT_MODEL))
    prepare_output_dir(out, AUDIT_OUTPUT, overwrite, inputs)
    record_entries(out, AUDIT_CSV, AUDIT_HTML, AUDIT_JSON)
    labels = task.label_space
    targets = labels.encode(list(rows["labels"]) if labels.multi_label else [names[0] for names in rows["labels"]])
    return AuditSetup(out, raw, task, rows, targets, embedder, train_config)


def check_model(name: str) -> str:
    """The per-fold model's path, once its config and tokenizer load: a bad --model fails before any output."""
    path = resolve_model_path(name)
    load_model_config(path)
    load_tokenizer(path)
    return path


def audit_rows(task: TaskData) -> pd.DataFrame:
    """Every split's rows in one frame: split, row (the source row number), text, text_pair, labels."""
    kept = ["row", "text", "labels"] + (["text_pair"] if any("text_pair" in f.columns for f in task.frames.values()) else [])
    frames = [frame[kept].assign(split=split) for split, frame in task.frames.items()]
    return pd.concat(frames, ignore_index=True)[["split", *kept]]


def embed_rows(embedder: MeanPooledEncoder, rows: pd.DataFrame, progress: AuditProgress | None) -> np.ndarray:
    if progress is not None:
        progress.stage("embedding", len(rows))
    pairs = list(rows["text_pair"]) if "text_pair" in rows.columns else None
    return embedder.embed(list(rows["text"]), pairs, on_batch=progress.advance if progress is not None else None)


def out_of_fold(setup: AuditSetup, vectors: np.ndarray, options: AuditOptions,
                progress: AuditProgress | None) -> tuple[np.ndarray, dict]:
    """(n, K) probabilities, each row's from the fold that held it out, and how the fast models were mixed."""
    rows, labels, targets = setup.rows, setup.labels, setup.targets
    folds = fold_indices(targets, options.folds, options.seed)
    on_fold = progress.advance if progress is not None else None
    if progress is not None:
        progress.stage("fine-tuning folds" if setup.train_config else "fitting folds", len(folds))
    if setup.train_config is None:
        texts = list(rows["text"] + " " + rows["text_pair"]) if "text_pair" in rows.columns else list(rows["text"])
        probs, weight = fast_probabilities(vectors, texts, targets, labels, folds, on_fold)
        return probs, {"embedding_weight": weight}
    work = setup.out / WORK_DIR
    work.mkdir(exist_ok=True)
    try:
        return fine_tuned_probabilities(rows, labels, folds, setup.train_config, work, on_fold), {}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def audit_summary(options: AuditOptions, labels: LabelSpace, targets, probs, issues: LabelIssues) -> dict:
    if options.fine_tunes:
        method = f"fine-tuned {options.model or DEFAULT_MODEL} per fold ({options.epochs or 3:g} epochs)"
    else:
        method = f"logistic regressions per fold on frozen {options.embedder} embeddings and on TF-IDF words"
    if labels.multi_label:
        agreement = float(((probs >= 0.5) == (targets >= 0.5)).all(axis=1).mean())
        errors = int(sum(joint[0, 1] + joint[1, 0] for joint in issues.joint))
    else:
        agreement = float((probs.argmax(axis=1) == targets).mean())
        errors = int(issues.joint.sum() - np.trace(issues.joint))
    return {"method": method, "folds": options.folds, "rank_by": options.rank_by, "similarity": options.similarity,
            "out_of_fold_agreement": round(agreement, 4), "estimated_label_errors": errors,
            "flagged_by_confident_learning": int(issues.is_issue.sum()), "fix": options.fix or "none"}


def plan_fixes(rows: pd.DataFrame, kinds, suggested, mode: str, fix_test: bool) -> Fixes:
    """Both fixes drop later copies of a duplicate and non-test copies of a test text; `drop` also drops rows with a
    label issue or conflicting labels, `relabel` gives label issues the suggested labels. Test rows need --fix-test."""
    fixes = Fixes()
    for i, found in enumerate(kinds):
        split, row = rows["split"].iat[i], int(rows["row"].iat[i])
        if not found or (split == "test" and not fix_test):
            continue
        if "duplicate" in found or "leakage" in found or (mode == "drop" and {"label", "conflicting-labels"} & set(found)):
            fixes.drop.setdefault(split, set()).add(row)
        elif mode == "relabel" and "label" in found:
            fixes.relabel.setdefault(split, {})[row] = suggested[i]
    return fixes
