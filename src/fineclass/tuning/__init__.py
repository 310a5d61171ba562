"""Hyperparameter search (`fineclass tune`): Optuna trials of the train recipe, resumable and shared by processes.

    space.py    the default ranges, --space, trial 0 (the defaults) and the known-good points queued after it
    storage.py  SQLite, journal or a database; heartbeats and dead processes' trials; --timeout
    study.py    sampler, pruner, the study created or continued, counting finished trials across processes
    trial.py    one trial: a train run whose evaluations go to the pruner, scored on validation
    run.py      the recipe: trials → rescore the best with more seeds → test split once → outputs
    report.py   best.yaml, trials.csv, tune.json, tune.html, TuneResult
"""

from fineclass.tuning.report import TuneResult
from fineclass.tuning.run import TuneOptions, run_tune

__all__ = ["TuneOptions", "TuneResult", "run_tune"]
