"""Check a local model directory's files before transformers reads them, so a damaged one is one line, not a traceback.

transformers assumes well-formed files: a config.json that holds a list fails with AttributeError, a truncated
model.safetensors with safetensors' own error type, a tokenizer.json without its keys with KeyError.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fineclass.errors import ModelError, first_line, shown
from fineclass.rundir import JSON_KINDS, load_json_object

TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model")
TOKENIZER_JSON_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
RESTORE = "restore it from the model's source"
RESTORE_TOKENIZER = "copy the tokenizer files of its base model there"


def check_model_files(model_dir: Path) -> dict:
    """config.json (returned), the tokenizer's JSON files and the safetensors weights of a local model directory."""
    check_regular_files(model_dir)
    config = read_model_json(model_dir, "config.json", RESTORE)
    for name in ("id2label", "label2id"):
        if config.get(name) is not None and not isinstance(config[name], dict):
            raise ModelError(f"could not load model {model_dir}: {name} in its config.json is "
                             f"{JSON_KINDS.get(type(config[name]), 'something else')}, not an object; {RESTORE}")
    for name in TOKENIZER_JSON_FILES:
        if (model_dir / name).is_file():
            read_model_json(model_dir, name, RESTORE_TOKENIZER)
    check_weights(model_dir)
    return config


def check_regular_files(model_dir: Path) -> None:
    """A FIFO or a device where a model file belongs: reading it would wait forever (a FIFO) or never end (/dev/zero)."""
    for entry in sorted(model_dir.iterdir()):
        if entry.exists() and not entry.is_file() and not entry.is_dir():
            raise ModelError(f"could not load model {model_dir}: its {entry.name} is not a regular file (a FIFO, socket "
                             f"or device); {RESTORE}")


def read_model_json(model_dir: Path, name: str, fix: str) -> dict:
    try:
        return load_json_object(model_dir / name)
    except ValueError as err:
        raise ModelError(f"could not load model {model_dir}: its {name} {err}; {fix}") from None
    except OSError as err:
        raise ModelError(f"could not load model {model_dir}: cannot read its {name} ({err.strerror})") from None


def check_weights(model_dir: Path) -> None:
    """Every *.safetensors file must be whole: safetensors checks its header, and that the file holds every byte
    of the tensors the header lists (so a truncated copy fails here, not halfway through loading)."""
    from safetensors import SafetensorError, safe_open

    for weights in sorted(model_dir.glob("*.safetensors")):
        try:
            with safe_open(weights, framework="pt"):
                pass
        except (SafetensorError, OSError) as err:
            raise ModelError(f"could not load model {model_dir}: its {weights.name} is damaged or incomplete "
                             f"({first_line(err)}); copy it again from the model's source") from None


def check_tokenizer_files(path: Path) -> None:
    """From a directory without vocabulary files, transformers builds a tokenizer of special tokens only,
    which turns every word into [UNK]: training would run, and learn nothing."""
    if path.is_dir() and not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ModelError(
            f"model directory {path} has no tokenizer (no {', '.join(TOKENIZER_FILES[:3])}, ...); copy its base model's "
            f"tokenizer there, for example: AutoTokenizer.from_pretrained(BASE).save_pretrained('{path}')"
        )


def check_label_count(model_dir: Path, config: dict) -> None:
    """config.json's labels must be names of ids 0 to n-1 that match the classifier's outputs; transformers would
    fail with a long report."""
    check_label_names(model_dir, config.get("id2label") or {})
    weights = model_dir / "model.safetensors"
    labels = len(config.get("id2label") or {}) or config.get("num_labels")
    if not weights.is_file() or not isinstance(labels, int) or not labels:
        return
    from safetensors import safe_open

    with safe_open(weights, framework="pt") as handle:
        heads = [key for key in handle.keys() if key.endswith(("classifier.weight", "classifier.out_proj.weight"))]
        rows = handle.get_slice(heads[0]).get_shape()[0] if heads else labels
    if rows != labels:
        raise ModelError(
            f"{model_dir}: config.json names {labels} labels (id2label) but the classifier in model.safetensors has "
            f"{rows} outputs; make id2label and label2id in config.json list the {rows} labels the model was trained on"
        )


def check_label_names(model_dir: Path, id2label: dict) -> None:
    """A classifier's labels are read in id order, 0 to n-1, as distinct names (a prediction's label is one)."""
    ids = sorted(int(key) for key in id2label if str(key).isdecimal() and str(key).isascii())
    names = list(id2label.values())
    problem = (
        "its keys must be the label ids 0 to n-1, as strings" if ids != list(range(len(id2label))) else
        f"label {shown(next(n for n in names if not isinstance(n, str) or not n))} is not a non-empty string"
        if not all(isinstance(n, str) and n for n in names) else
        f"it names {shown(min(n for n, count in Counter(names).items() if count > 1))} more than once"
        if len(set(names)) != len(names) else None)
    if problem:
        raise ModelError(f"could not load model {model_dir}: id2label in its config.json is not a label map ({problem}); "
                         f"{RESTORE}")
