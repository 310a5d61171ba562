"""Cheap scikit-learn candidates: TF-IDF + logistic regression, and logistic regression on frozen encoder embeddings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from fineclass.config import TrainConfig, parse_strategy
from fineclass.evaluation.evaluate import encode_for_model
from fineclass.evaluation.metrics import multiclass_metrics, multilabel_metrics
from fineclass.evaluation.thresholds import tune_thresholds
from fineclass.inference.embed import MeanPooledEncoder
from fineclass.labels import LabelSpace
from fineclass.training.arguments import default_metric

logger = logging.getLogger(__name__)

C_GRID = (0.1, 1.0, 10.0)
"""Inverse regularisation strengths tried; the one with the best validation score is kept."""


@dataclass
class LogregHead:
    """A fitted logistic regression (one-vs-rest for multi-label) and its multi-label thresholds."""

    classifier: object
    labels: LabelSpace
    thresholds: np.ndarray
    C: float

    def predict_proba(self, features) -> np.ndarray:
        """Probabilities in label order; a class missing from the training rows gets probability 0."""
        probs = np.asarray(self.classifier.predict_proba(features), dtype=np.float32)
        if self.labels.multi_label or probs.shape[1] == self.labels.num_labels:
            return probs
        full = np.zeros((probs.shape[0], self.labels.num_labels), dtype=np.float32)
        full[:, self.classifier.classes_] = probs
        return full

    def decide(self, features) -> np.ndarray:
        probs = self.predict_proba(features)
        return (probs >= self.thresholds).astype(np.int8) if self.labels.multi_label else probs.argmax(axis=1)


def fit_logreg(train_x, train_y, val_x, val_y, labels: LabelSpace, config: TrainConfig) -> LogregHead:
    """Fit one logistic regression per C in C_GRID and keep the best on validation, as train keeps the best epoch."""
    class_weight = "balanced" if config.class_weights == "balanced" and not labels.multi_label else None
    metric = config.metric if config.metric in ("accuracy", "f1_macro", "f1_micro", "f1_weighted") else default_metric(labels)
    train_y = np.asarray(train_y).astype(np.int64)  # one-vs-rest wants an integer indicator matrix
    best, best_score = None, -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight)
        classifier = OneVsRestClassifier(model) if labels.multi_label else model
        classifier.fit(train_x, train_y)
        head = LogregHead(classifier, labels, np.full(labels.num_labels, config.threshold), c)
        score = score_decisions(head.decide(val_x), val_y, labels)[metric]
        if score > best_score:
            best, best_score = head, score
    if labels.multi_label:
        strategy, fixed = parse_strategy(config.thresholds)
        best.thresholds = tune_thresholds(val_y, best.predict_proba(val_x), strategy, config.min_positives, fixed or config.threshold)
    logger.info("logistic regression: C=%g has the best validation %s (%.4f)", best.C, metric, best_score)
    return best


def score_decisions(decisions: np.ndarray, y_true: np.ndarray, labels: LabelSpace) -> dict:
    """Scalar metrics of hard decisions: class ids (-1 for a label outside DATA's) or a 0/1 matrix."""
    if labels.multi_label:
        return multilabel_metrics(y_true, decisions.astype(np.float32), 0.5, labels.names, per_class=False)
    return multiclass_metrics(y_true, decisions, labels.names, per_class=False)


class TfidfLogreg:
    """Word uni- and bigram TF-IDF (sublinear term frequency) into a logistic regression."""

    def __init__(self, frames: dict[str, pd.DataFrame], labels: LabelSpace, config: TrainConfig):
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=200_000)
        train_x = self.vectorizer.fit_transform(list(frames["train"]["text"]))
        val_x = self.vectorizer.transform(list(frames["validation"]["text"]))
        self.head = fit_logreg(train_x, encode_for_model(frames["train"], labels, "train"),
                               val_x, encode_for_model(frames["validation"], labels, "validation"), labels, config)

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.head.decide(self.vectorizer.transform(texts))

    def save(self, directory: Path) -> Path:
        """The vectorizer and classifier as one scikit-learn pipeline, with the thresholds."""
        directory.mkdir(parents=True, exist_ok=True)
        pipeline = Pipeline([("tfidf", self.vectorizer), ("logreg", self.head.classifier)])
        joblib.dump({"pipeline": pipeline, "labels": list(self.head.labels.names), "thresholds": self.head.thresholds},
                    directory / "model.joblib")
        return directory / "model.joblib"


class FrozenEncoder:
    """The encoder's mean-pooled, L2-normalised last hidden states (never trained) into a logistic regression."""

    def __init__(self, model_path: str, frames: dict[str, pd.DataFrame], labels: LabelSpace, config: TrainConfig):
        self.embedder = MeanPooledEncoder(model_path, config.eval_batch_size, config.max_length)
        self.tokenizer, self.encoder = self.embedder.tokenizer, self.embedder.encoder
        train_x = self.embed(list(frames["train"]["text"]))
        val_x = self.embed(list(frames["validation"]["text"]))
        self.head = fit_logreg(train_x, encode_for_model(frames["train"], labels, "train"),
                               val_x, encode_for_model(frames["validation"], labels, "validation"), labels, config)

    def embed(self, texts: list[str]) -> np.ndarray:
        """One vector per text, in input order (the shared mean-pooled encoder of `inference/embed.py`)."""
        return self.embedder.embed(texts)

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.head.decide(self.embed(texts))

    def save(self, directory: Path) -> Path:
        """The encoder as a model directory, and the head beside it."""
        self.encoder.save_pretrained(directory / "encoder")
        self.tokenizer.save_pretrained(directory / "encoder")
        joblib.dump({"classifier": self.head.classifier, "labels": list(self.head.labels.names),
                     "thresholds": self.head.thresholds, "pooling": "mean, L2-normalised"}, directory / "head.joblib")
        return directory
