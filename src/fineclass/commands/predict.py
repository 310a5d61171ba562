"""`fineclass predict` and `fineclass export`: run a trained model, or export it to ONNX."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from fineclass.commands.common import (
    DEVICE_HELP,
    app,
    check_device,
    check_precision,
    console,
    err_console,
    user_errors,
)
from fineclass.commands.options import file_reading_options, long_text_options, pop_long_texts
from fineclass.data.read import ReadOptions
from fineclass.errors import FineclassError


@app.command()
@user_errors
@file_reading_options
@long_text_options
def predict(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts to classify.")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", "-i", help="File of texts (CSV, TSV, JSON, JSONL, Parquet); with --engine ray, a directory or a glob of files.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write predictions here (.csv, .tsv or .jsonl); with --engine ray, a directory.")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="Text column of --input; several, comma-separated, are joined.", show_default="the run's, else detected")] = None,
    text_pair_column: Annotated[Optional[str], typer.Option(help="Second text of each pair, for a model trained on text pairs.", show_default="the run's")] = None,
    id_column: Annotated[Optional[str], typer.Option(help="Copy this column of --input into every output row.", show_default="a column named id, in any case")] = None,
    keep_columns: Annotated[Optional[str], typer.Option(help="Also copy these columns of --input (comma-separated) into every output row.")] = None,
    wide: Annotated[bool, typer.Option("--wide", help="Write --output as text plus one 0/1 column per label.")] = False,
    top_k: Annotated[int, typer.Option(help="Also return the k most likely labels.")] = 1,
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold.", show_default="the model's")] = None,
    min_confidence: Annotated[Optional[float], typer.Option(help="Mark answers less sure than this (0 to 1) as abstained, with the label they would give.", show_default="never abstain")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 64,
    precision: Annotated[str, typer.Option(help="Torch models: fp32, bf16 (about 2x faster on CPUs with native bf16) or auto.")] = "fp32",
    device: Annotated[str, typer.Option(help=DEVICE_HELP)] = "auto",
    compile: Annotated[bool, typer.Option("--compile", help="torch.compile the model: about 30 s once, then faster; for big --input files.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --output file.")] = False,
    engine: Annotated[str, typer.Option(help="local: this process; ray: a pool of Ray actors over many --input files, one --output file each (a rerun skips the files done).")] = "local",
    ray_address: Annotated[Optional[str], typer.Option(help="With --engine ray: the cluster to join (ray://HOST:10001 or HOST:6379).", show_default="a local Ray instance")] = None,
    actors: Annotated[int, typer.Option(help="With --engine ray: Ray actors, each holding one copy of the model.")] = 2,
    **reading,
) -> None:
    """Classify texts given on the command line or in a file (or many files, on Ray)."""
    from fineclass.inference.predictor import Predictor

    check_predict_options(engine, top_k, threshold, min_confidence)
    if engine == "ray":
        predict_on_ray(model_dir, texts, input, output, text_column=text_column, text_pair_column=text_pair_column,
                       id_column=id_column, keep_columns=keep_columns, wide=wide, top_k=top_k, threshold=threshold,
                       overwrite=overwrite, ray_address=ray_address, actors=actors, reading=reading,
                       predictor_options={"batch_size": batch_size, "precision": precision, "device": device,
                                          "compile": compile, "min_confidence": min_confidence})
        return
    check_local_files(texts, input, output, overwrite)
    long_texts = pop_long_texts(reading)
    plan = None
    if input is not None:  # checked before the model loads
        plan = plan_input_file(model_dir, input, output, text_column, text_pair_column, id_column, keep_columns, wide,
                               ReadOptions(**reading))
    device = check_device(device, model_dir)
    predictor = Predictor.from_dir(model_dir, batch_size=batch_size, precision=check_precision(precision, device),
                                   compile=compile, device=device, long_texts=long_texts, min_confidence=min_confidence)
    if texts:
        print_predictions(predictor.predict(list(texts), top_k=top_k, threshold=threshold), as_json)
    if input is not None:
        predict_input_file(predictor, input, output, plan, top_k, threshold, wide)
    if predictor.texts_at_limit:
        err_console.print(f"warning: {predictor.texts_at_limit} text(s) reached the model's {predictor.max_length}-token "
                          "limit; anything longer was cut there and not seen by the model", soft_wrap=True)
    unknown = predictor.unknown_token_warning()
    if unknown:
        err_console.print(f"warning: {unknown}", soft_wrap=True)


def check_predict_options(engine: str, top_k: int, threshold: float | None, min_confidence: float | None) -> None:
    if engine not in ("local", "ray"):
        raise FineclassError(f"--engine must be local or ray, got {engine!r}")
    if top_k < 1:
        raise FineclassError(f"--top-k must be >= 1, got {top_k}")
    if threshold is not None and not 0 < threshold < 1:
        raise FineclassError(f"--threshold must be between 0 and 1, got {threshold}")
    if min_confidence is not None and not 0 <= min_confidence <= 1:
        raise FineclassError(f"--min-confidence must be from 0 to 1, got {min_confidence}; for example 0.8")


def check_local_files(texts, input: Path | None, output: Path | None, overwrite: bool) -> None:
    """--engine local: texts or one --input file, with an --output that may be written."""
    if not texts and input is None:
        raise FineclassError("give texts to classify, or --input FILE")
    if input is not None and output is None:
        raise FineclassError("--input needs --output FILE (.csv, .tsv or .jsonl) for the predictions")
    if output is not None and output.exists() and not overwrite:
        raise FineclassError(f"{output} already exists; pass --overwrite to replace it, or choose another --output")
    if input is not None and not input.is_file():
        raise FineclassError(f"input file not found: {input}")


def plan_input_file(model_dir: str, input: Path, output: Path, text_column, text_pair_column, id_column, keep_columns,
                    wide: bool, options: ReadOptions):
    """How --input is read and --output written, checked and printed before the model loads."""
    from fineclass.inference.files import check_prediction_files
    from fineclass.rundir import run_reading

    plan = check_prediction_files(input, output, text_column, options, text_pair_column, run_reading(model_dir),
                                  id_column, keep_columns, wide)
    console.print(plan.describe(input), soft_wrap=True, highlight=False, markup=False)
    return plan


def predict_on_ray(model_dir: str, texts, input: Path | None, output: Path | None, *, reading: dict,
                   predictor_options: dict, ray_address: str | None, actors: int, overwrite: bool, **options) -> None:
    """--engine ray: every file of --input into --output DIR, on a pool of Ray actors."""
    from fineclass.recipes.batch_predict import plan_ray_batch, run_ray_batch

    from fineclass.devices import PRECISIONS

    if texts or input is None or output is None:
        raise FineclassError("--engine ray predicts files: give --input DIR_OR_GLOB --output DIR, and no texts")
    if predictor_options["precision"] not in PRECISIONS:
        raise FineclassError(f"--precision must be one of {', '.join(PRECISIONS)}, got {predictor_options['precision']!r}")
    if not re.fullmatch(r"auto|cpu|cuda(:(0|[1-9][0-9]*))?", predictor_options["device"]):
        # resolved on each worker: the cluster's machines may have GPUs this one has not
        raise FineclassError(f"--device must be auto, cpu, cuda or cuda:N, got {predictor_options['device']!r}")
    predictor_options["long_texts"] = pop_long_texts(reading)
    top_k, threshold = options.pop("top_k"), options.pop("threshold")
    jobs = plan_ray_batch(model_dir, str(input), output, actors=actors, overwrite=overwrite,
                          options=ReadOptions(**reading), **options)
    pending = [job for job in jobs if job.earlier_result() is None]
    console.print(f"{len(jobs)} input files; {len(jobs) - len(pending)} already done in {output}, {len(pending)} to "
                  f"predict on {min(actors, max(len(pending), 1))} Ray actors", soft_wrap=True, highlight=False)
    for job in pending:
        console.print(job.plan.describe(job.source), soft_wrap=True, highlight=False, markup=False)

    def report(done) -> None:
        if not done.skipped:
            console.print(f"wrote {done.rows} predictions to {done.target}", soft_wrap=True, highlight=False)

    result = run_ray_batch(model_dir, jobs, actors=actors, address=ray_address, predictor_options=predictor_options,
                           top_k=top_k, threshold=threshold, wide=options["wide"], on_file=report)
    console.print(f"done: {result.rows} rows predicted into {len(result.done) - len(result.skipped)} files; "
                  f"{len(result.skipped)} files were already done", soft_wrap=True, highlight=False)


def predict_input_file(predictor, source: Path, target: Path, plan, top_k, threshold, wide=False) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from fineclass.inference.files import check_wide_columns, predict_file

    if wide:
        check_wide_columns(plan, target, predictor.label_space.names)  # before the progress bar starts
    with Progress(TextColumn("[bold]predicting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console) as progress:
        task = progress.add_task("predict", total=None)
        rows = predict_file(predictor, source, target, None, top_k, threshold,
                            on_rows=lambda n: progress.advance(task, n), wide=wide, plan=plan)
    console.print(f"wrote {rows} predictions to {target}")


def print_predictions(predictions, as_json: bool) -> None:
    if as_json:
        for p in predictions:
            print(json.dumps(p.to_dict(), ensure_ascii=False))
        return
    table = Table()
    table.add_column("text", overflow="fold")
    table.add_column("label(s)")
    table.add_column("score", justify="right")
    table.add_column("top k")
    abstaining = any(p.abstained is not None for p in predictions)
    if abstaining:
        table.add_column("abstained")
    for p in predictions:
        cells = [p.text, ", ".join(p.labels) or "-", ", ".join(f"{s:.3f}" for s in p.scores) or "-",
                 ", ".join(f"{n} {s:.3f}" for n, s in p.top_k)]
        table.add_row(*cells, *(["yes" if p.abstained else "no"] if abstaining else []))
    console.print(table)


@app.command()
@user_errors
@long_text_options
def export(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    quantize: Annotated[Optional[str], typer.Option(help="int8: dynamic int8 quantisation of the weights.")] = None,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="The export directory.", show_default="RUN/onnx or RUN/onnx-int8")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Compare with the torch model on the run's test split.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing export.")] = False,
    **long_text,
) -> None:
    """Export to ONNX (onnxruntime-optimised, optionally int8) for fast CPU inference; the export reads long texts
    as the run did (windows run the same way), unless the long-text options say otherwise."""
    from fineclass.recipes.export import export_model

    result = export_model(model_dir, quantize, output_dir, overwrite, check, long_texts=pop_long_texts(long_text))
    console.print(f"exported {result.path / 'model.onnx'} ({result.size_mb:.1f} MB)")
    if result.check:
        print_export_check(result)


def print_export_check(result) -> None:
    multi_label = "f1_samples" in result.check["torch"]
    keys = ("f1_micro", "f1_macro", "exact_match") if multi_label else ("accuracy", "f1_macro")
    table = Table(title=f"test split ({result.rows} rows): torch vs ONNX")
    table.add_column("model")
    for key in keys:
        table.add_column(key, justify="right")
    for name, metrics in result.check.items():
        table.add_row(name, *(f"{metrics[k]:.4f}" for k in keys))
    console.print(table)
