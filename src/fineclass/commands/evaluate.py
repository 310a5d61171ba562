"""`fineclass evaluate` and `fineclass tune-thresholds`: score a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fineclass.commands.common import (
    DEVICE_HELP,
    app,
    check_device,
    console,
    print_metrics_table,
    user_errors,
)
from fineclass.commands.options import FILE_READING, long_text_options, pop_long_texts, reading_options
from fineclass.data.read import ReadOptions


@app.command()
@user_errors
@reading_options
@long_text_options
def evaluate(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    data: Annotated[Optional[str], typer.Argument(help="Labeled data.", show_default="the run's own saved split")] = None,
    split: Annotated[str, typer.Option(help="Which split to evaluate.")] = "test",
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold.", show_default="the model's")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 128,
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    output: Annotated[Optional[Path], typer.Option(help="Also write the metrics to this JSON file.")] = None,
    report_dir: Annotated[Optional[Path], typer.Option(help="Where report.html and plots/ go.", show_default="RUN/evaluation-SPLIT or ./evaluation-SPLIT")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier report in --report-dir.")] = False,
    **reading,
) -> None:
    """Compute metrics for a model on its run's test split or on any labeled data, and write report.html.

    DATA's columns default to the run's own when DATA has them."""
    from fineclass.recipes.evaluate import evaluate_model

    check_device(device, model_dir)
    long_texts = pop_long_texts(reading)
    columns = {name: reading.pop(name) for name in list(reading) if name not in FILE_READING}
    result = evaluate_model(
        model_dir, data, split, **columns, options=ReadOptions(**reading), threshold=threshold,
        batch_size=batch_size, device=device, report_dir=report_dir, overwrite=overwrite, output=output,
        long_texts=long_texts, announce=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False),
    )
    print_metrics_table(result.metrics, f"{split} ({result.rows} rows)")
    console.print(f"report: {result.report_path}")
    if output:
        console.print(f"metrics: {output}")


@app.command("tune-thresholds")
@user_errors
def tune_thresholds_command(
    run_dir: Annotated[Path, typer.Argument(help="A multi-label fineclass run directory.")],
    strategy: Annotated[str, typer.Option("--thresholds", help="per-label, global or fixed:T.")] = "per-label",
    min_positives: Annotated[int, typer.Option(help="Validation positives a label needs for its own threshold.")] = 10,
) -> None:
    """Re-tune a multi-label model's thresholds on its run's validation split, and save them."""
    from fineclass.recipes.evaluate import tune_run_thresholds
    from fineclass.rundir import resolve_model_dir

    tuned = tune_run_thresholds(run_dir, strategy, min_positives)
    console.print(f"wrote {resolve_model_dir(run_dir) / 'thresholds.json'}: " + ", ".join(
        f"{name} {value:.2f}" for name, value in tuned.items()))
