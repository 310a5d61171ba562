"""One reader for every labeled-text file: find its format, encoding and CSV dialect, then read it whole or in chunks.

`train`, `evaluate`, `explore`, `compare`, `predict --input` and the Python API all read files through
`detect_layout` and `read_frames` / `iter_chunks`, so a file that trains also predicts.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from fineclass.data.diagnose import JSON_TYPES, check_not_empty
from fineclass.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "txt", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".parquet": "parquet", ".ft": "fasttext", ".fasttext": "fasttext",
}
DELIMITED = ("csv", "tsv", "txt")
EXTENSION_DELIMITERS = {"csv": ",", "tsv": "\t"}
CANDIDATE_DELIMITERS = ",\t;|"
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
SAMPLE_BYTES = 1 << 18
"""How much of a delimited file the dialect sniffers look at; the guess is then checked against every line."""
RAGGED_SHARE = 0.01
"""Up to this share of lines may have the wrong number of fields: they are skipped with a warning."""
FASTTEXT_PREFIX = "__label__"
SPLIT_KEYS = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
              "val": "validation", "dev": "validation", "test": "test", "testing": "test"}
"""JSON keys (and file-name parts) that name a split."""

csv.field_size_limit(2**31 - 1)  # one cell may hold a whole document


@dataclass
class ReadOptions:
    """What the user said about a file's layout; None means detect it."""

    delimiter: str | None = None
    quotechar: str | None = None
    encoding: str | None = None
    header: bool | None = None
    """False: the first line is data (--no-header)."""
    columns: tuple[str, ...] | None = None
    """Names for the columns, in order (--columns)."""

    def __post_init__(self) -> None:
        if self.delimiter is not None:
            self.delimiter = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(self.delimiter, self.delimiter)
            if len(self.delimiter) != 1:
                raise ConfigError(f"--delimiter must be one character (or tab), got {self.delimiter!r}")
        if self.quotechar is not None and len(self.quotechar) != 1:
            raise ConfigError(f"--quotechar must be one character, got {self.quotechar!r}")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(f"--encoding {self.encoding!r} is not an encoding Python knows (try utf-8, cp1252 or latin-1)") from None
        if isinstance(self.columns, str):
            self.columns = tuple(c.strip() for c in self.columns.split(","))
        if self.columns is not None and (len(set(self.columns)) != len(self.columns) or not all(self.columns)):
            raise ConfigError(f"--columns must be distinct, non-empty names separated by commas, got {','.join(self.columns)!r}")


@dataclass
class FileLayout:
    """What was found out about one file, recorded with the run."""

    format: str
    """csv (any delimiter), json, jsonl, parquet, fasttext, or lines (one text per line)."""
    encoding: str = "utf-8"
    delimiter: str | None = None
    quotechar: str | None = None
    header: bool = True
    columns: list[str] | None = None
    """The names the columns were given (a file without a header, or --columns)."""
    skipped_lines: list[int] = field(default_factory=list)
    """Lines with the wrong number of fields, skipped (at most 1% of the file)."""

    def describe(self) -> str:
        """'CSV (';'-separated, no header), UTF-8'."""
        if self.format != "csv":
            kind = {"jsonl": "JSON Lines", "fasttext": "fastText", "lines": "one text per line"}.get(self.format, self.format.upper())
            return f"{kind}, {encoding_name(self.encoding)}"
        parts = [f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated"]
        if self.quotechar and self.quotechar != '"':
            parts.append(f"{self.quotechar!r} quotes")
        parts.append("header" if self.header else "no header")
        return f"CSV ({', '.join(parts)}), {encoding_name(self.encoding)}"

    def to_dict(self) -> dict:
        record = asdict(self)
        record.pop("skipped_lines")
        return record


def encoding_name(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-32": "UTF-32"}.get(encoding, encoding)


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(
            f"unknown data format {suffix or '(no extension)'!r} for {path}; "
            f"use one of {', '.join(FORMATS)} (rename the file if its content is one of these)"
        )
    return FORMATS[suffix]


# ---- encoding -----------------------------------------------------------------------------------------


def detect_encoding(path: Path, given: str | None = None) -> str:
    """UTF-8 (checked over the whole file), a UTF-16/32 byte-order mark, or charset-normalizer's guess, with a warning."""
    if given:
        return given
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        logger.warning("%s is UTF-16 (it starts with a UTF-16 byte-order mark); reading it as UTF-16", path)
        return "utf-16"
    bad = first_undecodable(path)
    if bad is None:
        return "utf-8"
    guess = guess_encoding(path)
    if guess is None:
        raise DataError(f"{path} is not valid UTF-8 (line {bad[0]} has byte {bad[1]!r}), and its encoding could not be "
                        "detected; pass --encoding (for example cp1252 or latin-1)")
    logger.warning("%s is not UTF-8 (line %d has byte %r); reading it as %s, detected by charset-normalizer "
                   "(pass --encoding to choose another)", path, bad[0], bad[1], guess)
    return guess


def first_undecodable(path: Path) -> tuple[int, bytes] | None:
    """The first line (1-based) and byte that are not UTF-8, or None; reads the file in blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                start = err.start
                return line + block[:start].count(b"\n"), block[start:start + 1]
            line += block.count(b"\n")
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line, b"(a character cut at the end of the file)"
    return None


def guess_encoding(path: Path) -> str | None:
    """charset-normalizer's best reading; among equally clean readings, Windows-1252 (Excel's Western encoding)."""
    from charset_normalizer import from_path

    matches = list(from_path(path))
    if not matches:
        return None
    cleanest = min(m.chaos for m in matches)
    tied = [m for m in matches if m.chaos == cleanest]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        return "cp1252"
    return tied[0].encoding


# ---- layout -------------------------------------------------------------------------------------------


def detect_layout(path: Path, options: ReadOptions | None = None, fmt: str | None = None) -> FileLayout:
    """Format, encoding and (for delimited text) dialect and header of one file; flags override every guess."""
    options = options or ReadOptions()
    fmt = fmt or format_of(path)
    if not path.is_file():
        raise DataError(f"data not found: {path}")
    check_not_empty(path, "csv" if fmt in DELIMITED else fmt)
    if fmt == "parquet":
        return FileLayout(format="parquet", encoding="binary")
    encoding = detect_encoding(path, options.encoding)
    sample = read_sample(path, encoding)
    if fmt in ("json", "jsonl"):
        return FileLayout(format=fmt, encoding=encoding)
    if fmt == "fasttext" or (fmt == "txt" and options.delimiter is None and looks_like_fasttext(sample)):
        return FileLayout(format="fasttext", encoding=encoding, header=False)
    return detect_dialect(path, encoding, fmt, sample, options)


def read_sample(path: Path, encoding: str) -> str:
    """The first SAMPLE_BYTES of the file, cut at the last line break, decoded."""
    with open(path, "rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    text = raw.decode(encoding, errors="replace")
    if len(raw) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text.removeprefix("\ufeff")


def looks_like_fasttext(sample: str) -> bool:
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    return bool(lines) and sum(FASTTEXT_PREFIX in line.split(" ", 1)[0] for line in lines) >= 0.8 * len(lines)


def detect_dialect(path: Path, encoding: str, fmt: str, sample: str, options: ReadOptions) -> FileLayout:
    """Try the extension's delimiter and csv.Sniffer's guess; keep the first that every line agrees with."""
    checked, chosen = [], None
    for delimiter, quotechar in dialect_candidates(sample, fmt, options):  # whole-file passes: stop at the first fit
        checked.append((delimiter, quotechar, count_fields(path, encoding, delimiter, quotechar)))
        if checked[-1][2].width >= 2 and not checked[-1][2].ragged:
            chosen = checked[-1]
            break
    multi = [item for item in checked if item[2].width >= 2]
    if chosen is None and multi:
        tolerable = [item for item in multi if item[2].header_fits and len(item[2].ragged) <= RAGGED_SHARE * item[2].rows]
        chosen = min(tolerable, key=lambda item: len(item[2].ragged), default=None)
    if chosen is None and fmt == "txt" and options.delimiter is None:
        first = sample.splitlines()[0].strip().lower() if sample.strip() else ""
        named = first in KNOWN_HEADER_WORDS if options.header is None else options.header
        return FileLayout(format="lines", encoding=encoding, header=named, columns=["text"])
    if chosen is None and not multi:
        chosen = next((item for item in checked if item[2].width == 1 and not item[2].ragged), None)
    if chosen is None:
        raise DataError(describe_dialect_failure(path, checked))
    delimiter, quotechar, counts = chosen
    if counts.ragged:
        logger.warning("%s: skipped %d line(s) with the wrong number of fields (%d expected), first at line %s",
                       path, len(counts.ragged), counts.width, counts.ragged[0])
    rows = list(csv.reader(sample.splitlines()[:200], delimiter=delimiter, quotechar=quotechar))
    if options.header is not None:
        header = options.header
    else:  # --columns names the columns of a file without a header, unless --header says it has one
        header = False if options.columns else has_header(rows, sample, delimiter)
    columns = list(options.columns) if options.columns else None
    if columns is not None and len(columns) != counts.width:
        raise DataError(f"--columns names {len(columns)} columns, but {path} has {counts.width}")
    if not header and columns is None:
        columns = [f"column_{i + 1}" for i in range(counts.width)]
    return FileLayout(format="csv", encoding=encoding, delimiter=delimiter, quotechar=quotechar, header=header,
                      columns=columns, skipped_lines=counts.ragged)


def dialect_candidates(sample: str, fmt: str, options: ReadOptions) -> list[tuple[str, str]]:
    """(delimiter, quote character) pairs to check, most likely first."""
    quote = options.quotechar or '"'
    if options.delimiter is not None:
        return [(options.delimiter, quote)]
    default = EXTENSION_DELIMITERS.get(fmt)
    sniffed = sniff_stdlib(sample)
    guesses = [] if sniffed is None else [(sniffed[0], options.quotechar or sniffed[1])]
    ordered = [g for g in guesses if g[0] == default] + ([(default, quote)] if default else []) + guesses
    ordered += [(d, quote) for d in CANDIDATE_DELIMITERS]
    return list(dict.fromkeys(ordered))


def sniff_stdlib(sample: str) -> tuple[str, str] | None:
    """csv.Sniffer's delimiter and quote character. It sufficed: on 300 generated files (4 delimiters, both quote
    characters, delimiters inside quoted texts) it was never wrong, and CleverCSV never right where it was wrong."""
    try:
        dialect = csv.Sniffer().sniff(sample[:65536], delimiters=CANDIDATE_DELIMITERS)
    except csv.Error:
        return None
    return dialect.delimiter, dialect.quotechar or '"'


@dataclass
class FieldCounts:
    width: int
    """The number of fields most lines have."""
    rows: int
    ragged: list[int]
    """Line numbers (1-based, where the record starts) with another number of fields."""
    error: str | None = None
    first_line: int = 1
    """Where the first record starts (after any blank lines)."""

    @property
    def header_fits(self) -> bool:
        """The first record (the header, if any) has the usual number of fields."""
        return not self.ragged or self.ragged[0] != self.first_line


def count_fields(path: Path, encoding: str, delimiter: str, quotechar: str) -> FieldCounts:
    """Fields per record over the whole file, as Python's csv module reads it with this dialect."""
    widths: list[tuple[int, int]] = []
    try:
        with open(path, encoding=encoding, newline="", errors="strict") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quotechar=quotechar, doublequote=True, strict=False)
            line = 1
            for record in reader:
                if record:  # a blank line gives []; pandas skips it too. ",,," is a record of empty cells.
                    widths.append((line, len(record)))
                line = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError, ValueError) as err:
        return FieldCounts(0, 0, [], error=str(err).splitlines()[0] if str(err) else type(err).__name__)
    if not widths:
        return FieldCounts(0, 0, [])
    width = Counter(w for _, w in widths).most_common(1)[0][0]
    return FieldCounts(width, len(widths), [line for line, w in widths if w != width], first_line=widths[0][0])


def describe_dialect_failure(path: Path, checked) -> str:
    errors = [c.error for _, _, c in checked if c.error]
    if errors and all(c.error for _, _, c in checked):
        return f"could not read {path} as CSV: {errors[0]}"
    multi = [(d, q, c) for d, q, c in checked if c.width >= 2]
    if multi:
        d, q, c = min(multi, key=lambda item: len(item[2].ragged))
        return (f"{path} line {c.ragged[0]} has a different number of fields from the {c.width} of most lines "
                f"({len(c.ragged)} such lines with {DELIMITER_NAMES.get(d, repr(d))} as the delimiter); "
                "fix or quote those lines, or pass --delimiter and --quotechar")
    tried = ", ".join(DELIMITER_NAMES.get(d, repr(d)) for d in dict.fromkeys(d for d, _, _ in checked))
    return (f"{path} reads as one column with every delimiter tried ({tried}); pass --delimiter, "
            "or give the text and label in separate columns")


KNOWN_HEADER_WORDS = {"text", "label", "labels", "sentence", "content", "review", "comment", "tweet", "body",
                      "category", "class", "target", "title", "id", "message", "question", "intent", "emotion",
                      "sentiment", "document", "description", "headline", "topic", "tags", "tag", "utterance"}


def has_header(rows: list[list[str]], sample: str, delimiter: str) -> bool:
    """Whether the first record names the columns.

    A column name we know settles it. Otherwise each column votes: a numeric column whose first cell is not a
    number, or a column of few values whose first cell is none of them, says header; a first cell that is a number
    in a numeric column, or one of a few repeated values, says data. A tie falls back to csv.Sniffer.has_header.
    """
    if len(rows) < 2:
        return True
    first, rest = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    if any(cell.strip().lower().replace(" ", "_") in KNOWN_HEADER_WORDS for cell in first):
        return True
    if len(set(first)) < len(first):
        return False  # a header names each column once
    votes = 0
    for j, cell in enumerate(first):
        values = [r[j] for r in rest]
        if not values:
            continue
        if all(is_number(v) for v in values if v.strip()):
            votes += -1 if is_number(cell) else 1
            continue
        distinct = set(values)
        if len(distinct) < len(values) and len(distinct) <= max(2, min(50, len(values) // 4)):
            votes += -1 if cell in distinct else 1
            continue
        lengths = sorted(len(v) for v in values)
        median = lengths[len(lengths) // 2]
        if median >= 20:  # a text column: a header cell is a short name, a first row is a text like the others
            votes += 2 if len(cell) < 0.3 * median else -2
    if votes:
        return votes > 0
    try:
        return csv.Sniffer().has_header(sample[:65536])
    except csv.Error:
        return True


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---- reading ------------------------------------------------------------------------------------------


def read_frames(path: Path, layout: FileLayout) -> dict[str, pd.DataFrame]:
    """The whole file: {"all": frame}, or one frame per split for a JSON file that holds its splits."""
    with reading_errors(path, layout):
        if layout.format == "json":
            return read_json_document(path, layout.encoding)
        if layout.format == "parquet":
            return {"all": pd.read_parquet(path)}
        return {"all": pd.concat(list(iter_chunks(path, layout, 1 << 30)), ignore_index=True)}


@contextmanager
def reading_errors(path: Path, layout: FileLayout):
    """What a parser raises about the file's bytes, as one line that names the file."""
    try:
        yield
    except DataError:
        raise
    except UnicodeDecodeError as err:
        raise DataError(f"{path} could not be read as {layout.encoding}: {err.reason} at byte {err.start}; pass --encoding") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError, OSError, csv.Error) as err:
        raise DataError(f"could not read {path} as {layout.format.upper()}: {first_line(err)}") from None


def iter_chunks(path: Path, layout: FileLayout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file's rows, `chunk_rows` at a time (JSON and Parquet files are read whole, then cut)."""
    with reading_errors(path, layout):
        if layout.format == "csv":
            yield from _csv_chunks(path, layout, chunk_rows)
        elif layout.format == "jsonl":
            yield from _jsonl_chunks(path, layout.encoding, chunk_rows)
        elif layout.format in ("fasttext", "lines"):
            yield from _line_chunks(path, layout, chunk_rows)
        else:
            frames = read_frames(path, layout)
            frame = frames.get("all", frames.get("test", next(iter(frames.values()))))
            for start in range(0, max(len(frame), 1), chunk_rows):
                yield frame.iloc[start:start + chunk_rows]


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _csv_chunks(path: Path, layout: FileLayout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    if layout.header:
        check_duplicate_header(path, layout)
    options = {
        "sep": layout.delimiter, "quotechar": layout.quotechar or '"', "encoding": layout.encoding,
        # Only empty cells are missing: a text that says "NA" or "null" is still text.
        "keep_default_na": False, "na_values": [""], "header": 0 if layout.header else None,
        "names": layout.columns, "skip_blank_lines": True, "chunksize": chunk_rows, "engine": "c", "index_col": False,
    }
    source = path
    if layout.skipped_lines:
        # pandas' on_bad_lines="skip" drops lines with too many fields but keeps short ones: rewrite the file
        # without exactly the records the count found, then parse that (the whole file in memory: a rare case).
        source, options["encoding"] = without_ragged_records(path, layout), None
    with pd.read_csv(source, **options) as reader:
        for chunk in reader:
            chunk.columns = [str(c) for c in chunk.columns]
            yield chunk


def without_ragged_records(path: Path, layout: FileLayout) -> io.StringIO:
    skipped = set(layout.skipped_lines)
    kept = io.StringIO()
    writer = csv.writer(kept, delimiter=layout.delimiter, quotechar=layout.quotechar or '"', lineterminator="\n")
    with open(path, encoding=layout.encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=layout.delimiter, quotechar=layout.quotechar or '"', doublequote=True)
        line = 1
        for record in reader:
            if record and line not in skipped:
                writer.writerow(record)
            line = reader.line_num + 1
    kept.seek(0)
    return kept


def check_duplicate_header(path: Path, layout: FileLayout) -> None:
    """pandas renames a repeated header 'a' to 'a.1'; we want to tell the user instead."""
    with open(path, encoding=layout.encoding, newline="") as handle:
        header = next(csv.reader(handle, delimiter=layout.delimiter, quotechar=layout.quotechar or '"'), [])
    seen = [name for name in header if header.count(name) > 1]
    if seen and not layout.columns:
        raise DataError(f"{path} has duplicate column names {sorted(set(seen))}; give each column a unique name")


def _jsonl_chunks(path: Path, encoding: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Objects (records) or arrays ([text, label]) per line."""
    records: list = []
    kind = None
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
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


def _line_chunks(path: Path, layout: FileLayout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """fastText lines (`__label__a __label__b text`) or plain lines of text."""
    rows: list[dict] = []
    with open(path, encoding=layout.encoding) as handle:
        for number, line in enumerate(handle):
            line = line.strip().removeprefix("\ufeff")
            if not line or (number == 0 and layout.header):
                continue
            rows.append(parse_fasttext_line(line) if layout.format == "fasttext" else {"text": line})
            if len(rows) >= chunk_rows:
                yield pd.DataFrame(rows)
                rows = []
    if rows:
        yield pd.DataFrame(rows)


def parse_fasttext_line(line: str) -> dict:
    """`__label__baking __label__bread how do I ...`: the labels (wherever they stand) and the rest as text."""
    words = line.split()
    labels = [w[len(FASTTEXT_PREFIX):] for w in words if w.startswith(FASTTEXT_PREFIX) and len(w) > len(FASTTEXT_PREFIX)]
    text = " ".join(w for w in words if not w.startswith(FASTTEXT_PREFIX))
    return {"text": text, "label": labels}


def read_json_document(path: Path, encoding: str) -> dict[str, pd.DataFrame]:
    """A list of records or [text, label] pairs; a dict of splits; records under one key; or a dict of columns."""
    text = path.read_text(encoding=encoding).removeprefix("\ufeff")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path} is not valid JSON ({err.msg.removesuffix(' at')} at line {err.lineno} column "
                        f"{err.colno}); fix the file, or use JSON Lines") from None
    if isinstance(value, list):
        return {"all": frame_from_items(value, path)}
    if not isinstance(value, dict):
        raise DataError(f"{path} holds a JSON {JSON_TYPES.get(type(value), 'value')}; fineclass reads a list of records "
                        'like [{"text": "...", "label": 0}], a dict of splits, or JSON Lines (.jsonl)')
    lists = {key: item for key, item in value.items() if isinstance(item, list)}
    splits: dict[str, list] = {}
    for key, items in lists.items():
        split = SPLIT_KEYS.get(key.lower())
        if split in splits:
            raise DataError(f"{path} has two {split} splits ({', '.join(k for k in lists if SPLIT_KEYS.get(k.lower()) == split)}); keep one")
        if split:
            splits[split] = items
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
