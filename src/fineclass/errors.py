"""Errors that describe a user's mistake.

The CLI prints a `FineclassError` as one line and exits with code 2. Any other
exception is a bug in fineclass and keeps its traceback.
"""

import reprlib


class FineclassError(Exception):
    """A problem with the user's input: its message says what is wrong and how to fix it, in one line."""

    def __init__(self, message: object = "", *args) -> None:
        # One line, whatever it quotes: a path or a value the user gave may hold a newline.
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"), *args)


class DataError(FineclassError):
    """The data could not be read, or does not have the shape fineclass needs."""


class ConfigError(FineclassError):
    """An option or config file value is invalid."""


class ModelError(FineclassError):
    """A model directory or hub name could not be loaded."""


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none): what a one-line error quotes of
    a library's long report."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 80, 80, 40


def shown(value) -> str:
    """A user's value as a message shows it: its repr, cut short (80 characters of a string, 3 levels, 6 items), so
    a 20 MB string or a YAML value that expands to millions still makes a short line."""
    return _SHORT.repr(value)
