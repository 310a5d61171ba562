"""Seeded, stratified train/test/validation splits; iterative stratification for multi-label data."""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit
from sklearn.model_selection import train_test_split

from fineclass.data.prepare import TaskData
from fineclass.data.read import first_line
from fineclass.errors import DataError

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


def split_task(task: TaskData, fractions: tuple[float, float, float], seed: int) -> dict[str, pd.DataFrame]:
    """Return train/validation/test frames, carving missing splits out of the data that was given.

    `fractions` is (train, test, validation), as in tutorial 000's 70/20/10 split.
    """
    frames = dict(task.frames)
    pool_name = "all" if "all" in frames else "train"
    pool = frames.pop(pool_name)
    wanted = {"train": fractions[0], "test": fractions[1], "validation": fractions[2]}
    missing = {name: share for name, share in wanted.items() if name not in frames and share > 0}
    missing.setdefault("train", fractions[0])
    if "validation" not in frames and "validation" not in missing:
        raise DataError("there is no validation data; give a validation file or a --split with a validation share")
    parts = stratified_split(pool, missing, task.label_space.multi_label, seed)
    frames.update(parts)
    if "test" not in frames:
        logger.warning("no test split: the test share is 0 and the data has no test file")
    return frames


def stratified_split(frame: pd.DataFrame, shares: dict[str, float], multi_label: bool, seed: int) -> dict[str, pd.DataFrame]:
    """Split rows into named parts with the given relative shares, keeping label proportions."""
    names = sorted(shares, key=lambda n: -shares[n])
    if len(names) == 1:
        return {names[0]: frame.reset_index(drop=True)}
    if not multi_label:
        _check_class_sizes(frame, shares)
    parts, rest, rest_share = {}, frame, sum(shares.values())
    for name in names[:-1]:
        keep_share = shares[name] / rest_share
        keep, other = _split_once(rest, keep_share, multi_label, seed)
        parts[name], rest, rest_share = keep, other, rest_share - shares[name]
    parts[names[-1]] = rest
    return {name: part.reset_index(drop=True) for name, part in parts.items()}


def _split_once(frame: pd.DataFrame, keep_share: float | int, multi_label: bool, seed: int):
    """Rows kept and the others; `keep_share` is a fraction, or a whole number of rows to keep exactly."""
    positions = np.arange(len(frame))
    other_share = len(frame) - keep_share if isinstance(keep_share, int) else 1.0 - keep_share
    if multi_label:
        names = sorted({n for labels in frame["labels"] for n in labels})
        index = {n: i for i, n in enumerate(names)}
        targets = np.zeros((len(frame), len(names)), dtype=np.int8)
        for row, labels in enumerate(frame["labels"]):
            targets[row, [index[n] for n in labels]] = 1
        try:
            if targets.shape[1] >= 2:
                splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=other_share, random_state=seed)
                keep, other = next(splitter.split(positions.reshape(-1, 1), targets))
            else:  # one label (or none): iterative stratification needs two columns
                strata = targets[:, 0] if targets.shape[1] and 0 < targets[:, 0].sum() < len(frame) else None
                keep, other = train_test_split(positions, test_size=other_share, stratify=strata, random_state=seed)
        except ValueError as err:
            raise DataError(f"could not split {len(frame)} rows: {first_line(err)}; add rows or change --split") from None
    else:
        strata = [labels[0] for labels in frame["labels"]]
        try:
            keep, other = train_test_split(positions, test_size=other_share, stratify=strata, random_state=seed)
        except ValueError as err:
            raise DataError(f"could not make a stratified split: {err}; add rows to the rare classes or change --split") from None
    return frame.iloc[np.sort(keep)], frame.iloc[np.sort(other)]


def _check_class_sizes(frame: pd.DataFrame, shares: dict[str, float]) -> None:
    """Each class needs a row in every split, so at least 1/smallest-share rows (10 for 0.7,0.2,0.1)."""
    total = sum(shares.values())
    needed = max(len(shares), math.ceil(total / min(shares.values()) - 1e-9))
    counts = Counter(labels[0] for labels in frame["labels"])
    small = sorted((n, c) for n, c in counts.items() if c < needed)
    if small:
        listed = ", ".join(f"{name!r} ({count})" for name, count in small[:5])
        raise DataError(
            f"too few rows to stratify: class {listed} has fewer than {needed} rows, the least that puts one "
            f"in every split of {','.join(f'{s:g}' for s in shares.values())}; add rows, drop the class, "
            "or give separate train/validation/test files"
        )


def sample_stratified(frame: pd.DataFrame, limit: int | None, multi_label: bool, seed: int) -> pd.DataFrame:
    """A seeded sample of exactly `limit` rows that keeps the label proportions, for --max-train-samples (so a
    small sample holds every class it can) and --max-eval-samples (as run_classification's max_eval_samples); a
    plain random sample when a class is too rare to stratify."""
    if limit is None or limit >= len(frame):
        return frame
    try:
        keep, rest = _split_once(frame, int(limit), multi_label, seed)
    except (DataError, ValueError):
        keep, rest = frame.sample(n=limit, random_state=seed).sort_index(), frame.iloc[:0]
    # Iterative stratification (multi-label) may keep a row more or less than asked: trim or top up, seeded.
    if len(keep) > limit:
        keep = keep.sample(n=limit, random_state=seed).sort_index()
    elif len(keep) < limit:
        keep = pd.concat([keep, rest.sample(n=limit - len(keep), random_state=seed)]).sort_index()
    return keep.reset_index(drop=True)


def label_shares(frames: dict[str, pd.DataFrame], names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Each label's share of rows in each split, to show the split is balanced."""
    shares = {}
    for split, frame in frames.items():
        counts = Counter(n for labels in frame["labels"] for n in labels)
        shares[split] = {name: round(counts.get(name, 0) / max(len(frame), 1), 4) for name in names}
    return shares
