"""JSON and JSON Lines files as frames, and the nesting-depth limit every JSON reader of user data keeps."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass.data.diagnose import JSON_TYPES
from fineclass.errors import DataError

logger = logging.getLogger(__name__)

SPLIT_KEYS = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
              "val": "validation", "dev": "validation", "test": "test", "testing": "test"}
"""JSON keys (and file-name parts) that name a split."""
MAX_JSON_DEPTH = 100
"""How deeply arrays and objects may nest: records of texts and labels need 3 levels. Python's json module stops
at the interpreter's recursion limit (about 1,000) with a RecursionError, and what it reads below that can still
overflow code that walks the values."""
RECORD_FIX = 'write records like {"text": "...", "label": 0}'

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text; brackets inside strings do not count."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    return int(np.cumsum(np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)).max())


def loads_limited(text: str, where: str, fix: str = RECORD_FIX):
    """json.loads, after checking the nesting depth; `where` ("line 3 of d.jsonl") and `fix` complete the message.
    A json.JSONDecodeError is left to the caller, which knows how to describe the position."""
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH:  # cheap: only then can the depth be too much
        depth = json_depth(text)
        if depth > MAX_JSON_DEPTH:
            raise DataError(f"{where} nests JSON {depth:,} levels deep, past the {MAX_JSON_DEPTH} that fineclass "
                            f"reads; {fix}")
    return json.loads(text)


def iter_jsonl_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Objects (records) or arrays ([text, label]) per line."""
    records: list = []
    kind = None
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = loads_limited(line.rstrip("\r\n"), f"line {number} of {path}")
            except json.JSONDecodeError as err:
                raise DataError(f"line {number} of {path} is not valid JSON ({err.msg.removesuffix(' at')} at column "
                                f"{err.colno}); fix or remove that line") from None
            this = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else None
            if this is None or (kind is not None and this != kind):
                raise DataError(f'line {number} of {path} holds a JSON {JSON_TYPES.get(type(value), "value")}, not an '
                                f'{kind or "object"} like the lines before it; write one object like '
                                '{"text": "...", "label": 0} (or one [text, label] array) per line')
            kind = this
            records.append(value)
            if len(records) >= chunk_rows:
                yield frame_from_items(records, path)
                records = []
    if records or kind is None:
        yield frame_from_items(records, path)


def read_json_document(path: Path, encoding: str) -> dict[str, pd.DataFrame]:
    """A list of records or [text, label] pairs; a dict of splits; records under one key; or a dict of columns."""
    text = path.read_text(encoding=encoding).removeprefix("\ufeff")
    try:
        value = loads_limited(text, str(path))
    except json.JSONDecodeError as err:
        raise DataError(f"{path} is not valid JSON ({err.msg.removesuffix(' at')} at line {err.lineno} column "
                        f"{err.colno}); fix the file, or use JSON Lines") from None
    if isinstance(value, list):
        return {"all": frame_from_items(value, path)}
    if not isinstance(value, dict):
        raise DataError(f"{path} holds a JSON {JSON_TYPES.get(type(value), 'value')}; fineclass reads a list of records "
                        'like [{"text": "...", "label": 0}], a dict of splits, or JSON Lines (.jsonl)')
    lists = {key: item for key, item in value.items() if isinstance(item, list)}
    splits = named_splits(path, lists)
    if "train" in splits:
        ignored = sorted(key for key in value if key.lower() not in SPLIT_KEYS)
        if ignored:
            logger.warning("%s: using the splits %s; ignoring the other keys %s", path, sorted(splits), ignored)
        return {split: frame_from_items(items, path, key=split) for split, items in splits.items()}
    plain = [key for key, items in lists.items() if items and not isinstance(items[0], (dict, list))]
    if len(lists) >= 2 and len(lists) == len(value) and len({len(v) for v in lists.values()}) == 1 and plain:
        return {"all": pd.DataFrame(lists)}  # {"text": [...], "labels": [[...], ...]}: pandas' column orientation
    record_lists = {key: items for key, items in lists.items() if items and all(isinstance(x, (dict, list)) for x in items[:100])}
    if len(record_lists) == 1 and len(lists) == 1:
        key, items = next(iter(record_lists.items()))
        return {"all": frame_from_items(items, path, key=key)}
    raise DataError(
        f"{path} holds a JSON object with keys {sorted(value)[:10]}; fineclass reads a list of records like "
        '[{"text": "...", "label": 0}], a dict of splits ({"train": [...], "test": [...]}), records under one key, '
        "or JSON Lines (.jsonl) with one record per line"
    )


def named_splits(path: Path, lists: dict[str, list]) -> dict[str, list]:
    """The lists whose keys name a split ("train", "val", ...), under the split's own name."""
    splits: dict[str, list] = {}
    for key, items in lists.items():
        split = SPLIT_KEYS.get(key.lower())
        if split in splits:
            raise DataError(f"{path} has two {split} splits ({', '.join(k for k in lists if SPLIT_KEYS.get(k.lower()) == split)}); keep one")
        if split:
            splits[split] = items
    return splits


def frame_from_items(items: list, path: Path, key: str | None = None) -> pd.DataFrame:
    """Records (dicts) to a frame; [text, label] pairs to columns text and label."""
    where = f"{path}" if key is None else f"{path} ({key!r})"
    if all(isinstance(item, dict) for item in items):
        return pd.DataFrame.from_records(items) if items else pd.DataFrame()
    if all(isinstance(item, (list, tuple)) for item in items):
        widths = {len(item) for item in items}
        if widths == {2}:
            return pd.DataFrame(items, columns=["text", "label"])
        if len(widths) == 1 and widths.pop() >= 2:
            return pd.DataFrame(items, columns=[f"column_{i + 1}" for i in range(len(items[0]))])
        raise DataError(f"{where} holds arrays of different lengths; write [text, label] pairs or records")
    odd = next(item for item in items if not isinstance(item, (dict, list, tuple)))
    raise DataError(f"{where} holds a JSON {JSON_TYPES.get(type(odd), 'value')} among its items; write records like "
                    '{"text": "...", "label": 0} or [text, label] pairs')
