"""Turn raw tables into clean (text, labels) rows over one LabelSpace."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass.data.columns import pick_columns, pick_label_name_column
from fineclass.data.load import RawData, read_label_names
from fineclass.errors import DataError
from fineclass.labels import LabelSpace

logger = logging.getLogger(__name__)

INDEX_LIST = re.compile(r"^\s*-?\d+(\s*,\s*-?\d+)*\s*$")


@dataclass
class TaskData:
    """Clean rows per split: columns `text`, `labels` (a list of names per row) and `row` (the source row)."""

    frames: dict[str, pd.DataFrame]
    label_space: LabelSpace
    text_column: str
    label_column: str
    dropped: dict[str, int]


def prepare_task(
    raw: RawData, text_column=None, label_column=None, label_names_file=None, multi_label=None, for_training=True
) -> TaskData:
    """Pick columns, parse labels, name them, and drop rows without text or label."""
    first = raw.frames.get("train", raw.frames.get("all"))
    text_col, label_col = pick_columns(first, text_column, label_column)
    for split, frame in raw.frames.items():
        missing = [c for c in (text_col, label_col) if c not in frame.columns]
        if missing:
            raise DataError(f"the {split} split has no column {missing[0]!r}; its columns are {list(frame.columns)}")
    parsed = {split: _parse_split(split, frame, text_col, label_col) for split, frame in raw.frames.items()}
    dropped = {split: n for split, (_, n) in parsed.items()}
    frames = {split: frame for split, (frame, _) in parsed.items()}
    names = _label_names(raw, frames, first, label_col, label_names_file)
    frames = {split: _name_labels(split, frame, names) for split, frame in frames.items()}
    label_space = _label_space(frames, names, multi_label, for_training)
    if for_training:
        _check_labels_seen(frames, label_space)
    return TaskData(frames=frames, label_space=label_space, text_column=text_col, label_column=label_col, dropped=dropped)


def _parse_split(split: str, frame: pd.DataFrame, text_col: str, label_col: str) -> tuple[pd.DataFrame, int]:
    texts, labels = frame[text_col], frame[label_col]
    no_text = texts.isna() | texts.astype(str).str.strip().eq("")
    no_label = labels.map(_is_missing)
    keep = ~(no_text | no_label)
    dropped = int((~keep).sum())
    where = "the data" if split == "all" else f"the {split} split"
    if not keep.any():
        raise DataError(
            f"{where} has no rows with both a text in {text_col!r} and a label in {label_col!r} "
            f"({int(no_text.sum())} empty texts, {int(no_label.sum())} missing labels); fill them in or pick other columns"
        )
    if dropped:
        logger.warning(
            "%s: skipped %d of %d rows (%d with empty text, %d with no label)",
            where, dropped, len(frame), int(no_text.sum()), int(no_label.sum()),
        )
    kept = frame[keep]
    rows = [_parse_cell(value, split, int(i)) for i, value in zip(kept.index, kept[label_col])]
    clean = pd.DataFrame({"text": kept[text_col].astype(str).to_numpy(), "labels": rows, "row": kept.index.to_numpy()})
    return clean, dropped


def _is_missing(value) -> bool:
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) == 0
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and value.strip() == ""


def _parse_cell(value, split: str, row: int) -> list:
    """One label cell to a list of ints or strings: 3, '3', '8,20', 'joy', 'joy,love', [8, 20], '["a"]'."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
    elif isinstance(value, (bool, np.bool_)):
        items = [str(value)]
    elif isinstance(value, (int, np.integer)):
        items = [int(value)]
    elif isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            raise DataError(f"{_at(split, row)}: label {_show(value)} is not a whole number or a name")
        items = [int(value)]
    elif isinstance(value, str):
        items = _parse_string_cell(value.strip(), split, row)
    else:
        raise DataError(f"{_at(split, row)}: label {_show(value)} has unsupported type {type(value).__name__}")
    parsed = []
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            parsed.append(int(item))
        elif isinstance(item, str) and item.strip():
            parsed.append(item.strip())
        else:
            raise DataError(
                f"{_at(split, row)}: label list {_show(value)} holds {_show(item)} ({type(_plain(item)).__name__}); a label list "
                "holds label ids (whole numbers) or names; a 0/1 vector is not read: list the ids of its 1s instead"
            )
    return list(dict.fromkeys(parsed))


def _at(split: str, row) -> str:
    """'row 7' for one file, 'test row 7' for a split of a directory."""
    return f"row {row}" if split == "all" else f"{split} row {row}"


def _plain(value):
    """numpy arrays and scalars as plain Python lists and numbers, as the user wrote them."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value


def _show(value) -> str:
    return repr(_plain(value))


def _parse_string_cell(text: str, split: str, row: int) -> list:
    if INDEX_LIST.match(text):
        return [int(part) for part in text.split(",")]
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise DataError(f"{_at(split, row)}: label {text!r} looks like a list but is not valid JSON") from None
        if not isinstance(items, list):
            raise DataError(f"{_at(split, row)}: label {text!r} is not a list")
        return items
    return [part for part in text.split(",") if part.strip()]


def _label_names(raw: RawData, frames, first: pd.DataFrame, label_col: str, label_names_file) -> list[str] | None:
    """Names for integer labels: --label-names, labels.txt, a hub ClassLabel, or a label_name column."""
    all_items = [item for frame in frames.values() for items in frame["labels"] for item in items]
    kinds = {type(item) for item in all_items}
    if kinds == {int, str}:
        example_int = next(i for i in all_items if isinstance(i, int))
        example_str = next(i for i in all_items if isinstance(i, str))
        raise DataError(
            f"the label column {label_col!r} mixes numbers ({example_int}) and names ({example_str!r}); "
            "use one kind throughout"
        )
    if label_names_file is not None:
        return read_label_names(Path(label_names_file))
    if kinds == {str}:
        return None
    if raw.label_names_file is not None:
        return read_label_names(raw.label_names_file)
    if label_col in raw.hub_label_names:
        return raw.hub_label_names[label_col]
    return _names_from_column(first, label_col, frames)


def _names_from_column(first: pd.DataFrame, label_col: str, frames) -> list[str] | None:
    name_col = pick_label_name_column(first, label_col)
    if name_col is None:
        return None
    pairs = first[[label_col, name_col]].dropna().drop_duplicates()
    ids = sorted(int(i) for i in pairs[label_col])
    if pairs[label_col].duplicated().any() or pairs[name_col].duplicated().any() or ids != list(range(len(ids))):
        logger.warning("column %r does not pair 1:1 with %r ids 0..K-1; not using it for label names", name_col, label_col)
        return None
    by_id = dict(zip(pairs[label_col].astype(int), pairs[name_col].astype(str)))
    return [by_id[i] for i in range(len(ids))]


def _name_labels(split: str, frame: pd.DataFrame, names: list[str] | None) -> pd.DataFrame:
    """Integer labels become names: names[i], or str(i) when there are no names."""
    if names is None:
        return frame.assign(labels=[[str(item) for item in items] for items in frame["labels"]])
    name_set = set(names)
    converted = []
    for row, items in zip(frame["row"], frame["labels"]):
        out = []
        for item in items:
            if isinstance(item, int):
                if not 0 <= item < len(names):
                    raise DataError(
                        f"{_at(split, row)}: label {item} is outside the label names' range 0..{len(names) - 1}; "
                        "fix the label or the label names file"
                    )
                out.append(names[item])
            elif item in name_set:
                out.append(item)
            else:
                raise DataError(
                    f"{_at(split, row)}: label {item!r} is not in the label names file, which names "
                    f"{', '.join(names[:20])}; fix the label, or add its name to the file"
                )
        converted.append(out)
    return frame.assign(labels=converted)


def _label_space(frames, names: list[str] | None, multi_label: bool | None, for_training: bool) -> LabelSpace:
    train = frames.get("train", frames.get("all"))
    has_multiple = any(len(items) > 1 for frame in frames.values() for items in frame["labels"])
    if multi_label is False and has_multiple:
        example = next(items for frame in frames.values() for items in frame["labels"] if len(items) > 1)
        raise DataError(
            f"--single-label was given, but some rows have several labels (for example {example}); "
            "drop --single-label, or give one label per row"
        )
    multi = has_multiple if multi_label is None else multi_label
    if names is None:
        seen = {item for items in train["labels"] for item in items}
        names = sorted(seen, key=lambda n: (0, int(n)) if n.lstrip("-").isdigit() else (1, n))
    seen_in_train = {item for items in train["labels"] for item in items}
    if for_training and len(seen_in_train) < 2 and not multi:
        raise DataError(
            f"the training data has a single class {sorted(seen_in_train)[0]!r}; "
            "a classifier needs rows of at least two classes"
        )
    return LabelSpace(names=tuple(names), multi_label=multi)


def _check_labels_seen(frames, label_space: LabelSpace) -> None:
    known = set(label_space.names)
    for split, frame in frames.items():
        for row, items in zip(frame["row"], frame["labels"]):
            unseen = [item for item in items if item not in known]
            if unseen:
                raise DataError(
                    f"{_at(split, row)}: label {unseen[0]!r} never occurs in the training data "
                    f"(known labels: {', '.join(label_space.names[:20])}); fix the label or add training rows for it"
                )
