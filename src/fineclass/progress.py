"""The progress display of a training run: a rich progress bar and a line per validation, as a TrainerCallback.

It is UI, so it belongs to the caller, not to the training stage: the CLI's commands show it, and the Python API
shows it for `progress="rich"`. It sits in the API's layer (tests/unit/test_layers.py), where both can import it:
the API may not import the commands."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import TrainerCallback


class RichProgressCallback(TrainerCallback):
    """One progress bar over all training steps, the latest loss beside it, a line per evaluation."""

    def __init__(self, console: Console | None = None, enabled: bool = True):
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.progress: Progress | None = None
        self.task = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not (self.enabled and state.is_world_process_zero):
            return
        self.progress = Progress(
            TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TextColumn("epoch {task.fields[epoch]:.2f}"),
            TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console, transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=state.max_steps, epoch=0.0, loss="-", completed=state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, epoch=state.epoch or 0.0)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress is not None and logs and "loss" in logs:
            self.progress.update(self.task, loss=f"{logs['loss']:.4f}")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.progress is None or not metrics:
            return
        shown = {k[5:]: v for k, v in metrics.items() if k.startswith("eval_") and isinstance(v, float)
                 and not k.endswith(("runtime", "per_second"))}
        text = "  ".join(f"{k} {v:.4f}" for k, v in shown.items())
        # soft_wrap: a line that does not fit a narrow or non-terminal console stays one line, never cut mid-metric
        self.progress.console.print(f"[cyan]epoch {state.epoch:.0f}[/] validation: {text}", soft_wrap=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
