"""How a training run reads texts over the window, decided once from its training texts, and the evaluation order
that keeps a text's windows together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fineclass.config import TrainConfig
from fineclass.data.long_texts import (
    choose_attention_dropout,
    choose_mode,
    has_offsets,
    offset_encoder,
    over_window_share,
    window_starts,
)
from fineclass.rundir import LongTexts


def choose_long_texts(config: TrainConfig, tokenizer, train: pd.DataFrame, max_length: int) -> tuple[LongTexts, dict]:
    """The way this run reads texts over the window (`--long-texts auto` decides from the training texts), and a
    record of the choice for metrics.json."""
    pairs = list(train["text_pair"]) if "text_pair" in train.columns else None
    lengths = np.array([len(ids) for ids in tokenizer(list(train["text"]), pairs, verbose=False)["input_ids"]])
    mode, reason = choose_mode(config.long_texts, lengths, max_length, has_offsets(tokenizer))
    if mode != "truncate":
        offset_encoder(tokenizer, mode)  # a tokenizer without offsets cannot cut texts: say so now
    policy = LongTexts(mode, max_length, config.head_tokens, config.window_stride, config.window_pooling, config.max_windows)
    dropout, dropout_reason = choose_attention_dropout(config.attention_dropout, mode, lengths, max_length)
    return policy, {"requested": config.long_texts, "mode": mode, "reason": reason,
                    "texts_over_window": round(over_window_share(lengths, max_length), 4), **policy.__dict__,
                    "attention_dropout": dropout, "attention_dropout_reason": dropout_reason}


def texts_by_length(dataset, windows: np.ndarray):
    """The rows reordered so texts of similar length follow each other (less padding per evaluation batch), each
    text's windows kept together and in order; returns the dataset and the windows per text in the new order."""
    starts = window_starts(windows)
    longest = np.maximum.reduceat(np.asarray(dataset["length"]), starts)
    order = np.argsort(-longest, kind="stable")
    rows = np.concatenate([np.arange(starts[i], starts[i] + windows[i]) for i in order])
    return dataset.select(rows), windows[order]
