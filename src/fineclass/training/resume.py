"""Continuing a stopped run: find its checkpoint, and check the data still splits the same way."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fineclass.errors import FineclassError
from fineclass.rundir import CHECKPOINTS, SPLITS, SplitsRecord


def find_checkpoint(out: Path, resume: str) -> Path:
    """The newest checkpoint-N in the run's checkpoints/, or the given one."""
    if resume != "latest":
        path = Path(resume)
        if not (path / "trainer_state.json").is_file():
            raise FineclassError(f"--resume-from {path} is not a Trainer checkpoint (no trainer_state.json)")
        return path
    candidates = [p for p in (out / CHECKPOINTS).glob("checkpoint-*")
                  if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()]
    candidates.sort(key=lambda p: int(p.name.split("-")[-1]))
    if not candidates:
        raise FineclassError(f"no checkpoint to resume from in {out / CHECKPOINTS}; start the run without --resume")
    return candidates[-1]


def check_same_split(out: Path, frames: dict[str, pd.DataFrame]) -> None:
    """A resumed run must see the same rows in each split, or its data order is not restored."""
    path = out / SPLITS
    if not path.is_file():
        raise FineclassError(f"{out} has no {SPLITS}; it is not a fineclass run that can be resumed")
    recorded = SplitsRecord.read(out).rows
    if any(recorded.get(split) != [int(r) for r in frame["row"]] for split, frame in frames.items()):
        raise FineclassError(
            f"the data or split options differ from the run in {out}; resume with the same DATA and options"
        )
