"""Shared fixtures: a tiny BERT built in the session, and small separable data sets."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED = Path(os.environ.get("FINECLASS_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))

CLASS_WORDS = {
    "joy": ["happy", "glad", "delighted", "cheerful"],
    "sadness": ["sad", "gloomy", "miserable", "down"],
    "anger": ["angry", "furious", "mad", "annoyed"],
}
FILLER = ["i", "feel", "so", "today", "really", "am", "the", "day", "was", "very", "and", "it", "is"]


def make_texts(n: int, seed: int = 0) -> pd.DataFrame:
    """n rows of keyword sentences whose class is obvious from one word: a tiny model can learn it."""
    rng = random.Random(seed)
    names = list(CLASS_WORDS)
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        words = rng.sample(FILLER, rng.randint(2, 8)) + [rng.choice(CLASS_WORDS[name])]
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": names.index(name), "label_name": name})
    return pd.DataFrame(rows)


def make_multilabel_texts(n: int, seed: int = 0) -> pd.DataFrame:
    """Rows with one or two classes' keywords; labels are indices joined by commas, like GoEmotions."""
    rng = random.Random(seed)
    names = list(CLASS_WORDS)
    rows = []
    for i in range(n):
        chosen = sorted(rng.sample(range(len(names)), 2 if i % 3 == 0 else 1))
        words = rng.sample(FILLER, rng.randint(2, 6)) + [rng.choice(CLASS_WORDS[names[c]]) for c in chosen]
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": ",".join(str(c) for c in chosen), "id": f"r{i}"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session", autouse=True)
def frozen_imports():
    """Every Trainer run ends in accelerate's gc.collect(), which walks every object torch, transformers and the
    test libraries left behind (0.24 s a run here). Freezing them once, as `serve` does, makes each collection cheap."""
    import gc

    import transformers  # noqa: F401

    from fineclass.recipes import train  # noqa: F401 (the whole training stack)

    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with a word-level vocabulary: loads and trains in about a second."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(0)
    words = sorted({w for ws in CLASS_WORDS.values() for w in ws} | set(FILLER) | {"hello", "how", "are", "you", "love"})
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    directory = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = BertTokenizer(vocab=vocab, model_max_length=64)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture
def emotion_like_csv(tmp_path) -> Path:
    path = tmp_path / "toy.csv"
    make_texts(300).to_csv(path, index=False)
    return path


@pytest.fixture
def multilabel_dir(tmp_path) -> Path:
    directory = tmp_path / "toy_multilabel"
    directory.mkdir()
    for split, n, seed in (("train", 300, 1), ("dev", 90, 2), ("test", 90, 3)):
        make_multilabel_texts(n, seed).to_csv(directory / f"{split}.tsv", sep="\t", index=False)
    (directory / "labels.txt").write_text("\n".join(CLASS_WORDS) + "\n")
    return directory


def run_cli(*args: str):
    """Run the real CLI in-process; returns click's Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from fineclass.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


TRAINED_RUN_FLAGS = ["--epochs", "12", "--learning-rate", "1e-3", "--batch-size", "8", "--warmup-ratio", "0", "--min-steps", "0",
                     "--quiet"]
"""Enough epochs for the tiny model to learn the keyword data (test accuracy above 0.8), on the epoch schedule
(--min-steps 0: the few-label schedule is tested in test_few_labels.py)."""


@pytest.fixture(scope="session")
def multiclass_run(tiny_model_dir, tmp_path_factory) -> tuple[Path, Path]:
    """One trained multi-class run (with baseline and report) for the whole session: (run dir, its data).
    Tests read it; a test that changes it works on a copy (`copy_run`)."""
    tmp = tmp_path_factory.mktemp("multiclass-run")
    data = tmp / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", tmp / "run", *TRAINED_RUN_FLAGS)
    assert result.exit_code == 0, result.output + str(result.exception)
    return tmp / "run", data


@pytest.fixture(scope="session")
def multilabel_run(tiny_model_dir, tmp_path_factory) -> tuple[Path, Path]:
    """One trained multi-label run (train/dev/test files and labels.txt) for the session: (run dir, data dir)."""
    tmp = tmp_path_factory.mktemp("multilabel-run")
    directory = tmp / "toy_multilabel"
    directory.mkdir()
    for split, n, seed in (("train", 300, 1), ("dev", 90, 2), ("test", 90, 3)):
        make_multilabel_texts(n, seed).to_csv(directory / f"{split}.tsv", sep="\t", index=False)
    (directory / "labels.txt").write_text("\n".join(CLASS_WORDS) + "\n")
    result = run_cli("train", directory, "--model", tiny_model_dir, "-o", tmp / "run", *TRAINED_RUN_FLAGS)
    assert result.exit_code == 0, result.output + str(result.exception)
    return tmp / "run", directory


def copy_run(run: Path, tmp_path: Path) -> Path:
    """A private copy of a session run, for a test that writes into it."""
    import shutil

    return Path(shutil.copytree(run, tmp_path / run.name))
