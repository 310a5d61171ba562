"""Continuing a stopped run: find its newest complete checkpoint, and check the data still splits the same way."""

from __future__ import annotations

import json
import logging
import struct
import zipfile
from pathlib import Path

import pandas as pd

from fineclass.errors import FineclassError, first_line
from fineclass.rundir import CHECKPOINTS, SPLITS, SplitsRecord

logger = logging.getLogger(__name__)

STATE = "trainer_state.json"
STATE_KEYS = ("global_step", "epoch", "log_history")
"""What the Trainer reads back from trainer_state.json to know where it stopped."""
WEIGHTS = ("model.safetensors", "pytorch_model.bin")
TORCH_FILES = ("optimizer.pt", "scheduler.pt")
"""Without them the Trainer resumes silently with a fresh optimizer and learning-rate schedule."""


def find_checkpoint(out: Path, resume: str) -> Path | None:
    """The newest complete checkpoint-N in the run's checkpoints/, or the given one; None when none is complete.

    An incomplete checkpoint (a kill or a full disk during its save) is skipped with a warning; with none complete
    the run starts from the beginning, with a warning.
    """
    if resume != "latest":
        path = Path(resume)
        if not (path / STATE).is_file():
            raise FineclassError(f"--resume-from {path} is not a Trainer checkpoint (no {STATE})")
        problem = checkpoint_problem(path)
        if problem:
            raise FineclassError(f"--resume-from {path} is an incomplete checkpoint ({problem}); give another "
                                 "checkpoint-N, or --resume to take the newest complete one")
        return path
    candidates = sorted((p for p in (out / CHECKPOINTS).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                        key=lambda p: int(p.name.split("-")[-1]), reverse=True)
    for path in candidates:
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        logger.warning("%s is incomplete (%s); trying the one before it", path, problem)
    logger.warning("no complete checkpoint in %s: training starts from the beginning", out / CHECKPOINTS)
    return None


def checkpoint_problem(path: Path) -> str | None:
    """Why the Trainer could not resume from `path`, or None when every file it reads is whole."""
    state = path / STATE
    try:
        payload = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return f"{STATE} does not parse: {first_line(err)}" if state.exists() else f"no {STATE}"
    missing = [key for key in STATE_KEYS if not isinstance(payload, dict) or key not in payload]
    if missing:
        return f"{STATE} has no {', '.join(missing)}"
    weights = next((path / name for name in WEIGHTS if (path / name).is_file()), None)
    if weights is None:
        return "no model weights"
    if weights.suffix == ".safetensors" and not safetensors_whole(weights):
        return f"{weights.name} is cut short"
    for name in TORCH_FILES + (() if weights.suffix == ".safetensors" else (weights.name,)):
        if not (path / name).is_file():
            return f"no {name}"
        if not zipfile.is_zipfile(path / name):  # torch.save writes a zip; a cut one has no central directory
            return f"{name} is cut short"
    return None


def safetensors_whole(path: Path) -> bool:
    """A safetensors file is an 8-byte header length, a JSON header, then the tensors' bytes: the header's offsets
    say how long the file must be."""
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > path.stat().st_size:
                return False
            header = json.loads(handle.read(length))
        end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
        return path.stat().st_size >= 8 + length + end
    except (OSError, ValueError, struct.error, KeyError, TypeError, IndexError):
        return False


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
