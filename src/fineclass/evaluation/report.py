"""report.html: metrics, per-class scores, confusion matrices, curves, errors and the baseline, in one file."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix

from fineclass import html as h
from fineclass import plots
from fineclass.evaluation.calibration import BINS, answers_correct, reliability_bins, risk_coverage
from fineclass.evaluation.evaluate import EvalResult
from fineclass.inference.predictor import confidence
from fineclass.labels import LabelSpace
from fineclass.outputs import write_text_atomic

HEADLINE = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "f1_samples", "exact_match")


def write_report(out_dir: Path, label_space: LabelSpace, result: EvalResult, texts: list[str], run_metrics: dict | None,
                 thresholds: np.ndarray, title: str) -> Path:
    """Write report.html and plots/*.png into `out_dir`; `run_metrics` (metrics.json) adds curves, baseline and model."""
    run_metrics = run_metrics or {}
    figures = out_dir / "plots"
    m = result.metrics
    sections = [("Metrics", metrics_table(m, run_metrics.get("baseline"))),
                ("Per class", per_class_table(m["per_class"], run_metrics.get("data", {}).get("rare_classes", {})))]
    if label_space.multi_label:
        at_half = result.at_half(label_space.names)
        sections.append(("Tuned thresholds against 0.5", threshold_table(m, at_half)))
        predicted = result.probs >= thresholds
        sections.append(("Per label decisions", per_label_counts(label_space, result.y_true.astype(bool), predicted)))
        sections.append(("Most frequent confusions", frequent_confusions(label_space, result.y_true.astype(bool), predicted)))
    else:
        sections.append(("Confusion matrix", confusion_figures(label_space, result, figures)))
    if run_metrics.get("calibration"):
        sections.append(("Calibration and abstention", calibration_section(label_space, result, thresholds,
                                                                            run_metrics["calibration"], figures)))
    if run_metrics.get("validation"):
        sections.append(("Training curves", curves(run_metrics, figures)))
    sections.append(("Most confident errors", confident_errors(label_space, result, texts, thresholds)))
    if run_metrics.get("label_shares"):
        sections.append(("Split balance", split_balance(run_metrics["label_shares"])))
    if run_metrics.get("model"):
        sections.append(("Model", model_summary(run_metrics["model"])))
    path = out_dir / "report.html"
    write_text_atomic(path, h.page(title, sections))
    return path


def per_class_table(per_class: dict, rare: dict[str, dict[str, int]]) -> str:
    """Scores per class; a class the run had too few rows of for reliable scores is marked with *."""
    rows = [[f"{n} *" if n in rare else n, r["precision"], r["recall"], r["f1"], r["support"]] for n, r in per_class.items()]
    table = h.table(["label", "precision", "recall", "F1", "support"], rows)
    if not rare:
        return table
    counts = "; ".join(f"{n}: {', '.join(f'{s} {c}' for s, c in splits.items())}" for n, splits in rare.items())
    return table + (f'<p class="note">* Too few rows in the run\'s data to stratify ({html.escape(counts)}): a class '
                    "with a row for every split has one in each, a rarer one was only trained on. Its scores are "
                    "unreliable.</p>")


def metrics_table(m: dict, baseline: dict | None) -> str:
    keys = [k for k in HEADLINE if k in m]
    if not baseline:
        return h.table(["metric", "value"], [[k, m[k]] for k in keys])
    rows = [[k, m[k], baseline[k], m[k] - baseline[k]] for k in keys if k in baseline]
    return (h.table(["metric", "fine-tuned", "baseline (untrained head)", "difference"], rows)
            + '<p class="note">Baseline: the same pretrained encoder with a new, untrained classification head, on the same rows.</p>')


def threshold_table(m: dict, at_half: dict) -> str:
    keys = [k for k in HEADLINE if k in at_half]
    return h.table(["metric", "the model's thresholds", "threshold 0.5"], [[k, m[k], at_half[k]] for k in keys])


def confusion_figures(label_space: LabelSpace, result: EvalResult, figures: Path) -> str:
    names = list(label_space.names)
    cm = confusion_matrix(result.y_true, result.probs.argmax(1), labels=range(len(names)))
    normalized = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    counts = plots.plot_heatmap(cm, names, figures / "confusion_matrix.png", "Confusion matrix (counts)", "Predicted", "Actual")
    rates = plots.plot_heatmap(normalized, names, figures / "confusion_matrix_normalized.png",
                               "Confusion matrix (row-normalised)", "Predicted", "Actual", fmt=".2f")
    return h.image(counts, "confusion matrix counts") + h.image(rates, "confusion matrix row-normalised")


def per_label_counts(label_space: LabelSpace, truth: np.ndarray, predicted: np.ndarray) -> str:
    rows = []
    for i, name in enumerate(label_space.names):
        tp = int((truth[:, i] & predicted[:, i]).sum())
        fp = int((~truth[:, i] & predicted[:, i]).sum())
        fn = int((truth[:, i] & ~predicted[:, i]).sum())
        rows.append([name, tp, fp, fn, 2 * tp / max(2 * tp + fp + fn, 1)])
    return h.table(["label", "TP", "FP", "FN", "F1"], rows)


def frequent_confusions(label_space: LabelSpace, truth: np.ndarray, predicted: np.ndarray, top: int = 15) -> str:
    """Pairs (true label missed, wrong label predicted instead) within the same text."""
    pairs = Counter()
    for t, p in zip(truth, predicted):
        for missed in np.flatnonzero(t & ~p):
            for wrong in np.flatnonzero(p & ~t):
                pairs[(label_space.names[missed], label_space.names[wrong])] += 1
    rows = [[a, b, n] for (a, b), n in pairs.most_common(top)]
    return h.table(["true label (missed)", "predicted instead", "texts"], rows) if rows else "<p>None.</p>"


def curves(run_metrics: dict, figures: Path) -> str:
    validation = run_metrics["validation"]
    epochs = [v["epoch"] for v in validation]
    train_loss = epoch_means(run_metrics.get("train_loss", []), epochs)
    metric = run_metrics.get("selection_metric", "f1_macro")
    loss = plots.plot_curves(epochs, {"training": train_loss, "validation": [v["loss"] for v in validation]},
                             figures / "loss.png", "Loss per epoch", "loss")
    score = plots.plot_curves(epochs, {"validation": [v.get(metric, np.nan) for v in validation]},
                              figures / "selection_metric.png", f"Validation {metric} per epoch", metric)
    return h.image(loss, "loss per epoch") + h.image(score, "selection metric per epoch")


def epoch_means(points: list[dict], epochs: list[float]) -> list[float]:
    """Mean logged training loss within each epoch."""
    means, start = [], 0.0
    for end in epochs:
        values = [p["loss"] for p in points if start < p["epoch"] <= end + 1e-9]
        means.append(float(np.mean(values)) if values else float("nan"))
        start = end
    return means


def confident_errors(label_space: LabelSpace, result: EvalResult, texts: list[str], thresholds, top: int = 20) -> str:
    names = label_space.names
    rows = []
    if label_space.multi_label:
        predicted = result.probs >= thresholds
        truth = result.y_true.astype(bool)
        wrong = np.flatnonzero((predicted != truth).any(axis=1))
        confidence = np.abs(result.probs - truth)[wrong].max(axis=1) if len(wrong) else np.array([])
        for i in wrong[np.argsort(-confidence)][:top]:
            rows.append([texts[i][:300], ", ".join(names[j] for j in np.flatnonzero(truth[i])),
                         ", ".join(f"{names[j]} {result.probs[i, j]:.2f}" for j in np.flatnonzero(predicted[i])) or "-"])
    else:
        predicted = result.probs.argmax(1)
        wrong = np.flatnonzero(predicted != result.y_true)
        confidence = result.probs[wrong, predicted[wrong]]
        for i in wrong[np.argsort(-confidence)][:top]:
            rows.append([texts[i][:300], names[result.y_true[i]], f"{names[predicted[i]]} {result.probs[i, predicted[i]]:.2f}"])
    return h.table(["text", "true", "predicted (score)"], rows) if rows else "<p>No errors.</p>"


def split_balance(shares: dict[str, dict[str, float]]) -> str:
    """Each label's share of rows in each split: a stratified split keeps them close."""
    splits = list(shares)
    names = list(next(iter(shares.values())))
    return h.table(["label", *splits], [[n, *(shares[s][n] for s in splits)] for n in names])


def calibration_section(label_space: LabelSpace, result: EvalResult, thresholds, record: dict, figures: Path) -> str:
    """What calibration did (ECE, Brier, NLL before and after), the reliability diagram, the risk-coverage curve and
    the coverage at 90/95/99% accuracy, all on the test split's (calibrated) scores."""
    multi = label_space.multi_label
    fitted = record.get("fitted", "none")
    if fitted != "none" and not record.get("kept"):
        fitted = f"none ({fitted} did not lower ECE)"
    rows = [[split, name, record[split]["before"][name], record[split]["after"][name]]
            for split in ("validation", "test") if split in record for name in ("ece", "brier", "nll")]
    text = f"<p>calibration: {html.escape(str(fitted))}</p>" + h.table(["split", "metric", "before", "after"], rows)
    bars = reliability_bins(result.probs, result.y_true, multi)
    diagram = plots.plot_reliability(bars["confidence"], bars["accuracy"], bars["bin_edges"], 1 / BINS,
                                     figures / "reliability.png",
                                     "reliability of p(label)" if multi else "reliability of the top label")
    correct = answers_correct(result.probs, result.y_true, thresholds, multi)
    coverage, risk, aurc = risk_coverage(confidence(result.probs, multi), correct)
    curve = plots.plot_risk_coverage(coverage, risk, figures / "risk_coverage.png", aurc)
    wanted = record.get("test", {}).get("coverage_at_accuracy", {})
    table = h.table(["accuracy" + (" (exact match)" if multi else ""), "coverage"], [[a, c] for a, c in wanted.items()])
    return text + h.image(diagram, "reliability diagram") + h.image(curve, "risk-coverage curve") + table


def model_summary(model: dict) -> str:
    rows = [[k, v] for k, v in model.items() if k in ("architecture", "base", "parameters", "head_parameters", "head_share", "layers", "hidden_size")]
    return h.table(["", ""], rows)
