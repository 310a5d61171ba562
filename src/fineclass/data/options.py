"""ReadOptions: what the user said about a file's layout; None means detect it.

The one list of the file-reading options: train's `--help`, the YAML keys, the keywords of `fineclass.train(...)`
and the other API functions, `TrainConfig.reading` and the commands that read files all take these fields
(`dataclasses.fields(ReadOptions)`). Light on purpose (no pandas): the config and the CLI import it at start-up.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, fields

from fineclass.errors import ConfigError

DELIMITER_WORDS = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@dataclass
class ReadOptions:
    """How to read a CSV/TSV/TXT file: the flags that override what is detected (None: detect it)."""

    delimiter: str | None = None
    """Field delimiter of a CSV/TSV/TXT file; detected when not given."""
    quotechar: str | None = None
    """Quote character of a CSV/TSV/TXT file, or none to read quotes as text; detected when not given."""
    # "none" is stored as "": given, and empty.
    encoding: str | None = None
    """The file's text encoding; UTF-8, else detected (with a warning), when not given."""
    header: bool | None = None
    """False: the first line of a CSV/TSV/TXT file is data, not column names; detected when None."""
    columns: tuple[str, ...] | None = None
    """Names for the file's columns, comma-separated, in order (for a file without a header)."""

    def __post_init__(self) -> None:
        if self.delimiter is not None:
            self.delimiter = DELIMITER_WORDS.get(self.delimiter, self.delimiter)
            if len(self.delimiter) != 1:
                raise ConfigError(f"--delimiter must be one character (or tab), got {self.delimiter!r}")
        if self.quotechar is not None and self.quotechar.lower() == "none":
            self.quotechar = ""  # given, and empty: quotes are read as text
        elif self.quotechar is not None and len(self.quotechar) != 1:
            raise ConfigError(f"--quotechar must be one character, or none to read quotes as text; got {self.quotechar!r}")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(f"--encoding {self.encoding!r} is not an encoding Python knows (try utf-8, cp1252 or latin-1)") from None
        if isinstance(self.columns, str):
            self.columns = tuple(c.strip() for c in self.columns.split(","))
        if self.columns is not None and (len(set(self.columns)) != len(self.columns) or not all(self.columns)):
            raise ConfigError(f"--columns must be distinct, non-empty names separated by commas, got {','.join(self.columns)!r}")

    def to_flags(self) -> dict:
        """The options as the flags and YAML keys give them, so that ReadOptions(**to_flags()) reads the same."""
        return {"delimiter": self.delimiter, "quotechar": "none" if self.quotechar == "" else self.quotechar,
                "encoding": self.encoding, "header": self.header,
                "columns": ",".join(self.columns) if self.columns else None}


READ_FIELDS = tuple(f.name for f in fields(ReadOptions))
"""delimiter, quotechar, encoding, header, columns: every list of the reading options comes from here."""
