"""`fineclass audit`: the rows most likely to be mislabelled, duplicates and leakage, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from fineclass.commands.common import app, console, err_console, print_uncut, user_errors
from fineclass.commands.options import FILE_READING, reading_options
from fineclass.config import DEFAULT_MODEL
from fineclass.data.read import ReadOptions
from fineclass.rundir import default_output_dir

SHOWN_ROWS = 10
"""Flagged rows printed in the terminal; audit.csv and audit.html have them all."""


class RichAuditProgress:
    """One rich bar per stage of the audit (embedding, folds), on stderr."""

    def __init__(self, enabled: bool = True):
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, disable=not enabled)
        self.task = None

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def stage(self, description: str, total: int) -> None:
        self.task = self.progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        self.progress.advance(self.task, amount)


@app.command()
@user_errors
@reading_options
def audit(
    data: Annotated[str, typer.Argument(help="Data, given exactly as to `train`: every row of every split is audited.")],
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where audit.csv, audit.html, audit.json and cleaned/ go.", show_default="runs/<data name>-audit")] = None,
    folds: Annotated[int, typer.Option(help="Out-of-fold probabilities from this many folds.")] = 5,
    rank_by: Annotated[str, typer.Option(help="Label quality that ranks the rows: self-confidence or normalized-margin.")] = "self-confidence",
    similarity: Annotated[float, typer.Option(help="Embedding cosine at or above which two texts are near-duplicates.")] = 0.95,
    fix: Annotated[Optional[str], typer.Option(help="Write a cleaned copy of the data to OUT/cleaned/: drop or relabel the flagged rows.", show_default="no copy")] = None,
    fix_test: Annotated[bool, typer.Option("--fix-test", help="Let --fix change the test split too.")] = False,
    model: Annotated[Optional[str], typer.Option(help="Fine-tune this model per fold instead of the fast frozen encoder + logistic regression.", show_default="none: the fast way")] = None,
    epochs: Annotated[Optional[float], typer.Option(help="Epochs of each fold's fine-tuning (alone, it fine-tunes the bundled model).", show_default="3 when fine-tuning")] = None,
    embedder: Annotated[str, typer.Option(help="Frozen encoder for the fast probabilities and near-duplicates.", show_default="bundled all-MiniLM-L6-v2")] = DEFAULT_MODEL,
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass while embedding.")] = 128,
    seed: Annotated[int, typer.Option(help="Seed of the folds.")] = 42,
    multi_label: Annotated[Optional[bool], typer.Option("--multi-label/--single-label", help="Override multi-label detection.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier audit in --output-dir.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    **reading,
) -> None:
    """Rank the rows most likely to be mislabelled (confident learning on out-of-fold probabilities), and find exact
    and near-duplicate texts, duplicates with conflicting labels, and train/test leakage."""
    from fineclass.recipes.audit import AuditOptions, run_audit

    options = AuditOptions(folds=folds, rank_by=rank_by, similarity=similarity, fix=fix, fix_test=fix_test, model=model,
                           epochs=epochs, embedder=embedder, batch_size=batch_size, seed=seed)
    columns = {name: reading.pop(name) for name in list(reading) if name not in FILE_READING}
    with RichAuditProgress(enabled=not quiet) as progress:
        result = run_audit(
            data, output_dir or Path(default_output_dir(data) + "-audit"), options, overwrite=overwrite,
            read=ReadOptions(**reading), columns={**columns, "multi_label": multi_label}, progress=progress,
            announce=lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False),
        )
    print_audit(result)


def print_audit(result) -> None:
    from fineclass.evaluation.audit_report import KINDS

    counts = ", ".join(f"{kind} {result.counts.get(kind, 0):,}" for kind in KINDS)
    console.print(f"{len(result.issues):,} of {sum(result.rows.values()):,} rows flagged: {counts}", soft_wrap=True)
    shown = result.issues.head(SHOWN_ROWS)
    if len(shown):
        rows = [[f"{split} {row}" if split != "all" else str(row), short(text), given, suggested, f"{score:.3f}", kind]
                for row, split, text, given, suggested, score, kind in
                shown[["row", "split", "text", "given", "suggested", "score", "kind"]].itertuples(index=False)]
        print_uncut(f"most likely problems (the first {len(shown)})", ["row", "text", "given", "suggested", "score", "kind"],
                    rows, left=("row", "text", "given", "suggested", "kind"))
    paths = result.paths
    line = f"table: {paths['csv']}   report: {paths['html']}"
    if "cleaned" in paths:
        line += f"   cleaned copy: {paths['cleaned']}"
    console.print(line, soft_wrap=True)


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
