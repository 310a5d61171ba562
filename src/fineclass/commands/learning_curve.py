"""`fineclass learning-curve`: how the test score grows with the number of training labels."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from fineclass.commands.common import app, console, print_uncut, settings_of, user_errors
from fineclass.commands.compare import with_train_options


def learning_curve(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="Data, given exactly as to `train`.")],
    sizes: Annotated[str, typer.Option(help="Training-set sizes, comma-separated; 'all' is the whole training split.")] = "48,96,192,384,768,all",
    seeds: Annotated[int, typer.Option(help="Seeded, stratified samples per size below the whole split (one at 'all').")] = 3,
    models: Annotated[Optional[list[str]], typer.Option(
        "--models", "-m",
        help="Candidates drawn on the same plot, space-separated, as for compare (tfidf-logreg, frozen:<model>, a hub name or model "
             "directory); --model alone when not given.")] = None,
    output_dir: Annotated[Optional[str], typer.Option("--output-dir", "-o", help="Where learning_curve.json, plots/ and points/ go.", show_default="runs/<data name>-curve")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier curve in --output-dir.")] = False,
    keep_models: Annotated[bool, typer.Option("--keep-models", help="Keep each point's trained weights (removed once scored).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No training progress bars.")] = False,
    **options,
) -> None:
    """Train at several training-set sizes on one fixed split, and show how the test score grows and where it flattens."""
    from fineclass.recipes.learning_curve import parse_sizes, run_learning_curve
    from fineclass.progress import RichProgressCallback
    from fineclass.training.interrupt import TrainingInterrupted

    parsed = parse_sizes(sizes)
    run_config = settings_of(data, options, output_dir, overwrite, "-curve")
    try:
        result = run_learning_curve(run_config, parsed, seeds, [*(models or []), *ctx.args] or None, keep_models,
                                    progress=None if quiet else RichProgressCallback(),
                                    announce=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False))
    except TrainingInterrupted:
        print("interrupted: no curve was written; run the command again with --overwrite to start over", file=sys.stderr)
        raise typer.Exit(130) from None
    print_curve(result)


def print_curve(result) -> None:
    from fineclass.recipes.learning_curve import fit_sentence, summary_rows

    headers, rows = summary_rows(result.summary, result.metric)
    print_uncut(f"learning curve (test split, {result.metric})", headers, rows)
    for name, fit in result.fits.items():
        console.print(fit_sentence(name, fit, result.metric), soft_wrap=True, highlight=False, markup=False)
    console.print(f"curve: {result.paths['json']}   plot: {result.paths['plot']}")


app.command("learning-curve", context_settings={"allow_extra_args": True})(user_errors(with_train_options(learning_curve, excluded=())))
