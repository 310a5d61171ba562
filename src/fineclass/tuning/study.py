"""The study: its sampler and pruner, created or continued in its storage, the first points queued, and how many
trials are finished, running or left to run across every process that shares it."""

from __future__ import annotations

import hashlib
import json
import logging
import warnings

from fineclass.errors import ConfigError
from fineclass.tuning.storage import is_shared, open_storage, storage_lock

logger = logging.getLogger(__name__)

SAMPLERS = ("tpe", "gp")
PRUNERS = ("median", "hyperband", "none")
STARTUP_TRIALS = 4
"""Trials a sampler draws at random before it models the results: TPE's default of 10 is most of a 12-trial search.
Trial 0 and the queued known-good points count among them."""
PRUNER_STARTUP_TRIALS = 2
"""Finished trials before the median pruner stops any: with fewer, the median is one trial's curve."""
PRUNER_WARMUP = 1
"""Evaluations before a trial can be stopped: never on its first."""
SETTINGS_KEY = "fineclass_settings"
"""The study's user attribute that holds the settings it was started with."""
RESCORE_KEY = "fineclass_rescore"


def check_choices(sampler: str, pruner: str) -> None:
    problems = []
    if sampler not in SAMPLERS:
        problems.append(f"--sampler {sampler!r} must be one of {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        problems.append(f"--pruner {pruner!r} must be one of {', '.join(PRUNERS)}")
    if problems:
        raise ConfigError("; ".join(problems))


def build_sampler(name: str, seed: int, shared: bool):
    """TPE (multivariate; a constant liar when several processes share the study) or Optuna's GP sampler, seeded."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, n_startup_trials=STARTUP_TRIALS, warn_independent_sampling=False)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS, multivariate=True,
                                          constant_liar=shared)


def build_pruner(name: str, max_epochs: int):
    import optuna

    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(2, max_epochs))
    return optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=PRUNER_WARMUP)


def sampler_seed(seed: int, url: str, trials_so_far: int) -> int:
    """The sampler's seed: the run's seed, moved on by the trials already run (a continued run does not redraw the
    points it drew before it was stopped), and for a shared storage by the process, so that processes started
    together do not draw the same points."""
    if not is_shared(url):
        return seed + trials_so_far
    import os
    import socket

    key = f"{seed}:{trials_so_far}:{socket.gethostname()}:{os.getpid()}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "little")


def open_study(url: str, name: str, direction: str, settings: dict, sampler: str, pruner: str, seed: int,
               max_epochs: int, overwrite: bool):
    """Create the study, or continue it when its settings match (a rerun of the same command)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # RDB heartbeats
        storage = open_storage(url)
    if overwrite:
        try:
            optuna.delete_study(study_name=name, storage=storage)
        except KeyError:
            pass
    study = optuna.create_study(storage=storage, study_name=name, direction=direction, load_if_exists=True,
                                pruner=build_pruner(pruner, max_epochs))
    recorded = study.user_attrs.get(SETTINGS_KEY)
    if recorded is None:
        study.set_user_attr(SETTINGS_KEY, settings)
    elif canonical(recorded) != canonical(settings):
        changed = sorted(k for k in set(recorded) | set(settings) if canonical(recorded.get(k)) != canonical(settings.get(k)))
        raise ConfigError(f"study {name!r} in the storage was started with other settings (changed: {', '.join(changed)}); "
                          "run the same command to continue it, pass --overwrite to start over, or give another "
                          "--study-name")
    study.sampler = build_sampler(sampler, sampler_seed(seed, url, len(study.trials)), is_shared(url))
    return study


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def queue_first_points(study, points: list[dict], url: str, with_defaults: bool) -> None:
    """Trial 0 (train's defaults) and the known-good points, each queued once however many processes start:
    skip_if_exists (optuna #4002) under a lock for journal storage, and never again once the study has trials."""
    with storage_lock(url):
        if study.trials:
            return
        for i, point in enumerate(points):
            role = "defaults" if i == 0 and with_defaults else "known-good"
            study.enqueue_trial(point, user_attrs={"queued": role}, skip_if_exists=True)


def finished_count(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def is_surplus(study, number: int, wanted: int | None) -> bool:
    """Whether trial `number` would go beyond `wanted` trials: as many finished or running trials with lower numbers
    already exist (another process asked at the same moment). The lower numbers run; this one is not started."""
    if wanted is None:
        return False
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return sum(t.number < number for t in study.get_trials(deepcopy=False, states=states)) >= wanted
