"""Out-of-fold probabilities for `audit`: every row is scored by a model that never saw it.

The fast way embeds every text once with a frozen encoder and fits a logistic regression per fold (seconds on a
CPU); the thorough way fine-tunes a model per fold with `train`'s own recipe.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from threadpoolctl import threadpool_limits

from fineclass.config import TrainConfig
from fineclass.labels import LabelSpace
from fineclass.recipes.compare.baselines import LogregHead

logger = logging.getLogger(__name__)

EMBEDDING_C = 10.0
"""Inverse regularisation of the logistic regression on unit-length frozen-encoder embeddings."""
WORDS_C = 3.0
"""Inverse regularisation of the logistic regression on TF-IDF words: with flipped emotion labels, 3 ranked them
better than 10 (precision@k 0.788 against 0.741; benchmarks/RESULTS.md, Label audit)."""
MIX_GRID = np.round(np.linspace(0.0, 1.0, 11), 1)
"""Weights of the embedding model's probabilities tried against the words model's; the one whose mixed probabilities
give the given labels the lowest log-loss is kept."""
FINE_TUNE_VALIDATION = 0.1
"""Share of each fold's training rows that `train` holds out to pick its best epoch."""


def fold_indices(targets: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, held-out rows) per fold, stratified by class (iteratively for multi-label); a class with
    fewer rows than folds cannot be spread over every fold, so then the folds are only shuffled."""
    positions = np.arange(len(targets)).reshape(-1, 1)
    if targets.ndim == 2:
        splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    elif np.bincount(targets)[np.unique(targets)].min() >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(positions, targets))


def word_features(texts: list[str]):
    """Sublinear TF-IDF of words seen in at least two texts (one, for a tiny data set), fitted on every row: it reads
    no label, so the held-out rows leak nothing."""
    try:
        return TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
    except ValueError:  # no word in two texts
        return TfidfVectorizer(sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b").fit_transform(texts)


def fast_probabilities(vectors: np.ndarray, texts: list[str], targets: np.ndarray, labels: LabelSpace,
                       folds: list[tuple[np.ndarray, np.ndarray]], on_fold=None) -> tuple[np.ndarray, float]:
    """Out-of-fold probabilities of two logistic regressions per fold, one on the frozen encoder's embeddings and one
    on TF-IDF words, mixed with the weight that fits the given labels best; returns them and the embedding's weight.

    The frozen embedding alone ranked flipped emotion labels poorly (precision@k 0.51): a sentence-similarity
    encoder averages away the one word that says "angry". The words carry that; the mix lets the embedding count
    where it helps (paraphrases, other languages' words the vocabulary splits)."""
    words = word_features(texts)
    embedded = np.zeros((len(targets), labels.num_labels))
    worded = np.zeros_like(embedded)
    # Each fit runs on one thread, so the folds run side by side, one process per core (at most one per fold).
    workers = Parallel(n_jobs=min(len(folds), os.cpu_count() or 1), return_as="generator")
    fitted = workers(delayed(score_fold)(vectors, words, targets, labels, train_rows, held_out)
                     for train_rows, held_out in folds)
    for (_, held_out), (from_embedding, from_words) in zip(folds, fitted):
        embedded[held_out], worded[held_out] = from_embedding, from_words
        if on_fold is not None:
            on_fold()
    weight = min(MIX_GRID, key=lambda w: log_loss(w * embedded + (1 - w) * worded, targets))
    return weight * embedded + (1 - weight) * worded, float(weight)


def score_fold(vectors, words, targets, labels: LabelSpace, train_rows, held_out) -> tuple[np.ndarray, np.ndarray]:
    """The held-out rows' probabilities from the embedding model and from the words model of one fold."""
    embedded = fit_logreg(vectors, targets, labels, train_rows, EMBEDDING_C).predict_proba(vectors[held_out])
    worded = fit_logreg(words, targets, labels, train_rows, WORDS_C).predict_proba(words[held_out])
    return embedded, worded


def fit_logreg(features, targets: np.ndarray, labels: LabelSpace, rows: np.ndarray, c: float) -> LogregHead:
    """A logistic regression (one-vs-rest for multi-label) on the fold's training rows."""
    model = LogisticRegression(C=c, max_iter=1000)
    classifier = OneVsRestClassifier(model) if labels.multi_label else model
    # One BLAS thread: these matrices are small, and OpenBLAS's spinning threads made a fit 30x slower in CPU
    # time on a busy 2-core machine (0.09 s against 2.97 s for 2,000 emotion rows).
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
        # a fold without some label, or lbfgs a few steps short of its tolerance: the probabilities stand
        warnings.simplefilter("ignore", (ConvergenceWarning, UserWarning))
        classifier.fit(features[rows], targets[rows].astype(np.int64))
    return LogregHead(classifier, labels, np.full(labels.num_labels, 0.5), c)


def log_loss(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean negative log-likelihood of the given labels: of the class, or of each label's 0/1 for multi-label."""
    probs = np.clip(probs, 1e-7, 1 - 1e-7)
    if targets.ndim == 2:
        return float(-np.mean(targets * np.log(probs) + (1 - targets) * np.log(1 - probs)))
    return float(-np.mean(np.log(probs[np.arange(len(targets)), targets])))


def fine_tuned_probabilities(rows: pd.DataFrame, labels: LabelSpace, folds: list[tuple[np.ndarray, np.ndarray]],
                             config: TrainConfig, work_dir: Path, on_fold=None) -> np.ndarray:
    """Out-of-fold probabilities from a model fine-tuned per fold by `train` (on 90% of the fold's training rows,
    the rest picking the best epoch); each fold's run directory is removed once its held-out rows are scored."""
    from fineclass.data.load import RawData
    from fineclass.inference.predictor import Predictor
    from fineclass.recipes.train import run_training

    names_file = work_dir / "labels.txt"
    names_file.write_text("\n".join(labels.names) + "\n", encoding="utf-8")
    pair = "text_pair" if "text_pair" in rows.columns else None
    kept = ["text", "labels"] + ([pair] if pair else [])
    probs = np.zeros((len(rows), labels.num_labels), dtype=np.float64)
    for number, (train_rows, held_out) in enumerate(folds, start=1):
        run_dir = work_dir / f"fold-{number}"
        fold_config = replace(
            config, output_dir=str(run_dir), data=f"audit fold {number}", text_column="text", label_column="labels",
            label_columns=None, text_pair_column=pair, label_names=str(names_file), multi_label=labels.multi_label,
            split=(1 - FINE_TUNE_VALIDATION, 0.0, FINE_TUNE_VALIDATION), baseline=False, report=False, overwrite=True,
            max_train_samples=None, max_eval_samples=None,
        )
        raw = RawData(frames={"all": rows.iloc[train_rows][kept].reset_index(drop=True)}, source=fold_config.data)
        trained = run_training(fold_config, raw=raw, announce=logger.debug)  # the fold's own detection lines
        predictor = Predictor.from_dir(trained.model_dir, batch_size=config.eval_batch_size, max_length=config.max_length)
        held = rows.iloc[held_out]
        scores = predictor.predict_proba(list(held["text"]), text_pairs=list(held[pair]) if pair else None)
        columns = [predictor.label_space.names.index(name) for name in labels.names]
        probs[held_out] = scores[:, columns]
        shutil.rmtree(run_dir, ignore_errors=True)
        logger.info("fold %d of %d: fine-tuned on %d rows, scored %d", number, len(folds), len(train_rows), len(held_out))
        if on_fold is not None:
            on_fold()
    return probs
