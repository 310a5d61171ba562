"""`fineclass tune`: search training settings with Optuna; resumable, and shared by several processes."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from fineclass.commands.common import app, console, print_uncut, settings_of, user_errors
from fineclass.commands.compare import with_train_options


def tune(
    data: Annotated[str, typer.Argument(help="Data, given exactly as to `train`.")],
    trials: Annotated[Optional[int], typer.Option(help="Finished trials (complete or pruned) of the whole study, across processes and reruns.", show_default="20, or as many as --timeout allows")] = None,
    timeout: Annotated[Optional[str], typer.Option(help="Start no trial after this long: 45m, 2h, 90s, 1h30m (a running trial finishes).")] = None,
    space: Annotated[Optional[str], typer.Option(help="YAML file that narrows or overrides the default space: name: {low, high, log}, a list of choices, or one value to fix it; may list models.")] = None,
    sampler: Annotated[str, typer.Option(help="tpe (multivariate, 4 random trials first) or gp (Optuna's Gaussian-process sampler).")] = "tpe",
    pruner: Annotated[str, typer.Option(help="Stop bad trials at an evaluation: median (against the other trials at the same evaluation), hyperband, or none.")] = "median",
    rescore_top: Annotated[int, typer.Option(help="Train the K best trials again with 2 more seeds, and pick the best by mean validation metric; 0 picks by one seed.")] = 3,
    with_defaults: Annotated[bool, typer.Option("--with-defaults/--no-defaults", help="Run train's defaults as trial 0, the baseline the best trial is compared with.")] = True,
    storage: Annotated[Optional[str], typer.Option(help="Where the study lives: journal:PATH (several processes, one disk), postgresql://... or mysql://... (several machines).", show_default="sqlite OUT/study.db")] = None,
    study_name: Annotated[Optional[str], typer.Option(help="The study's name in --storage (processes that share a study give the same).", show_default="the name of OUT")] = None,
    keep_trials: Annotated[bool, typer.Option("--keep-trials", help="Keep every trial's weights (only the best trial's are kept by default).")] = False,
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", "-o", help="Where study.db, best.yaml, trials.csv, tune.html and trials/ go; the same command again continues the search.", show_default="runs/<data name>-tune")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start the search over (its study too) in --output-dir.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live table of trials.")] = False,
    **options,
) -> None:
    """Search the training settings (learning rate, epochs, batch size, ...) for the best validation score, starting
    from train's defaults; writes best.yaml for `fineclass train DATA --config best.yaml`."""
    from fineclass.config import FIELD_NAMES, load_config_file
    from fineclass.training.interrupt import TrainingInterrupted
    from fineclass.tuning import TuneOptions, run_tune

    fixed = {name for name, value in options.items() if value is not None and name in FIELD_NAMES}
    if options.get("config"):
        fixed |= set(load_config_file(options["config"]))
    run_config = settings_of(data, options, output_dir, overwrite, "-tune")
    tune_options = TuneOptions(trials=trials if trials is not None or timeout else 20, timeout=timeout, space=space,
                               sampler=sampler, pruner=pruner, rescore_top=rescore_top, with_defaults=with_defaults,
                               storage=storage, study_name=study_name, keep_trials=keep_trials, fixed=fixed - {"data"})
    quiet_optuna()
    live = LiveTrials(quiet)
    try:
        with live:
            result = run_tune(run_config, tune_options, announce=live.announce, on_trial=live.add)
    except (TrainingInterrupted, KeyboardInterrupt):
        print(f"interrupted: the finished trials are kept in the study; run the same command to continue",
              file=sys.stderr)
        raise typer.Exit(130) from None
    print_result(result)


def quiet_optuna() -> None:
    """Optuna logs every trial at INFO, and each surplus trial as a failure: the live table says it instead."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)


class LiveTrials:
    """A rich table of the trials as they finish, redrawn in place (printed once at the end when not a terminal)."""

    def __init__(self, quiet: bool):
        self.quiet, self.rows, self.live = quiet, [], None

    def __enter__(self):
        if not self.quiet:
            from rich.live import Live

            self.live = Live(self.render(), console=console, refresh_per_second=2, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)
            if not console.is_terminal:
                console.print()  # the table printed once, at the end, without its newline

    def announce(self, line: str) -> None:
        console.print(line, soft_wrap=True, highlight=False, markup=False)

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if self.live is not None:
            self.live.update(self.render())

    def render(self):
        from rich.table import Table

        from fineclass.tuning.report import table_rows

        headers, rows = table_rows(self.rows)
        table = Table(title=f"trials ({len(rows)} finished here)")
        for header in headers:
            table.add_column(header, justify="left" if header in ("trial", "state") else "right")
        for row in rows:
            table.add_row(*row)
        return table


def print_result(result) -> None:
    from fineclass.tuning.report import summary_line

    console.print(summary_line(result.best, result.metric), soft_wrap=True, highlight=False, markup=False)
    test = (result.best or {}).get("test") or {}
    if test:
        keys = [k for k in next(iter(test.values())) if k != "rows"]
        roles = {"best": f"best (trial {result.best['number']})", "defaults": "trial 0 (defaults)"}
        print_uncut("test split (scored once)", ["metric", *(roles[r] for r in test)],
                    [[k, *(f"{test[r][k]:.4f}" for r in test)] for k in keys], left=("metric",))
    paths = result.paths
    best = f"best run: {result.best_run_dir}   settings: {paths['best']}   " if result.best and "best" in paths else ""
    console.print(f"{best}trials: {paths['csv']}   report: {paths['html']}", soft_wrap=True, highlight=False, markup=False)


app.command("tune")(user_errors(with_train_options(tune, excluded=())))
