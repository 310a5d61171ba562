"""`explore`, `tokenize`, `fill-mask` and `inspect`: look at the data and the model before training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from fineclass.commands.common import (
    app,
    console,
    user_errors,
)
from fineclass.commands.options import FILE_READING, reading_options
from fineclass.data.read import ReadOptions
from fineclass.errors import FineclassError, first_line
from fineclass.rundir import default_output_dir


@app.command()
@user_errors
@reading_options
def explore(
    data: Annotated[str, typer.Argument(help="Data, given exactly as to `train`.")],
    model: Annotated[Optional[str], typer.Option(help="Tokenizer to measure token lengths with.", show_default="bundled MiniLM")] = None,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where explore.html and plots/ go.", show_default="runs/<data name>-explore")] = None,
    multi_label: Annotated[Optional[bool], typer.Option("--multi-label/--single-label", help="Override multi-label detection.")] = None,
    max_length: Annotated[Optional[int], typer.Option(help="Truncation limit to report against.", show_default="the model's")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier explore.html.")] = False,
    **reading,
) -> None:
    """Class balance, text and token lengths, and figures, in the terminal and in explore.html."""
    from fineclass.recipes.explore import explore_data

    columns = {name: reading.pop(name) for name in list(reading) if name not in FILE_READING}
    result = explore_data(
        data, output_dir or Path(default_output_dir(data) + "-explore"), model, multi_label=multi_label,
        options=ReadOptions(**reading), max_length=max_length, overwrite=overwrite, **columns,
        announce=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False),
    )
    print_exploration(result)
    console.print(f"report: {result.report_path}")


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
    kept = result.long_texts
    if kept:
        console.print(f"tokens read: truncate {kept['truncate']:.1%}, head-tail {kept['head-tail']:.1%} (from both ends), "
                      f"windows {kept['windows']:.1%} ({kept['windows_per_text']} windows a text); "
                      f"--long-texts auto would choose {kept['auto']}")
    if result.labels_per_text:
        console.print(f"labels per text: mean {result.labels_per_text['mean']}, "
                      f"{result.labels_per_text['share_with_several']:.2%} with several")
    for warning in result.warnings:
        console.print(f"warning: {warning}", soft_wrap=True)


def load_any_model(model: str | None):
    """A fineclass run or model directory as a classifier; anything else as its base model."""
    from transformers import AutoModel

    from fineclass.config import DEFAULT_MODEL
    from fineclass.modelfiles import check_model_files
    from fineclass.modeling import load_classifier, load_tokenizer, resolve_model_path
    from fineclass.rundir import resolve_model_dir

    name = model or DEFAULT_MODEL
    if Path(name).is_dir():
        directory = resolve_model_dir(name)
        config = check_model_files(directory)  # config.json as a dict, or one line
        if any(a.endswith("ForSequenceClassification") for a in config.get("architectures") or []):
            return load_classifier(directory)
    path = resolve_model_path(name)
    tokenizer = load_tokenizer(path)
    try:
        return AutoModel.from_pretrained(path, attn_implementation="eager"), tokenizer
    except (OSError, ValueError) as err:
        raise FineclassError(f"could not load model {name!r}: {first_line(err)}") from None


@app.command()
@user_errors
def tokenize(
    text: Annotated[str, typer.Argument(help="Text to tokenize.")],
    model: Annotated[Optional[str], typer.Option(help="Tokenizer of this model.", show_default="bundled MiniLM")] = None,
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
    model: Annotated[Optional[str], typer.Argument(help="A run, model directory or hub name.", show_default="bundled MiniLM")] = None,
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


