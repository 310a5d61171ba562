"""One builder per candidate kind; every candidate is then measured and scored the same way on the one test set."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass.config import TrainConfig
from fineclass.data.options import ReadOptions
from fineclass.evaluation.evaluate import encode_for_model
from fineclass.labels import LabelSpace
from fineclass.recipes.compare import spec as kinds
from fineclass.recipes.compare.baselines import (
    FrozenEncoder,
    TfidfLogreg,
    score_decisions,
)
from fineclass.recipes.compare.measure import (
    measure_speed,
    onnx_parameters,
    sklearn_parameters,
    torch_parameters,
    weight_bytes,
)
from fineclass.recipes.compare.spec import CandidateSpec
from fineclass.rundir import DATA, METRICS, resolve_model_dir, run_dir_of

logger = logging.getLogger(__name__)

CANDIDATES = "candidates"
LABELS_FILE = "labels.txt"


@dataclass
class CandidateResult:
    """One leaderboard row: the candidate's test metrics and what it costs."""

    name: str
    """Display name (a local path cut to its last part)."""
    spec: str
    """The --models entry as given."""
    kind: str
    """fine-tune, evaluate, tfidf-logreg, frozen, onnx-int8 or shrink."""
    metrics: dict
    """Scalar test metrics on the compare's test split."""
    train_seconds: float | None
    """Training time in this compare; None for a model that was only evaluated."""
    texts_per_second: float
    latency_ms_p50: float
    parameters: int
    size_bytes: int
    """Bytes of the weight files (safetensors, onnx, joblib) the candidate needs to predict."""
    path: str
    """Where the candidate's model is."""
    details: dict = field(default_factory=dict)
    pareto: bool = False
    """On the Pareto front of the headline metric against texts per second."""


@dataclass
class CompareContext:
    """What every candidate shares: the run's settings, the one split, and the models fine-tuned so far."""

    config: TrainConfig
    out: Path
    data_dir: Path
    """The split written once as {train,validation,test}.jsonl and labels.txt; every fine-tuned candidate trains on it."""
    labels: LabelSpace
    frames: dict[str, pd.DataFrame]
    progress: object = None
    """The caller's TrainerCallback for progress, or None."""
    fine_tuned: dict = field(default_factory=dict)
    """Model name -> RunResult, so `X` and `X@onnx-int8` fine-tune X only once."""

    def candidate_dir(self, slug: str) -> Path:
        return self.out / CANDIDATES / slug


@dataclass
class Built:
    """A candidate ready to predict, before it is measured."""

    predict: Callable[[list[str]], np.ndarray]
    """Texts -> hard decisions in DATA's label order: class ids (-1: a label DATA lacks) or a 0/1 matrix."""
    train_seconds: float | None
    parameters: int
    size_bytes: int
    path: Path
    details: dict = field(default_factory=dict)


def run_candidate(spec: CandidateSpec, ctx: CompareContext) -> CandidateResult:
    """Build (train, export or load) the candidate, then time its predictions on the test split and score them."""
    built = BUILDERS[spec.kind](spec, ctx)
    test = ctx.frames["test"]
    decisions, speed = measure_speed(built.predict, list(test["text"]))
    metrics = score_decisions(decisions, encode_for_model(test, ctx.labels, "test"), ctx.labels)
    return CandidateResult(
        name=spec.name, spec=spec.text, kind=spec.kind, metrics=metrics,
        train_seconds=None if built.train_seconds is None else round(built.train_seconds, 2),
        texts_per_second=speed.texts_per_second, latency_ms_p50=speed.latency_ms_p50,
        parameters=int(built.parameters), size_bytes=int(built.size_bytes), path=str(built.path),
        details={**built.details, "batch_texts": speed.batch_texts, "latency_texts": speed.latency_texts},
    )


def fine_tune(spec: CandidateSpec, ctx: CompareContext) -> Built:
    """The model fine-tuned with the run's settings on the compare's split: candidates/<slug>/ is its run directory."""
    trained = train_once(spec.model, ctx.candidate_dir(spec.slug), ctx)
    return predictor_candidate(trained.model_dir, ctx, trained.metrics.train["seconds"], {"run": str(trained.run_dir)})


def evaluate_existing(spec: CandidateSpec, ctx: CompareContext) -> Built:
    """A fineclass run, model or export directory, scored as it is (its training time is not this compare's)."""
    model_dir = resolve_model_dir(spec.model)
    details = {"evaluated_only": True, **trained_on_test(spec, model_dir, ctx)}
    run = run_dir_of(model_dir)
    if run and (run / METRICS).is_file():
        recorded = json.loads((run / METRICS).read_text(encoding="utf-8")).get("train", {}).get("seconds")
        details["recorded_train_seconds"] = recorded
    return predictor_candidate(model_dir, ctx, None, details)


def trained_on_test(spec: CandidateSpec, model_dir: Path, ctx: CompareContext) -> dict:
    """How many of the compare's test texts an existing run saw in training (from its saved train split)."""
    run = run_dir_of(model_dir)
    path = run / DATA / "train.jsonl" if run else None
    if path is None or not path.is_file():
        return {}
    seen = set(pd.read_json(path, lines=True, dtype=False)["text"])
    overlap = sum(text in seen for text in ctx.frames["test"]["text"])
    if overlap:
        logger.warning("%s: %d of the %d test texts are in the training split of %s, so its score is optimistic",
                       spec.name, overlap, len(ctx.frames["test"]), run)
    return {"test_texts_in_its_training": overlap}


def onnx_int8(spec: CandidateSpec, ctx: CompareContext) -> Built:
    """The int8 ONNX export of a fine-tuned model: an existing run's onnx-int8/ is reused, else it is exported here."""
    from fineclass.inference.backends import is_onnx_dir
    from fineclass.inference.export import export_onnx

    details, train_seconds, reused = {}, None, None
    if spec.source == "base":  # fine-tune it first (once, if X is also a candidate)
        trained = train_once(spec.model, ctx.candidate_dir(spec.slug) / "fine-tuned", ctx)
        model_dir, train_seconds = trained.model_dir, trained.metrics.train["seconds"]
    else:
        model_dir = resolve_model_dir(spec.model)
        details.update(trained_on_test(spec, model_dir, ctx))
        run = run_dir_of(model_dir)
        reused = run / "onnx-int8" if run and is_onnx_dir(run / "onnx-int8") else None
    if reused is not None:
        logger.info("%s: reusing the export in %s", spec.name, reused)
        target = reused
    else:
        start = time.perf_counter()
        with quiet_root_logger():
            target = export_onnx(model_dir, ctx.candidate_dir(spec.slug) / "onnx-int8", quantize="int8", overwrite=True)
        details["export_seconds"] = round(time.perf_counter() - start, 2)
    details.update({"exported_from": str(model_dir), "reused_export": reused is not None})
    return predictor_candidate(target, ctx, train_seconds, details)


def shrink(spec: CandidateSpec, ctx: CompareContext) -> Built:
    """The first K layers of the model as a student (student/), fine-tuned with the run's settings (run/)."""
    from fineclass.recipes.compare.shrink import build_student

    directory = ctx.candidate_dir(spec.slug)
    student = build_student(model_path(spec.model), spec.layers, directory / "student")
    trained = train_once(str(student), directory / "run", ctx)
    details = {"layers": spec.layers, "student": str(student), "run": str(trained.run_dir)}
    return predictor_candidate(trained.model_dir, ctx, trained.metrics.train["seconds"], details)


def distill(spec: CandidateSpec, ctx: CompareContext) -> Built:
    """The teacher run's first K layers distilled from it (`fineclass distill`) on the teacher's split: run/."""
    from fineclass.recipes.distill import run_distillation

    directory = ctx.candidate_dir(spec.slug)
    config = replace(ctx.config, output_dir=str(directory / "run"), overwrite=False)
    trained = run_distillation(spec.model, config, layers=spec.layers, progress=ctx.progress)
    details = {"layers": spec.layers, "teacher": spec.model, "run": str(trained.run_dir),
               **trained_on_test(spec, resolve_model_dir(spec.model), ctx)}
    return predictor_candidate(trained.model_dir, ctx, trained.metrics.train["seconds"], details)


def tfidf_logreg(spec: CandidateSpec, ctx: CompareContext) -> Built:
    start = time.perf_counter()
    model = TfidfLogreg(ctx.frames, ctx.labels, ctx.config)
    seconds = time.perf_counter() - start
    saved = model.save(ctx.candidate_dir(spec.slug))
    details = {"C": model.head.C, "features": len(model.vectorizer.vocabulary_)}
    return Built(model.predict, seconds, sklearn_parameters(model.head.classifier), saved.stat().st_size, saved, details)


def frozen(spec: CandidateSpec, ctx: CompareContext) -> Built:
    start = time.perf_counter()
    model = FrozenEncoder(model_path(spec.model), ctx.frames, ctx.labels, ctx.config)
    seconds = time.perf_counter() - start
    directory = model.save(ctx.candidate_dir(spec.slug))
    parameters = torch_parameters(model.encoder) + sklearn_parameters(model.head.classifier)
    size = weight_bytes(directory / "encoder") + weight_bytes(directory)
    details = {"C": model.head.C, "pooling": "mean over tokens, L2-normalised"}
    return Built(model.predict, seconds, parameters, size, directory, details)


def train_once(model: str, output_dir: Path, ctx: CompareContext):
    """run_training on the compare's written split, with the run's settings; a model is fine-tuned at most once."""
    from fineclass.recipes.train import run_training

    local = Path(model).expanduser()
    key = str(local.resolve()) if local.exists() else model
    if key not in ctx.fine_tuned:
        config = replace(
            ctx.config, model=model, output_dir=str(output_dir), data=str(ctx.data_dir),
            text_column="text", label_column="labels", label_names=str(ctx.data_dir / LABELS_FILE),
            text_pair_column="text_pair" if "text_pair" in ctx.frames["train"].columns else None,
            label_columns=None, reading=ReadOptions(),
            multi_label=ctx.labels.multi_label,
            max_train_samples=None, max_eval_samples=None,  # the written splits are already the samples
            overwrite=False,
        )
        ctx.fine_tuned[key] = run_training(config, progress=ctx.progress)
    return ctx.fine_tuned[key]


def predictor_candidate(model_dir: Path, ctx: CompareContext, train_seconds, details: dict) -> Built:
    """A torch or ONNX model directory through the Predictor that `predict` and `evaluate` use."""
    from fineclass.inference.backends import ONNX_FILE, is_onnx_dir
    from fineclass.inference.predictor import Predictor

    predictor = Predictor.from_dir(model_dir, batch_size=ctx.config.eval_batch_size, max_length=ctx.config.max_length)
    onnx = is_onnx_dir(model_dir)
    parameters = onnx_parameters(model_dir / ONNX_FILE) if onnx else torch_parameters(predictor.backend.model)
    return Built(in_data_labels(predictor, ctx.labels), train_seconds, parameters, weight_bytes(model_dir), model_dir, details)


def in_data_labels(predictor, labels: LabelSpace) -> Callable[[list[str]], np.ndarray]:
    """The predictor's decisions, mapped from the model's label order to DATA's."""
    names = predictor.label_space.names
    if labels.multi_label:
        columns = [names.index(n) for n in labels.names]
        return lambda texts: (predictor.predict_proba(texts) >= predictor.thresholds)[:, columns].astype(np.int8)
    to_data = np.array([labels.label2id.get(n, -1) for n in names])
    return lambda texts: to_data[predictor.predict_proba(texts).argmax(axis=1)]


@contextmanager
def quiet_root_logger():
    """onnxruntime's quantizer warns through the root logger; with no handler there, logging would add one that
    then repeats every later fineclass log line. A NullHandler keeps the root logger as the CLI set it up."""
    root, handler = logging.getLogger(), logging.NullHandler()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def model_path(name: str) -> str:
    """A local run or model directory as its model directory; anything else as resolve_model_path gives it."""
    from fineclass.modeling import resolve_model_path

    return str(resolve_model_dir(name)) if Path(name).expanduser().exists() else resolve_model_path(name)


BUILDERS = {
    kinds.FINETUNE: fine_tune,
    kinds.EVALUATE: evaluate_existing,
    kinds.ONNX_INT8: onnx_int8,
    kinds.SHRINK: shrink,
    kinds.DISTILL: distill,
    kinds.TFIDF: tfidf_logreg,
    kinds.FROZEN: frozen,
}
