"""The search space of `fineclass tune`: the default ranges, a --space YAML that narrows or overrides them, the
options fixed on the command line left out, and the points queued first (train's defaults, then known-good ones)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from fineclass.config import DEFAULT_EPOCHS, TrainConfig
from fineclass.errors import ConfigError, shown
from fineclass.safe_yaml import load_yaml, yaml_problem


@dataclass(frozen=True)
class Param:
    """One searched setting: a float or int range (log-uniform when `log`), or a list of choices."""

    name: str
    kind: str
    """float, int or choice."""
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()

    def distribution(self):
        """The Optuna distribution this parameter is suggested from."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(list(self.choices))
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(self.low, self.high, log=self.log)

    def contains(self, value) -> bool:
        if self.kind == "choice":
            return value in self.choices
        return isinstance(value, (int, float)) and self.low <= value <= self.high

    def describe(self) -> str:
        if self.kind == "choice":
            return "{" + ", ".join(str(c) for c in self.choices) + "}"
        return f"{self.low:g} to {self.high:g}" + (" (log)" if self.log else "")


def default_space(multi_label: bool) -> dict[str, Param]:
    """The issue's default ranges; the loss weights and thresholds that apply to the task."""
    params = [
        Param("learning_rate", "float", 1e-5, 5e-4, log=True),
        Param("head_lr_scale", "float", 1.0, 50.0, log=True),
        Param("epochs", "int", 1, 6),
        Param("batch_size", "choice", choices=(16, 32, 64)),
        Param("warmup_ratio", "float", 0.0, 0.2),
        Param("weight_decay", "float", 0.0, 0.1),
        Param("pos_weight" if multi_label else "class_weights", "choice", choices=("none", "balanced")),
    ]
    if multi_label:
        params.append(Param("thresholds", "choice", choices=("per-label", "global")))
    return {p.name: p for p in params}


SEARCHABLE = ("learning_rate", "head_lr_scale", "epochs", "batch_size", "warmup_ratio", "weight_decay", "class_weights",
              "pos_weight", "thresholds", "model", "layer_lr_decay", "reinit_layers", "gradient_accumulation_steps",
              "early_stopping", "max_length", "pooling", "linear_probe", "freeze_embeddings", "attention_dropout")
"""The settings a --space file may search or fix."""
INT_SETTINGS = ("epochs", "batch_size", "reinit_layers", "gradient_accumulation_steps", "early_stopping", "max_length")
"""Searched as whole numbers (epochs too: a trial runs whole epochs, so the pruner compares like with like)."""

KNOWN_GOOD = (
    ({"epochs": 2}, "emotion's validation metric peaks at epoch 2 of the default 3"),
    ({"class_weights": "balanced"}, "emotion: macro-F1 0.9036 against 0.8994 with the defaults"),
    ({"learning_rate": 2e-4, "epochs": 2}, "a shorter schedule at twice the rate: the time-to-accuracy candidate"),
)
"""Points queued after train's defaults (each is the defaults with these changes), from our own measurements
(docs/defaults.md). A point that changes a setting outside the space, or a fixed one, is left out."""


def load_space(path: str | Path | dict | None, multi_label: bool, fixed: set[str]) -> tuple[dict[str, Param], dict[str, Any]]:
    """(searched params, settings the space file fixes): the default space without the `fixed` options (given on the
    command line or in --config), narrowed or overridden by the --space file (a path, or a dict from Python)."""
    space = {name: p for name, p in default_space(multi_label).items() if name not in fixed}
    if path is None:
        return space, {}
    where = "space" if isinstance(path, dict) else f"--space {path}"
    entries = path if isinstance(path, dict) else read_space_file(Path(path))
    pinned = {}
    problems = []
    for key, value in entries.items():
        name = str(key).replace("-", "_")
        if name not in SEARCHABLE:
            problems.append(f"{where}: {shown(key)} is not a setting tune searches; use any of {', '.join(SEARCHABLE)}")
            continue
        if name in fixed:
            problems.append(f"{where}: {name} is also given as --{name.replace('_', '-')} (or in --config), which fixes it; "
                            "leave it out of one of them")
            continue
        try:
            param = parse_entry(name, value, where)
        except ConfigError as err:
            problems.append(str(err))
            continue
        space.pop(name, None)
        if isinstance(param, Param):
            space[name] = param
        else:
            pinned[name] = param
    if problems:
        raise ConfigError("; ".join(problems))
    return space, pinned


def read_space_file(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"--space file not found: {path}")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), f"--space {path}")
    except UnicodeDecodeError:
        raise ConfigError(f"--space {path} is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"--space {path} is not valid YAML: {yaml_problem(err)}") from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"--space {path} must hold a mapping of setting: range, like learning_rate: {{low: 1e-5, high: 5e-4, log: true}}")
    return raw


def parse_entry(name: str, value, where: str):
    """A mapping {low, high, log} is a range, a list is a choice, anything else fixes the setting at that value."""
    if isinstance(value, dict):
        return parse_range(name, value, where)
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{where}: {name} lists no choices; give at least one, like {name}: [a, b]")
        choices = tuple(check_value(name, v, where) for v in dict.fromkeys(value))
        return Param(name, "choice", choices=choices) if len(choices) > 1 else choices[0]
    return check_value(name, value, where)


def parse_range(name: str, value: dict, where: str) -> Param:
    unknown = sorted(str(k) for k in value if k not in ("low", "high", "log"))
    if unknown or "low" not in value or "high" not in value:
        raise ConfigError(f"{where}: {name} must be {{low: L, high: H}} with an optional log: true"
                          + (f" (unknown keys {unknown})" if unknown else ""))
    kind = "int" if name in INT_SETTINGS else "float"
    low, high = (check_value(name, value[k], where, kind) for k in ("low", "high"))
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: {name} log must be true or false, got {shown(log)}")
    if not low <= high:
        raise ConfigError(f"{where}: {name} low {low:g} is above high {high:g}; give low <= high")
    if log and not low > 0:
        raise ConfigError(f"{where}: {name} is log-uniform, so low must be > 0, got {low:g}")
    return Param(name, kind, low, high, log)


def check_value(name: str, value, where: str, kind: str | None = None):
    """A value of the setting, checked as train checks it ("epochs: three" is one line, not a crash)."""
    if kind in ("int", "float"):
        if isinstance(value, str):
            try:
                value = float(value)  # PyYAML reads 1e-5 (no dot) as a string
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}: {name} low and high must be numbers, got {shown(value)}")
        if kind == "int" and value != int(value):
            raise ConfigError(f"{where}: {name} is a whole number, got {value:g}")
        value = int(value) if kind == "int" else float(value)
    try:
        checked = TrainConfig(**{name: value})
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    return getattr(checked, name) if kind is None else value


def trial_settings(base: TrainConfig, values: dict) -> TrainConfig:
    """The base settings with a trial's values, epochs and batch size always explicit: a trial runs the schedule it
    was given, never the small-set one (whose steps and batch would make the pruner compare unlike schedules)."""
    values = {**values}
    values.setdefault("epochs", base.epochs if base.epochs is not None else DEFAULT_EPOCHS)
    values["epochs"] = float(values["epochs"])
    return replace(base, **values)


def defaults_point(space: dict[str, Param]) -> tuple[dict, list[str]]:
    """Trial 0: train's defaults of the searched settings; a default outside a narrowed list of choices is sampled
    (a choice must be one of the list), a default outside a narrowed range is still run: it is the baseline."""
    defaults = TrainConfig()
    point, left_out = {}, []
    for name, param in space.items():
        value = DEFAULT_EPOCHS if name == "epochs" else getattr(defaults, name)
        if name == "epochs":
            value = int(value)
        if param.kind == "choice" and value not in param.choices:
            left_out.append(f"{name} {value} is not among the --space choices")
            continue
        point[name] = value
    return point, left_out


def known_good_points(space: dict[str, Param], defaults: dict) -> list[dict]:
    """The KNOWN_GOOD points that fit the space: every change searched and inside its range, and not the defaults."""
    points = []
    for changes, _why in KNOWN_GOOD:
        if all(name in space and space[name].contains(value) for name, value in changes.items()):
            point = {**defaults, **changes}
            if point != defaults and point not in points:
                points.append(point)
    return points
