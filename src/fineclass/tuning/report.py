"""What a search writes: best.yaml (train --config reproduces the best trial), trials.csv, tune.json and tune.html
(Optuna's figures and the trial table, embedded), and the `TuneResult` a notebook shows."""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fineclass import html as page_html
from fineclass import plots
from fineclass.config import TrainConfig
from fineclass.labels import LabelSpace
from fineclass.outputs import atomic_path, record_entries, write_text_atomic
from fineclass.redact import redact_source
from fineclass.rundir import write_json_atomic
from fineclass.tuning.space import trial_settings

logger = logging.getLogger(__name__)

BEST_YAML, TRIALS_CSV, TUNE_JSON, TUNE_HTML, PLOTS = "best.yaml", "trials.csv", "tune.json", "tune.html", "plots"
OUTPUTS = (BEST_YAML, TRIALS_CSV, TUNE_JSON, TUNE_HTML, PLOTS)
NOT_REPRODUCED = ("output_dir", "overwrite")
"""Left out of best.yaml: `train` chooses its own output directory."""


@dataclass
class TuneResult:
    """A finished search: the best trial (by mean validation metric over seeds), trial 0, every trial, the files."""

    output_dir: Path
    metric: str
    best: dict | None
    """number, value, mean, std, params, run_dir, seeds' values, test (best and defaults)."""
    trials: list[dict]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def best_run_dir(self) -> Path | None:
        """The best trial's own run directory (its model/ is the best trial's, not the last trial's)."""
        return Path(self.best["run_dir"]) if self.best else None

    def _repr_html_(self) -> str:
        headers, rows = table_rows(self.trials)
        figure = self.paths.get("plots", Path()) / "optimization_history.png"
        return (f"<p>{summary_line(self.best, self.metric)}</p>" + test_table(self.best) + page_html.table(headers, rows)
                + (page_html.image(figure, "optimisation history") if figure.is_file() else ""))

    def __repr__(self) -> str:
        return f"TuneResult(output_dir={str(self.output_dir)!r}, trials={len(self.trials)}, {summary_line(self.best, self.metric)})"


def running_trials(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def ranked_trials(study, maximize: bool, extra: tuple | None = None) -> list[tuple[int, float, str]]:
    """(number, value, run dir) of the completed trials, best first; `extra` is a trial finishing now."""
    from optuna.trial import TrialState

    found = {t.number: (t.number, t.value, t.user_attrs.get("run_dir", ""))
             for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    if extra is not None:
        found[extra[0]] = (extra[0], extra[1], study.trials[extra[0]].user_attrs.get("run_dir", ""))
    # ties go to the lower number: trial 0 (the defaults) wins a tie
    return sorted(found.values(), key=lambda t: ((-t[1] if maximize else t[1]), t[0]))


def spread_text(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.4f}"
    return (f"mean {statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} "
            f"(min {min(values):.4f}, max {max(values):.4f})")


def best_summary(trial, values: list[float] | None) -> dict:
    values = values or [trial.value]
    return {"number": trial.number, "value": trial.value, "mean": statistics.mean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0, "seeds": values,
            "params": dict(trial.params), "run_dir": trial.user_attrs.get("run_dir"),
            "queued": trial.user_attrs.get("queued")}


def trial_row(trial) -> dict:
    """One trial as trials.csv and the live table show it."""
    seconds = trial.duration.total_seconds() if trial.duration is not None else None
    pruned_at = len(trial.intermediate_values) if trial.state.name == "PRUNED" else None
    return {"number": trial.number, "state": trial.state.name.lower(), "value": trial.value,
            "queued": trial.user_attrs.get("queued", ""), **{f"param_{k}": v for k, v in trial.params.items()},
            "evaluations": len(trial.intermediate_values), "pruned_after": pruned_at,
            "seconds": None if seconds is None else round(seconds, 1), "run_dir": trial.user_attrs.get("run_dir", "")}


def table_rows(trials: list[dict]) -> tuple[list[str], list[list[str]]]:
    params = list(dict.fromkeys(k for t in trials for k in t if k.startswith("param_")))
    headers = ["trial", "state", "value", *(p[len("param_"):] for p in params), "s"]
    rows = [[str(t["number"]) + (" (defaults)" if t.get("queued") == "defaults" else ""), t["state"],
             "-" if t["value"] is None else f"{t['value']:.4f}", *(cell(t.get(p)) for p in params),
             "-" if t["seconds"] is None else f"{t['seconds']:.0f}"] for t in trials]
    return headers, rows


def cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def summary_line(best: dict | None, metric: str) -> str:
    if not best:
        return "no trial completed"
    where = " (the defaults)" if best.get("queued") == "defaults" else ""
    seeds = f", mean {best['mean']:.4f} ± {best['std']:.4f} over {len(best['seeds'])} seeds" if len(best["seeds"]) > 1 else ""
    return f"best: trial {best['number']}{where}, validation {metric} {best['value']:.4f}{seeds}"


def test_table(best: dict | None) -> str:
    test = (best or {}).get("test") or {}
    if not test:
        return ""
    keys = [k for k in next(iter(test.values())) if k != "rows"]
    roles = {"best": f"best (trial {best['number']})", "defaults": "trial 0 (the defaults)"}
    return page_html.table(["test split", *(roles[r] for r in test)], [[k, *(test[r][k] for r in test)] for k in keys])


def best_config(config: TrainConfig, pinned: dict, params: dict) -> TrainConfig:
    """The settings `train DATA --config best.yaml` runs: the command's own, the space's fixed ones, the trial's."""
    return trial_settings(TrainConfig(**{**config.to_dict(), **pinned}), params)


def write_outputs(out: Path, study, config: TrainConfig, pinned: dict, best: dict | None, metric: str,
                  labels: LabelSpace) -> TuneResult:
    # queued points not reached (WAITING) are left for a rerun with more --trials; surplus trials were never run
    trials = [trial_row(t) for t in study.trials if not t.user_attrs.get("surplus") and t.state.name != "WAITING"]
    paths = {"csv": out / TRIALS_CSV, "json": out / TUNE_JSON, "html": out / TUNE_HTML, "plots": out / PLOTS}
    record_entries(out, *OUTPUTS)
    with atomic_path(paths["csv"]) as tmp:
        pd.DataFrame(trials).to_csv(tmp, index=False)
    if best is not None:
        paths["best"] = out / BEST_YAML
        write_best_yaml(best_config(config, pinned, best["params"]), paths["best"])
    figures = draw_figures(study, paths["plots"])
    write_json_atomic(paths["json"], {"source": redact_source(config.data), "metric": metric,
                                      "task": {"multi_label": labels.multi_label, "labels": list(labels.names)},
                                      "best": best, "trials": trials})
    result = TuneResult(out, metric, best, trials, paths)
    write_text_atomic(paths["html"], page(result, figures, config))
    return result


def write_best_yaml(config: TrainConfig, path: Path) -> None:
    """Every setting the trial ran with (data options too) but output_dir and overwrite: `train` then writes
    runs/<data name>, as it does by default. DATA on the command line wins over the recorded `data`."""
    import yaml

    record = {k: v for k, v in config.to_record().items() if k not in NOT_REPRODUCED}
    write_text_atomic(path, yaml.safe_dump(record, sort_keys=False))


def draw_figures(study, directory: Path) -> dict[str, Path]:
    """Optuna's figures that the study can draw (importances need two completed trials that differ)."""
    drawn = {}
    for kind in plots.STUDY_PLOTS:
        try:
            drawn[kind] = plots.plot_study(study, kind, directory / f"{kind}.png")
        except (ValueError, RuntimeError, ZeroDivisionError) as err:
            logger.debug("tune.html: no %s figure (%s)", kind, err)
    return drawn


def page(result: TuneResult, figures: dict[str, Path], config: TrainConfig) -> str:
    headers, rows = table_rows(result.trials)
    sections = [("Result", f"<p>{summary_line(result.best, result.metric)}</p>" + test_table(result.best))]
    titles = {"optimization_history": "Optimisation history", "param_importances": "Parameter importances",
              "parallel_coordinate": "Parallel coordinates", "slice": "Slices"}
    sections += [(titles[kind], page_html.image(path, titles[kind])) for kind, path in figures.items()]
    sections.append(("Trials", page_html.table(headers, rows)))
    return page_html.page(f"fineclass tune: {redact_source(config.data)}", sections)
