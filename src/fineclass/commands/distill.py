"""`fineclass distill`: train a compact student on a teacher run's outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from fineclass.commands.common import app, console, user_errors
from fineclass.commands.options import with_config_options
from fineclass.commands.train import announce, print_train_summary
from fineclass.config import DISTILL_ALPHA, DISTILL_TEMPERATURE

DISTILL_EXCLUDED = ("data", "model", "text_column", "text_pair_column", "label_column", "label_columns", "label_names",
                    "multi_label", "split", "max_train_samples", "max_eval_samples", "delimiter", "quotechar", "encoding",
                    "header", "columns")
"""train's options that a distillation does not take: the data is the teacher's saved split, the model the student."""


def distill(
    teacher: Annotated[str, typer.Argument(help="The teacher: a fineclass run directory (its saved split is reused).")],
    layers: Annotated[Optional[int], typer.Option(help="The student is the teacher's first K layers (with its embeddings and head).")] = None,
    student: Annotated[Optional[str], typer.Option(help="The student is this model (hub name or directory) with the teacher's tokenizer.")] = None,
    temperature: Annotated[float, typer.Option(help="Temperature of both models' softmax (or sigmoid) in the distillation loss.")] = DISTILL_TEMPERATURE,
    alpha: Annotated[float, typer.Option(help="Weight of the loss against the hard labels; 1 - alpha goes to the teacher's outputs.")] = DISTILL_ALPHA,
    unlabeled: Annotated[Optional[Path], typer.Option(help="A file of texts without labels: the teacher labels them for the student.")] = None,
    unlabeled_column: Annotated[Optional[str], typer.Option(help="The text column of --unlabeled.", show_default="the teacher's, else detected")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    **options,
) -> None:
    """Distil a trained run into a smaller student: KL divergence to the teacher's softened logits (BCE to its
    sigmoids for multi-label) plus the hard labels, on the teacher's own split. The output is an ordinary run."""
    from fineclass.config import build_config
    from fineclass.recipes.distill import check_distill_options, run_distillation
    from fineclass.rundir import output_errors
    from fineclass.progress import RichProgressCallback

    check_distill_options(layers, student, temperature, alpha)
    if options.get("output_dir") is None:
        options["output_dir"] = f"{str(teacher).rstrip('/')}-student-{layers if layers else 'model'}"
    config = build_config({}, {"data": str(teacher), **options})
    with output_errors(Path(config.output_dir)):
        result = run_distillation(teacher, config, layers=layers, student=student, temperature=temperature, alpha=alpha,
                                  unlabeled=unlabeled, unlabeled_column=unlabeled_column,
                                  progress=None if quiet else RichProgressCallback(), announce=announce)
    print_train_summary(result)
    console.print(f"student: {result.config.model}")


app.command()(user_errors(with_config_options(distill, exclude=DISTILL_EXCLUDED)))
