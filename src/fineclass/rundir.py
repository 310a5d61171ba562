"""The run directory layout: the contract between train, evaluate and predict."""

from __future__ import annotations

import errno
import json
import shutil
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from fineclass.errors import ConfigError, FineclassError, ModelError, first_line
from fineclass.outputs import OutputKind, write_json_atomic
from fineclass.redact import redact_source, source_stem

MODEL = "model"
METRICS = "metrics.json"
CONFIG = "config.yaml"
SPLITS = "splits.json"
DATA = "data"
CHECKPOINTS = "checkpoints"
THRESHOLDS = "thresholds.json"
LONG_TEXTS = "long_texts.json"
REPORT = "report.html"
PLOTS = "plots"
RUN_ENTRIES = (MODEL, METRICS, CONFIG, SPLITS, DATA, CHECKPOINTS, REPORT, PLOTS)
RUN_OUTPUT = OutputKind("train", legacy_markers=(CONFIG, SPLITS), legacy_entries=RUN_ENTRIES + (".model.partial",))
"""A run directory; one made before manifests is recognised by its config.yaml and splits.json."""
FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
TRAIN_INCOMPLETE = ("the run there is incomplete: free some space or choose another --output-dir, then run again "
                    "with --overwrite (or --resume if a checkpoint was saved)")
REPORT_INCOMPLETE = ("the report there is incomplete: free some space or choose another --report-dir, then run again "
                     "with --overwrite")
NO_PERMISSION = (errno.EACCES, errno.EPERM, errno.EROFS)


@dataclass
class RunMetrics:
    """metrics.json: what `train` measured. Every key is a field, so readers use attributes, not strings."""

    task: dict
    """multi_label, num_labels, labels (names in id order)."""
    data: dict
    """source, rows per split, dropped rows, sampled_from when --max-eval-samples sampled a split, and rare_classes
    ({class: rows per split}) when a class had too few rows for reliable scores (data/split.py rare_classes)."""
    model: dict
    selection_metric: str
    train: dict
    """Settings, steps, best epoch, throughput (samples/s, tokens/s, MFU) and seconds."""
    train_loss: list = field(default_factory=list)
    validation: list = field(default_factory=list)
    """One entry per evaluation: epoch, step and each validation metric."""
    label_shares: dict = field(default_factory=dict)
    test: dict | None = None
    """Test-split metrics (with per_class); absent when the split has no test share."""
    baseline: dict | None = None
    """The untrained head's test metrics."""
    calibration: dict | None = None
    """What calibration was fitted (method, temperature, kept) and ECE, Brier and NLL before and after, on the validation
    and test splits, with AURC and the coverage at 90/95/99% accuracy (recipes/calibrate.py)."""

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, payload: dict) -> RunMetrics:
        """The record of a payload; ValueError names what a damaged or hand-edited one lacks."""
        return record_of(cls, payload)

    @classmethod
    def read(cls, run_dir: Path) -> RunMetrics:
        return read_record(Path(run_dir) / METRICS, "metrics record", "delete it, or train the run again", cls.from_dict)

    def write(self, run_dir: Path) -> None:
        payload = self.to_dict()  # asdict's copy: redacting it leaves the record as it was
        if "source" in payload["data"]:
            payload["data"]["source"] = redact_source(str(payload["data"]["source"]))
        write_json_atomic(Path(run_dir) / METRICS, payload)


def default_output_dir(data: str) -> str:
    stem = source_stem(data).replace(":", "-") or "run"  # never a URL's credentials or query
    return str(Path("runs") / stem)


JSON_KINDS = {list: "a JSON array", str: "a JSON string", int: "a JSON number", float: "a JSON number",
              bool: "a JSON true or false", type(None): "JSON null"}


def load_json_object(path: Path) -> dict:
    """A JSON file that must hold an object; otherwise a ValueError whose message completes "the file ..."."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None
    except RecursionError:  # json gives up on deep nesting at the interpreter's recursion limit
        raise ValueError("is nested too deeply to read") from None
    except ValueError as err:
        raise ValueError(f"is not valid JSON ({err})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"holds {JSON_KINDS.get(type(payload), 'something else')}, not an object")
    return payload


def record_of(cls, payload: dict):
    """cls(**payload) for a record dataclass, its unknown keys left out; ValueError names what a damaged or
    hand-edited payload lacks, or which of its objects is not one."""
    missing = [f.name for f in fields(cls) if f.name not in payload and f.default is f.default_factory is MISSING]
    wrong = [f.name for f in fields(cls) if "dict" in str(f.type) and payload.get(f.name) is not None
             and not isinstance(payload[f.name], dict)]
    if missing or wrong:
        raise ValueError(f"it has no {', '.join(missing)}" if missing else f"its {wrong[0]} is not an object")
    known = {f.name for f in fields(cls)}
    return cls(**{key: value for key, value in payload.items() if key in known})


def read_record(path: Path, what: str, fix: str, build):
    """build(payload) for a JSON record in a model directory; any problem is one ModelError naming the file and fix."""
    try:
        payload = load_json_object(path)
    except ValueError as err:
        raise ModelError(f"{path} is not a valid {what}: it {err}; {fix}") from None
    try:
        return build(payload)
    except (ValueError, FineclassError) as err:
        raise ModelError(f"{path} is not a valid {what}: {first_line(err)}; {fix}") from None


@dataclass
class Thresholds:
    """model/thresholds.json: a multi-label model's decision threshold per label, and how they were chosen."""

    thresholds: dict[str, float]
    strategy: str = "per-label"
    min_positives: int = 10
    default: float = 0.5
    """For a label the file does not name."""

    def for_labels(self, names) -> list[float]:
        return [float(self.thresholds.get(name, self.default)) for name in names]

    @classmethod
    def read_for_labels(cls, model_dir: Path, names) -> list[float] | None:
        """The saved threshold of each label in `names`, in that order; None when the model has no thresholds.json."""
        record = cls.read(model_dir)
        return None if record is None else record.for_labels(names)

    @classmethod
    def read(cls, model_dir: Path) -> Thresholds | None:
        path = Path(model_dir) / THRESHOLDS
        if not path.is_file():
            return None
        return read_record(path, "thresholds record", "delete it to use 0.5 for every label, or run `fineclass "
                           "tune-thresholds` on the run to write it again", cls.from_payload)

    @classmethod
    def from_payload(cls, payload: dict) -> Thresholds:
        given = payload.get("thresholds", {})
        if not isinstance(given, dict):
            raise ValueError(f"its thresholds are {JSON_KINDS.get(type(given), 'something else')}, not an object of "
                             "label: threshold")
        return cls(thresholds={str(k): _probability(f"the threshold of {k!r}", v) for k, v in given.items()},
                   strategy=str(payload.get("strategy", "per-label")), min_positives=_whole(payload, "min_positives", 10),
                   default=_probability("its default", payload.get("default", 0.5)))

    def write(self, model_dir: Path) -> None:
        write_json_atomic(Path(model_dir) / THRESHOLDS, {
            "strategy": self.strategy, "min_positives": self.min_positives, "default": self.default,
            "thresholds": {name: round(float(t), 4) for name, t in self.thresholds.items()},
        })


def _probability(what: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:  # NaN fails too
        raise ValueError(f"{what} is {value!r}, not a number from 0 to 1")
    return float(value)


def _whole(payload: dict, name: str, default):
    """payload[name] as a whole number (None allowed where `default` is None); ValueError names it otherwise."""
    value = payload.get(name, default)
    if (value is None and default is None) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"{name} is {value!r}, not a whole number")


LONG_TEXT_MODES = ("truncate", "head-tail", "windows")
WINDOW_POOLINGS = ("mean", "max")


@dataclass
class LongTexts:
    """model/long_texts.json: how texts longer than the window were read in training, so that evaluate, predict,
    serve and ONNX exports read them the same way. A model without the file truncates at its own limit."""

    mode: str = "truncate"
    """truncate, head-tail or windows."""
    max_length: int = 512
    """Tokens per model input, special tokens included."""
    head_tokens: int | None = None
    """head-tail: tokens kept from the start (the rest of the window comes from the end); a quarter when None."""
    window_stride: int | None = None
    """windows: tokens from one window's start to the next; half a window when None."""
    window_pooling: str = "mean"
    """windows: mean or max of the windows' logits."""
    max_windows: int = 8
    """windows: at most this many a document (the first and last are kept; with 1, the first)."""

    def __post_init__(self) -> None:
        problems = []
        if self.mode not in LONG_TEXT_MODES:
            problems.append(f"--long-texts must be one of auto, {', '.join(LONG_TEXT_MODES)}, got {self.mode!r}")
        if self.window_pooling not in WINDOW_POOLINGS:
            problems.append(f"--window-pooling must be mean or max, got {self.window_pooling!r}")
        if self.max_windows < 1:
            problems.append(f"--max-windows must be >= 1, got {self.max_windows}")
        # Values over the window are capped where they are used (a smaller --max-length must not break a saved run).
        if self.head_tokens is not None and self.head_tokens < 1:
            problems.append(f"--head-tokens must be >= 1, got {self.head_tokens}")
        if self.window_stride is not None and self.window_stride < 1:
            problems.append(f"--window-stride must be >= 1, got {self.window_stride}")
        if problems:
            raise ConfigError("; ".join(problems))

    @classmethod
    def read(cls, model_dir: Path, override: LongTexts | dict | str | None = None) -> LongTexts | None:
        """The saved way of reading long texts (None: the model has none), changed by `override`: a LongTexts, a
        mode ("windows"), or a dict of the fields to change ({"mode": "windows", "max_windows": 4})."""
        path = Path(model_dir) / LONG_TEXTS
        saved = None if not path.is_file() else read_record(
            path, "long-text record", "delete it to truncate long texts, or train the model again", cls.from_payload)
        return changed_long_texts(saved, override)

    @classmethod
    def from_payload(cls, payload: dict) -> LongTexts:
        for name in ("head_tokens", "window_stride", "max_length", "max_windows"):
            _whole(payload, name, None if name in ("head_tokens", "window_stride") else 2)
        if payload.get("max_length", 2) < 2:
            raise ValueError(f"max_length is {payload['max_length']!r}, not a window of at least 2 tokens")
        return cls(**{f.name: payload[f.name] for f in fields(cls) if f.name in payload})

    def write(self, model_dir: Path) -> None:
        write_json_atomic(Path(model_dir) / LONG_TEXTS, asdict(self))


def changed_long_texts(saved: LongTexts | None, override: LongTexts | dict | str | None) -> LongTexts | None:
    """The saved way of reading long texts, changed by `override` (auto, or nothing given, keeps the saved one)."""
    if isinstance(override, LongTexts):
        return override
    if isinstance(override, str):
        override = {"mode": override}
    changes = {k: v for k, v in (override or {}).items() if v is not None}
    if changes.get("mode") == "auto":
        changes.pop("mode")
    if not changes:
        return saved
    base = saved.__dict__ if saved is not None else {}
    if "max_length" not in changes and "max_length" not in base:
        changes["max_length"] = 10**6  # the model's own limit, as Predictor resolves it
    return LongTexts(**{**base, **changes})


@dataclass
class SplitsRecord:
    """splits.json: which source rows went to each split, and how the data was read, so `evaluate`, `predict` and
    `--resume` see the data as `train` did."""

    source: str
    seed: int
    split: list[float]
    text_column: str
    label_column: str
    rows: dict[str, list[int]]
    label_shares: dict = field(default_factory=dict)
    reading: dict = field(default_factory=dict)
    sampled_from: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, run_dir: Path) -> SplitsRecord:
        return read_record(Path(run_dir) / SPLITS, "splits record", "train the run again", lambda p: record_of(cls, p))

    def write(self, run_dir: Path) -> None:
        write_json_atomic(Path(run_dir) / SPLITS, {**asdict(self), "source": redact_source(self.source)})


def resolve_model_dir(path: str | Path) -> Path:
    """Accept a run directory (with model/) or a model directory itself."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"model directory not found: {path}")
    if (path / MODEL / "config.json").is_file():
        return path / MODEL
    if (path / "config.json").is_file():
        return path
    raise ModelError(f"{path} is neither a fineclass run directory nor a model directory (no config.json)")


def run_dir_of(model_dir: Path) -> Path | None:
    """The run directory around a model directory, if it is one fineclass wrote."""
    parent = model_dir.parent
    return parent if model_dir.name == MODEL and (parent / SPLITS).is_file() else None


def run_reading(path: str | Path) -> dict:
    """How the run read its data (text, pair and label columns), from splits.json; {} outside a run."""
    try:
        run_dir = run_dir_of(resolve_model_dir(path))
    except ModelError:
        return {}
    if run_dir is None:
        return {}
    try:
        return SplitsRecord.read(run_dir).reading or {}
    except (OSError, FineclassError):  # unreadable or damaged: the columns are detected as for any data
        return {}


@contextmanager
def output_errors(directory: Path, option: str = "--output-dir", incomplete: str = TRAIN_INCOMPLETE):
    """A full disk or a write refused while writing a run is the machine's state, not a bug: one line that
    says where and what to do. torch.save reports a full disk as a RuntimeError and safetensors as its own
    error type, so those count when their message or the disk's free space says so.

    `option` is the flag that chooses the directory; `incomplete` says what is left there and how to finish.
    """
    try:
        yield
    except FineclassError:
        raise
    except Exception as err:
        code = getattr(err, "errno", None)
        if code in NO_PERMISSION:
            raise FineclassError(
                f"cannot write to {getattr(err, 'filename', None) or directory}: {getattr(err, 'strerror', err)}; "
                f"fix its permissions or choose another {option}, then run the command again"
            ) from None
        torch_zip_write = isinstance(err, RuntimeError) and "unexpected pos" in str(err)
        if code in FULL_DISK or "No space left on device" in str(err) or (torch_zip_write and disk_is_full(directory)):
            raise FineclassError(
                f"no space left on the device that holds {directory}; {incomplete}"
            ) from None
        raise


def free_bytes(directory: Path) -> int:
    path = Path(directory)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def disk_is_full(directory: Path) -> bool:
    """After a write failed for lack of space, what is left is less than a block or two."""
    return free_bytes(directory) < 16 * 2**20
