"""Tokenize clean rows into a `datasets.Dataset` with a precomputed length column."""

from __future__ import annotations

import logging

import datasets
import numpy as np
import pandas as pd

from fineclass.data.long_texts import cut_documents
from fineclass.labels import LabelSpace
from fineclass.rundir import LongTexts

logger = logging.getLogger(__name__)


def encode_frame(frame: pd.DataFrame, tokenizer, label_space: LabelSpace, max_length: int, split: str = "",
                 long_texts: LongTexts | None = None) -> tuple[datasets.Dataset, np.ndarray]:
    """Tokenize (no padding: the collator pads each batch), encode labels, and store token counts.

    Texts over `max_length` tokens are read as `long_texts` says (truncated by default); with windows, each window
    is a row with its text's labels. Returns the dataset and the number of rows (windows) of each text, in order.
    The `length` column lets the length-grouped sampler skip re-measuring every row at start-up.
    """
    long_texts = long_texts or LongTexts("truncate", max_length)
    pairs = list(frame["text_pair"]) if "text_pair" in frame.columns else None
    pieces = cut_documents(list(frame["text"]), tokenizer, long_texts, pairs)
    encoded = tokenizer(pieces.texts, pieces.pairs, truncation=True, max_length=max_length)
    truncated = count_truncated(encoded, max_length) if long_texts.mode == "truncate" else 0
    if truncated:
        logger.warning("%s: %d of %d texts are longer than %d tokens and were cut to that length (--max-length; "
                       "--long-texts head-tail or windows reads the rest)", split or "data", truncated, len(frame), max_length)
    if long_texts.mode == "windows" and len(pieces.texts) > len(frame):
        logger.info("%s: %d texts read as %d windows", split or "data", len(frame), len(pieces.texts))
    if label_space.multi_label and "targets" in frame.columns:
        labels = np.stack([np.asarray(t, dtype=np.float32) for t in frame["targets"]])  # soft labels, trained as they are
    else:
        labels = label_space.encode(list(frame["labels"]) if label_space.multi_label else [l[0] for l in frame["labels"]])
    columns = {key: encoded[key] for key in tokenizer.model_input_names if key in encoded}
    columns["labels"] = labels[pieces.documents].tolist()  # every window carries its text's labels
    columns["length"] = [len(ids) for ids in encoded["input_ids"]]
    features = None
    if label_space.multi_label:
        features = datasets.Features(
            {
                **{key: datasets.List(datasets.Value("int32")) for key in columns if key not in ("labels", "length")},
                "labels": datasets.List(datasets.Value("float32")),
                "length": datasets.Value("int32"),
            }
        )
    return datasets.Dataset.from_dict(columns, features=features), pieces.counts


def count_truncated(encoded, max_length: int) -> int:
    """Texts the tokenizer cut; a slow tokenizer gives no overflow record, so count those that fill max_length."""
    encodings = getattr(encoded, "encodings", None)
    if encodings:
        return sum(1 for e in encodings if e.overflowing)
    return sum(1 for ids in encoded["input_ids"] if len(ids) >= max_length)


def token_lengths(texts: list[str], tokenizer, max_length: int, text_pairs: list[str] | None = None) -> np.ndarray:
    return np.array([len(ids) for ids in tokenizer(texts, text_pairs, truncation=True, max_length=max_length)["input_ids"]])


UNKNOWN_SHARE_WARNING = 0.05
"""A share of [UNK] tokens above this means the vocabulary does not cover the texts' script or words: Chinese reviews
read by the English default model were 62% [UNK]; English tweets are under 0.1%."""
UNKNOWN_SAMPLE = 2000
"""Texts measured, at most (the first ones): enough to see a script the vocabulary lacks, at a fraction of a second."""


def unknown_token_share(tokenizer, texts: list[str]) -> float | None:
    """The share of the texts' tokens that the tokenizer maps to its unknown token (None: it has none)."""
    unknown = getattr(tokenizer, "unk_token_id", None)
    if unknown is None or not texts:
        return None
    encoded = tokenizer([str(t) for t in texts[:UNKNOWN_SAMPLE]], add_special_tokens=False, truncation=False)["input_ids"]
    total = sum(len(ids) for ids in encoded)
    return sum(ids.count(unknown) for ids in encoded) / total if total else None


def unknown_token_warning(tokenizer, texts: list[str], share: float | None = None) -> str | None:
    """A warning when the model's vocabulary reads a large share of the texts as [UNK]: it sees nothing of them.
    `share`: unknown_token_share's answer, when the caller has it already."""
    share = unknown_token_share(tokenizer, texts) if share is None else share
    if share is None or share <= UNKNOWN_SHARE_WARNING:
        return None
    return (f"{share:.0%} of the texts' tokens are {tokenizer.unk_token} for this model's vocabulary, so it cannot read "
            "them; if the texts are in another language or script, give --model a multilingual model such as "
            "bert-base-multilingual-cased or xlm-roberta-base")
