"""Checks of a data file before it is parsed, and the names of JSON types for messages."""

from __future__ import annotations

from pathlib import Path

from fineclass.errors import DataError

JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def check_not_empty(path: Path, fmt: str) -> None:
    """A 0-byte file: pandas would say 'No columns to parse', which names neither the file nor the fix."""
    if path.stat().st_size == 0:
        wanted = "a header row and rows" if fmt in ("csv", "tsv") else "rows"
        raise DataError(f"{path} is empty (0 bytes); give a {fmt.upper()} file with {wanted}")
