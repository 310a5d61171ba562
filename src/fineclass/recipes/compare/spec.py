"""The `--models` entries of `fineclass compare`: parsed, then checked against the data before any training."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from fineclass.errors import ConfigError, FineclassError
from fineclass.labels import LabelSpace
from fineclass.modeling import BUNDLED_ALIASES, resolve_model_path
from fineclass.rundir import MODEL, resolve_model_dir

logger = logging.getLogger(__name__)

FINETUNE = "fine-tune"
EVALUATE = "evaluate"
TFIDF = "tfidf-logreg"
FROZEN = "frozen"
ONNX_INT8 = "onnx-int8"
SHRINK = "shrink"
DISTILL = "distill"
SYNTAX = ("a hub name or model directory, tfidf-logreg, frozen:<model>, shrink:<model>:K, distill:<run>:K or "
          "<model dir>@onnx-int8")
GENERIC_LABEL = re.compile(r"^LABEL_\d+$")
LAYER_KINDS = {
    SHRINK: "shrink:<model>:K, with K the number of layers to keep (a whole number >= 1), like "
            "shrink:bundled:all-MiniLM-L6-v2:3",
    DISTILL: "distill:<run>:K, with <run> a fineclass run directory (the teacher) and K the number of its layers the "
             "student keeps, like distill:runs/emotion:3",
}
"""Candidates that keep the first K layers of a model, and the syntax their errors show."""


@dataclass(frozen=True)
class CandidateSpec:
    """One `--models` entry."""

    text: str
    """The entry as given, like shrink:bundled:all-MiniLM-L6-v2:3."""
    kind: str
    """fine-tune, evaluate, tfidf-logreg, frozen, onnx-int8, shrink or distill."""
    model: str = ""
    """The hub name or directory the candidate starts from; empty for tfidf-logreg."""
    layers: int | None = None
    """shrink and distill: how many encoder layers the student keeps."""
    source: str = ""
    """What `model` is: base (an encoder to fine-tune), classifier (a fine-tuned model) or onnx (an export)."""
    name: str = ""
    """Display name: the entry with a local path cut to its last part."""
    slug: str = ""
    """The candidate's directory name under candidates/."""


def parse_candidates(entries: list[str]) -> list[CandidateSpec]:
    """The syntax of every entry, with all problems reported together; nothing is loaded."""
    problems, specs = [], []
    if not entries:
        problems.append(f"--models needs at least one candidate: {SYNTAX}")
    for entry, count in Counter(e.strip() for e in entries).items():
        if count > 1:
            problems.append(f"--models lists {entry!r} {count} times; give each candidate once")
    for entry in entries:
        try:
            specs.append(parse_candidate(entry))
        except FineclassError as err:
            problems.append(str(err))
    if problems:
        raise ConfigError("; ".join(dict.fromkeys(problems)))
    return specs


def parse_candidate(text: str) -> CandidateSpec:
    entry = text.strip()
    where = f"--models {text!r}"
    if not entry:
        raise ConfigError(f"--models has an empty entry; give {SYNTAX}")
    if entry == TFIDF:
        return CandidateSpec(entry, TFIDF)
    if entry.startswith("frozen:"):
        model = entry[len("frozen:"):]
        if not model:
            raise ConfigError(f"{where}: frozen: needs a model after the colon, like frozen:bundled:all-MiniLM-L6-v2")
        return CandidateSpec(entry, FROZEN, model)
    for kind, expected in LAYER_KINDS.items():
        if entry.startswith(f"{kind}:"):
            model, _, layers = entry[len(kind) + 1:].rpartition(":")
            if not model or not layers.isdigit() or int(layers) < 1:
                raise ConfigError(f"{where}: expected {expected}")
            return CandidateSpec(entry, kind, model, layers=int(layers))
    if "@" in entry and not Path(entry).expanduser().exists():
        model, _, suffix = entry.rpartition("@")
        if suffix != ONNX_INT8:
            raise ConfigError(f"{where}: unknown suffix @{suffix}; the only suffix is @onnx-int8 (the int8 ONNX export of a fine-tuned model)")
        if not model:
            raise ConfigError(f"{where}: @onnx-int8 needs a model before it, like runs/emotion@onnx-int8")
        return CandidateSpec(entry, ONNX_INT8, model)
    if ":" in entry and entry.lower() not in BUNDLED_ALIASES and not Path(entry).expanduser().exists():
        raise ConfigError(f"{where}: unknown candidate kind {entry.split(':', 1)[0] + ':'!r}; give {SYNTAX}")
    return CandidateSpec(entry, FINETUNE, entry)


def check_candidates(specs: list[CandidateSpec], labels: LabelSpace) -> list[CandidateSpec]:
    """Read each model's config (not its weights): directories exist, K fits, label sets match. Problems together."""
    problems, checked = [], []
    for spec in specs:
        try:
            checked.append(check_candidate(spec, labels))
        except FineclassError as err:
            problems.append(str(err))
    if problems:
        raise ConfigError("; ".join(problems))
    return name_candidates(checked)


def check_candidate(spec: CandidateSpec, labels: LabelSpace) -> CandidateSpec:
    if spec.kind == TFIDF:
        return spec
    where = f"--models {spec.text!r}"
    source, config = inspect_model(spec.model, where)
    kind = EVALUATE if spec.kind == FINETUNE and source != "base" else spec.kind
    if kind == DISTILL and source != "classifier":
        raise ConfigError(f"{where}: {spec.model} is not a fine-tuned fineclass run; distill needs the teacher's run directory")
    if kind in (FROZEN, SHRINK, ONNX_INT8) and source == "onnx":
        raise ConfigError(f"{where}: {spec.model} is already an ONNX export; {kind} needs the torch model it came from")
    if kind in (EVALUATE, ONNX_INT8, DISTILL) and source != "base":
        check_labels(where, LabelSpace.from_model_config(config), labels)
    if kind == ONNX_INT8:
        from fineclass.inference.export import require_onnx

        require_onnx()
    if kind in (SHRINK, DISTILL):
        total = getattr(config, "num_hidden_layers", None)
        if total is None:
            raise ConfigError(f"{where}: {spec.model} does not say how many layers it has (no num_hidden_layers); shrink needs a BERT-family encoder")
        if spec.layers > total:
            raise ConfigError(f"{where}: K={spec.layers}, but {spec.model} has only {total} layers; use K from 1 to {total}")
    return replace(spec, kind=kind, source=source)


def inspect_model(name: str, where: str):
    """(source, config): a local directory is a fineclass classifier, an ONNX export or a base encoder; a hub name is a base."""
    from transformers import AutoConfig

    from fineclass.inference.backends import is_onnx_dir

    path = Path(name).expanduser()
    try:
        if path.exists():
            model_dir = resolve_model_dir(path)
            config = AutoConfig.from_pretrained(model_dir)
            source = "onnx" if is_onnx_dir(model_dir) else "classifier" if is_fine_tuned(config) else "base"
            return source, config
        return "base", AutoConfig.from_pretrained(resolve_model_path(name))
    except FineclassError as err:
        raise ConfigError(f"{where}: {err}") from None
    except (OSError, ValueError, KeyError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(f"{where}: {name} is not a directory, and no model of that name could be loaded ({first}); "
                          "check the path or the hub name") from None


def is_fine_tuned(config) -> bool:
    """A sequence classifier whose labels have names: fineclass wrote it, or it was trained for a task with named labels."""
    classifier = any(a.endswith("ForSequenceClassification") for a in (config.architectures or []))
    named = any(not GENERIC_LABEL.match(str(n)) for n in (config.id2label or {}).values())
    return classifier and named


def check_labels(where: str, model_labels: LabelSpace, labels: LabelSpace) -> None:
    """A different task or unknown labels is an error; extra labels or another order is only a warning."""
    kinds = {True: "multi-label", False: "multi-class"}
    if model_labels.multi_label != labels.multi_label:
        raise ConfigError(f"{where}: the model is {kinds[model_labels.multi_label]} but DATA is {kinds[labels.multi_label]}; "
                          "compare models trained for the same kind of task")
    missing = [n for n in labels.names if n not in model_labels.names]
    if missing:
        raise ConfigError(f"{where}: the model does not know DATA's labels {missing[:10]} (it knows {list(model_labels.names)[:20]}); "
                          "give a model trained on these labels, or its base model to fine-tune")
    if model_labels.names != labels.names:
        logger.warning("%s: the model's labels %s differ from DATA's %s; it is scored on DATA's labels, and a prediction "
                       "of a label DATA does not have counts as wrong", where, list(model_labels.names), list(labels.names))


def name_candidates(specs: list[CandidateSpec]) -> list[CandidateSpec]:
    """Short display names (a local path becomes its last part) and unique directory names."""
    named, seen = [], Counter()
    for spec in specs:
        name = spec.text
        path = Path(spec.model).expanduser() if spec.model else None
        if path is not None and path.exists():
            short = path.resolve().parent.name if path.resolve().name == MODEL else path.resolve().name
            name = spec.text.replace(spec.model, short)
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "candidate"
        seen[base] += 1
        slug = base if seen[base] == 1 else f"{base}-{seen[base]}"
        named.append(replace(spec, name=name if seen[base] == 1 else f"{name} ({seen[base]})", slug=slug))
    return named
