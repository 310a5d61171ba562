"""Say why a data file could not be read: which line, which byte, and how to fix it."""

from __future__ import annotations

import json
from pathlib import Path

from fineclass.errors import DataError

JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def check_not_empty(path: Path, fmt: str) -> None:
    """A 0-byte file: pandas would say 'No columns to parse', which names neither the file nor the fix."""
    if path.stat().st_size == 0:
        wanted = "a header row and rows" if fmt in ("csv", "tsv") else "rows"
        raise DataError(f"{path} is empty (0 bytes); give a {fmt.upper()} file with {wanted}")


def describe_json_error(path: Path, fmt: str) -> str | None:
    """Where a JSON or JSON Lines file first breaks; None if it parses (pandas failed for another reason)."""
    if fmt == "jsonl":
        with open(path, encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as err:
                    return (f"line {number} of {path} is not valid JSON ({err.msg.removesuffix(' at')} at column {err.colno}); "
                            "fix or remove that line")
                if not isinstance(value, dict):
                    return f'line {number} of {path} holds a JSON {JSON_TYPES[type(value)]}, not an object like {{"text": "...", "label": 0}}'
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as err:
        return (f"{path} is not valid JSON ({err.msg.removesuffix(' at')} at line {err.lineno} column {err.colno}); "
                "fix the file, or use JSON Lines")
    if not isinstance(value, list):
        return (f'{path} holds a JSON {JSON_TYPES[type(value)]}; fineclass reads a list of records like '
                '[{"text": "...", "label": 0}], or JSON Lines (.jsonl) with one record per line')
    return None
