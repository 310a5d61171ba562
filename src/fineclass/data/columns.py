"""Choose the text and label columns of a table: by the names given, by well-known names, then by content."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fineclass.errors import DataError

TEXT_COLUMNS = ("text", "sentence", "content", "review", "comment", "comment_text", "tweet", "body", "document",
                "utterance", "input", "message", "review_text", "tweet_text", "post", "article", "abstract")
LABEL_COLUMNS = ("label", "labels", "label_id", "label_ids", "target", "class", "category", "emotion", "intent", "y",
                 "sentiment", "class_index", "class_label", "topic", "intents", "tags", "categories", "classes",
                 "polarity", "stance", "is_duplicate", "gold_label")
LABEL_NAME_COLUMNS = ("label_name", "label_names", "label_text", "class_name")
TEXT_PAIRS = (("sentence1", "sentence2"), ("question1", "question2"), ("premise", "hypothesis"), ("text_a", "text_b"),
              ("text1", "text2"), ("sentence_a", "sentence_b"), ("query", "passage"), ("query", "document"),
              ("question", "sentence"), ("question", "passage"))
"""Column pairs that are read as a sentence pair when no --text-column is given."""
TEXT_JOIN = "\n"
"""Several text columns are joined with this, in the order given."""
SAMPLE_ROWS = 2000
"""Rows looked at to judge a column's content."""


@dataclass
class Columns:
    """The columns a table's text and labels come from, and how they were found."""

    text: list[str]
    labels: list[str]
    text_pair: str | None = None
    wide: bool = False
    """One 0/1 (or fraction) column per label, named after the label."""
    found_by: dict[str, str] = field(default_factory=dict)
    """'text' and 'label': "given", "name" or "content", for the detection line."""
    also_text: list[str] = field(default_factory=list)
    """Other columns that look like text, for a hint to join them."""
    also_labels: list[str] = field(default_factory=list)
    """Other columns with a label's name (a second task in the file), for a hint to train on them instead."""

    def to_dict(self) -> dict:
        return {"text_columns": self.text, "text_pair_column": self.text_pair, "label_columns": self.labels,
                "wide_labels": self.wide, "text_join": TEXT_JOIN}


def choose_columns(frame: pd.DataFrame, text_column: str | None = None, label_column: str | None = None,
                   label_columns: str | None = None, text_pair_column: str | None = None) -> Columns:
    """Use the given columns, or detect them (see docs/data.md)."""
    columns = [str(c) for c in frame.columns]
    found: dict[str, str] = {}
    texts = resolve_names(columns, text_column, "--text-column") if text_column else None
    pair = resolve_names(columns, text_pair_column, "--text-pair-column")[0] if text_pair_column else None
    if label_column and label_columns:
        raise DataError("give --label-column (one column) or --label-columns (one 0/1 column per label), not both")
    wide = False
    if label_columns:
        labels, wide, found["label"] = resolve_label_range(columns, label_columns), True, "given"
        if len(labels) == 1:
            wide = is_indicator_column(frame[labels[0]])
    elif label_column:
        labels, found["label"] = resolve_names(columns, label_column, "--label-column"), "given"
        wide = len(labels) > 1
    else:
        named = first_present(columns, LABEL_COLUMNS, exclude={pair})
        if named and texts and named in texts:  # the well-known label column given as the text
            raise DataError(f"the text and label columns are both {named!r}; pass --text-column and --label-column")
        labels, wide, found["label"] = detect_labels(frame, columns, exclude=set(texts or []) | {pair})
    if texts is None and pair is None:
        pair_names = known_pair(columns, exclude=set(labels))
        if pair_names:
            texts, pair = [pair_names[0]], pair_names[1]
            found["text"] = "name"
    if texts is None:
        named = first_present(columns, TEXT_COLUMNS, exclude=set(labels) | {pair})
        texts = [named] if named else None
        found["text"] = "name"
        if texts is None:
            longest = string_columns_by_length(frame, exclude=set(labels) | {pair})
            texts = longest[:1] or None
            found["text"] = "content"
    else:
        found.setdefault("text", "given")
    if texts is None:
        raise DataError(f"no text column found; pass --text-column NAME (the columns are {columns})")
    overlap = [name for name in texts if name in labels or name == pair]
    if overlap:
        raise DataError(f"the text and label columns are both {overlap[0]!r}; pass --text-column and --label-column")
    also = [] if found["text"] == "given" else [
        c for c in string_columns_by_length(frame, exclude=set(texts) | set(labels) | {pair}, min_chars=15, distinct=0.5)
    ]
    other_labels = [] if found["label"] == "given" or wide else other_label_columns(columns, set(texts) | set(labels) | {pair})
    return Columns(text=texts, labels=labels, text_pair=pair, wide=wide, found_by=found, also_text=also,
                   also_labels=other_labels)


def other_label_columns(columns: list[str], exclude: set) -> list[str]:
    """Columns named like a label besides the one chosen: a file with a topic and a sentiment holds two tasks."""
    return [c for c in columns if c not in exclude and normal(c) in LABEL_COLUMNS]


def resolve_names(columns: list[str], given: str, flag: str) -> list[str]:
    """'title,description' to columns; exact names first, then the same name in another case."""
    if given in columns:
        return [given]
    names = [part.strip() for part in given.split(",")] if "," in given else [given]
    return [resolve_one(columns, name, flag, given) for name in names]


def resolve_one(columns: list[str], name: str, flag: str, given: str | None = None) -> str:
    if name in columns:
        return name
    folded = [c for c in columns if c.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    raise DataError(f"{flag} {(given or name)!r} is not a column; the columns are {columns}")


def resolve_label_range(columns: list[str], given: str) -> list[str]:
    """--label-columns 'a,b,c', 'anger:trust' (every column from anger to trust), or a mix."""
    chosen: list[str] = []
    for part in (p.strip() for p in given.split(",")):
        if ":" in part and part not in columns:
            start, end = (resolve_one(columns, p.strip(), "--label-columns", given) for p in part.split(":", 1))
            i, j = columns.index(start), columns.index(end)
            if j < i:
                raise DataError(f"--label-columns {part!r}: {end!r} comes before {start!r} in the file")
            chosen += columns[i:j + 1]
        else:
            chosen.append(resolve_one(columns, part, "--label-columns", given))
    return list(dict.fromkeys(chosen))


def detect_labels(frame: pd.DataFrame, columns: list[str], exclude: set) -> tuple[list[str], bool, str]:
    """A well-known name; a column whose cells are lists; two or more 0/1 columns (wide); a column of few values."""
    named = first_present(columns, LABEL_COLUMNS, exclude=exclude)
    if named:
        return [named], False, "name"
    candidates = [c for c in columns if c not in exclude]
    listed = next((c for c in candidates if is_list_column(frame[c])), None)
    if listed:
        return [listed], False, "content"
    indicators = [c for c in candidates if is_indicator_column(frame[c])]
    if len(indicators) >= 2:
        return indicators, True, "content"
    few = few_values_column(frame, candidates)
    if few:
        return [few], False, "content"
    raise DataError(f"no label column found; pass --label-column NAME (the columns are {columns})")


def known_pair(columns: list[str], exclude: set) -> tuple[str, str] | None:
    lowered = {normal(c): c for c in columns if c not in exclude}
    return next(((lowered[a], lowered[b]) for a, b in TEXT_PAIRS if a in lowered and b in lowered), None)


def normal(name: str) -> str:
    """'Class Index' and 'class-index' to 'class_index'."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def first_present(columns: list[str], candidates: tuple[str, ...], exclude: set = frozenset()) -> str | None:
    lowered = {}
    for column in columns:
        if column not in exclude:
            lowered.setdefault(normal(column), column)
    return next((lowered[c] for c in candidates if c in lowered), None)


def sample(series: pd.Series) -> pd.Series:
    return series.dropna().head(SAMPLE_ROWS)


def is_string_column(series: pd.Series) -> bool:
    """Cells that are strings, whatever the dtype: object (pandas 2) or str (pandas 3)."""
    values = sample(series)
    return len(values) > 0 and all(isinstance(v, str) for v in values.head(200))


def is_list_column(series: pd.Series) -> bool:
    """Cells that are lists, or strings written as lists ('["a", "b"]', "['a', 'b']")."""
    values = sample(series).head(200)
    if not len(values):
        return False
    if all(isinstance(v, (list, tuple, np.ndarray)) for v in values):
        return True
    return all(isinstance(v, str) and v.strip().startswith("[") and v.strip().endswith("]") for v in values)


def is_indicator_column(series: pd.Series) -> bool:
    """0/1, true/false, or fractions in [0, 1]: one label of a wide layout."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if not pd.api.types.is_numeric_dtype(series.dtype):
        return False
    values = series.dropna()
    return len(values) > 0 and bool(((values >= 0) & (values <= 1)).all())


def few_values_column(frame: pd.DataFrame, candidates: list[str]) -> str | None:
    """The column with the fewest distinct values relative to the rows (at least 2, at most half the rows),
    whose cells are short: what a label column looks like in a file without names."""
    best, best_ratio = None, 1.0
    for column in candidates:
        values = sample(frame[column])
        if not len(values) or any(isinstance(v, (list, dict, np.ndarray)) for v in values.head(50)):
            continue
        if pd.api.types.is_float_dtype(values.dtype) and not (values == values.round()).all():
            continue  # a score or a measurement, not a class
        distinct = values.nunique()
        if distinct < 2 or distinct > max(2, len(values) // 2):
            continue
        if values.astype(str).str.len().mean() > 40:
            continue
        ratio = distinct / len(values)
        if ratio < best_ratio:
            best, best_ratio = column, ratio
    return best


def string_columns_by_length(frame: pd.DataFrame, exclude: set, min_chars: float = 0.0, distinct: float = 0.0) -> list[str]:
    """String columns, longest mean length first; `distinct`: the share of distinct cells a column needs."""
    scored = []
    for column in frame.columns:
        if column in exclude or not is_string_column(frame[column]):
            continue
        values = sample(frame[column]).astype(str)
        length = values.str.len().mean()
        if length > min_chars and (values.nunique() > distinct * len(values) or len(values) < 4):
            scored.append((-length, column))
    return [column for _, column in sorted(scored)]


def join_text_columns(frame: pd.DataFrame, text_columns: list[str]) -> pd.Series:
    """One text per row: the column itself, or the non-empty cells of several columns joined with TEXT_JOIN, as
    train, evaluate and predict --input all build them."""
    if len(text_columns) == 1:
        return frame[text_columns[0]]
    parts = [frame[c].map(lambda v: "" if is_blank(v) else str(v).strip()) for c in text_columns]
    joined = [TEXT_JOIN.join(p for p in row if p) for row in zip(*parts)]
    return pd.Series(joined, index=frame.index).replace("", None)


def is_blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and not value.strip())


def match_columns(columns: list[str], names: list[str] | None) -> list[str] | None:
    """`names` (a run's recorded columns) as this table spells them, in any case; None unless all are present."""
    if not names:
        return None
    lowered = {c.lower(): c for c in columns}
    found = [name if name in columns else lowered.get(name.lower()) for name in names]
    return found if all(found) else None


def pick_label_name_column(frame: pd.DataFrame, label_column: str) -> str | None:
    return next((c for c in LABEL_NAME_COLUMNS if c in frame.columns and c != label_column), None)
