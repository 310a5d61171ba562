"""One reader for every labeled-text file: find its format, encoding and CSV dialect, then read it whole or in chunks.

`train`, `evaluate`, `explore`, `compare`, `predict --input` and the Python API all read files through
`detect_layout` and `read_frames` / `iter_chunks`, so a file that trains also predicts.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from fineclass.data.dialect import (
    DELIMITER_NAMES,
    KNOWN_HEADER_WORDS,
    csv_options,
    dialect_candidates,
    find_dialect,
    has_header,
)
from fineclass.data.diagnose import check_not_empty
from fineclass.data.json_files import iter_jsonl_chunks, read_json_document
from fineclass.data.options import ReadOptions
from fineclass.errors import DataError, first_line

logger = logging.getLogger(__name__)

FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "txt", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".parquet": "parquet", ".ft": "fasttext", ".fasttext": "fasttext",
}
DELIMITED = ("csv", "tsv", "txt")
SAMPLE_BYTES = 1 << 18
"""How much of a delimited file the dialect guesses look at; the guess is then checked against every line."""
FASTTEXT_PREFIX = "__label__"


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
    """The delimiter and quoting every line agrees with (flags override the guesses), then the header."""
    candidates = dialect_candidates(sample, fmt, options.delimiter, options.quotechar)
    found = find_dialect(path, encoding, candidates, lines_ok=fmt == "txt" and options.delimiter is None)
    if found is None:
        first = sample.splitlines()[0].strip().lower() if sample.strip() else ""
        named = first in KNOWN_HEADER_WORDS if options.header is None else options.header
        return FileLayout(format="lines", encoding=encoding, header=named, columns=["text"])
    counts = found.counts
    if counts.ragged:
        logger.warning("%s: skipped %d line(s) with the wrong number of fields (%d expected), first at line %s",
                       path, len(counts.ragged), counts.width, counts.ragged[0])
    rows = list(csv.reader(sample.splitlines()[:200], strict=False, **csv_options(found.delimiter, found.quotechar)))
    if options.header is not None:
        header = options.header
    else:  # --columns names the columns of a file without a header, unless --header says it has one
        header = False if options.columns else has_header(rows, sample, found)
    columns = list(options.columns) if options.columns else None
    if columns is not None and len(columns) != counts.width:
        raise DataError(f"--columns names {len(columns)} columns, but {path} has {counts.width}")
    if not header and columns is None:
        columns = [f"column_{i + 1}" for i in range(counts.width)]
    return FileLayout(format="csv", encoding=encoding, delimiter=found.delimiter, quotechar=found.quotechar,
                      header=header, columns=columns, skipped_lines=counts.ragged)


# ---- reading ------------------------------------------------------------------------------------------


def read_frames(path: Path, layout: FileLayout) -> dict[str, pd.DataFrame]:
    """The whole file: {"all": frame}, or one frame per split for a JSON file that holds its splits."""
    with reading_errors(path, layout):
        if layout.format == "json":
            return read_json_document(path, layout.encoding)
        if layout.format == "parquet":
            return {"all": pd.read_parquet(path)}
        return {"all": pd.concat(list(iter_chunks(path, layout, 1 << 30)), ignore_index=True)}


def read_file(path: Path, options: ReadOptions | None = None) -> tuple[FileLayout, dict[str, pd.DataFrame]]:
    """Detect one file's layout and read it whole: {"all": frame}, or a JSON file's splits. A table without rows, or
    with a column name twice, is an error that names the file."""
    layout = detect_layout(path, options)
    frames = read_frames(path, layout)
    for split, frame in frames.items():
        if frame.columns.duplicated().any():
            dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
            raise DataError(f"{path} has duplicate column names {dupes}; give each column a unique name")
        if len(frame) == 0:
            where = "" if split == "all" else f"'s {split} split"
            raise DataError(f"{path}{where} has a header but no rows; add labeled rows" if not where
                            else f"{path}{where} has no rows; add labeled rows")
    return layout, frames


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


def iter_chunks(path: Path, layout: FileLayout, chunk_rows: int, as_text: bool = False) -> Iterator[pd.DataFrame]:
    """The file's rows, `chunk_rows` at a time (JSON and Parquet files are read whole, then cut).

    `as_text` keeps a CSV's cells as the text they are (an id 007 stays 007, not 7): predict copies columns through.
    """
    with reading_errors(path, layout):
        if layout.format == "csv":
            yield from _csv_chunks(path, layout, chunk_rows, as_text)
        elif layout.format == "jsonl":
            yield from iter_jsonl_chunks(path, layout.encoding, chunk_rows)
        elif layout.format in ("fasttext", "lines"):
            yield from _line_chunks(path, layout, chunk_rows)
        else:
            frames = read_frames(path, layout)
            frame = frames.get("all", frames.get("test", next(iter(frames.values()))))
            for start in range(0, max(len(frame), 1), chunk_rows):
                yield frame.iloc[start:start + chunk_rows]


def _csv_chunks(path: Path, layout: FileLayout, chunk_rows: int, as_text: bool = False) -> Iterator[pd.DataFrame]:
    if layout.header:
        check_duplicate_header(path, layout)
    options = {
        "sep": layout.delimiter, "encoding": layout.encoding, **pandas_quoting(layout.quotechar),
        # Only empty cells are missing: a text that says "NA" or "null" is still text.
        "keep_default_na": False, "na_values": [""], "header": 0 if layout.header else None,
        "names": layout.columns, "skip_blank_lines": True, "chunksize": chunk_rows, "engine": "c", "index_col": False,
        "dtype": str if as_text else None,
    }
    source = path
    if layout.skipped_lines:
        # pandas' on_bad_lines="skip" drops lines with too many fields but keeps short ones: rewrite the file
        # without exactly the records the count found, then parse that (the whole file in memory: a rare case).
        source, options["encoding"] = without_ragged_records(path, layout), None
        options.update(pandas_quoting('"'))  # the rewritten records are quoted the standard way
    with pd.read_csv(source, **options) as reader:
        for chunk in reader:
            chunk.columns = [str(c) for c in chunk.columns]
            yield chunk


def pandas_quoting(quotechar: str | None) -> dict:
    """read_csv's options for a quote character; None reads every character as it is."""
    if quotechar is None:
        return {"quotechar": '"', "quoting": csv.QUOTE_NONE}
    return {"quotechar": quotechar, "quoting": csv.QUOTE_MINIMAL}


def without_ragged_records(path: Path, layout: FileLayout) -> io.StringIO:
    """The file's records without the skipped ones, as standard CSV (quoted with '"' where needed)."""
    skipped = set(layout.skipped_lines)
    kept = io.StringIO()
    writer = csv.writer(kept, delimiter=layout.delimiter, lineterminator="\n")
    with open(path, encoding=layout.encoding, newline="") as handle:
        reader = csv.reader(handle, strict=False, **csv_options(layout.delimiter, layout.quotechar))
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
        header = next(csv.reader(handle, strict=False, **csv_options(layout.delimiter, layout.quotechar)), [])
    seen = sorted(name for name, count in Counter(header).items() if count > 1)
    if seen and not layout.columns:
        raise DataError(f"{path} has duplicate column names {seen[:10]}; give each column a unique name")


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
