"""The run's settings: typed, validated in one place, and saved with every run."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import yaml

from fineclass.data.options import READ_FIELDS, ReadOptions
from fineclass.devices import PRECISIONS
from fineclass.errors import ConfigError, shown
from fineclass.outputs import write_text_atomic
from fineclass.redact import redact_source
from fineclass.rundir import LongTexts
from fineclass.safe_yaml import load_yaml, yaml_problem

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
DEFAULT_EPOCHS = 3.0
"""Passes over the training data when --epochs is not given."""
SELECTION_METRICS = {
    False: ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "loss"),
    True: ("f1_micro", "f1_macro", "f1_weighted", "f1_samples", "exact_match", "loss"),
}
"""Validation metrics that can pick the best checkpoint, for multi-class (False) and multi-label (True) data."""
TRACKERS = ("none", "mlflow", "tensorboard", "trackio", "wandb")
"""--report-to's trackers: the Trainer's integrations that fineclass installs, tests or documents."""


@dataclass
class DataConfig:
    """Where the labeled text comes from, and how to read it."""

    data: str = ""
    """A file, a directory with train/validation/test files, an http(s) URL, or hf:NAME[:CONFIG]."""
    text_column: str | None = None
    """Column that holds the text; several, comma-separated (title,description), are joined; detected when not given."""
    text_pair_column: str | None = None
    """A second text column, encoded with the text as a sentence pair (question pairs, entailment, query-document)."""
    label_column: str | None = None
    """Column that holds the label(s); detected when not given."""
    label_columns: str | None = None
    """One 0/1 (or fraction) column per label: a,b,c or a range anger:trust; detected when there is no label column."""
    label_names: str | None = None
    """A file with one label name per line, line i naming label index i."""
    multi_label: bool | None = None
    """Force multi-label (True) or single-label (False); detected from the labels when None."""
    split: tuple[float, float, float] = (0.7, 0.2, 0.1)
    """Train, test and validation fractions for data that comes as one file."""
    max_train_samples: int | None = None
    """Use at most this many training rows (a seeded random sample), for quick runs."""
    max_eval_samples: int | None = None
    """Score at most this many validation and test rows (seeded, stratified samples), for quick runs."""
    reading: ReadOptions = field(default_factory=ReadOptions)
    """How a CSV/TSV/TXT file is read: its delimiter, quotechar, encoding, header and columns (`ReadOptions`). The
    flags, YAML keys and Python keywords keep those flat names (--delimiter, `delimiter:`, `delimiter=`)."""


@dataclass
class TrainConfig(DataConfig):
    """Everything `fineclass train` needs. YAML `--config` keys use these field names."""

    output_dir: str = ""
    """The run directory: model/, metrics.json, config.yaml, splits.json and data/ go here."""
    model: str = DEFAULT_MODEL
    """A hub name or local model directory; the default is the bundled all-MiniLM-L6-v2."""
    epochs: float | None = None
    """Passes over the training data: 3 when not given. Given (a flag, YAML, a keyword), it also keeps a small set on
    the epoch schedule (see --min-steps)."""
    max_steps: int | None = None
    """Stop after this many optimizer steps, whatever --epochs says: for quick runs and schedules in steps."""
    learning_rate: float = 1e-4
    """Peak AdamW learning rate, reached after warm-up and then decayed linearly."""
    batch_size: int = 32
    """Training texts per step."""
    gradient_accumulation_steps: int = 1
    """Add up the gradients of this many batches before each optimizer step: an effective batch of batch_size x N."""
    eval_batch_size: int = 128
    """Texts per forward pass during evaluation and prediction."""
    head_lr_scale: float = 20.0
    """The new classifier head and the pooler train at this multiple of the learning rate: measured on
    GoEmotions, 20 lifts test macro-F1 from 0.14 to 0.48 at threshold 0.5, and leaves emotion unchanged."""
    freeze_embeddings: bool = False
    """Keep the word-embedding matrix fixed (11.7M of all-MiniLM-L6-v2's 22.7M parameters): it gets no gradient and
    no optimizer update, for faster steps."""
    cls_only_last_layer: bool = False
    """Train with the last encoder layer computed for the [CLS] token alone, the only state the head reads: the same
    logits and gradients (dropout draws differ), 1.16-1.27x the samples/s in a 120-step A/B. Off by default: one full
    emotion run with it picked an earlier checkpoint and scored 1.2 points lower. predict and export always use it."""
    warmup_ratio: float = 0.1
    """Share of the training steps spent warming the learning rate up from zero."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    max_length: int | None = None
    """Tokens per model input (the window); the model's own limit when None."""
    long_texts: Literal["auto", "truncate", "head-tail", "windows"] = "auto"
    """Texts over --max-length: truncate, head-tail (keep the first and last tokens), windows (overlapping windows,
    their logits pooled per text), or auto (truncate when under 5% of the training texts are longer, else windows)."""
    head_tokens: int | None = None
    """head-tail: tokens kept from the start of a long text, the rest of the window from its end; a quarter when None."""
    window_stride: int | None = None
    """windows: tokens from one window's start to the next; half a window when None."""
    window_pooling: Literal["mean", "max"] = "mean"
    """windows: how a text's windows make one score: mean or max of their logits (max suits multi-label)."""
    max_windows: int = 8
    """windows: at most this many windows a text, the first and last kept, so one huge text cannot flood an epoch."""
    min_steps: int = 200
    """A training set whose default 3 epochs make fewer optimizer steps than this is small: it trains this many steps
    (at most 40 epochs) in batches of at most 16, validating once, after the last step (5 times with --early-stopping).
    0, --epochs or --max-steps keeps the epoch schedule. 200 steps took 96 emotion tweets from 0.41 to 0.54 accuracy."""
    pooling: Literal["auto", "cls", "mean"] = "auto"
    """What the head reads: cls (the [CLS] state), mean (the mean of the token states, through an appended layer, so
    the model stays a standard one), or auto (mean for a small training set of a model that declares mean pooling)."""
    linear_probe: bool = False
    """LP-FT (Kumar et al., 2022): before fine-tuning, fit the new head by logistic regression on the frozen model's
    features of the training texts, so fine-tuning starts from a head that already separates the classes."""
    layer_lr_decay: float = 1.0
    """Layer-wise learning-rate decay (Zhang et al., 2021): each encoder layer trains at this multiple of the learning
    rate of the layer above it, and the embeddings below the lowest; 1 trains every layer at --learning-rate."""
    reinit_layers: int = 0
    """Re-initialise the top N pretrained encoder layers before fine-tuning (Zhang et al., 2021); 0 keeps them all."""
    contrastive_weight: float | None = None
    """Weight of a SetFit-style pair loss (cosine similarity 1 for same-label pairs, 0 for others) added to the
    classification loss; 1 for a small training set and 0 otherwise when not given."""
    attention_dropout: str = "auto"
    """Dropout on attention probabilities while training: a number, model (the model's own, 0.1 for BERTs), or auto
    (0 for long texts, where it lets PyTorch's fused attention run, 4x faster at 512 tokens; the model's own else)."""
    seed: int = 42
    """Seed for the split, the head's initialisation and the data order."""
    metric: str | None = None
    """Validation metric that picks the best epoch: f1_macro (multi-class) or f1_micro (multi-label) by default."""
    early_stopping: int = 0
    """Stop after this many evaluations (epochs, or --save-steps intervals) without improvement of `metric`; 0 is off."""
    threshold: float = 0.5
    """Multi-label decision threshold before tuning, and the value of fixed thresholds."""
    thresholds: str = "per-label"
    """Multi-label thresholds tuned on validation: per-label, global, or fixed:T."""
    min_positives: int = 10
    """Labels with fewer validation positives than this get the global threshold instead of their own."""
    calibration: Literal["none", "temperature", "platt", "auto"] = "auto"
    """Calibration fitted on validation and folded into the model: temperature, platt (multi-label), none, or auto
    (temperature for multi-class, Platt for multi-label, kept when it lowers ECE in a 2-fold cross-fit)."""
    class_weights: Literal["none", "balanced"] = "none"
    """Multi-class loss weights: none, or balanced (n / (classes · count))."""
    pos_weight: Literal["none", "balanced"] = "none"
    """Multi-label BCE pos_weight: none, or balanced (negatives / positives per label, clipped to 10)."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """Training arithmetic: auto (bf16 autocast where the CPU or GPU has native bf16, else fp32), fp32, or bf16."""
    baseline: bool = True
    """Also score the pretrained model with an untrained head on the test split, for comparison."""
    report: bool = True
    """Write report.html and its figures (plots/) after training; off saves about 0.6 s of plotting a run, for sweeps."""
    save_steps: int | None = None
    """Save a checkpoint, and score the validation split, every N optimizer steps; at the end of each epoch when None."""
    save_total_limit: int = 2
    """Checkpoints kept on disk: the best one and the newest, then older ones up to N in all (the Trainer's rule)."""
    keep_checkpoints: bool = False
    """Keep the checkpoints (with optimizer state) after a successful run; they are removed by default."""
    overwrite: bool = False
    """Replace the outputs of an earlier run in output_dir."""
    trainer_args: dict[str, Any] | None = None
    """Any other TrainingArguments field, as KEY=VALUE (--trainer-arg lr_scheduler_type=cosine); recorded with the run."""
    report_to: str = "none"
    """Log the run to these trackers, comma-separated: none, mlflow, tensorboard, trackio, wandb (each needs its
    package: pip install 'fineclass[mlflow]'). The run is named after the output directory."""
    card_example: str | None = None
    """A text for the model card's hub widget; without it the card has none (no training row is ever published)."""

    def __post_init__(self) -> None:
        """Coerce YAML-ish values (`2e-5` as a string) and check every value, so a TrainConfig built by hand is
        checked as the CLI's is; DATA and output_dir are required only where a run starts (build_config)."""
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            coerce = {"split": parse_split, "reading": coerce_reading}.get(name, functools.partial(_coerce, name))
            setattr(self, name, coerce(value))
        validate_config(self, require_paths=False)
        self.reading = read_options(self)  # checked: a mapping of flat values becomes the ReadOptions it describes

    @property
    def train_epochs(self) -> float:
        """The epochs the Trainer runs: --epochs, or DEFAULT_EPOCHS when not given."""
        return DEFAULT_EPOCHS if self.epochs is None else self.epochs

    def to_dict(self) -> dict[str, Any]:
        """The settings by their flat names (the read options as flags give them), as YAML and keywords take them."""
        values = {}
        for name in (f.name for f in fields(self)):
            if name == "reading":
                values.update(read_options(self).to_flags())
            else:
                values[name] = copy.deepcopy(getattr(self, name))
        values["split"] = list(self.split)
        return values

    def to_record(self) -> dict[str, Any]:
        """The settings as a run records them (config.yaml, compare and learning-curve files): a data URL's
        credentials and query string redacted."""
        return {**self.to_dict(), "data": redact_source(self.data)}


DISTILL_TEMPERATURE = 4.0
"""`distill`'s default temperature: with DISTILL_ALPHA, a 3-layer student of the emotion run came within 0.13 points
of its teacher's test accuracy, where T 2 and alpha 0.5 had left one 0.43 below (benchmarks/RESULTS.md)."""
DISTILL_ALPHA = 0.1
"""The default weight of the hard labels: the student learns mostly from the teacher's softened outputs."""


def accept_flat_reading(init):
    """TrainConfig(delimiter=";", ...), as before the read options were nested: still accepted, with a warning.
    (Flags, YAML keys and the keywords of fineclass.train() keep the flat names, without one.)"""

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        flat = {name: kwargs.pop(name) for name in READ_FIELDS if name in kwargs}
        if flat:
            warnings.warn(f"TrainConfig({', '.join(f'{name}=...' for name in flat)}) is deprecated: the read options "
                          "are nested, give reading=ReadOptions(...) instead (fineclass.ReadOptions)",
                          DeprecationWarning, stacklevel=2)
            given = kwargs.get("reading")
            kwargs["reading"] = {**(given.to_flags() if isinstance(given, ReadOptions) else given or {}), **flat}
        init(self, *args, **kwargs)

    return __init__


TrainConfig.__init__ = accept_flat_reading(TrainConfig.__init__)


def flat_reading_property(name: str) -> property:
    def get(self):
        warnings.warn(f"TrainConfig.{name} is deprecated: read config.reading.{name}", DeprecationWarning, stacklevel=2)
        return read_options(self).to_flags()[name]

    return property(get, doc=f"Deprecated: `reading.{name}`, as its flag gives it.")


for _name in READ_FIELDS:  # config.delimiter and the rest, read-only, as before the read options were nested
    setattr(DataConfig, _name, flat_reading_property(_name))

OPTION_FIELDS = tuple(sub for f in fields(TrainConfig) for sub in (fields(ReadOptions) if f.name == "reading" else (f,)))
"""Every option's dataclass field by its flat name, in TrainConfig's order (the read options at `reading`)."""
OPTION_NAMES = tuple(f.name for f in OPTION_FIELDS)
FIELD_NAMES = set(OPTION_NAMES)
"""The names a flag, a YAML key or a Python keyword may take."""

GROUPS = {
    "data": ("data", "text_column", "text_pair_column", "label_column", "label_columns", "label_names", "multi_label",
             "split", "max_train_samples", "max_eval_samples", *READ_FIELDS),
    "model": ("model", "max_length", "precision", "attention_dropout"),
    "long_documents": ("long_texts", "head_tokens", "window_stride", "window_pooling", "max_windows"),
    "few_labels": ("min_steps", "pooling", "contrastive_weight", "linear_probe", "layer_lr_decay", "reinit_layers"),
    "optimisation": ("epochs", "max_steps", "learning_rate", "batch_size", "gradient_accumulation_steps",
                     "eval_batch_size", "head_lr_scale", "freeze_embeddings", "cls_only_last_layer",
                     "warmup_ratio", "weight_decay", "seed", "class_weights",
                     "pos_weight", "trainer_args"),
    "checkpoints": ("metric", "early_stopping", "save_steps", "save_total_limit", "keep_checkpoints"),
    "thresholds": ("threshold", "thresholds", "min_positives", "calibration"),
    "output": ("output_dir", "overwrite", "baseline", "report"),
    "tracking": ("report_to", "card_example"),
}
"""The settings by kind: `--help` shows them in these panels, and a YAML config may nest them under these keys."""
GROUP_OF = {name: group for group, names in GROUPS.items() for name in names}


LONG_TEXTS = ("long_texts", "head_tokens", "window_stride", "window_pooling", "max_windows")
"""How texts over the window are read: train's choice is saved with the model, and these options change it in
evaluate, predict, serve and export."""


def pop_long_texts(options: dict) -> dict:
    """Take the long-text options out of `options`, as `Predictor.from_dir(long_texts=...)` takes them.

    `long_texts` may be a mode ("windows"), a dict of LongTexts fields or a LongTexts; the other keywords change it.
    """
    values = {name: options.pop(name, None) for name in LONG_TEXTS}
    given = values.pop("long_texts")
    base = dataclasses.asdict(given) if isinstance(given, LongTexts) else dict(given) if isinstance(given, dict) else {"mode": given}
    return {k: v for k, v in {**base, **values}.items() if v is not None}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config into a dict of `TrainConfig` fields (dashes in keys become underscores)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), f"config file {path}") or {}
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {yaml_problem(err)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of option: value, not {type(raw).__name__}")
    values = {}
    for key, value in raw.items():  # flat keys, or nested under a group: {"optimisation": {"epochs": 3}}
        key = str(key).replace("-", "_")
        if key in GROUPS and isinstance(value, dict):
            values.update({str(k).replace("-", "_"): v for k, v in value.items()})
        else:
            values[key] = value
    publishing = sorted(key for key in values if key.isidentifier() and is_publishing_key(key))
    if publishing:
        raise ConfigError(f"config file {path} sets {', '.join(publishing)}: {PUBLISHING_REFUSED}")
    unknown = sorted(set(values) - FIELD_NAMES)
    if unknown:
        raise ConfigError(
            f"config file {path} has unknown keys {unknown}; known keys are {sorted(FIELD_NAMES)}"
        )
    return values


def parse_strategy(text: str) -> tuple[str, float | None]:
    """'per-label', 'global' or 'fixed:0.5'."""
    if text in ("per-label", "global"):
        return text, None
    if text.startswith("fixed:"):
        try:
            value = float(text.split(":", 1)[1])
        except ValueError:
            value = -1.0
        if 0 < value < 1:
            return "fixed", value
    raise ConfigError(f"--thresholds {shown(text)} must be per-label, global, or fixed:T with 0 < T < 1 (like fixed:0.5)")


def is_fraction(text: str) -> bool:
    try:
        return 0 <= float(text) < 1
    except (TypeError, ValueError):
        return False


def parse_split(text: str | list | tuple) -> tuple[float, float, float]:
    """'0.7,0.2,0.1' (train, test, validation) to a tuple, checking that it sums to 1."""
    try:
        values = tuple(float(p) for p in (text.split(",") if isinstance(text, str) else list(text)))
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"--split {shown(text)} must be three numbers like 0.7,0.2,0.1 (train,test,validation)") from None
    # written so that NaN fails every test
    if len(values) != 3 or not all(v >= 0 for v in values) or not abs(sum(values) - 1.0) <= 1e-6 or not values[0] > 0:
        raise ConfigError(
            f"--split {shown(text)} must be three non-negative fractions train,test,validation that sum to 1 "
            f"(these sum to {sum(values):g}), with a non-zero train share, like 0.7,0.2,0.1"
        )
    return values  # type: ignore[return-value]


def build_config(file_values: dict[str, Any], flag_values: dict[str, Any]) -> TrainConfig:
    """Defaults, then the YAML file, then flags that were given (None means not given)."""
    file_values = {k: v for k, v in file_values.items() if v is not None or k not in FIELD_TYPES or optional(k)}
    merged = {**file_values, **{k: v for k, v in flag_values.items() if v is not None}}  # YAML's null: not given either
    reading = {name: merged.pop(name) for name in READ_FIELDS if name in merged}
    config = TrainConfig(**merged, reading=reading)  # coerces and checks every value
    validate_config(config)
    return config


FIELD_TYPES = {f.name: str(f.type) for f in OPTION_FIELDS}
LIST_FIELDS = ("text_column", "label_columns", "columns")
"""Comma-separated on the command line; a list of names is accepted too."""


def optional(name: str) -> bool:
    """Whether the option takes None (its default, or "not set"); the others need a value."""
    return FIELD_TYPES[name].endswith(" | None")


def _coerce(name: str, value: Any) -> Any:
    """A YAML value to its field's type: PyYAML reads `2e-5` as a string, and `epochs: three` must not crash."""
    kind = FIELD_TYPES[name].replace(" | None", "")
    kind = "str" if kind.startswith("Literal") or name in LIST_FIELDS else kind  # columns: "a,b" or a list of names
    if value is None and not optional(name):
        raise ConfigError(f"--{name.replace('_', '-')} needs a value, got None")
    if value is None or kind.startswith("tuple"):
        return value
    if kind.startswith("dict"):
        return parse_trainer_args(value) or None
    option = "--" + name.replace("_", "-")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{option} must be true or false, got {shown(value)}")
    if kind == "str":
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        if name in LIST_FIELDS and isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return ",".join(value)  # text_column=["title", "description"] from Python or YAML
        raise ConfigError(f"{option} must be a string, got {shown(value)}")
    number = int if kind == "int" else float
    try:
        converted = number(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(.inf), float(10**400)
        converted = None
    if converted is None or (number is int and isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{option} must be {'a whole number' if number is int else 'a number'}, got {shown(value)}")
    return converted


def parse_trainer_args(value) -> dict[str, Any]:
    """{"key": value}, or "KEY=VALUE" strings (one, or a list, as --trainer-arg gives them); values read as YAML."""
    if isinstance(value, dict):
        if not is_json(value):  # metrics.json records them
            raise ConfigError(f"--trainer-arg values must be text, numbers, true/false, lists or mappings, got {shown(value)}")
        return {str(k): v for k, v in value.items()}
    if not isinstance(value, (str, list, tuple)):
        raise ConfigError(f"--trainer-arg must be KEY=VALUE, a list of them or a mapping, got {shown(value)}")
    items = [value] if isinstance(value, str) else value
    parsed = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--trainer-arg {shown(item)} must be KEY=VALUE, like lr_scheduler_type=cosine")
        try:
            parsed[key.strip()] = load_yaml(text, f"--trainer-arg {shown(key.strip())}") if text.strip() else ""
        except yaml.YAMLError:
            parsed[key.strip()] = text
        if not is_json(parsed[key.strip()]):  # a date (run_name=2026-12-07), a !!binary or !!set tag: the text meant
            parsed[key.strip()] = text
    return parsed


def is_json(value) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def check_trainer_args(trainer_args: dict[str, Any] | None) -> list[str]:
    """Keys that are not TrainingArguments fields, or that fineclass must set itself."""
    if not trainer_args:
        return []
    from dataclasses import fields as dataclass_fields

    from transformers import TrainingArguments

    known = {f.name for f in dataclass_fields(TrainingArguments)}
    problems = []
    for key in trainer_args:
        name = key if key.isidentifier() else shown(key)  # a YAML key may hold anything, a newline too
        if key.isidentifier() and is_publishing_key(key):
            problems.append(f"--trainer-arg {key}: {PUBLISHING_REFUSED}")
        elif key in OWN_TRAINING_ARGUMENTS:
            problems.append(f"--trainer-arg {key} is set by fineclass; use {OWN_TRAINING_ARGUMENTS[key]} instead")
        elif key not in known:
            close = sorted(known_name for known_name in known if key[:4] and known_name.startswith(key[:4]))[:3]
            problems.append(f"--trainer-arg {name}: TrainingArguments has no field {shown(key)}" +
                            (f" (did you mean {', '.join(close)}?)" if close else ""))
    return problems


PUBLISHING_REFUSED = ("train does not publish models (push_to_hub and the hub_* settings are refused, so no hub "
                      "token is saved with a run); publishing gets its own command")


def is_publishing_key(key: str) -> bool:
    """push_to_hub and every hub_* field: a shared config must not publish a model, nor a token land in config.yaml."""
    return key.startswith(("push_to_hub", "hub_"))


OWN_TRAINING_ARGUMENTS = {
    "output_dir": "--output-dir", "num_train_epochs": "--epochs", "learning_rate": "--learning-rate",
    "per_device_train_batch_size": "--batch-size", "per_device_eval_batch_size": "--eval-batch-size",
    "max_steps": "--max-steps", "gradient_accumulation_steps": "--gradient-accumulation-steps", "seed": "--seed",
    "bf16": "--precision", "metric_for_best_model": "--metric", "save_steps": "--save-steps",
}


def at_least(bound):
    return lambda value: value >= bound


def positive_or_none(value) -> bool:
    return value is None or value > 0


KNOWN_METRICS = sorted(set().union(*SELECTION_METRICS.values()))
CHECKS = (
    ("epochs", positive_or_none, "must be > 0"),
    ("learning_rate", lambda v: v > 0, "must be > 0"),
    ("batch_size", at_least(1), "must be >= 1"),
    ("max_steps", lambda v: v is None or v >= 1, "must be >= 1"),
    ("min_steps", at_least(0), "must be >= 0 (0 keeps the epoch schedule)"),
    ("pooling", lambda v: v in ("auto", "cls", "mean"), "must be auto, cls or mean"),
    ("contrastive_weight", lambda v: v is None or v >= 0, "must be >= 0"),
    ("gradient_accumulation_steps", at_least(1), "must be >= 1"),
    ("eval_batch_size", at_least(1), "must be >= 1"),
    ("head_lr_scale", lambda v: v > 0, "must be > 0"),
    ("layer_lr_decay", lambda v: 0 < v <= 1, "must be in (0, 1]"),
    ("reinit_layers", at_least(0), "must be >= 0"),
    ("warmup_ratio", lambda v: 0 <= v < 1, "must be in [0, 1)"),
    ("max_length", lambda v: v is None or v >= 2, "must be >= 2"),
    ("attention_dropout", lambda v: v in ("auto", "model") or is_fraction(v), "must be auto, model or a number in [0, 1)"),
    ("threshold", lambda v: 0 < v < 1, "must be between 0 and 1"),
    ("early_stopping", at_least(0), "must be >= 0"),
    ("save_steps", lambda v: v is None or v >= 1, "must be >= 1"),
    ("save_total_limit", at_least(1), "must be >= 1"),
    ("class_weights", lambda v: v in ("none", "balanced"), "must be none or balanced"),
    ("calibration", lambda v: v in ("none", "temperature", "platt", "auto"), "must be none, temperature, platt or auto"),
    ("pos_weight", lambda v: v in ("none", "balanced"), "must be none or balanced"),
    ("precision", lambda v: v in PRECISIONS, f"must be one of {', '.join(PRECISIONS)}"),
    ("metric", lambda v: v is None or v in KNOWN_METRICS, f"must be one of {', '.join(KNOWN_METRICS)}"),
    ("max_train_samples", lambda v: v is None or v >= 1, "must be >= 1"),
    ("max_eval_samples", lambda v: v is None or v >= 1, "must be >= 1"),
)
"""(field, test, rule): a value that fails its test is reported as "--field-name RULE, got VALUE"."""


def validate_config(config: TrainConfig, require_paths: bool = True) -> None:
    """Gather every problem with the settings and report them together."""
    required = (("DATA", config.data), ("--output-dir", config.output_dir)) if require_paths else ()
    problems = [f"{name} is required" for name, value in required if not value]
    problems += [f"--{name.replace('_', '-')} {rule}, got {shown(getattr(config, name))}"
                 for name, test, rule in CHECKS if not test(getattr(config, name))]
    for check in (check_long_texts, lambda c: parse_strategy(c.thresholds), read_options,
                  lambda c: parse_report_to(c.report_to)):
        try:
            check(config)
        except ConfigError as err:
            problems.append(str(err))
    problems += check_trainer_args(config.trainer_args)
    if problems:
        raise ConfigError("; ".join(problems))


def parse_report_to(value) -> list[str]:
    """The trackers in "mlflow,tensorboard" (or a list); `none` alone means no tracker."""
    names = [n.strip().lower() for n in (value.split(",") if isinstance(value, str) else list(value or []))]
    names = [n for n in dict.fromkeys(names) if n]
    unknown = [n if n.isidentifier() else shown(n) for n in names if n not in TRACKERS]
    if unknown:
        raise ConfigError(f"--report-to {','.join(unknown)} is not a tracker; use none or any of "
                          f"{', '.join(t for t in TRACKERS if t != 'none')}, comma-separated")
    return [n for n in names if n != "none"]


def check_long_texts(config: TrainConfig) -> None:
    """The long-text settings, checked by the record that saves them (auto stands for any mode here)."""
    LongTexts("truncate" if config.long_texts == "auto" else config.long_texts, 512, config.head_tokens,
              config.window_stride, config.window_pooling, config.max_windows)


def coerce_reading(value) -> ReadOptions | dict:
    """The read options as given: a ReadOptions, or a mapping of their flat names whose values are coerced here and
    checked by `read_options` (with every other problem, in validate_config)."""
    if isinstance(value, ReadOptions):
        return value
    if not isinstance(value, dict) or not set(value) <= set(READ_FIELDS):
        raise ConfigError(f"reading must be a ReadOptions, or a mapping of {', '.join(READ_FIELDS)}; got {shown(value)}")
    return {name: _coerce(name, given) for name, given in value.items()}


def read_options(config: DataConfig) -> ReadOptions:
    """The file-reading options as `ReadOptions` (checked: one-character delimiter, a known encoding)."""
    return config.reading if isinstance(config.reading, ReadOptions) else ReadOptions(**config.reading)


def save_config(config: TrainConfig, path: Path) -> None:
    write_text_atomic(path, yaml.safe_dump(config.to_record(), sort_keys=False))
