"""Tokenize clean rows into a `datasets.Dataset` with a precomputed length column."""

from __future__ import annotations

import datasets
import numpy as np
import pandas as pd

from fineclass.labels import LabelSpace


def encode_frame(frame: pd.DataFrame, tokenizer, label_space: LabelSpace, max_length: int) -> datasets.Dataset:
    """Truncate (no padding: the collator pads each batch), encode labels, and store token counts.

    The `length` column lets the length-grouped sampler skip re-measuring every row at start-up.
    """
    encoded = tokenizer(list(frame["text"]), truncation=True, max_length=max_length)
    labels = label_space.encode(list(frame["labels"]) if label_space.multi_label else [l[0] for l in frame["labels"]])
    columns = {key: encoded[key] for key in tokenizer.model_input_names if key in encoded}
    columns["labels"] = labels.tolist()
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
    return datasets.Dataset.from_dict(columns, features=features)


def token_lengths(texts: list[str], tokenizer, max_length: int) -> np.ndarray:
    return np.array([len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]])
