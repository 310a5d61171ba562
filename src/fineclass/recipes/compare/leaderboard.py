"""The leaderboard: ranking, the Pareto front, and compare.json, compare.html and plots/pareto.png."""

from __future__ import annotations

from dataclasses import asdict
from html import escape
from pathlib import Path

from fineclass import html as h
from fineclass import plots
from fineclass.labels import LabelSpace
from fineclass.recipes.compare.candidates import CandidateResult
from fineclass.outputs import write_json_atomic, write_text_atomic

COMPARE_JSON = "compare.json"
COMPARE_HTML = "compare.html"
PARETO_PLOT = Path("plots") / "pareto.png"


def headline_metric(labels: LabelSpace) -> str:
    """What the leaderboard ranks by and the plot shows: accuracy, or micro-F1 for multi-label."""
    return "f1_micro" if labels.multi_label else "accuracy"


def metric_keys(labels: LabelSpace) -> tuple[str, ...]:
    return ("f1_micro", "f1_macro", "exact_match") if labels.multi_label else ("accuracy", "f1_macro")


def pareto_front(points: list[tuple[float, float]]) -> list[bool]:
    """For (score, speed) points, whether each is undominated: no other is as good in both and better in one."""
    return [
        not any(s2 >= s and v2 >= v and (s2 > s or v2 > v) for s2, v2 in points)
        for s, v in points
    ]


def rank_candidates(results: list[CandidateResult], labels: LabelSpace) -> list[CandidateResult]:
    """Mark the Pareto front, then sort by the headline metric (ties: the faster first)."""
    key = headline_metric(labels)
    front = pareto_front([(r.metrics[key], r.texts_per_second) for r in results])
    for result, on_front in zip(results, front):
        result.pareto = on_front
    return sorted(results, key=lambda r: (-r.metrics[key], -r.texts_per_second))


def leaderboard_rows(results: list[CandidateResult], labels: LabelSpace) -> tuple[list[str], list[list[str]]]:
    """The table shown in the terminal and in compare.html, as text cells."""
    keys = metric_keys(labels)
    headers = ["#", "candidate", "kind", *keys, "train s", "texts/s", "p50 ms", "parameters", "size", "Pareto"]
    rows = [
        [str(i), r.name, r.kind, *(f"{r.metrics[k]:.4f}" for k in keys),
         format_seconds(r.train_seconds),
         f"{r.texts_per_second:,.0f}", f"{r.latency_ms_p50:.2f}", f"{r.parameters:,}", format_bytes(r.size_bytes),
         "yes" if r.pareto else ""]
        for i, r in enumerate(results, 1)
    ]
    return headers, rows


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.2f}" if seconds < 10 else f"{seconds:.0f}"


def format_bytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.1f} kB"


def write_leaderboard(out: Path, results: list[CandidateResult], labels: LabelSpace, summary: dict) -> dict[str, Path]:
    """compare.json (everything), plots/pareto.png and compare.html (the table, the plot and how it was measured)."""
    key = headline_metric(labels)
    plot = plots.plot_pareto([r.name for r in results], [r.texts_per_second for r in results],
                             [r.metrics[key] for r in results], [r.pareto for r in results], out / PARETO_PLOT, key)
    payload = {**summary, "headline_metric": key, "candidates": [asdict(r) for r in results]}
    write_json_atomic(out / COMPARE_JSON, payload)
    headers, rows = leaderboard_rows(results, labels)
    sections = [
        ("Leaderboard", h.table(headers, rows) + f'<p class="note">{escape(measurement_note(summary))}</p>'),
        (f"{key} against throughput", h.image(plot, f"{key} against texts per second, with the Pareto front")),
        ("Candidates", h.table(["candidate", "spec", "path", "details"],
                               [[r.name, r.spec, r.path, ", ".join(f"{k}={v}" for k, v in r.details.items())] for r in results])),
    ]
    write_text_atomic(out / COMPARE_HTML, h.page(f"fineclass compare: {summary['data']['source']}", sections))
    return {"json": out / COMPARE_JSON, "html": out / COMPARE_HTML, "plot": plot}


def measurement_note(summary: dict) -> str:
    rows = summary["data"]["rows"]
    return (f"Every candidate is scored on the same {rows['test']} test rows (trained on {rows['train']}, selected on "
            f"{rows['validation']} validation rows). texts/s: all test texts in one batch call, after a warm-up call; "
            f"p50 ms: the median time to predict one text alone; {summary['measurement']['threads']} CPU threads. "
            "Size: the weight files needed to predict. Pareto: no other candidate is both as accurate and as fast.")
