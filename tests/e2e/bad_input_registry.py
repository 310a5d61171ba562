"""The bad-input catalogue's table: each case is an input, a command, its exact message and the fix.

Cases register themselves with `@case`; tests/e2e/test_bad_input_catalogue.py runs every one through the
real CLI and writes docs/errors.md from the table.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Callable

import pytest

from tests.conftest import make_texts

TRAIN_TEST_FLAGS = ["--model", "tiny", "--quiet", "--no-baseline", "--no-report", "--epochs", "1"]
"""Added to every `train` case before its own options (which win): the tiny model, and a short run."""
DOC_URL = "http://localhost:8000"
"""Stands for the test's local server in the table; the tests swap in its real address."""


@dataclass
class Case:
    name: str
    args: list[str]
    input: str
    message: str
    fix: str
    setup: Callable
    creates: tuple[str, ...] = ()
    """Paths the command may leave behind (nothing the user had): an incomplete run, a partial output."""
    prefix: bool = False
    """`message` is the start of the line (the rest is long and changes with the code, like a list of all keys)."""


@dataclass
class Context:
    """What a case's setup may use: the working directory (a fresh tmp_path), monkeypatch, a local server."""

    monkeypatch: pytest.MonkeyPatch
    url: str = ""
    extra: dict = field(default_factory=dict)


CASES: list[Case] = []


def case(args: str, input: str, message: str, fix: str, creates: tuple[str, ...] = (), prefix: bool = False):
    def register(setup):
        CASES.append(Case(setup.__name__, shlex.split(args), input, message, fix, setup, creates, prefix))
        return setup

    return register


def write_toy(name: str = "d.csv", n: int = 60, **columns) -> None:
    frame = make_texts(n)
    for column, values in columns.items():
        frame[column] = values
    frame.to_csv(name, index=False)
