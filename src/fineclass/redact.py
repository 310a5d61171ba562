"""Secrets out of what fineclass records: a data URL's credentials and query string never reach a file or a line.

A URL such as `https://user:token@host/d.csv?sig=abc` reads data; config.yaml, splits.json, metrics.json, the
model card, page titles and log lines record it as `https://***@host/d.csv?***`.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

HIDDEN = "***"
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]+")
"""A URL inside free text: a scheme, then everything up to whitespace or a quote."""
TRAILING = ".,;:!)]}"
"""Punctuation that ends a sentence around a URL rather than the URL itself."""
CREDENTIALS = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@")
"""`scheme://` followed by userinfo (`user`, `user:password`, or a token) up to the `@` before the host."""


def redact_source(source: str) -> str:
    """A data source as it may be recorded: a URL's `user:password@` and its query string become `***`.

    Anything that is not a URL (a path, `hf:NAME`) comes back unchanged; redacting twice changes nothing.
    """
    if "://" not in source:
        return source
    redacted = CREDENTIALS.sub(rf"\1{HIDDEN}@", source)
    base, query_mark, _ = redacted.partition("?")
    return f"{base}?{HIDDEN}" if query_mark else redacted


def redact_text(text: str) -> str:
    """Every URL inside `text` (a log line, an error message, a page title) with `redact_source` applied."""
    if "://" not in text:
        return text
    return URL.sub(_redact_match, text)


def _redact_match(match: re.Match) -> str:
    url = match.group(0)
    kept = url.rstrip(TRAILING)  # "see http://host/d.csv?t=1;" ends the sentence, not the URL
    return redact_source(kept) + url[len(kept):]


def source_stem(source: str) -> str:
    """The file name of a path or URL without its suffix, credentials or query: a name for an output directory."""
    if "://" in source:
        parts = urlsplit(source)
        return PurePosixPath(parts.path.rstrip("/")).stem or (parts.hostname or "")
    return PurePosixPath(source.rstrip("/").split("?")[0]).stem


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the URLs in every record it passes; the CLI puts one on its handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
