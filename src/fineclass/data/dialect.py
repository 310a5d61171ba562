"""The dialect of a delimited text file: its delimiter, its quote character (or none), and whether it has a header.

Candidates come from a sample of the file; each is then checked against every line (`count_fields`), and the
first that every line agrees with is kept.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fineclass.errors import DataError, first_line

CANDIDATE_DELIMITERS = ",\t;|"
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
EXTENSION_DELIMITERS = {"csv": ",", "tsv": "\t"}
QUOTES = ('"', "'")
"""The quote characters a file is checked for; the first wins a tie."""
RAGGED_SHARE = 0.01
"""Up to this share of lines may have the wrong number of fields: they are skipped with a warning."""
RANKED_LINES = 200
"""How many of the sample's lines rank the delimiters."""

csv.field_size_limit(2**31 - 1)  # one cell may hold a whole document


def csv_options(delimiter: str, quotechar: str | None) -> dict:
    """Options for csv.reader and csv.writer; a quote character of None reads every character as it is."""
    if quotechar is None:
        return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE}
    return {"delimiter": delimiter, "quotechar": quotechar, "doublequote": True}


# ---- candidates ---------------------------------------------------------------------------------------


def dialect_candidates(sample: str, fmt: str, delimiter: str | None = None,
                       quotechar: str | None = None) -> list[tuple[str, str | None]]:
    """(delimiter, quote character or None) pairs to check, most likely first; the given ones are kept as given
    (a given quote character of "" reads quotes as text).

    A guessed quote character is kept only when quoted fields occur in the sample. Without one, the file is read
    without quoting, and then with '"' in case quoted fields start past the sample.
    """
    if delimiter is not None:
        delimiters = [delimiter]
    else:
        default = EXTENSION_DELIMITERS.get(fmt)
        delimiters = list(dict.fromkeys(([default] if default else []) + rank_delimiters(sample, quotechar)))
    candidates = []
    for each in delimiters:
        if quotechar is not None:
            candidates.append((each, quotechar or None))
            continue
        quote = guess_quotechar(sample, each)
        candidates += [(each, quote)] if quote else [(each, None), (each, '"')]
    return candidates


def rank_delimiters(sample: str, quotechar: str | None = None) -> list[str]:
    """Every candidate delimiter: those that split the sample's records most evenly into two or more fields first.

    This replaces csv.Sniffer: its quote-finding regular expressions took 4.6 s on 24 KB of `,"a` repeated, growing
    faster than the square of the length (a 20 MB line of it ran past 5 minutes), and its quote guess read
    apostrophes in tweets as quotes.
    """
    lines = sample.splitlines(keepends=True)[:RANKED_LINES]
    evenness = {}
    for delimiter in CANDIDATE_DELIMITERS:
        quote = (quotechar or None) if quotechar is not None else guess_quotechar(sample, delimiter)
        reader = csv.reader(lines, strict=False, **csv_options(delimiter, quote))
        try:
            widths = Counter(len(record) for record in reader if record)
        except csv.Error:
            continue
        if widths:
            width, count = widths.most_common(1)[0]
            if width >= 2:
                evenness[delimiter] = count / sum(widths.values())
    ranked = sorted(evenness, key=lambda d: -evenness[d])  # stable: ties keep the order of CANDIDATE_DELIMITERS
    return ranked + [d for d in CANDIDATE_DELIMITERS if d not in ranked]


def guess_quotechar(sample: str, delimiter: str) -> str | None:
    """The quote character whose quoted fields occur in the sample, at least as often as fields it opens and
    never closes (tweets that start with an apostrophe: 'twas); None when there is none."""
    evidence = {quote: quote_evidence(sample, delimiter, quote) for quote in QUOTES}
    kept = [quote for quote in QUOTES if 0 < evidence[quote][0] >= evidence[quote][1]]
    return max(kept, key=lambda quote: evidence[quote][0], default=None)


def quote_evidence(sample: str, delimiter: str, quote: str) -> tuple[int, int]:
    """(quoted fields, fields that start with the quote but are not quoted) in the sample.

    A tab-separated field is quoted when it both starts and ends with the quote on its line. Elsewhere a quoted
    field may hold the delimiter, doubled quotes and line breaks, and its closing quote stands before a delimiter
    or the end of a line.
    """
    if delimiter == "\t":
        fields = [f for line in sample.splitlines() for f in line.split("\t") if f.startswith(quote)]
        quoted = sum(len(f) >= 2 and f.endswith(quote) for f in fields)
        return quoted, len(fields) - quoted
    d, q = re.escape(delimiter), re.escape(quote)
    quoted = len(re.findall(rf"(?:^|{d}){q}[^{q}]*(?:{q}{q}[^{q}]*)*{q}(?={d}|\r?$)", sample, re.MULTILINE))
    opened = len(re.findall(rf"(?:^|{d}){q}", sample, re.MULTILINE))
    return quoted, max(opened - quoted, 0)


# ---- checking a candidate against the whole file ------------------------------------------------------


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


@dataclass
class Dialect:
    delimiter: str
    quotechar: str | None
    """None: the file is read without quoting."""
    counts: FieldCounts = field(repr=False)


def count_fields(path: Path, encoding: str, delimiter: str, quotechar: str | None) -> FieldCounts:
    """Fields per record over the whole file, as Python's csv module reads it with this dialect."""
    widths: list[tuple[int, int]] = []
    try:
        with open(path, encoding=encoding, newline="", errors="strict") as handle:
            reader = csv.reader(handle, strict=False, **csv_options(delimiter, quotechar))
            line = 1
            for record in reader:
                if record:  # a blank line gives []; pandas skips it too. ",,," is a record of empty cells.
                    widths.append((line, len(record)))
                line = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError, ValueError) as err:
        return FieldCounts(0, 0, [], error=first_line(err))
    if not widths:
        return FieldCounts(0, 0, [])
    width = Counter(w for _, w in widths).most_common(1)[0][0]
    return FieldCounts(width, len(widths), [line for line, w in widths if w != width], first_line=widths[0][0])


def find_dialect(path: Path, encoding: str, candidates: list[tuple[str, str | None]], lines_ok: bool) -> Dialect | None:
    """The first candidate every line agrees with, else the one with the fewest (at most 1%) odd lines; None when
    nothing splits into columns and `lines_ok` (a .txt file of one text per line)."""
    checked: list[Dialect] = []
    for delimiter, quotechar in candidates:  # whole-file passes: stop at the first fit
        if checked and delimiter_absent(checked[-1], delimiter):
            continue  # no line holds the delimiter, so no quoting can make two fields of one
        checked.append(Dialect(delimiter, quotechar, count_fields(path, encoding, delimiter, quotechar)))
        if checked[-1].counts.width >= 2 and not checked[-1].counts.ragged:
            return checked[-1]
    multi = [d for d in checked if d.counts.width >= 2]
    tolerable = [d for d in multi if d.counts.header_fits and len(d.counts.ragged) <= RAGGED_SHARE * d.counts.rows]
    if tolerable:
        return min(tolerable, key=lambda d: len(d.counts.ragged))
    if lines_ok:
        return None
    single = next((d for d in checked if d.counts.width == 1 and not d.counts.ragged), None)
    if single is not None and not multi:
        return single
    raise DataError(describe_dialect_failure(path, checked))


def delimiter_absent(dialect: Dialect, delimiter: str) -> bool:
    """Read without quoting, every line of the file was one field: the delimiter occurs nowhere in it."""
    counts = dialect.counts
    return (dialect.delimiter == delimiter and dialect.quotechar is None and counts.width <= 1 and not counts.ragged
            and counts.error is None)


def describe_dialect_failure(path: Path, checked: list[Dialect]) -> str:
    errors = [d.counts.error for d in checked if d.counts.error]
    if errors and all(d.counts.error for d in checked):
        return f"could not read {path} as CSV: {errors[0]}"
    multi = [d for d in checked if d.counts.width >= 2]
    if multi:
        best = min(multi, key=lambda d: len(d.counts.ragged))
        c = best.counts
        return (f"{path} line {c.ragged[0]} has a different number of fields from the {c.width} of most lines "
                f"({len(c.ragged)} such lines with {DELIMITER_NAMES.get(best.delimiter, repr(best.delimiter))} as the "
                "delimiter); fix or quote those lines, or pass --delimiter and --quotechar")
    tried = ", ".join(DELIMITER_NAMES.get(d, repr(d)) for d in dict.fromkeys(d.delimiter for d in checked))
    return (f"{path} reads as one column with every delimiter tried ({tried}); pass --delimiter, "
            "or give the text and label in separate columns")


# ---- header -------------------------------------------------------------------------------------------


KNOWN_HEADER_WORDS = {"text", "label", "labels", "sentence", "content", "review", "comment", "tweet", "body",
                      "category", "class", "target", "title", "id", "message", "question", "intent", "emotion",
                      "sentiment", "document", "description", "headline", "topic", "tags", "tag", "utterance"}


def has_header(rows: list[list[str]], sample: str, dialect: Dialect) -> bool:
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
    votes = sum(column_vote(cell, [r[j] for r in rest]) for j, cell in enumerate(first))
    if votes:
        return votes > 0
    try:
        return KnownDialectSniffer(dialect).has_header(sample[:65536])
    except csv.Error:
        return True


def column_vote(cell: str, values: list[str]) -> int:
    """+ for a header, - for data, 0 for no opinion: the first cell of a column against the cells below it."""
    if not values:
        return 0
    if all(is_number(v) for v in values if v.strip()):
        return -1 if is_number(cell) else 1
    distinct = set(values)
    if len(distinct) < len(values) and len(distinct) <= max(2, min(50, len(values) // 4)):
        return -1 if cell in distinct else 1
    lengths = sorted(len(v) for v in values)
    median = lengths[len(lengths) // 2]
    if median >= 20:  # a text column: a header cell is a short name, a first row is a text like the others
        return 2 if len(cell) < 0.3 * median else -2
    return 0


class KnownDialectSniffer(csv.Sniffer):
    """csv.Sniffer.has_header with the dialect already found: its own sniff() is slow on odd lines (rank_delimiters)."""

    def __init__(self, dialect: Dialect):
        super().__init__()
        options = csv_options(dialect.delimiter, dialect.quotechar)
        self.dialect = type("Found", (csv.excel,), {"quotechar": '"', **options})

    def sniff(self, sample, delimiters=None):
        return self.dialect


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
