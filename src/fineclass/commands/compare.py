"""`fineclass compare`: several candidates trained or evaluated on one split, ranked in a leaderboard."""

from __future__ import annotations

import inspect
import sys
from typing import Annotated, Optional

import typer

from fineclass.commands import train as train_command
from fineclass.commands.common import app, console, print_uncut, settings_of, user_errors

OWN_OPTIONS = ("data", "output_dir", "overwrite")  # compare's own, with its own help
NOT_FOR_COMPARE = ("model",)  # --models replaces it


def compare(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="Data, given exactly as to `train` (put it before --models).")],
    models: Annotated[list[str], typer.Option(
        "--models", "-m",
        help="Candidates, space-separated: hub names or model directories (fine-tuned here), fineclass run directories "
             "(evaluated only), tfidf-logreg, frozen:<model>, shrink:<model>:K, <model dir>@onnx-int8.")],
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", "-o", help="Where compare.json, compare.html, data/ and candidates/ go.", show_default="runs/<data name>-compare")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier compare in --output-dir.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No training progress bars.")] = False,
    **options,
) -> None:
    """Train or evaluate several candidates on the same split and test set, and rank them: metrics, speed and size."""
    from fineclass.recipes.compare.run import run_compare
    from fineclass.progress import RichProgressCallback
    from fineclass.training.interrupt import TrainingInterrupted

    run_config = settings_of(data, options, output_dir, overwrite, "-compare")
    try:
        result = run_compare(run_config, [*models, *ctx.args], progress=None if quiet else RichProgressCallback(),
                             announce=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False))
    except TrainingInterrupted:  # its message is about `train --resume`, which compare does not have
        print(f"interrupted: no leaderboard was written; run the command again with --overwrite to start over "
              f"(the candidates finished so far are in {run_config.output_dir}/candidates)", file=sys.stderr)
        raise typer.Exit(130) from None
    print_leaderboard(result)


def print_leaderboard(result) -> None:
    from fineclass.recipes.compare.leaderboard import leaderboard_rows

    headers, rows = leaderboard_rows(result.candidates, result.labels)
    print_uncut(f"leaderboard ({len(rows)} candidates, ranked by {headers[3]} on the test split)", headers, rows)
    paths = result.paths
    console.print(f"leaderboard: {paths['json']}   report: {paths['html']}   plot: {paths['plot']}")


def with_train_options(command, excluded: tuple[str, ...] = NOT_FOR_COMPARE):
    """Give `command` train's options for the run's settings (all but DATA, --output-dir, --overwrite and `excluded`).

    The parameters are taken from `train` itself (those that are TrainConfig fields, and --config), so
    compare and learning-curve take exactly the same data and training options as train, with the same names,
    defaults and help, and they cannot drift apart.
    """
    from fineclass.config import FIELD_NAMES

    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind != p.VAR_KEYWORD]
    names = {p.name for p in own}
    shared = [p for name, p in inspect.signature(train_command.train, eval_str=True).parameters.items()
              if (name in FIELD_NAMES or name == "config") and name not in OWN_OPTIONS + excluded and name not in names]
    command.__signature__ = inspect.Signature(own + shared)
    return command


app.command("compare", context_settings={"allow_extra_args": True})(user_errors(with_train_options(compare)))
