"""The typer app shared by every command module, with one-line user errors and console output."""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from fineclass.errors import FineclassError
from fineclass.redact import RedactingFilter, redact_text

app = typer.Typer(
    help="Fine-tune BERT-family encoders into text classifiers, evaluate them, and predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Labels, texts, column names and paths are the user's: "[/x]" or ":smile:" in one must print as it is, so rich
# reads no markup or emoji codes in anything these consoles print (a line with markup of ours passes markup=True).
console = Console(markup=False, emoji=False)
err_console = Console(stderr=True, markup=False, emoji=False)


def _print_version(value: bool) -> None:
    if value:
        from fineclass import __version__

        print(f"fineclass {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print fineclass's version and exit."),
) -> None:
    """Options before any command: --version (the help text is the app's)."""


def user_errors(command):
    """A FineclassError is the user's: print one line and exit 2. Anything else is our bug and keeps its traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        setup_logging()
        try:
            return command(*args, **kwargs)
        except FineclassError as err:
            print(f"error: {redact_text(str(err))}", file=sys.stderr)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper


def setup_logging() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not logging.getLogger("fineclass").handlers:
        handler = RichHandler(console=err_console, show_time=False, show_path=False)
        handler.addFilter(RedactingFilter())  # a data URL's credentials and query never reach a log line
        logging.getLogger("fineclass").addHandler(handler)
        logging.getLogger("fineclass").setLevel(logging.INFO)
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()


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


def check_precision(precision: str, device: str | None = None) -> str:
    from fineclass.config import PRECISIONS
    from fineclass.devices import resolve_precision

    if precision not in PRECISIONS:
        raise FineclassError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return resolve_precision(precision, device)


def check_device(device: str, model_dir: str | Path) -> str:
    """The device to load `model_dir` on; an ONNX export runs on the CPU whatever was asked."""
    from fineclass.devices import resolve_device
    from fineclass.inference.backends import is_onnx_dir
    from fineclass.rundir import resolve_model_dir

    return "cpu" if is_onnx_dir(resolve_model_dir(model_dir)) else resolve_device(device)


DEVICE_HELP = "Torch models: auto (a CUDA GPU when torch sees one), cpu, cuda or cuda:N. ONNX exports run on the CPU."


def print_uncut(table_title: str, headers: list[str], rows: list[list[str]], left=("candidate", "kind")) -> None:
    """A table as wide as its cells need: a narrow terminal wraps the lines rather than cutting names and numbers."""
    table = Table(title=table_title)
    for header in headers:
        table.add_column(header, justify="left" if header in left else "right")
    for row in rows:
        table.add_row(*row)
    needed = sum(max(len(cell) for cell in column) + 3 for column in zip(headers, *rows)) + 1
    # Rich renders no wider than its console (80 columns when the output is not a terminal): print through one as wide
    # as the table, so a narrow terminal wraps the lines instead.
    wide = console if needed <= console.width else Console(file=console.file, width=needed, force_terminal=console.is_terminal,
                                                         markup=False, emoji=False)
    wide.print(table, crop=False)


def settings_of(data: str, options: dict, output_dir: str | None, overwrite: bool, suffix: str):
    """The TrainConfig of a command that takes train's options: defaults, then --config, then the flags given;
    the output directory defaults to runs/<data name><suffix>."""
    from fineclass.config import build_config, load_config_file
    from fineclass.rundir import default_output_dir

    config_file = options.pop("config", None)
    file_values = load_config_file(config_file) if config_file else {}
    flags = {**options, "data": data, "output_dir": output_dir, "overwrite": overwrite or None}
    if output_dir is None and not file_values.get("output_dir"):
        flags["output_dir"] = default_output_dir(data) + suffix
    return build_config(file_values, flags)
