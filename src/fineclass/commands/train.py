"""`fineclass train`: fine-tune a model and write a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from fineclass.commands.common import app, console, print_metrics_table, user_errors
from fineclass.commands.options import with_config_options
from fineclass.rundir import default_output_dir


def train(
    data: Annotated[str, typer.Argument(help="A CSV/TSV/TXT/JSON/JSONL/Parquet/fastText file, a directory of split files, an http(s) URL, or hf:NAME[:CONFIG].")],
    config: Annotated[Optional[Path], typer.Option("--config", help="YAML file of options (the option names, with _ or -); flags override it.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in --output-dir.")] = False,
    resume_from: Annotated[Optional[str], typer.Option(help="Continue from this checkpoint directory.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    **options,
) -> None:
    """Fine-tune a model on labeled text and write a run directory."""
    from fineclass.config import build_config, load_config_file

    file_values = load_config_file(config) if config else {}
    flags = {"data": data, **options}
    if flags.get("output_dir") is None and not file_values.get("output_dir"):
        flags["output_dir"] = default_output_dir(data)
    run_config = build_config(file_values, flags)

    from fineclass.recipes.train import run_training
    from fineclass.rundir import output_errors
    from fineclass.progress import RichProgressCallback
    from fineclass.training.interrupt import TrainingInterrupted

    try:
        with output_errors(Path(run_config.output_dir)):
            result = run_training(run_config, progress=None if quiet else RichProgressCallback(),
                                  resume=resume_from or ("latest" if resume else None), announce=announce)
    except TrainingInterrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        raise typer.Exit(130) from None
    if result.metrics is not None:  # None on the other ranks of a multi-process run
        print_train_summary(result)


def announce(line: str) -> None:
    """The line that says how the data was read, before any work."""
    console.print(line, soft_wrap=True, highlight=False, markup=False)


def print_train_summary(result) -> None:
    metrics = result.metrics
    train_info = metrics.train
    world = train_info.get("world_size", 1)
    console.print(
        f"effective batch size {train_info['batch_size'] * world} ({world} process(es) x {train_info['batch_size']}); "
        f"[bold green]trained[/] in {train_info['seconds']:.0f} s "
        f"({train_info.get('samples_per_second', 0):.1f} samples/s, {train_info['precision']}); "
        f"{best_line(train_info, metrics.selection_metric)}", markup=True  # numbers and metric names only
    )
    if metrics.test is not None:
        print_metrics_table(metrics.test, f"test ({metrics.test['rows']} rows)")
    if metrics.baseline is not None and metrics.test is not None:
        key = "accuracy" if "accuracy" in metrics.test else "f1_micro"
        console.print(f"baseline (untrained head) {key} {metrics.baseline[key]:.4f} -> fine-tuned {metrics.test[key]:.4f}")
    report = result.run_dir / "report.html"
    console.print(f"model: {result.model_dir}   metrics: {result.run_dir / 'metrics.json'}"
                  + (f"   report: {report}" if report.is_file() else ""), soft_wrap=True, highlight=False, markup=False)


def best_line(train_info: dict, metric: str) -> str:
    """"best epoch 2 by f1_macro 0.9044", or the last model's line when the run kept its last (a small set)."""
    value = (train_info.get("best_metric") or {}).get(metric)
    epoch = train_info.get("best_epoch")
    if value is None:
        return "kept the last model"
    where = f"best epoch {epoch:g}" if epoch is not None else "best checkpoint"
    return f"{where} by {metric} {value:.4f}"




app.command()(user_errors(with_config_options(train, exclude=("data",))))
