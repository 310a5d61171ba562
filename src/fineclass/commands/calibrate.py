"""`fineclass calibrate`: (re)fit the calibration of a trained run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fineclass.commands.common import app, console, user_errors


@app.command("calibrate")
@user_errors
def calibrate_command(
    run_dir: Annotated[Path, typer.Argument(help="A fineclass run directory.")],
    calibration: Annotated[str, typer.Option(help="none, temperature, platt (multi-label) or auto: fitted on the "
                                                  "run's validation split and folded into the model's last layer.")] = "auto",
) -> None:
    """Refit a trained model's calibration on its run's validation split (undoing any earlier one), re-tune a
    multi-label model's thresholds, and update metrics.json."""
    from fineclass.recipes.calibrate import calibrate_run
    from fineclass.rundir import resolve_model_dir

    report = calibrate_run(run_dir, calibration)
    if report["fitted"] == "none":
        kept = "(the model's own scores)"
    else:
        kept = "kept" if report["kept"] else "not kept (it did not lower ECE in the 2-fold cross-fit)"
    before, after = report["validation"]["before"], report["validation"]["after"]
    console.print(f"calibration {report['fitted']} {kept}: validation ECE {before['ece']:.4f} -> {after['ece']:.4f}, "
                  f"NLL {before['nll']:.4f} -> {after['nll']:.4f}", soft_wrap=True, highlight=False)
    if "test" in report:
        test = report["test"]
        console.print(f"test ECE {test['before']['ece']:.4f} -> {test['after']['ece']:.4f}; AURC {test['aurc']:.4f}",
                      soft_wrap=True, highlight=False)
    console.print(f"wrote {resolve_model_dir(run_dir)} and {run_dir / 'metrics.json'}", soft_wrap=True, highlight=False)
