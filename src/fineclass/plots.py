"""Every figure fineclass draws. The only module that imports matplotlib (Agg backend: no display)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from fineclass.outputs import atomic_path


def _plain_text(plot):
    """Draw with mathtext off: a label such as `$_$` or `a$b$c` is text, and as mathtext it fails to parse.
    (rc_context: the setting holds for this figure only, not for the caller's own figures.)"""

    @functools.wraps(plot)
    def draw(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return draw


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@_plain_text
def plot_class_counts(counts: dict[str, int], path: Path, title: str = "Frequency of classes") -> Path:
    plt = _pyplot()
    names = sorted(counts, key=counts.get)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.3 * len(names) + 1)))
    ax.barh(names, [counts[n] for n in names], color="#4c72b0")
    ax.set_title(title)
    ax.set_xlabel("texts")
    return _save(fig, path)


@_plain_text
def plot_words_by_class(words: dict[str, list[int]], path: Path) -> Path:
    plt = _pyplot()
    names = list(words)
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names) + 2), 4.5))
    ax.boxplot([words[n] for n in names], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=60 if len(names) > 8 else 0, ha="right" if len(names) > 8 else "center")
    ax.set_ylabel("words per text")
    ax.set_title("Words per text by class")
    return _save(fig, path)


@_plain_text
def plot_token_lengths(lengths: np.ndarray, limit: int, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(lengths, bins=min(60, max(10, int(lengths.max() - lengths.min() + 1))), color="#55a868")
    ax.axvline(limit, color="#c44e52", linestyle="--", label=f"truncation limit ({limit})")
    ax.set_xlabel("tokens per text (with special tokens)")
    ax.set_ylabel("texts")
    ax.set_title("Token lengths")
    ax.legend()
    return _save(fig, path)


@_plain_text
def plot_heatmap(matrix: np.ndarray, names, path: Path, title: str, xlabel: str, ylabel: str, fmt: str = "d") -> Path:
    """Annotated heatmap with label names (confusion matrices, label co-occurrence)."""
    plt = _pyplot()
    size = max(4.5, 0.38 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Reds")
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(names) <= 30:
        top = matrix.max() if matrix.size else 0
        for (i, j), value in np.ndenumerate(matrix):
            text = format(value, fmt) if fmt != "d" else str(int(value))
            ax.text(j, i, text, ha="center", va="center", fontsize=7 if len(names) > 10 else 9,
                    color="white" if top and value > top / 2 else "black")
    return _save(fig, path)


@_plain_text
def plot_labels_per_text(counts: list[int], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    values, freq = np.unique(counts, return_counts=True)
    ax.bar(values, freq, color="#8172b2")
    ax.set_xticks(values)
    ax.set_xlabel("labels per text")
    ax.set_ylabel("texts")
    ax.set_title("Labels per text")
    return _save(fig, path)


@_plain_text
def plot_curves(epochs, series: dict[str, list[float]], path: Path, title: str, ylabel: str) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name, values in series.items():
        ax.plot(epochs[: len(values)], values, marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(_pyplot().MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


@_plain_text
def plot_pareto(names: list[str], speeds: list[float], scores: list[float], on_front: list[bool], path: Path,
                metric: str) -> Path:
    """A metric against texts per second (log scale), the Pareto front joined by a line.

    Points are numbered in the order given (the leaderboard's), with the names in a key beside the plot,
    because candidates often share a score and their names would overlap.
    """
    plt = _pyplot()
    speeds, scores, front = np.asarray(speeds, float), np.asarray(scores, float), np.asarray(on_front, bool)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.scatter(speeds[~front], scores[~front], color="#8c8c8c", label="dominated")
    ax.scatter(speeds[front], scores[front], color="#c44e52", label="Pareto front", zorder=3)
    order = np.argsort(speeds[front])
    ax.plot(speeds[front][order], scores[front][order], color="#c44e52", linestyle="--", linewidth=1)
    for number, (x, y) in enumerate(zip(speeds, scores), 1):
        ax.annotate(str(number), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    key = "\n".join(f"{number}  {name}" for number, name in enumerate(names, 1))
    ax.text(1.03, 1.0, key, transform=ax.transAxes, va="top", fontsize=8)
    ax.set_xscale("log")
    ax.margins(x=0.1, y=0.1)
    ax.set_xlabel("texts per second (batch prediction, log scale)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against throughput")
    ax.legend(loc="best")
    return _save(fig, path)


@_plain_text
def plot_learning_curve(series: dict[str, list[tuple[int, float, float]]], fits: dict[str, tuple[float, float, float]],
                        path: Path, metric: str) -> Path:
    """Each candidate's mean metric against training texts (log scale) with ±1 std bars, and its fitted curve
    a - b·n^(-c) drawn on to four times the largest size."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.4))
    for name, points in series.items():
        sizes, means, stds = (np.array(values, dtype=float) for values in zip(*points))
        line = ax.errorbar(sizes, means, yerr=stds, marker="o", capsize=3, label=name)
        if name in fits:
            a, b, c = fits[name]
            grid = np.geomspace(sizes.min(), sizes.max() * 4, 100)
            ax.plot(grid, a - b * grid ** -c, linestyle=":", color=line[0].get_color(), label=f"{name} (fit)")
    ax.set_xscale("log")
    ax.set_xlabel("training texts (log scale)")
    ax.set_ylabel(f"test {metric}")
    ax.set_title(f"learning curve: test {metric} by training-set size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


@_plain_text
def plot_reliability(confidence: list[float], accuracy: list[float], edges: list[float], width: float, path: Path,
                     title: str) -> Path:
    """Bars of accuracy per confidence bin (left edges `edges`), each bin's mean confidence as a dot, and the diagonal
    a calibrated model's bars would reach."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.6))
    ax.bar(edges, accuracy, width=width, align="edge", edgecolor="#333333", color="#4c72b0", label="accuracy")
    ax.scatter(confidence, accuracy, color="#c44e52", zorder=3, s=14, label="mean confidence")
    ax.plot([0, 1], [0, 1], linestyle="--", color="#8c8c8c", label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


@_plain_text
def plot_risk_coverage(coverage: np.ndarray, risk: np.ndarray, path: Path, aurc: float) -> Path:
    """The error rate of the answers kept against the share kept, most confident first."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(coverage, risk, color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("coverage (share of texts answered, most confident first)")
    ax.set_ylabel("risk (error rate of the answers)")
    ax.set_title(f"risk-coverage (AURC {aurc:.4f})")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    _pyplot().close(fig)
    return path


STUDY_PLOTS = ("optimization_history", "param_importances", "parallel_coordinate", "slice")
"""The figures of a `tune` study, by the name of their `optuna.visualization.matplotlib.plot_*` function."""


@_plain_text
def plot_study(study, kind: str, path: Path) -> Path:
    """One of STUDY_PLOTS, drawn by Optuna's matplotlib backend (plotly's static export needs a browser download)."""
    _pyplot()
    import warnings

    import optuna.visualization.matplotlib as optuna_plots
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)  # equal importances of a few trials; tight_layout of a colorbar
        axes = getattr(optuna_plots, f"plot_{kind}")(study)
        first = np.ravel(axes)[0] if isinstance(axes, np.ndarray) else axes
        fig = first.get_figure()
        fig.set_size_inches(max(7.0, fig.get_figwidth()), max(4.0, fig.get_figheight()))
        return _save(fig, path)
