"""Stop cleanly on SIGINT or SIGTERM: save a checkpoint at the end of the current step, then exit."""

from __future__ import annotations

import signal
from contextlib import contextmanager

from transformers import TrainerCallback

from fineclass.errors import FineclassError


class TrainingInterrupted(FineclassError):
    """Training stopped on a signal after saving a checkpoint; the message says how to resume."""


class StopOnSignal(TrainerCallback):
    """Turns a signal into the Trainer's own save-and-stop at the next step boundary."""

    def __init__(self):
        self.received: int | None = None

    def handle(self, signum, _frame) -> None:
        if self.received is not None:  # a second Ctrl-C means: stop now
            raise KeyboardInterrupt
        self.received = signum

    def on_step_end(self, args, state, control, **kwargs):
        if self.received is not None:
            control.should_save = True
            control.should_training_stop = True
        return control


@contextmanager
def stop_on_signals(callback: StopOnSignal):
    previous = {sig: signal.signal(sig, callback.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield callback
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
