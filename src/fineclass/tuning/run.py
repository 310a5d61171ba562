"""The tune recipe: check → read and split once → open or continue the study → trials → rescore the best with more
seeds → score the test split for the best trial and trial 0 → best.yaml, trials.csv, tune.json, tune.html."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from fineclass.config import TrainConfig
from fineclass.data.options import ReadOptions
from fineclass.errors import ConfigError
from fineclass.outputs import Manifest, OutputKind, check_output_dir, prepare_output_dir, record_entries
from fineclass.recipes.compare.candidates import LABELS_FILE
from fineclass.recipes.compare.run import write_split
from fineclass.recipes.train import load_task
from fineclass.rundir import DATA
from fineclass.training.arguments import default_metric
from fineclass.tuning import report, study as studies
from fineclass.tuning.space import defaults_point, known_good_points, load_space, trial_settings
from fineclass.tuning.storage import STUDY_DB, fail_dead_trials, mark_process, parse_timeout, storage_url
from fineclass.tuning.trial import SearchTrialHooks, remove_trial_weights, run_scored, score_test_split

logger = logging.getLogger(__name__)

TRIALS, RESCORE = "trials", "rescore"
ENTRIES = (DATA, TRIALS, RESCORE, STUDY_DB, *report.OUTPUTS)
TUNE_OUTPUT = OutputKind("tune", result=report.TUNE_JSON)
RESCORE_SEEDS = 2
"""Seeds each of the --rescore-top trials is trained again with (Dodge et al., 2020: seeds alone move results)."""


@dataclass
class TuneOptions:
    """tune's own options; the training options are the TrainConfig."""

    trials: int | None = 20
    """Finished (complete or pruned) trials of the whole study, across processes; None: as many as --timeout allows."""
    timeout: str | float | None = None
    """Stop starting trials after this long (45m, 2h, 90s)."""
    space: str | Path | dict | None = None
    """A YAML file (or a dict) that narrows or overrides the default space."""
    sampler: str = "tpe"
    pruner: str = "median"
    rescore_top: int = 3
    with_defaults: bool = True
    storage: str | None = None
    study_name: str | None = None
    keep_trials: bool = False
    fixed: set[str] = field(default_factory=set)
    """The options given on the command line or in --config: fixed, never searched."""


class SurplusTrial(Exception):
    """Another process started the last wanted trial at the same moment: this one is not run (it is marked failed)."""


def run_tune(config: TrainConfig, options: TuneOptions, announce=None, raw=None, on_trial=None) -> report.TuneResult:
    """Search settings for `config` and write the search into config.output_dir. `on_trial(row)` is called as each
    trial of this process ends (the CLI's live table)."""
    announce = announce or logger.info
    check_options(options)
    timeout = parse_timeout(options.timeout)
    out = Path(config.output_dir)
    url = storage_url(options.storage, out)
    inputs = [("DATA", config.data), ("--label-names", config.label_names), ("--model", config.model)]
    continuing = not config.overwrite and (Manifest.read(out) or Manifest("")).command == "tune"
    check_output_dir(out, TUNE_OUTPUT, config.overwrite, inputs, resume=continuing)
    task, frames = load_task(config, announce, raw)
    labels = task.label_space
    metric = config.metric or default_metric(labels)
    space, pinned = load_space(options.space, labels.multi_label, options.fixed)
    if not space:
        raise ConfigError("nothing to search: every setting of the space is fixed on the command line, in --config or "
                          "in --space; leave some out, or give a --space with ranges")
    base = replace(config, **pinned, baseline=False, report=False, overwrite=False)
    if not continuing:
        prepare_output_dir(out, TUNE_OUTPUT, config.overwrite, inputs)
    record_entries(out, *ENTRIES)
    split_dir = write_split(out / DATA, frames, labels)
    settings = {"config": {k: v for k, v in base.to_record().items() if k not in ("output_dir", "overwrite")},
                "space": {name: p.describe() for name, p in space.items()}, "metric": metric,
                "sampler": options.sampler, "pruner": options.pruner, "with_defaults": options.with_defaults}
    study = open_queued_study(url, out, base, space, settings, metric, options, config.overwrite, announce)
    announce(f"searching {', '.join(f'{n} {p.describe()}' for n, p in space.items())} by validation {metric}; "
             f"{studies.finished_count(study)} of {options.trials or 'unlimited'} trials finished so far")
    objective = Objective(base, space, metric, frames["validation"], out, options, study.direction.name == "MAXIMIZE", raw)
    with each_warning_once():
        run_trials(study, objective, options.trials, timeout, on_trial)
    if report.running_trials(study):
        announce("other processes are still running trials of this study: the last one to finish writes the outputs")
    best = finish_study(study, objective, split_dir, frames, labels, options, announce)
    return report.write_outputs(out, study, config, pinned, best, metric, labels)


def open_queued_study(url: str, out: Path, base: TrainConfig, space: dict, settings: dict, metric: str,
                      options: TuneOptions, overwrite: bool, announce):
    """Open (or continue) the study, fail the trials of processes that are gone, and queue trial 0 (the defaults)
    and the known-good points once."""
    max_epochs = int(space["epochs"].high) if "epochs" in space else int(trial_settings(base, {}).epochs)
    study = studies.open_study(url, options.study_name or out.absolute().name, "minimize" if metric == "loss" else "maximize",
                               settings, options.sampler, options.pruner, base.seed, max_epochs, overwrite=overwrite)
    failed = fail_dead_trials(study)
    if failed:
        announce(f"trials {', '.join(map(str, failed))} were left running by a process that is gone: marked failed, not counted")
    defaults, left_out = defaults_point(space)
    for note in left_out:
        announce(f"trial 0 (the defaults): {note}; sampled instead")
    studies.queue_first_points(study, ([defaults] if options.with_defaults else []) + known_good_points(space, defaults),
                               url, options.with_defaults)
    return study


class OnceFilter(logging.Filter):
    """Passes each log message once: every trial reads the same split, so its warnings would repeat each trial."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen or record.levelno < logging.WARNING:
            return False
        self.seen.add(message)
        return True


@contextmanager
def each_warning_once():
    """The trials' log lines: warnings once each, and none of the per-run INFO lines (calibration, schedule)."""
    # Filters on a logger do not apply to its children's records, so the filter goes on the handlers (the CLI's).
    once, handlers = OnceFilter(), list(logging.getLogger("fineclass").handlers)
    for handler in handlers:
        handler.addFilter(once)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(once)


def check_options(options: TuneOptions) -> None:
    studies.check_choices(options.sampler, options.pruner)
    problems = []
    if options.trials is not None and options.trials < 1:
        problems.append(f"--trials must be >= 1, got {options.trials}")
    if options.rescore_top < 0:
        problems.append(f"--rescore-top must be >= 0, got {options.rescore_top}")
    if problems:
        raise ConfigError("; ".join(problems))


class Objective:
    """One trial: its settings suggested, trained into trials/trial-NNNN/, scored on validation."""

    def __init__(self, base: TrainConfig, space: dict, metric: str, validation, out: Path, options: TuneOptions,
                 maximize: bool, raw=None):
        self.base, self.space, self.metric, self.validation = base, space, metric, validation
        self.out, self.options, self.maximize, self.raw = out, options, maximize, raw

    def settings(self, params: dict, output_dir: Path) -> TrainConfig:
        return replace(trial_settings(self.base, params), output_dir=str(output_dir))

    def __call__(self, trial) -> float:
        import optuna

        mark_process(trial)
        if studies.is_surplus(trial.study, trial.number, self.options.trials):
            trial.set_user_attr("surplus", True)
            raise SurplusTrial(f"trial {trial.number} would be one more than --trials {self.options.trials}")
        params = {name: suggest(trial, param) for name, param in self.space.items()}
        run_dir = self.out.absolute() / TRIALS / f"trial-{trial.number:04d}"
        trial.set_user_attr("run_dir", str(run_dir))
        try:
            score = run_scored(self.settings(params, run_dir), self.metric, self.validation,
                               hooks=SearchTrialHooks(trial, self.metric), raw=self.raw)
        except optuna.TrialPruned:
            remove_trial_weights(run_dir)
            raise
        trial.set_user_attr("train_seconds", score.seconds)
        if not self.options.keep_trials:
            self.remove_weights_outside_top(trial.study, trial.number, score.value)
        return score.value

    def remove_weights_outside_top(self, study, number: int, value: float) -> None:
        """Keep the weights of trial 0 and of the --rescore-top best (one of them may win), remove the others'."""
        ranked = report.ranked_trials(study, self.maximize, extra=(number, value))
        keep = {t[0] for t in ranked[: max(1, self.options.rescore_top)]} | {0}
        for other, _value, run_dir in ranked:
            if other not in keep and run_dir:
                remove_trial_weights(Path(run_dir))


def suggest(trial, param):
    import warnings

    with warnings.catch_warnings():  # trial 0's defaults may lie outside a narrowed range: they are the baseline
        warnings.filterwarnings("ignore", message="Fixed parameter .* is out of range")
        return suggest_param(trial, param)


def suggest_param(trial, param):
    if param.kind == "choice":
        return trial.suggest_categorical(param.name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(param.name, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(param.name, param.low, param.high, log=param.log)


def run_trials(study, objective: Objective, wanted: int | None, timeout: float | None, on_trial) -> None:
    """Run trials until the study has `wanted` finished ones (across processes) or `timeout` seconds pass."""
    remaining = None if wanted is None else wanted - studies.finished_count(study)
    if remaining is not None and remaining <= 0:
        return

    def after_trial(study, frozen) -> None:
        if on_trial is not None and not frozen.user_attrs.get("surplus"):
            on_trial(report.trial_row(frozen))
        if wanted is not None and studies.finished_count(study) >= wanted:
            study.stop()

    def surplus_stops(study, frozen) -> None:
        if frozen.user_attrs.get("surplus"):
            study.stop()  # a surplus trial: the other processes are running the last ones

    study.optimize(objective, n_trials=remaining, timeout=timeout, catch=(SurplusTrial,),
                   callbacks=[surplus_stops, after_trial])


def finish_study(study, objective: Objective, split_dir: Path, frames, labels, options: TuneOptions, announce) -> dict | None:
    """Rescore the best trials with more seeds, pick the best by mean, score it and trial 0 on the test split, and
    remove the other trials' weights. Returns the summary of the best trial (None: no trial completed)."""
    ranked = report.ranked_trials(study, objective.maximize)
    if not ranked or report.running_trials(study):
        return None
    rescored = {}
    for number, value, _run_dir in ranked[: options.rescore_top]:
        trial = study.trials[number]
        values = [value] + [rescore(study, objective, trial, split_dir, labels, frames, seed)
                            for seed in range(objective.base.seed + 1, objective.base.seed + 1 + RESCORE_SEEDS)]
        rescored[number] = values
        announce(f"trial {number}: validation {objective.metric} {report.spread_text(values)} over {len(values)} seeds")
    pick = max if objective.maximize else min
    best_number = pick(rescored, key=lambda n: sum(rescored[n]) / len(rescored[n])) if rescored else ranked[0][0]
    best = report.best_summary(study.trials[best_number], rescored.get(best_number))
    best["spread"] = {str(n): values for n, values in rescored.items()}
    if "test" in frames:
        scored = {"best": best_number, **({"defaults": 0} if study.trials[0].state.name == "COMPLETE"
                                          and study.trials[0].user_attrs.get("queued") == "defaults" else {})}
        by_number = {n: score_test_split(Path(study.trials[n].user_attrs["run_dir"]), frames["test"], objective.base)
                     for n in set(scored.values()) if (Path(study.trials[n].user_attrs["run_dir"]) / "model").is_dir()}
        best["test"] = {role: by_number[n] for role, n in scored.items() if n in by_number}  # once each
    if not options.keep_trials:
        for number, _value, run_dir in ranked:
            if number != best_number:
                remove_trial_weights(Path(run_dir))
    return best


def rescore(study, objective: Objective, trial, split_dir: Path, labels, frames, seed: int) -> float:
    """The trial's settings trained again with another seed on the same split (the written one: the seed of a run
    from DATA would also change the split); recorded in the study, so a continued run does not train it again."""
    key = f"{trial.number}:{seed}"
    done = study.user_attrs.get(studies.RESCORE_KEY, {})
    if key in done:
        return done[key]
    run_dir = objective.out / RESCORE / f"trial-{trial.number:04d}-seed{seed}"
    config = replace(
        objective.settings(trial.params, run_dir), seed=seed, data=str(split_dir), text_column="text",
        label_column="labels", label_names=str(split_dir / LABELS_FILE), label_columns=None, reading=ReadOptions(),
        text_pair_column="text_pair" if "text_pair" in frames["train"].columns else None, multi_label=labels.multi_label,
        max_train_samples=None, max_eval_samples=None, overwrite=True,
    )
    score = run_scored(config, objective.metric, frames["validation"])
    remove_trial_weights(run_dir)
    done = {**study.user_attrs.get(studies.RESCORE_KEY, {}), key: score.value}
    study.set_user_attr(studies.RESCORE_KEY, done)
    return score.value
