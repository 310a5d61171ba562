"""Data that is already in memory: a pandas DataFrame, a `datasets.Dataset` or `DatasetDict`, or a dict of splits."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from fineclass.data.load import SPLIT_ALIASES, RawData
from fineclass.errors import DataError

ACCEPTED = ("a path, an http(s) URL or hf:NAME, a pandas DataFrame, a datasets Dataset or DatasetDict, "
            "or a dict of split name to DataFrame or Dataset")


def is_in_memory(data) -> bool:
    return not isinstance(data, (str, bytes)) and not hasattr(data, "__fspath__")


def raw_from_memory(data, name: str = "data") -> RawData:
    """RawData from in-memory tables; a dict or DatasetDict gives one frame per split (dev/val become validation)."""
    label_names: dict[str, list[str]] = {}
    if isinstance(data, pd.DataFrame):
        frames = {"all": data}
    elif is_dataset(data):
        frames = {"all": data.to_pandas()}
        label_names = class_label_names(data)
    elif isinstance(data, Mapping) and data:
        frames = {}
        for split, table in data.items():
            canonical = next((s for s, aliases in SPLIT_ALIASES.items() if str(split).lower() in aliases), None)
            if canonical is None:
                raise DataError(f"{name} has a split named {split!r}; name the splits train, validation (or dev) and test")
            if is_dataset(table):
                label_names = label_names or class_label_names(table)
                table = table.to_pandas()
            if not isinstance(table, pd.DataFrame):
                raise DataError(f"{name}[{split!r}] is a {type(table).__name__}; give a DataFrame or a datasets Dataset")
            frames[canonical] = table
        if "train" not in frames:
            raise DataError(f"{name} has the splits {sorted(map(str, data))} but no train split; add one named 'train'")
    else:
        raise DataError(f"{name} must be {ACCEPTED}; got {type(data).__name__}")
    for split, frame in list(frames.items()):
        if len(frame) == 0:
            raise DataError(f"{name} ({split}) has no rows; add labeled rows")
        frame = frame.rename(columns=str)  # a frame built from lists has columns 0, 1, ...
        if frame.columns.duplicated().any():
            raise DataError(f"{name} ({split}) has duplicate column names {sorted(set(frame.columns[frame.columns.duplicated()]))}")
        frames[split] = frame
    return RawData(frames={s: f.reset_index(drop=True) for s, f in frames.items()}, source=describe(data),
                   hub_label_names=label_names)


def is_dataset(value) -> bool:
    return type(value).__name__ == "Dataset" and hasattr(value, "to_pandas") and hasattr(value, "features")


def class_label_names(dataset) -> dict[str, list[str]]:
    """Names from the Dataset's ClassLabel features, as `hf:` data keeps them."""
    names = {}
    for column, feature in dataset.features.items():
        inner = getattr(feature, "feature", feature)
        if type(inner).__name__ == "ClassLabel":
            names[column] = list(inner.names)
    return names


def describe(data) -> str:
    """A short name for in-memory data, recorded as the run's source."""
    if isinstance(data, pd.DataFrame):
        return f"DataFrame ({len(data)} rows)"
    if is_dataset(data):
        return f"Dataset ({len(data)} rows)"
    return "splits " + ", ".join(f"{split} ({len(table)} rows)" for split, table in data.items())
