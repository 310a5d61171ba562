"""A cleaned copy of the data: rows dropped or relabelled, written in the input's own format where fineclass can write
it (delimited text, JSON Lines, a JSON list of records, Parquet) and as CSV otherwise. The input is never written."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass.data.columns import pick_label_name_column
from fineclass.data.load import RawData
from fineclass.data.prepare import INDEX_LIST, TaskData
from fineclass.data.read import ReadOptions, detect_layout
from fineclass.outputs import atomic_path

WRITABLE = ("csv", "jsonl", "json", "parquet")
"""Formats written back as they were read; anything else (fastText, one text per line, a hub dataset, a URL, a
DataFrame) is written as CSV."""


@dataclass
class Fixes:
    """What to change, per split: source row numbers to drop, and new label names for others."""

    drop: dict[str, set[int]] = field(default_factory=dict)
    relabel: dict[str, dict[int, list[str]]] = field(default_factory=dict)

    def touches(self, split: str) -> bool:
        return bool(self.drop.get(split) or self.relabel.get(split))


def write_cleaned_copy(raw: RawData, task: TaskData, fixes: Fixes, target: Path, options: ReadOptions | None = None) -> list[Path]:
    """Write every split into `target` (which must exist): a split with no fix is copied byte for byte when it is a
    local file. The label names file the data was read with is copied too, so the copy reads the same way."""
    written = []
    for split, frame in raw.frames.items():
        source = source_file(raw, split)
        if source is not None and not fixes.touches(split):
            written.append(copy_file(source, target / source.name))
            continue
        cleaned = relabel_rows(frame, task, fixes.relabel.get(split, {}))
        cleaned = cleaned.drop(index=sorted(fixes.drop.get(split, ())))
        written.append(write_table(cleaned, source, target, split, options))
    if raw.label_names_file is not None and Path(raw.label_names_file).is_file():
        written.append(copy_file(Path(raw.label_names_file), target / Path(raw.label_names_file).name))
    return written


def source_file(raw: RawData, split: str) -> Path | None:
    """The local file a split was read from; None for a URL, a hub dataset, data in memory, or a JSON file's split."""
    if raw.files:
        return Path(raw.source) / raw.files[split]
    path = Path(raw.source)
    return path if split == "all" and path.is_file() else None


def copy_file(source: Path, target: Path) -> Path:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def write_table(frame: pd.DataFrame, source: Path | None, directory: Path, split: str, options: ReadOptions | None) -> Path:
    """The frame in the source file's format and name; CSV named after the split when that format is not writable."""
    layout = detect_layout(source, options) if source is not None else None
    fmt = layout.format if layout is not None and layout.format in WRITABLE else "csv"
    name = source.name if source is not None and fmt == layout.format else f"{'data' if split == 'all' else split}.csv"
    target = directory / name
    with atomic_path(target) as tmp:
        if fmt == "csv" and layout is not None and layout.format == "csv":
            frame.to_csv(tmp, sep=layout.delimiter or ",", quotechar=layout.quotechar or '"', header=layout.header,
                         index=False, encoding=layout.encoding)
        elif fmt == "csv":
            frame.to_csv(tmp, index=False)
        elif fmt == "jsonl":
            frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
        elif fmt == "json":
            frame.to_json(tmp, orient="records", force_ascii=False, indent=1)
        else:
            frame.to_parquet(tmp, index=False)
    return target


def relabel_rows(frame: pd.DataFrame, task: TaskData, relabel: dict[int, list[str]]) -> pd.DataFrame:
    """The frame with each relabelled row's label cells rewritten in the style they were written in."""
    if not relabel:
        return frame
    frame = frame.copy()
    columns = task.columns
    names = list(task.label_space.names)
    one_based = any(note.startswith("ids 1..") for note in task.notes)
    name_column = None if columns.wide else pick_label_name_column(frame, columns.labels[0])
    if f"names from {name_column!r}" not in task.notes:
        name_column = None  # a label_name column the names were not read from is left as it is
    for row, new in relabel.items():
        if columns.wide:
            for name in columns.labels:
                frame.at[row, name] = int(name in new)
            continue
        column = columns.labels[0]
        frame.at[row, column] = label_cell(frame.at[row, column], new, names, one_based, task.label_space.multi_label)
        if name_column is not None:
            frame.at[row, name_column] = ",".join(new)
    return frame


def label_cell(old, new: list[str], names: list[str], one_based: bool, multi_label: bool):
    """New labels written as the old cell was: ids or names; a list, a JSON list, a comma-joined string or one value."""
    items = list(old) if isinstance(old, (list, tuple, np.ndarray)) else None
    if items is not None:
        as_ids = bool(items) and isinstance(items[0], (int, np.integer))
    else:
        as_ids = isinstance(old, (int, np.integer, float, np.floating)) or (isinstance(old, str) and bool(INDEX_LIST.match(old)))
    values = [names.index(name) + int(one_based) for name in new] if as_ids else list(new)
    if items is not None:
        return values
    if isinstance(old, str) and old.strip().startswith("["):
        return json.dumps(values, ensure_ascii=False)
    if not multi_label and len(values) == 1 and not isinstance(old, str):
        return values[0]
    return ",".join(str(value) for value in values)
