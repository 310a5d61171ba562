"""Say why a data file could not be read: which line, which byte, and how to fix it."""

from __future__ import annotations

import json
from pathlib import Path

from fineclass.errors import DataError

UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes", ",": "commas"}
JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def check_not_empty(path: Path, fmt: str) -> None:
    """A 0-byte file: pandas would say 'No columns to parse', which names neither the file nor the fix."""
    if path.stat().st_size == 0:
        wanted = "a header row and rows" if fmt in ("csv", "tsv") else "rows"
        raise DataError(f"{path} is empty (0 bytes); give a {fmt.upper()} file with {wanted}")


def describe_decode_error(path: Path) -> str:
    """The first line that is not UTF-8, with the iconv command that converts the file."""
    with open(path, "rb") as handle:
        if handle.read(2) in UTF16_MARKS:
            return (f"{path} is UTF-16, not UTF-8 (it starts with a UTF-16 byte-order mark); "
                    f"re-save it as UTF-8, for example with: iconv -f utf-16 -t utf-8 {path} > utf8-{path.name}")
        handle.seek(0)
        # Line by line: a newline byte never occurs inside a multi-byte UTF-8 character.
        for number, raw in enumerate(handle, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                return (f"{path} is not valid UTF-8 (line {number} has byte {raw[err.start:err.start + 1]!r}; the file may "
                        f"be Latin-1 or Windows-1252); re-save it as UTF-8, for example with: "
                        f"iconv -f latin1 -t utf-8 {path} > utf8-{path.name}")
    return f"{path} is not valid UTF-8; re-save it as UTF-8"


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


def check_delimiter(path: Path, fmt: str, columns: list) -> None:
    """One column whose name holds another delimiter: a semicolon CSV, or tabs in a .csv."""
    if len(columns) != 1:
        return
    header, expected = str(columns[0]), "," if fmt == "csv" else "\t"
    found = next((d for d in OTHER_DELIMITERS if d != expected and d in header), None)
    if found is None:
        return
    if found in ",\t":
        fix = f"rename it to {path.stem}{'.tsv' if found == chr(9) else '.csv'}"
    else:
        fix = f"convert it, for example with pandas: pd.read_csv('{path}', sep='{found}').to_csv('{path.stem}-fixed.csv', index=False)"
    raise DataError(
        f"{path} reads as one column {header[:60]!r}: its fields look separated by {OTHER_DELIMITERS[found]} ({found!r}), "
        f"but a .{fmt} file is separated by {OTHER_DELIMITERS[expected]}; {fix}"
    )
