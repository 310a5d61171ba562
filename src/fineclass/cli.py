"""The `fineclass` command: one thin function per command."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from fineclass.errors import FineclassError

app = typer.Typer(
    help="Fine-tune BERT-family encoders into text classifiers, evaluate them, and predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def user_errors(command):
    """A FineclassError is the user's: print one line and exit 2. Anything else is our bug and keeps its traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        setup_logging()
        try:
            return command(*args, **kwargs)
        except FineclassError as err:
            print(f"error: {err}", file=sys.stderr)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper


def setup_logging() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not logging.getLogger("fineclass").handlers:
        handler = RichHandler(console=err_console, show_time=False, show_path=False)
        logging.getLogger("fineclass").addHandler(handler)
        logging.getLogger("fineclass").setLevel(logging.INFO)
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()


def default_output_dir(data: str) -> str:
    stem = Path(data.rstrip("/").split("?")[0]).stem.replace(":", "-") or "run"
    return str(Path("runs") / stem)


@app.command()
@user_errors
def train(
    data: Annotated[str, typer.Argument(help="CSV/TSV/JSON/JSONL/Parquet file, a directory with train/validation/test files, an http(s) URL, or hf:NAME[:CONFIG].")],
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", "-o", help="Run directory [default: runs/<data name>].")] = None,
    model: Annotated[Optional[str], typer.Option(help="Hub name or local model directory [default: bundled all-MiniLM-L6-v2].")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="YAML file of options; flags override it.")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="Text column [default: detected].")] = None,
    label_column: Annotated[Optional[str], typer.Option(help="Label column [default: detected].")] = None,
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
    early_stopping: Annotated[Optional[int], typer.Option(help="Stop after N epochs without improvement; 0 is off [default: 0].")] = None,
    max_train_samples: Annotated[Optional[int], typer.Option(help="Train on at most N rows, for quick runs.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold before tuning [default: 0.5].")] = None,
    thresholds: Annotated[Optional[str], typer.Option(help="Multi-label thresholds tuned on validation: per-label, global or fixed:T [default: per-label].")] = None,
    min_positives: Annotated[Optional[int], typer.Option(help="Validation positives a label needs for its own threshold [default: 10].")] = None,
    class_weights: Annotated[Optional[str], typer.Option(help="Multi-class loss weights: none or balanced [default: none].")] = None,
    pos_weight: Annotated[Optional[str], typer.Option(help="Multi-label BCE pos_weight: none or balanced [default: none].")] = None,
    precision: Annotated[Optional[str], typer.Option(help="auto (bf16 where the hardware has native bf16, else fp32), fp32 or bf16 [default: auto].")] = None,
    baseline: Annotated[Optional[bool], typer.Option("--baseline/--no-baseline", help="Score the untrained-head baseline too [default: on].")] = None,
    keep_checkpoints: Annotated[Optional[bool], typer.Option("--keep-checkpoints", help="Keep epoch checkpoints after training.")] = None,
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

    from fineclass.training.train import run_training

    from fineclass.training.interrupt import TrainingInterrupted

    try:
        result = run_training(run_config, show_progress=not quiet, resume=resume_from or ("latest" if resume else None))
    except TrainingInterrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        raise typer.Exit(130) from None
    if result.metrics:  # empty on the other ranks of a multi-process run
        print_train_summary(result)


def print_train_summary(result) -> None:
    metrics = result.metrics
    train_info = metrics["train"]
    world = train_info.get("world_size", 1)
    console.print(
        f"effective batch size {train_info['batch_size'] * world} ({world} process(es) x {train_info['batch_size']}); "
        f"[bold green]trained[/] in {train_info['seconds']:.0f} s "
        f"({train_info.get('samples_per_second', 0):.1f} samples/s, {train_info['precision']}); "
        f"best epoch by {metrics['selection_metric']}: {train_info['best_metric']}"
    )
    if "test" in metrics:
        print_metrics_table(metrics["test"], f"test ({metrics['test']['rows']} rows)")
    if "baseline" in metrics and "test" in metrics:
        key = "accuracy" if "accuracy" in metrics["test"] else "f1_micro"
        console.print(f"baseline (untrained head) {key} {metrics['baseline'][key]:.4f} -> fine-tuned {metrics['test'][key]:.4f}")
    console.print(f"model: {result.model_dir}   metrics: {result.output_dir / 'metrics.json'}   report: {result.output_dir / 'report.html'}")


def print_metrics_table(metrics: dict, title: str) -> None:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "f1_samples", "exact_match"):
        if key in metrics:
            table.add_row(key, f"{metrics[key]:.4f}")
    console.print(table)
    per_class = metrics.get("per_class")
    if per_class:
        detail = Table(title="per class")
        for column in ("label", "precision", "recall", "f1", "support"):
            detail.add_column(column, justify="left" if column == "label" else "right")
        for name, row in per_class.items():
            detail.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["support"]))
        console.print(detail)


@app.command()
@user_errors
def evaluate(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    data: Annotated[Optional[str], typer.Argument(help="Labeled data [default: the run's own saved split].")] = None,
    split: Annotated[str, typer.Option(help="Which split to evaluate.")] = "test",
    text_column: Annotated[Optional[str], typer.Option(help="Text column of DATA [default: detected].")] = None,
    label_column: Annotated[Optional[str], typer.Option(help="Label column of DATA [default: detected].")] = None,
    label_names: Annotated[Optional[str], typer.Option(help="Label names file for integer labels in DATA.")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold [default: the model's].")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 128,
    output: Annotated[Optional[Path], typer.Option(help="Also write the metrics to this JSON file.")] = None,
    report_dir: Annotated[Optional[Path], typer.Option(help="Where report.html and plots/ go [default: RUN/evaluation-SPLIT or ./evaluation-SPLIT].")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier report in --report-dir.")] = False,
) -> None:
    """Compute metrics for a model on its run's test split or on any labeled data, and write report.html."""
    from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
    from fineclass.inference.predictor import Predictor
    from fineclass.rundir import resolve_model_dir, write_json_atomic

    if threshold is not None and not 0 < threshold < 1:
        raise FineclassError(f"--threshold must be between 0 and 1, got {threshold}")
    from fineclass.evaluation.report import write_report
    from fineclass.rundir import run_dir_of

    resolved = resolve_model_dir(model_dir)
    run_dir = run_dir_of(resolved)
    name = f"evaluation-{split}" if data is None else f"evaluation-{Path(data.rstrip('/')).stem}-{split}"
    out = report_dir or (run_dir or Path(".")) / name
    if (out / "report.html").exists() and not overwrite:
        raise FineclassError(f"{out / 'report.html'} already exists; pass --overwrite to replace it, or choose another --report-dir")
    frame = load_eval_frame(resolved, data, split, text_column, label_column, label_names)
    predictor = Predictor.from_dir(resolved, batch_size=batch_size)
    result = evaluate_frame(predictor, frame, split, threshold)
    print_metrics_table(result.metrics, f"{split} ({result.rows} rows)")
    run_metrics = json.loads((run_dir / "metrics.json").read_text()) if run_dir and (run_dir / "metrics.json").is_file() else {}
    run_metrics.pop("baseline", None)  # it was measured on the run's own test split, not necessarily this data
    out.mkdir(parents=True, exist_ok=True)
    thresholds = predictor.thresholds if threshold is None else threshold
    report = write_report(out, predictor.label_space, result, list(frame["text"]), run_metrics, thresholds,
                          f"fineclass report: {model_dir} on {data or 'the run'} ({split})")
    console.print(f"report: {report}")
    if output:
        write_json_atomic(output, {"split": split, "rows": result.rows, **result.metrics})
        console.print(f"metrics: {output}")


@app.command()
@user_errors
def predict(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    texts: Annotated[Optional[list[str]], typer.Argument(help="Texts to classify.")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", "-i", help="File of texts (CSV, TSV, JSON, JSONL, Parquet).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write predictions here (.csv, .tsv or .jsonl).")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="Text column of --input [default: detected].")] = None,
    top_k: Annotated[int, typer.Option(help="Also return the k most likely labels.")] = 1,
    threshold: Annotated[Optional[float], typer.Option(help="Multi-label threshold [default: the model's].")] = None,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 64,
    precision: Annotated[str, typer.Option(help="Torch models: fp32, bf16 (about 2x faster on CPUs with native bf16) or auto.")] = "fp32",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --output file.")] = False,
) -> None:
    """Classify texts given on the command line or in a file."""
    from fineclass.inference.predictor import Predictor

    if not texts and input is None:
        raise FineclassError("give texts to classify, or --input FILE")
    if input is not None and output is None:
        raise FineclassError("--input needs --output FILE (.csv, .tsv or .jsonl) for the predictions")
    if output is not None and output.exists() and not overwrite:
        raise FineclassError(f"{output} already exists; pass --overwrite to replace it, or choose another --output")
    if input is not None and not input.is_file():
        raise FineclassError(f"input file not found: {input}")
    if top_k < 1:
        raise FineclassError(f"--top-k must be >= 1, got {top_k}")
    if threshold is not None and not 0 < threshold < 1:
        raise FineclassError(f"--threshold must be between 0 and 1, got {threshold}")
    predictor = Predictor.from_dir(model_dir, batch_size=batch_size, precision=check_precision(precision))
    if texts:
        print_predictions(predictor.predict(list(texts), top_k=top_k, threshold=threshold), as_json)
    if input is not None:
        predict_input_file(predictor, input, output, text_column, top_k, threshold)


def check_precision(precision: str) -> str:
    from fineclass.config import PRECISIONS
    from fineclass.training.hardware import resolve_precision

    if precision not in PRECISIONS:
        raise FineclassError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return resolve_precision(precision)


def predict_input_file(predictor, source: Path, target: Path, text_column, top_k, threshold) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from fineclass.inference.files import predict_file

    with Progress(TextColumn("[bold]predicting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console) as progress:
        task = progress.add_task("predict", total=None)
        rows = predict_file(predictor, source, target, text_column, top_k, threshold,
                            on_rows=lambda n: progress.advance(task, n))
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
    for p in predictions:
        table.add_row(p.text, ", ".join(p.labels) or "-", ", ".join(f"{s:.3f}" for s in p.scores) or "-",
                      ", ".join(f"{n} {s:.3f}" for n, s in p.top_k))
    console.print(table)


@app.command()
@user_errors
def explore(
    data: Annotated[str, typer.Argument(help="Data, given exactly as to `train`.")],
    model: Annotated[Optional[str], typer.Option(help="Tokenizer to measure token lengths with [default: bundled MiniLM].")] = None,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where explore.html and plots/ go [default: runs/<data name>-explore].")] = None,
    text_column: Annotated[Optional[str], typer.Option(help="Text column [default: detected].")] = None,
    label_column: Annotated[Optional[str], typer.Option(help="Label column [default: detected].")] = None,
    label_names: Annotated[Optional[str], typer.Option(help="Label names file.")] = None,
    multi_label: Annotated[Optional[bool], typer.Option("--multi-label/--single-label", help="Override multi-label detection.")] = None,
    max_length: Annotated[Optional[int], typer.Option(help="Truncation limit to report against [default: the model's].")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier explore.html.")] = False,
) -> None:
    """Class balance, text and token lengths, and figures, in the terminal and in explore.html."""
    from fineclass.config import DEFAULT_MODEL
    from fineclass.data.explore import explore_task, write_explore_html
    from fineclass.data.load import load_raw_data
    from fineclass.data.prepare import prepare_task
    from fineclass.modeling import load_tokenizer, model_max_length, resolve_model_path

    out = output_dir or Path(default_output_dir(data) + "-explore")
    if (out / "explore.html").exists() and not overwrite:
        raise FineclassError(f"{out / 'explore.html'} already exists; pass --overwrite to replace it, or choose another --output-dir")
    task = prepare_task(load_raw_data(data), text_column, label_column, label_names, multi_label, for_training=False)
    path = resolve_model_path(model or DEFAULT_MODEL)
    tokenizer = load_tokenizer(path)
    from transformers import AutoConfig

    limit = model_max_length(tokenizer, AutoConfig.from_pretrained(path), max_length)
    out.mkdir(parents=True, exist_ok=True)
    result = explore_task(task, tokenizer, limit, out)
    report = write_explore_html(result, data, out / "explore.html")
    print_exploration(result)
    console.print(f"report: {report}")


def print_exploration(result) -> None:
    rows = Table(title="rows")
    for column in ("split", "rows", "skipped", "duplicates"):
        rows.add_column(column, justify="left" if column == "split" else "right")
    for split, n in result.rows.items():
        rows.add_row(split, str(n), str(result.dropped.get(split, 0)), str(result.duplicates.get(split, 0)))
    console.print(rows)
    classes = Table(title=f"classes (imbalance ratio {result.imbalance_ratio})")
    for column in ("label", "texts", "mean words", "median words"):
        classes.add_column(column, justify="left" if column == "label" else "right")
    for name, count in sorted(result.class_counts.items(), key=lambda kv: -kv[1]):
        words = result.words_by_class.get(name, {})
        classes.add_row(name, str(count), str(words.get("mean", "-")), str(words.get("median", "-")))
    console.print(classes)
    percentiles = ", ".join(f"{k} {v}" for k, v in result.token_percentiles.items())
    console.print(f"token lengths: {percentiles}; {result.truncated_share:.2%} of texts exceed the limit of {result.max_length}")
    if result.labels_per_text:
        console.print(f"labels per text: mean {result.labels_per_text['mean']}, "
                      f"{result.labels_per_text['share_with_several']:.2%} with several")


def load_any_model(model: str | None):
    """A fineclass run or model directory as a classifier; anything else as its base model."""
    from transformers import AutoModel

    from fineclass.config import DEFAULT_MODEL
    from fineclass.modeling import load_classifier, load_tokenizer, resolve_model_path
    from fineclass.rundir import resolve_model_dir

    name = model or DEFAULT_MODEL
    if Path(name).is_dir():
        directory = resolve_model_dir(name)
        config = json.loads((directory / "config.json").read_text())
        if any(a.endswith("ForSequenceClassification") for a in config.get("architectures") or []):
            return load_classifier(directory)
    path = resolve_model_path(name)
    tokenizer = load_tokenizer(path)
    try:
        return AutoModel.from_pretrained(path, attn_implementation="eager"), tokenizer
    except (OSError, ValueError) as err:
        raise FineclassError(f"could not load model {name!r}: {str(err).splitlines()[0]}") from None


@app.command()
@user_errors
def tokenize(
    text: Annotated[str, typer.Argument(help="Text to tokenize.")],
    model: Annotated[Optional[str], typer.Option(help="Tokenizer of this model [default: bundled MiniLM].")] = None,
) -> None:
    """Tokens, ids, attention mask and special tokens of one text, with the vocabulary size and length limit."""
    from fineclass.config import DEFAULT_MODEL
    from fineclass.inspection import tokenize_text
    from fineclass.modeling import load_tokenizer, resolve_model_path
    from fineclass.rundir import resolve_model_dir

    name = model or DEFAULT_MODEL
    path = str(resolve_model_dir(name)) if Path(name).is_dir() else resolve_model_path(name)
    result = tokenize_text(load_tokenizer(path), text)
    table = Table(title=f"{len(result.tokens)} tokens")
    for column in ("position", "token", "id", "attention"):
        table.add_column(column, justify="right" if column != "token" else "left")
    for i, (token, token_id, mask) in enumerate(zip(result.tokens, result.input_ids, result.attention_mask)):
        table.add_row(str(i), token, str(token_id), str(mask))
    console.print(table)
    console.print(f"special tokens: {result.special_tokens}")
    console.print(f"vocabulary size: {result.vocab_size}   maximum length: {result.max_length}")


@app.command("fill-mask")
@user_errors
def fill_mask_command(
    text: Annotated[str, typer.Argument(help='Text with one mask token, like "Boston is the capital of [MASK]."')],
    model: Annotated[str, typer.Option(help="A model with a masked-LM head.")] = "bert-base-uncased",
    top_k: Annotated[int, typer.Option(help="How many guesses to show.")] = 5,
) -> None:
    """The masked word's most likely tokens (needs a model trained with masked language modelling)."""
    from fineclass.inspection import fill_mask
    from fineclass.modeling import load_tokenizer, resolve_model_path

    if top_k < 1:
        raise FineclassError(f"--top-k must be >= 1, got {top_k}")
    path = resolve_model_path(model)
    guesses = fill_mask(path, load_tokenizer(path), text, top_k)
    table = Table(title=text)
    table.add_column("token")
    table.add_column("probability", justify="right")
    for token, prob in guesses:
        table.add_row(token, f"{prob:.4f}")
    console.print(table)


@app.command()
@user_errors
def inspect(
    model: Annotated[Optional[str], typer.Argument(help="A run, model directory or hub name [default: bundled MiniLM].")] = None,
    text: Annotated[str, typer.Option(help="Text for the example forward pass.")] = "Tokenization is unbelievably important!",
) -> None:
    """Architecture, sizes, parameter counts, head, label map and the tensor shapes of one forward pass."""
    from fineclass.inspection import describe_model

    loaded, tokenizer = load_any_model(model)
    info = describe_model(loaded, tokenizer, text)
    table = Table(title=f"{info['architecture']} ({info['model_type']})")
    table.add_column("")
    table.add_column("", overflow="fold")
    for key in ("layers", "hidden_size", "attention_heads", "parameters", "head", "head_parameters", "problem_type", "id2label"):
        value = info[key]
        table.add_row(key, f"{value:,}" if isinstance(value, int) and key.endswith("parameters") else str(value))
    console.print(table)
    shapes = Table(title="tensor shapes of one forward pass")
    shapes.add_column("tensor")
    shapes.add_column("shape")
    for name, shape in info["shapes"].items():
        shapes.add_row(name, str(shape))
    console.print(shapes)


@app.command()
@user_errors
def export(
    model_dir: Annotated[str, typer.Argument(help="A fineclass run directory or model directory.")],
    quantize: Annotated[Optional[str], typer.Option(help="int8: dynamic int8 quantisation of the weights.")] = None,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="[default: RUN/onnx or RUN/onnx-int8].")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Compare with the torch model on the run's test split.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing export.")] = False,
) -> None:
    """Export to ONNX (onnxruntime-optimised, optionally int8) for fast CPU inference."""
    from fineclass.inference.export import export_onnx
    from fineclass.rundir import DATA, resolve_model_dir, run_dir_of

    target = export_onnx(model_dir, output_dir, quantize, overwrite)
    console.print(f"exported {target / 'model.onnx'} ({(target / 'model.onnx').stat().st_size / 1e6:.1f} MB)")
    run_dir = run_dir_of(resolve_model_dir(model_dir))
    if check and run_dir is not None and (run_dir / DATA / "test.jsonl").is_file():
        compare_with_torch(resolve_model_dir(model_dir), target)


def compare_with_torch(model_dir: Path, export_dir: Path) -> None:
    from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
    from fineclass.inference.predictor import Predictor

    frame = load_eval_frame(model_dir, None, "test")
    table = Table(title=f"test split ({len(frame)} rows): torch vs ONNX")
    table.add_column("model")
    keys = ("f1_micro", "f1_macro", "exact_match") if Predictor.from_dir(export_dir).label_space.multi_label else ("accuracy", "f1_macro")
    for key in keys:
        table.add_column(key, justify="right")
    for name, path in (("torch", model_dir), ("onnx", export_dir)):
        metrics = evaluate_frame(Predictor.from_dir(path, batch_size=128), frame).metrics
        table.add_row(name, *(f"{metrics[k]:.4f}" for k in keys))
    console.print(table)


@app.command("tune-thresholds")
@user_errors
def tune_thresholds_command(
    run_dir: Annotated[Path, typer.Argument(help="A multi-label fineclass run directory.")],
    strategy: Annotated[str, typer.Option("--thresholds", help="per-label, global or fixed:T.")] = "per-label",
    min_positives: Annotated[int, typer.Option(help="Validation positives a label needs for its own threshold.")] = 10,
) -> None:
    """Re-tune a multi-label model's thresholds on its run's validation split, and save them."""
    from fineclass.evaluation.evaluate import evaluate_frame, load_eval_frame
    from fineclass.evaluation.thresholds import parse_strategy, tune_thresholds, write_thresholds
    from fineclass.inference.predictor import Predictor
    from fineclass.rundir import resolve_model_dir

    kind, fixed = parse_strategy(strategy)
    model_dir = resolve_model_dir(run_dir)
    predictor = Predictor.from_dir(model_dir)
    if not predictor.label_space.multi_label:
        raise FineclassError(f"{run_dir} holds a single-label model; thresholds apply to multi-label models only")
    result = evaluate_frame(predictor, load_eval_frame(model_dir, None, "validation"), "validation", threshold=0.5)
    tuned = tune_thresholds(result.y_true, result.probs, kind, min_positives, fixed or 0.5)
    write_thresholds(model_dir, predictor.label_space, tuned, strategy, min_positives)
    console.print(f"wrote {model_dir / 'thresholds.json'}: " + ", ".join(
        f"{n} {t:.2f}" for n, t in zip(predictor.label_space.names, tuned)))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
