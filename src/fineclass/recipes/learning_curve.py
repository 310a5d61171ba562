"""The learning-curve recipe: one fixed split → seeded, stratified training samples of each size → every candidate
trained and scored on the same test split → the spread per size, a fitted curve, and a plot.

It answers the question a team asks first: how many labels do we need, and what would 1,000 more buy?
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from fineclass import plots
from fineclass.config import TrainConfig
from fineclass.data.split import sample_stratified
from fineclass.errors import ConfigError, DataError, first_line
from fineclass.labels import LabelSpace
from fineclass.recipes.compare.candidates import CANDIDATES, CompareContext, run_candidate
from fineclass.recipes.compare.leaderboard import headline_metric
from fineclass.recipes.compare.measure import remove_weights
from fineclass.outputs import OutputKind, check_output_dir, prepare_output_dir, record_entries
from fineclass.recipes.compare.run import sweep_inputs, write_split
from fineclass.recipes.compare.spec import check_candidates, parse_candidates
from fineclass.recipes.train import load_task
from fineclass.redact import redact_source
from fineclass.rundir import DATA, write_json_atomic

logger = logging.getLogger(__name__)

CURVE_JSON = "learning_curve.json"
CURVE_PLOT = Path("plots") / "learning_curve.png"
POINTS = "points"
ENTRIES = (CURVE_JSON, CURVE_PLOT.parts[0], POINTS)
CURVE_OUTPUT = OutputKind("learning-curve", legacy_markers=(CURVE_JSON,), legacy_entries=ENTRIES, result=CURVE_JSON)
ALL = "all"


@dataclass
class CurvePoint:
    """One candidate trained on one sample and scored on the test split."""

    candidate: str
    size: int
    seed: int
    metrics: dict
    train_seconds: float | None
    seconds: float
    """The whole point: sampling, training and scoring."""


@dataclass
class CurveResult:
    output_dir: Path
    labels: LabelSpace
    metric: str
    """The headline metric: accuracy, or micro-F1 for multi-label."""
    points: list[CurvePoint]
    summary: list[dict]
    """Per candidate and size: runs, mean, std, min and max of the headline metric and macro-F1, mean training time."""
    fits: dict[str, dict]
    """Per candidate: the fitted curve metric(n) = a - b·n^(-c), its plateau and what 1,000 more labels would add."""
    paths: dict[str, Path] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        from fineclass import html as page_html

        headers, rows = summary_rows(self.summary, self.metric)
        plot = self.paths.get("plot")
        notes = "".join(f"<p>{fit_sentence(name, fit, self.metric)}</p>" for name, fit in self.fits.items())
        return page_html.table(headers, rows) + notes + (page_html.image(plot, "learning curve") if plot else "")


def parse_sizes(text: str | list) -> list[int | None]:
    """'48,96,all' (or [48, 96, "all"]) to training-set sizes; None stands for the whole training split."""
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else [str(p).strip() for p in text]
    sizes: list[int | None] = []
    for part in parts:
        if part.lower() == ALL:
            sizes.append(None)
            continue
        try:
            size = int(part)
        except ValueError:
            size = 0
        if size < 2:
            raise ConfigError(f"--sizes {part!r} must be a whole number of training texts >= 2 or 'all', "
                              "like --sizes 48,96,192,384,all")
        sizes.append(size)
    if not sizes:
        raise ConfigError("--sizes needs at least one size, like --sizes 48,96,192,384,all")
    return sizes


def run_learning_curve(config: TrainConfig, sizes: list[int | None], seeds: int = 3, models: list[str] | None = None,
                       keep_models: bool = False, progress=None, announce=None, raw=None) -> CurveResult:
    """Train every candidate at every size (`seeds` samples below the full split) and write the curve into
    config.output_dir. The split is config.seed's; sample i and its training use config.seed + i."""
    if seeds < 1:
        raise ConfigError(f"--seeds must be >= 1, got {seeds}")
    specs = parse_candidates(models or [config.model])
    out = Path(config.output_dir)
    inputs = sweep_inputs(config, specs)
    check_output_dir(out, CURVE_OUTPUT, config.overwrite, inputs)
    task, frames = load_task(replace(config, max_train_samples=None), announce, raw)
    if "test" not in frames:
        raise DataError("a learning curve scores every size on a test split, and DATA has none; "
                        "give a test file, or a --split with a test share like 0.7,0.2,0.1")
    labels = task.label_space
    specs = check_candidates(specs, labels)
    prepare_output_dir(out, CURVE_OUTPUT, config.overwrite, inputs)
    record_entries(out, POINTS)
    train = frames["train"]
    counts = sorted({min(size or len(train), len(train)) for size in sizes})
    points = []
    for size in counts:
        for repeat in range(1 if size == len(train) else seeds):
            seed = config.seed + repeat
            sample = sample_stratified(train, size, labels.multi_label, seed)
            point_dir = out / POINTS / f"{size}-seed{seed}"
            point_frames = {**frames, "train": sample}
            # Sweeps skip the untrained-head baseline and the report: a point is scored by the curve, not read alone.
            point_config = replace(config, seed=seed, output_dir=str(point_dir), baseline=False, report=False,
                                   max_train_samples=None)
            ctx = CompareContext(point_config, point_dir, write_split(point_dir / DATA, point_frames, labels), labels,
                                 point_frames, progress)
            for spec in specs:
                logger.info("learning curve: %s on %d training texts (seed %d)", spec.name, size, seed)
                start = time.perf_counter()
                result = run_candidate(spec, ctx)
                points.append(CurvePoint(spec.name, size, seed, result.metrics, result.train_seconds,
                                         round(time.perf_counter() - start, 2)))
            if not keep_models:
                remove_weights(point_dir / CANDIDATES)
    metric = headline_metric(labels)
    summary = summarise(points, metric)
    fits = {name: fit_curve([(s["size"], s[metric]) for s in summary if s["candidate"] == name], len(train))
            for name in dict.fromkeys(p.candidate for p in points)}
    result = CurveResult(out, labels, metric, points, summary, fits)
    result.paths = write_curve(result, {"source": redact_source(config.data), "rows": {s: len(f) for s, f in frames.items()},
                                        "seeds": seeds, "settings": config.to_record()})
    return result


def summarise(points: list[CurvePoint], metric: str) -> list[dict]:
    """Mean, standard deviation, min and max per candidate and size, in the order the points ran."""
    groups: dict[tuple[str, int], list[CurvePoint]] = {}
    for point in points:
        groups.setdefault((point.candidate, point.size), []).append(point)
    rows = []
    for (name, size), group in groups.items():
        row = {"candidate": name, "size": size, "runs": len(group)}
        for key in dict.fromkeys((metric, "f1_macro")):
            values = np.array([p.metrics[key] for p in group], dtype=float)
            row.update({key: float(values.mean()), f"{key}_std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                        f"{key}_min": float(values.min()), f"{key}_max": float(values.max())})
        trained = [p.train_seconds for p in group if p.train_seconds is not None]
        row["train_seconds"] = round(float(np.mean(trained)), 2) if trained else None
        rows.append(row)
    return rows


def power_law(n, a, b, c):
    return a - b * np.power(n, -c)


def fit_curve(means: list[tuple[int, float]], full_size: int) -> dict:
    """Fit metric(n) = a - b·n^(-c), the inverse power law of learning curves (Figueroa et al., 2012), to the means.

    Returns the parameters, the predicted gain from 1,000 more labels than the largest size, and where the curve
    flattens (a doubling of the labels adds under one point). Needs three sizes; it extrapolates, so it is a guide.
    """
    if len(means) < 3:
        return {"fitted": False, "reason": "needs at least three sizes"}
    from scipy.optimize import curve_fit

    n, y = np.array([m[0] for m in means], dtype=float), np.array([m[1] for m in means], dtype=float)
    try:
        (a, b, c), _ = curve_fit(power_law, n, y, p0=(min(1.0, y.max() + 0.05), 1.0, 0.5),
                                 bounds=([0.0, 0.0, 1e-3], [1.0, np.inf, 3.0]), maxfev=20000)
    except (RuntimeError, ValueError) as err:
        return {"fitted": False, "reason": first_line(err)}
    largest = int(n.max())
    gain_per_doubling = lambda size: b * size ** -c * (1 - 2 ** -c)  # noqa: E731
    flat = (b * (1 - 2 ** -c) / 0.01) ** (1 / c)  # the size where a doubling adds 0.01
    return {
        "fitted": True, "a": float(a), "b": float(b), "c": float(c), "largest_size": largest,
        "predicted_at_largest": float(power_law(largest, a, b, c)),
        "predicted_with_1000_more": float(power_law(largest + 1000, a, b, c)),
        "gain_with_1000_more": float(power_law(largest + 1000, a, b, c) - power_law(largest, a, b, c)),
        "gain_per_doubling_at_largest": float(gain_per_doubling(largest)),
        "flattens_at": int(round(flat)), "full_training_size": full_size, "plateau": float(a),
        "at_plateau_bound": bool(a > 0.999),
    }


def fit_sentence(name: str, fit: dict, metric: str) -> str:
    if not fit.get("fitted"):
        return f"{name}: no curve fitted ({fit.get('reason')})"
    text = (f"{name}: {metric} {fit['predicted_at_largest']:.3f} at {fit['largest_size']:,} labels; 1,000 more would "
            f"give about {fit['predicted_with_1000_more']:.3f} ({fit['gain_with_1000_more']:+.3f}); a doubling adds under "
            f"one point from about {fit['flattens_at']:,} labels")
    return text + (" (the fit reached its plateau bound of 1.0: a local guide, not a ceiling)" if fit["at_plateau_bound"] else "")


def summary_rows(summary: list[dict], metric: str) -> tuple[list[str], list[list[str]]]:
    keys = list(dict.fromkeys((metric, "f1_macro")))
    headers = ["candidate", "texts", "runs", *(f"{k} (mean ± std)" for k in keys), f"{metric} min-max", "train s"]
    rows = []
    for s in summary:
        spread = [f"{s[k]:.4f} ± {s[k + '_std']:.4f}" for k in keys]
        rows.append([s["candidate"], f"{s['size']:,}", str(s["runs"]), *spread,
                     f"{s[metric + '_min']:.4f}-{s[metric + '_max']:.4f}",
                     "-" if s["train_seconds"] is None else f"{s['train_seconds']:.0f}"])
    return headers, rows


def write_curve(result: CurveResult, info: dict) -> dict[str, Path]:
    out = result.output_dir
    series = {}
    for s in result.summary:
        series.setdefault(s["candidate"], []).append((s["size"], s[result.metric], s[result.metric + "_std"]))
    curves = {name: fit for name, fit in result.fits.items() if fit.get("fitted")}
    record_entries(out, CURVE_JSON, CURVE_PLOT.parts[0])
    plot = plots.plot_learning_curve(series, {name: (fit["a"], fit["b"], fit["c"]) for name, fit in curves.items()},
                                     out / CURVE_PLOT, result.metric)
    payload = {**info, "task": {"multi_label": result.labels.multi_label, "labels": list(result.labels.names)},
               "metric": result.metric, "summary": result.summary, "fits": result.fits,
               "points": [asdict(p) for p in result.points]}
    write_json_atomic(out / CURVE_JSON, payload)
    return {"json": out / CURVE_JSON, "plot": plot}
