"""YAML as fineclass reads it (a --config file, a --trainer-arg value): safe_load, within limits.

PyYAML builds an alias as a second reference to its anchor's value, so a "billion laughs" document of a few hundred
bytes loads at once, and expands to 10^9 values wherever it is walked later: in an error message's repr, in
metrics.json, in TrainingArguments. An alias inside its own anchor makes a value that contains itself. And PyYAML's
composer recurses once per nesting level, so a deeply nested document raises RecursionError. Each is one ConfigError.
libyaml's loader, where PyYAML has it, reads the same YAML 35 times as fast (a 20 MB line: 0.4 s, not 14 s) and
stops at 1,000 levels itself.
"""

from __future__ import annotations

from typing import Any

import yaml

from fineclass.errors import ConfigError, first_line

MAX_VALUES = 100_000
"""Values a document may hold once aliases are expanded: a config holds tens."""
MAX_DEPTH = 100
"""Nesting levels of lists and mappings: a config nests two or three."""
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, where: str) -> Any:
    """yaml.safe_load(text), refused in one line past MAX_DEPTH levels or MAX_VALUES values; `where` starts the
    message ("config file c.yaml"). A YAMLError is the caller's to word."""
    try:
        value = yaml.load(text, Loader=LOADER)  # noqa: S506 (a safe loader)
    except RecursionError:  # the composer's recursion, past a few hundred levels
        raise ConfigError(f"{where} nests values more than {MAX_DEPTH} levels deep; write the settings flat") from None
    except yaml.YAMLError:
        raise
    except Exception as err:  # PyYAML's own constructors on a tagged value: !!float "" (IndexError), !!bool x (KeyError)
        raise yaml.YAMLError(f"a tagged value cannot be read as its tag says ({type(err).__name__}: "
                             f"{first_line(err)})") from None
    check_size(value, where)
    return value


def check_size(value: Any, where: str) -> None:
    """Walk the value as json.dumps would, counting a value once for every place it appears."""
    stack, seen = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ConfigError(f"{where} expands to more than {MAX_VALUES:,} values (YAML aliases repeat their anchor's "
                              "value wherever they appear); write the settings out without aliases")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where} nests values more than {MAX_DEPTH} levels deep; write the settings flat")
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((part, depth + 1) for part in item)


def yaml_problem(err: yaml.YAMLError) -> str:
    """"exceeded maximum nesting depth (line 1, column 1)": the problem and where, in one line."""
    problem, mark = getattr(err, "problem", None), getattr(err, "problem_mark", None)
    if not problem:
        return first_line(err)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else problem
