"""Turn raw tables into clean (text, labels) rows over one LabelSpace."""

from __future__ import annotations

import ast
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass.data.columns import (
    Columns,
    choose_columns,
    join_text_columns,
    pick_label_name_column,
)
from fineclass.data.json_files import loads_limited
from fineclass.data.load import RawData, read_label_names
from fineclass.data.read import FileLayout
from fineclass.errors import DataError
from fineclass.labels import LabelSpace
from fineclass.redact import redact_source

logger = logging.getLogger(__name__)

INDEX_LIST = re.compile(r"^\s*-?\d+(\s*,\s*-?\d+)*\s*$")
LIST_HINT = re.compile(r"[,'\"]")
"""What a label cell in [brackets] that parses as no list must hold to be a broken list rather than a name ("[/x]")."""


@dataclass
class TaskData:
    """Clean rows per split: columns `text`, `labels` (a list of names per row) and `row` (the source row), with
    `text_pair` for sentence pairs and `targets` (one float per label) for soft labels."""

    frames: dict[str, pd.DataFrame]
    label_space: LabelSpace
    text_column: str
    label_column: str
    dropped: dict[str, int]
    columns: Columns | None = None
    layout: FileLayout | None = None
    notes: list[str] = field(default_factory=list)
    """What was read and how, for the detection line: label names' source, 1-based ids, soft labels."""

    @property
    def soft_labels(self) -> bool:
        return any("targets" in frame.columns for frame in self.frames.values())

    def reading(self) -> dict:
        """How the data was read, for splits.json: `evaluate` and `predict` read new files the same way."""
        record = {"format": self.layout.to_dict() if self.layout else None}
        if self.columns is not None:
            record.update(self.columns.to_dict())
        record["soft_labels"] = self.soft_labels
        record["one_based_ids"] = any(note.startswith("ids 1..") for note in self.notes)
        return record

    def describe(self, source: str) -> str:
        """One line: what was detected, before any work."""
        source = redact_source(source)
        name = Path(source.split("?")[0].rstrip("/")).name or source
        layout = f"{self.layout.describe()}; " if self.layout else ""
        columns = self.columns
        text = " + ".join(repr(c) for c in columns.text) if columns else repr(self.text_column)
        if columns and columns.text_pair:
            text += f" paired with {columns.text_pair!r}"
        if columns and columns.wide:
            label = f"{len(columns.labels)} 0/1 columns {columns.labels[0]!r}..{columns.labels[-1]!r}"
        else:
            label = repr(self.label_column)
        space = self.label_space
        kind = f"{'multi-label' if space.multi_label else 'multi-class'}, {space.num_labels} labels"
        line = f"read {name}: {layout}text {text}; labels {label}; {kind}"
        extras = list(self.notes)
        if columns and columns.also_text:
            joined = ",".join(columns.text + columns.also_text[:1])
            extras.append(f"{columns.also_text[0]!r} looks like text too: --text-column {joined} joins them")
        if columns and columns.also_labels:
            other = columns.also_labels[0]
            extras.append(f"{other!r} looks like labels too: --label-column {other} trains on it instead")
        return line + "".join(f"; {note}" for note in extras)


def prepare_task(
    raw: RawData, text_column=None, label_column=None, label_names_file=None, multi_label=None, for_training=True,
    label_columns=None, text_pair_column=None, one_based_ids: bool | None = None,
) -> TaskData:
    """Pick columns, parse labels, name them, and drop rows without text or label."""
    first = raw.frames.get("train", raw.frames.get("all"))
    columns = choose_columns(first, text_column, label_column, label_columns, text_pair_column)
    check_columns_in_every_split(raw.frames, columns.text + columns.labels + ([columns.text_pair] if columns.text_pair else []))
    notes: list[str] = []
    parsed = {split: _parse_split(split, frame, columns) for split, frame in raw.frames.items()}
    dropped = {split: n for split, (_, n) in parsed.items()}
    frames = {split: frame for split, (frame, _) in parsed.items()}
    if columns.wide:
        names = list(columns.labels)
        fractional = sum(int(frame.attrs.get("fractional", 0)) for frame in frames.values())
        if fractional:
            notes.append(f"soft labels: {fractional} cells are fractions")
            logger.warning("%d label cells are fractions between 0 and 1: training on them as soft targets; metrics "
                           "and thresholds use them binarised at 0.5", fractional)
    else:
        names = _label_names(raw, frames, first, columns.labels[0], label_names_file, notes, one_based_ids)
    frames = {split: _name_labels(split, frame, names) for split, frame in frames.items()}
    if columns.wide and multi_label is None:
        multi_label = not _one_hot(frames)  # one column per label: multi-label, unless every row has exactly one 1
        if not multi_label:
            notes.append("one 1 per row: multi-class")
    label_space = _label_space(frames, names, multi_label, for_training)
    if for_training:
        _check_labels_seen(frames, label_space)
    if columns.wide and not label_space.multi_label:
        check_one_label_each(frames)
    label_column = ",".join(columns.labels)
    return TaskData(frames=frames, label_space=label_space, text_column=",".join(columns.text), label_column=label_column,
                    dropped=dropped, columns=columns, layout=raw.layout, notes=notes)


def check_columns_in_every_split(frames: dict[str, pd.DataFrame], needed: list[str]) -> None:
    for split, frame in frames.items():
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(f"the {split} split has no column {missing[0]!r}; its columns are {list(frame.columns)}")


def check_one_label_each(frames: dict[str, pd.DataFrame]) -> None:
    """Single-label data from one 0/1 column per label: every row needs a 1."""
    for split, frame in frames.items():
        empty = [int(row) for row, items in zip(frame["row"], frame["labels"]) if not items]
        if empty:
            raise DataError(f"{_at(split, empty[0])}: every label column is 0, but the task is single-label "
                            f"({len(empty)} such rows); give each row one label, or drop --single-label")


def _one_hot(frames) -> bool:
    return all(len(items) == 1 for frame in frames.values() for items in frame["labels"]) and \
        not any("targets" in frame.columns for frame in frames.values())


def _parse_split(split: str, frame: pd.DataFrame, columns: Columns) -> tuple[pd.DataFrame, int]:
    texts = join_text_columns(frame, columns.text)
    text_col = " + ".join(columns.text)
    label_col = ",".join(columns.labels) if columns.wide else columns.labels[0]
    no_text = texts.isna() | texts.astype(str).str.strip().eq("")
    if columns.text_pair:
        pairs = frame[columns.text_pair]
        no_text |= pairs.isna() | pairs.astype(str).str.strip().eq("")
    if columns.wide:
        no_label = frame[columns.labels].isna().any(axis=1)
    else:
        no_label = frame[label_col].map(_is_missing)
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
    clean = {"text": texts[keep].astype(str).to_numpy()}
    if columns.text_pair:
        clean["text_pair"] = kept[columns.text_pair].astype(str).to_numpy()
    fractional = 0
    if columns.wide:
        rows, targets, fractional = _parse_wide(split, kept, columns.labels)
    else:
        rows, targets = [_parse_cell(value, split, int(i)) for i, value in zip(kept.index, kept[label_col])], None
    clean.update(labels=rows, row=kept.index.to_numpy())
    if targets is not None:
        clean["targets"] = list(targets)
    result = pd.DataFrame(clean)
    result.attrs["fractional"] = fractional
    return result, dropped


def _parse_wide(split: str, frame: pd.DataFrame, label_columns: list[str]):
    """One column per label: 0/1, true/false, or a fraction (a soft label). Labels are the columns at 0.5 or more;
    a row of zeros is an example with no label."""
    values = np.zeros((len(frame), len(label_columns)), dtype=np.float64)
    for j, column in enumerate(label_columns):
        cells = frame[column]
        numeric = pd.to_numeric(cells.map(_indicator_value), errors="coerce")
        bad = numeric.isna() | (numeric < 0) | (numeric > 1)
        if bad.any():
            row = cells.index[int(np.argmax(bad.to_numpy()))]
            raise DataError(
                f"{_at(split, row)}: label column {column!r} holds {_show(cells.loc[row])}; each of the label columns "
                "holds 0/1, true/false or a fraction between 0 and 1"
            )
        values[:, j] = numeric.to_numpy(dtype=np.float64)
    fractional = int(((values > 0) & (values < 1)).sum())
    labels = [[label_columns[j] for j in np.flatnonzero(row >= 0.5)] for row in values]
    return labels, (values.astype(np.float32) if fractional else None), fractional


def _indicator_value(value):
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, str):
        return {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}.get(value.strip().lower(), value)
    return value


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
            items = loads_limited(text, f"{_at(split, row)}: label {_clip(text)}", 'a label list is flat, like ["joy", "love"]')
        except json.JSONDecodeError:
            items = _python_list(text)
            if items is None and not LIST_HINT.search(text):
                return [text]  # a name that starts with a bracket, such as rich markup ("[/x]", "[bold]joy")
            if items is None:
                raise DataError(f"{_at(split, row)}: label {_clip(text)} looks like a list but is not valid JSON") from None
        if not isinstance(items, list):
            raise DataError(f"{_at(split, row)}: label {_clip(text)} is not a list")
        return items
    return [part for part in text.split(",") if part.strip()]


def _clip(text: str, limit: int = 60) -> str:
    """A cell for a message: its repr, cut to `limit` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text):,} characters)"


def _python_list(text: str) -> list | None:
    """A list written by Python's repr, as pandas' to_csv writes a list cell: "['greet', 'bye']"."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def _label_names(raw: RawData, frames, first: pd.DataFrame, label_col: str, label_names_file, notes: list[str],
                 one_based_ids: bool | None = None) -> list[str] | None:
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
    names_file = Path(label_names_file) if label_names_file is not None else None
    if names_file is None and kinds != {str}:
        names_file = raw.label_names_file
    if names_file is not None:
        names = read_label_names(names_file)
        if kinds == {int}:
            _read_ids_as_one_based(frames, names, names_file, notes, one_based_ids)
        notes.insert(0, f"names from {names_file.name}")
        return names
    if kinds == {str}:
        return None
    if label_col in raw.hub_label_names:
        return raw.hub_label_names[label_col]
    names = _names_from_column(first, label_col, frames)
    if names is not None:
        notes.insert(0, f"names from {pick_label_name_column(first, label_col)!r}")
    return names


def _read_ids_as_one_based(frames, names: list[str], names_file: Path, notes: list[str], one_based: bool | None) -> None:
    """Ids 1..N with N names (AG News' classes.txt) count from 1: shift them in place, and say so. `one_based`
    is the run's own reading, for new data of a trained model; None decides from these ids."""
    ids = {item for frame in frames.values() for items in frame["labels"] for item in items}
    if one_based is None:
        one_based = min(ids) >= 1 and max(ids) == len(names)
    if one_based:
        for frame in frames.values():
            frame["labels"] = [[item - 1 for item in items] for items in frame["labels"]]
        notes.append(f"ids 1..{len(names)} read as 1-based ({1} = {names[0]!r})")
        logger.info("label ids run from 1 to %d and %s names %d labels: reading the ids as 1-based (1 = %r)",
                    len(names), names_file.name, len(names), names[0])


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
