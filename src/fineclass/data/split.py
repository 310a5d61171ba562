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
from fineclass.errors import DataError, first_line

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


def split_task(task: TaskData, fractions: tuple[float, float, float], seed: int) -> dict[str, pd.DataFrame]:
    """Return train/validation/test frames, carving missing splits out of the data that was given.

    `fractions` is (train, test, validation), as in tutorial 000's 70/20/10 split. A warning names the classes
    too rare for reliable scores (see `rare_classes`).
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
    rare = rare_classes(frames, fractions)
    if rare:
        logger.warning(describe_rare_classes(rare, fractions))
    return frames


def stratified_split(frame: pd.DataFrame, shares: dict[str, float], multi_label: bool, seed: int) -> dict[str, pd.DataFrame]:
    """Split rows into named parts with the given relative shares, keeping label proportions as well as the rows allow.

    Rows of a class too rare to stratify (fewer rows than put one in every part at these shares) are placed by
    hand: a class with a row for every part gets one in each, a rarer one stays in train. The other rows are
    stratified (iteratively for multi-label data), exactly as when no class is rare.
    """
    names = sorted(shares, key=lambda n: -shares[n])
    if len(names) == 1:
        return {names[0]: frame.reset_index(drop=True)}
    frame = frame.reset_index(drop=True)
    counts = label_counts(frame)
    needed = rows_for_every_split(shares.values())
    scarce = sorted((n for n, c in counts.items() if c < needed), key=lambda n: (counts[n], n))
    by_hand = np.array([any(n in scarce for n in labels) for labels in frame["labels"]], dtype=bool)
    try:
        parts = split_in_turn(frame[~by_hand], shares, names, multi_label, seed) if (~by_hand).any() else {}
    except DataError:  # the rows defeat stratification (classes at the edge of too few): place them all by hand
        by_hand[:], parts, scarce = True, {}, sorted(counts, key=lambda n: (counts[n], n))
    placed = place_by_hand(frame[by_hand], scarce, shares, seed)
    joined = {name: join_rows(frame, parts.get(name), placed[name]) for name in names}
    check_no_part_empty(joined, len(frame))
    return {name: part.reset_index(drop=True) for name, part in joined.items()}


def check_no_part_empty(parts: dict[str, pd.DataFrame], rows: int) -> None:
    """Only classes with fewer rows than parts leave a part empty: then nothing can be validated."""
    empty = [name for name, part in parts.items() if part.empty]
    if empty:
        raise DataError(
            f"too few rows to split: {rows} rows leave the {' and '.join(empty)} split{'s' * (len(empty) > 1)} empty "
            f"(a class needs {len(parts)} rows to put one in each of {', '.join(parts)}); add rows, or give separate "
            "train/validation/test files"
        )


def join_rows(frame: pd.DataFrame, stratified: pd.DataFrame | None, placed: list) -> pd.DataFrame:
    """A part's stratified rows and the rows placed by hand, in the frame's order."""
    pieces = [piece for piece in (stratified, frame.loc[placed]) if piece is not None and len(piece)]
    return pd.concat(pieces).sort_index() if len(pieces) > 1 else pieces[0] if pieces else frame.iloc[:0]


def split_in_turn(frame: pd.DataFrame, shares: dict[str, float], names: list[str], multi_label: bool, seed: int):
    """Carve the parts one after another, largest first, each stratified."""
    parts, rest, rest_share = {}, frame, sum(shares.values())
    for name in names[:-1]:
        keep_share = shares[name] / rest_share
        keep, other = _split_once(rest, keep_share, multi_label, seed)
        parts[name], rest, rest_share = keep, other, rest_share - shares[name]
    parts[names[-1]] = rest
    return parts


def place_by_hand(frame: pd.DataFrame, scarce: list[str], shares: dict[str, float], seed: int) -> dict[str, list]:
    """Index labels of `frame` per part. Rarest class first, each class's rows (in a seeded order) fill the parts
    it is allotted, smallest part first; a class with fewer rows than there are parts stays in train."""
    rng = np.random.default_rng(seed)
    order = sorted(shares, key=lambda n: (shares[n], n == "train"))
    where: dict = {}
    for name in scarce:
        rows = [i for i, labels in zip(frame.index, frame["labels"]) if name in labels]
        want = allot(len(rows), shares) if len(rows) >= len(shares) else {"train": len(rows)}
        have = Counter(where[i] for i in rows if i in where)
        for i in rng.permutation(rows).tolist():
            if i not in where:
                where[i] = next((part for part in order if have[part] < want.get(part, 0)), "train")
                have[where[i]] += 1
    return {part: sorted(i for i in frame.index if where.get(i, "train") == part) for part in shares}


def allot(count: int, shares: dict[str, float]) -> dict[str, int]:
    """`count` rows over the parts: one each, the rest by share (largest remainder)."""
    total = sum(shares.values())
    exact = {part: count * share / total for part, share in shares.items()}
    want = {part: max(1, int(value)) for part, value in exact.items()}
    while sum(want.values()) > count:  # the one-each minimum took rows: give them back from the largest part
        want[max(want, key=lambda part: want[part])] -= 1
    while sum(want.values()) < count:
        want[max(exact, key=lambda part: exact[part] - want[part])] += 1
    return want


def rows_for_every_split(shares) -> int:
    """The fewest rows of a class that stratification spreads over every part at these shares (10 for 0.7,0.2,0.1)."""
    positive = [share for share in shares if share > 0]
    return max(len(positive), math.ceil(sum(positive) / min(positive) - 1e-9))


def label_counts(frame: pd.DataFrame) -> Counter:
    """Rows per label (a multi-label row counts for each of its labels)."""
    return Counter(n for labels in frame["labels"] for n in labels)


def rare_classes(frames: dict[str, pd.DataFrame], fractions) -> dict[str, dict[str, int]]:
    """Classes with fewer rows in all than stratify over every split at `fractions` (10 for 70/20/10), with their
    rows per split, rarest first: their validation and test scores rest on a row or two, or none. metrics.json
    records them (data.rare_classes) and the report marks them."""
    needed = rows_for_every_split(fractions)
    per_split = {split: label_counts(frame) for split, frame in frames.items()}
    total = sum(per_split.values(), Counter())
    return {name: {split: per_split[split].get(name, 0) for split in SPLITS if split in frames}
            for name in sorted(total, key=lambda n: (total[n], n)) if total[name] < needed}


def describe_rare_classes(rare: dict[str, dict[str, int]], fractions) -> str:
    """One warning line for every rare class (the first five named, with their rows per split)."""
    listed = "; ".join(f"{name!r} {sum(counts.values())} ({', '.join(f'{s} {c}' for s, c in counts.items())})"
                       for name, counts in list(rare.items())[:5])
    more = f"; and {len(rare) - 5} more" if len(rare) > 5 else ""
    which = "class" if len(rare) == 1 else f"{len(rare)} classes"
    return (f"too few rows for reliable scores: {which} with fewer than the {rows_for_every_split(fractions)} rows that "
            f"stratify over every split of {','.join(f'{s:g}' for s in fractions)}: {listed}{more}; a class with a "
            "row for every split has one in each, a rarer one is only trained on, and its scores are unreliable "
            "(the report marks it)")


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
