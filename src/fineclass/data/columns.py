"""Choose the text and label columns of a table."""

from __future__ import annotations

import pandas as pd

from fineclass.errors import DataError

TEXT_COLUMNS = ("text", "sentence", "content", "review", "comment", "tweet", "body", "document", "utterance", "input")
LABEL_COLUMNS = ("label", "labels", "label_id", "label_ids", "target", "class", "category", "emotion", "intent", "y")
LABEL_NAME_COLUMNS = ("label_name", "label_names", "label_text", "class_name")


def pick_columns(frame: pd.DataFrame, text_column: str | None, label_column: str | None) -> tuple[str, str]:
    """Use the given columns, or detect them by name (text: also the string column with the longest cells)."""
    columns = [str(c) for c in frame.columns]
    for flag, given in (("--text-column", text_column), ("--label-column", label_column)):
        if given is not None and given not in columns:
            raise DataError(f"{flag} {given!r} is not a column; the columns are {columns}")
    label = label_column or _first_present(columns, LABEL_COLUMNS)
    if label is None:
        raise DataError(f"no label column found; pass --label-column NAME (the columns are {columns})")
    text = text_column or _first_present(columns, TEXT_COLUMNS) or _longest_string_column(frame, exclude={label})
    if text is None:
        raise DataError(f"no text column found; pass --text-column NAME (the columns are {columns})")
    if text == label:
        raise DataError(f"the text and label columns are both {text!r}; pass --text-column and --label-column")
    return text, label


def pick_label_name_column(frame: pd.DataFrame, label_column: str) -> str | None:
    return next((c for c in LABEL_NAME_COLUMNS if c in frame.columns and c != label_column), None)


def _first_present(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _longest_string_column(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    best, best_length = None, 0.0
    for column in frame.columns:
        if column in exclude or frame[column].dtype != object:
            continue
        values = frame[column].dropna()
        if len(values) and all(isinstance(v, str) for v in values.head(100)):
            length = values.astype(str).str.len().mean()
            if length > best_length:
                best, best_length = column, length
    return best
