"""Typer options generated from the config dataclasses: their names, types, defaults and help come from
`TrainConfig`'s fields and field docstrings, so the CLI, YAML keys and Python keywords cannot drift apart
(as litgpt builds its CLI from its dataclasses)."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from functools import lru_cache
from typing import Annotated, Optional

import typer

from fineclass.config import DEFAULT_MODEL, GROUP_OF, LONG_TEXTS, OPTION_FIELDS, TrainConfig, pop_long_texts
from fineclass.data.options import READ_FIELDS, ReadOptions

FLAGS = {
    "output_dir": ("--output-dir", "-o"),
    "learning_rate": ("--learning-rate", "--lr"),
    "multi_label": ("--multi-label/--single-label",),
    "header": ("--header/--no-header",),
    "baseline": ("--baseline/--no-baseline",),
    "report": ("--report/--no-report",),
    "keep_checkpoints": ("--keep-checkpoints",),
    "freeze_embeddings": ("--freeze-embeddings",),
    "linear_probe": ("--linear-probe/--no-linear-probe",),
    "cls_only_last_layer": ("--cls-only-last-layer/--full-last-layer",),
    "overwrite": ("--overwrite",),
    "trainer_args": ("--trainer-arg",),
}
"""Flags whose names are not just --field-name."""
SHOWN_DEFAULTS = {"output_dir": "runs/<data name>", "model": "bundled all-MiniLM-L6-v2", "split": "0.7,0.2,0.1", "epochs": "3"}


@lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string literal after it), for the class, its dataclass bases and the dataclasses
    nested in its fields (TrainConfig.reading's ReadOptions: their options go by their own flat names)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not hasattr(klass, "__dataclass_fields__"):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, after in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                docs[node.target.id] = " ".join(str(after.value.value).split())
    for field in fields(cls):
        if is_dataclass(field.default_factory):
            docs.update(field_docs(field.default_factory))
    return docs


def shown_default(name: str, default) -> str | None:
    if name in SHOWN_DEFAULTS:
        return SHOWN_DEFAULTS[name]
    if default is None or isinstance(default, bool):
        return None if default is None else ("on" if default else "off")
    return f"{default:g}" if isinstance(default, float) else str(default)


def option_help(name: str) -> tuple[str, str | bool]:
    """The field's docstring, and its default as typer shows it (False: none to show)."""
    field = next(f for f in OPTION_FIELDS if f.name == name)
    default = shown_default(name, field.default if field.default is not MISSING else None)
    return field_docs(TrainConfig).get(name, ""), (default if default is not None else False)


def cli_type(name: str):
    """The click-facing type of a field: tuples (split) and dicts (trainer_args) are given as strings."""
    hint = typing.get_type_hints(ReadOptions if name in READ_FIELDS else TrainConfig)[name]
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType)
    base = next(a for a in typing.get_args(hint) if a is not type(None)) if optional else hint
    origin = typing.get_origin(base)
    if origin is dict:
        return list[str]
    if origin is tuple or origin is typing.Literal:
        return str  # the split as "0.7,0.2,0.1"; a choice is checked by validate_config with its own message
    return base


FILE_READING = READ_FIELDS
"""The file-layout options (ReadOptions' fields)."""
READING = ("text_column", "text_pair_column", "label_column", "label_columns", "label_names", *FILE_READING)
"""How a file is read and which columns hold the text and labels: the options of every command that reads data."""


def config_parameters(exclude: tuple[str, ...] = (), include: tuple[str, ...] | None = None) -> list[inspect.Parameter]:
    """One keyword parameter per option (default None: "not given"), for a typer command's signature."""
    parameters = []
    for field in OPTION_FIELDS:
        if field.name in exclude or (include is not None and field.name not in include):
            continue
        help_text, default = option_help(field.name)
        option = typer.Option(*FLAGS.get(field.name, ()), help=help_text, show_default=default,
                              rich_help_panel=f"{GROUP_OF[field.name].replace('_', ' ').capitalize()} options")
        annotation = Annotated[Optional[cli_type(field.name)], option]
        parameters.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    return parameters


def with_config_options(command, exclude: tuple[str, ...] = (), include: tuple[str, ...] | None = None):
    """Give `command` (which takes **options) the config's options after its own parameters: all of them, or the
    fields in `include` (READING: the data-reading options that evaluate, explore and predict share with train)."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind != p.VAR_KEYWORD]
    names = {p.name for p in own}
    generated = [p for p in config_parameters(exclude, include) if p.name not in names]
    command.__signature__ = inspect.Signature(own + generated)
    return command


def long_text_options(command):
    """The long-text options for commands that run a trained model (evaluate, predict, serve, export), with the
    run's saved choice as their default."""
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.kind != p.VAR_KEYWORD]
    added = []
    for name in LONG_TEXTS:
        help_text = field_docs(TrainConfig)[name]
        if name == "long_texts":
            help_text = "Texts over the window: truncate, head-tail (keep the first and last tokens) or windows (overlapping windows, pooled per text)."
        option = typer.Option(help=help_text, show_default="the run's", rich_help_panel="Long documents options")
        added.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                       annotation=Annotated[Optional[cli_type(name)], option]))
    command.__signature__ = inspect.Signature(own + [p for p in added if p.name not in {q.name for q in own}])
    return command


def reading_options(command):
    """The data-reading options (READING), generated from the config: for evaluate and explore."""
    return with_config_options(command, include=READING)


def file_reading_options(command):
    """Only the file-layout options (FILE_READING): for predict --input, whose text column has its own meaning."""
    return with_config_options(command, include=FILE_READING)


__all__ = ["DEFAULT_MODEL", "FILE_READING", "LONG_TEXTS", "READING", "config_parameters", "long_text_options", "pop_long_texts", "field_docs", "file_reading_options", "option_help", "reading_options", "with_config_options"]
