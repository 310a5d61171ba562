"""`fineclass push`: upload a run's model directory to the Hugging Face Hub."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from fineclass.commands.common import app, console, user_errors


@app.command()
@user_errors
def push(
    run: Annotated[str, typer.Argument(help="A fineclass run directory (its model/ is pushed) or a model directory.")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="The Hub repository: NAME or OWNER/NAME; created if it does not exist.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repository private (an existing one keeps its visibility).")] = False,
    revision: Annotated[Optional[str], typer.Option(help="Push to this branch; created from the default branch if new.", show_default="main")] = None,
    commit_message: Annotated[Optional[str], typer.Option(help="The commit's message.", show_default="Upload model with fineclass")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the files that would be uploaded, with their sizes, and upload nothing.")] = False,
) -> None:
    """Upload the model directory to the Hugging Face Hub; the token comes from HF_TOKEN or `hf auth login`."""
    from fineclass.recipes.push import push_model

    result = push_model(run, repo_id, private=private, revision=revision, commit_message=commit_message, dry_run=dry_run)
    if dry_run:
        print_push_files(result)
        return
    console.print(f"pushed {len(result.files)} files ({format_size(result.total_bytes)}) to {result.repo_id}: "
                  f"{result.commit_url}", soft_wrap=True)


def print_push_files(result) -> None:
    """One line per file (path, then bytes), so the list can be read back by a script."""
    where = result.repo_id + (f" (branch {result.revision})" if result.revision else "")
    console.print(f"dry run: would upload {len(result.files)} files ({format_size(result.total_bytes)}) from "
                  f"{result.model_dir} to {where}; nothing was sent", soft_wrap=True, highlight=False)
    width = max(len(item.path) for item in result.files)
    for item in result.files:
        console.print(f"  {item.path:<{width}}  {item.size:>13,} bytes", soft_wrap=True, highlight=False)


def format_size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.1f} KB"
