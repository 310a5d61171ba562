"""Errors that describe a user's mistake.

The CLI prints a `FineclassError` as one line and exits with code 2. Any other
exception is a bug in fineclass and keeps its traceback.
"""


class FineclassError(Exception):
    """A problem with the user's input: its message says what is wrong and how to fix it."""


class DataError(FineclassError):
    """The data could not be read, or does not have the shape fineclass needs."""


class ConfigError(FineclassError):
    """An option or config file value is invalid."""


class ModelError(FineclassError):
    """A model directory or hub name could not be loaded."""
