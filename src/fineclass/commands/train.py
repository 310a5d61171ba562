"""`fineclass train`: fine-tune a model and write a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from fineclass.commands.common import (
    ColumnsOption,
    DelimiterOption,
    EncodingOption,
    HeaderOption,
    LabelColumnsOption,
    QuotecharOption,
    TextColumnOption,
    TextPairOption,
    app,
    console,
    default_output_dir,
    print_metrics_table,
    user_errors,
)


@app.command()
@user_errors
def train(
    data: Annotated[str, typer.Argument(help="CSV/TSV/JSON/JSONL/Parquet file, a directory with train/validation/test files, an http(s) URL, or hf:NAME[:CONFIG].")],
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", "-o", help="Run directory [default: runs/<data name>].")] = None,
    model: Annotated[Optional[str], typer.Option(help="Hub name or local model directory [default: bundled all-MiniLM-L6-v2].")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="YAML file of options; flags override it.")] = None,
    text_column: TextColumnOption = None,
    text_pair_column: TextPairOption = None,
    label_column: Annotated[Optional[str], typer.Option(help="Label column [default: detected].")] = None,
    label_columns: LabelColumnsOption = None,
    delimiter: DelimiterOption = None,
    quotechar: QuotecharOption = None,
    encoding: EncodingOption = None,
    header: HeaderOption = None,
    columns: ColumnsOption = None,
    label_names: Annotated[Optional[str], typer.Option(help="File with one label name per line (line i names id i).")] = None,
    multi_label: Annotated[Optional[bool], typer.Option("--multi-label/--single-label", help="Override multi-label detection.")] = None,
    split: Annotated[Optional[str], typer.Option(help="train,test,validation fractions for one-file data [default: 0.7,0.2,0.1].")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="Training epochs [default: 3].")] = None,
    learning_rate: Annotated[Optional[float], typer.Option("--learning-rate", "--lr", help="Peak learning rate [default: 1e-4].")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Training batch size [default: 32].")] = None,
    head_lr_scale: Annotated[Optional[float], typer.Option(help="Head and pooler learning rate as a multiple of --learning-rate [default: 20].")] = None,
    eval_batch_size: Annotated[Optional[int], typer.Option(help="Evaluation batch size [default: 128].")] = None,
    warmup_ratio: Annotated[Optional[float], typer.Option(help="Share of steps for learning-rate warm-up [default: 0.1].")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(help="AdamW weight decay [default: 0.01].")] = None,
    max_length: Annotated[Optional[int], typer.Option(help="Truncate texts to this many tokens [default: the model's limit].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed [default: 42].")] = None,
    metric: Annotated[Optional[str], typer.Option(help="Validation metric that picks the best epoch [default: f1_macro, or f1_micro for multi-label].")] = None,
    early_stopping: Annotated[Optional[int], typer.Option(help="Stop after N evaluations (epochs, or --save-steps intervals) without improvement; 0 is off [default: 0].")] = None,
    max_train_samples: Annotated[Optional[int], typer.Option(help="Train on at most N rows, for quick runs.")] = None,
    max_eval_samples: Annotated[Optional[int], typer.Option(help="Score at most N validation and test rows (stratified samples), for quick runs.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold before tuning [default: 0.5].")] = None,
    thresholds: Annotated[Optional[str], typer.Option(help="Multi-label thresholds tuned on validation: per-label, global or fixed:T [default: per-label].")] = None,
    min_positives: Annotated[Optional[int], typer.Option(help="Validation positives a label needs for its own threshold [default: 10].")] = None,
    class_weights: Annotated[Optional[str], typer.Option(help="Multi-class loss weights: none or balanced [default: none].")] = None,
    pos_weight: Annotated[Optional[str], typer.Option(help="Multi-label BCE pos_weight: none or balanced [default: none].")] = None,
    precision: Annotated[Optional[str], typer.Option(help="auto (bf16 where the hardware has native bf16, else fp32), fp32 or bf16 [default: auto].")] = None,
    baseline: Annotated[Optional[bool], typer.Option("--baseline/--no-baseline", help="Score the untrained-head baseline too [default: on].")] = None,
    save_steps: Annotated[Optional[int], typer.Option(help="Save a checkpoint and score validation every N steps [default: each epoch].")] = None,
    save_total_limit: Annotated[Optional[int], typer.Option(help="Checkpoints kept: the best, the newest, then older ones up to N [default: 2].")] = None,
    keep_checkpoints: Annotated[Optional[bool], typer.Option("--keep-checkpoints", help="Keep the checkpoints after training.")] = None,
    overwrite: Annotated[Optional[bool], typer.Option("--overwrite", help="Replace an earlier run in --output-dir.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in --output-dir.")] = False,
    resume_from: Annotated[Optional[str], typer.Option(help="Continue from this checkpoint directory.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Fine-tune a model on labeled text and write a run directory."""
    from fineclass.config import build_config, load_config_file

    file_values = load_config_file(config) if config else {}
    flags = {k: v for k, v in locals().items()
             if k not in ("config", "quiet", "resume", "resume_from", "file_values", "build_config", "load_config_file")}
    if flags.get("output_dir") is None and not file_values.get("output_dir"):
        flags["output_dir"] = default_output_dir(data)
    run_config = build_config(file_values, flags)

    from fineclass.recipes.train import run_training
    from fineclass.rundir import output_errors
    from fineclass.training.callbacks import RichProgressCallback
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
        f"best epoch by {metrics.selection_metric}: {train_info['best_metric']}"
    )
    if metrics.test is not None:
        print_metrics_table(metrics.test, f"test ({metrics.test['rows']} rows)")
    if metrics.baseline is not None and metrics.test is not None:
        key = "accuracy" if "accuracy" in metrics.test else "f1_micro"
        console.print(f"baseline (untrained head) {key} {metrics.baseline[key]:.4f} -> fine-tuned {metrics.test[key]:.4f}")
    console.print(f"model: {result.model_dir}   metrics: {result.run_dir / 'metrics.json'}   report: {result.run_dir / 'report.html'}")


