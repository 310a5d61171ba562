"""How a training run reads texts over the window, decided once from its training texts, the attention dropout it
trains with, and the evaluation order that keeps a text's windows together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fineclass.config import TrainConfig
from fineclass.data.long_texts import choose_policy, token_counts, window_starts
from fineclass.rundir import LongTexts

LONG_INPUT_TOKENS = 256
"""auto attention dropout is 0 when the inputs are this long on average, or long texts are cut (not truncated)."""


def choose_long_texts(config: TrainConfig, tokenizer, train: pd.DataFrame, max_length: int) -> tuple[LongTexts, dict]:
    """The way this run reads texts over the window (`--long-texts auto` decides from the training texts), and a
    record of the choice, with the attention dropout, for metrics.json."""
    lengths = token_counts(tokenizer, train)
    policy, record = choose_policy(config.long_texts, lengths, max_length, tokenizer, head_tokens=config.head_tokens,
                                   window_stride=config.window_stride, window_pooling=config.window_pooling,
                                   max_windows=config.max_windows)
    dropout, dropout_reason = choose_attention_dropout(config.attention_dropout, policy.mode, lengths, max_length)
    return policy, {**record, "attention_dropout": dropout, "attention_dropout_reason": dropout_reason}


def choose_attention_dropout(requested: str, mode: str, lengths: np.ndarray, max_length: int) -> tuple[float | None, str]:
    """The attention dropout for training (None: the model's own), and why.

    With dropout on the attention probabilities, PyTorch's scaled-dot-product attention cannot use its fused CPU
    kernel in training and falls back to the unfused one, which stores and masks every B x H x T x T matrix: at 512
    tokens that made training steps 4x slower. At tweet lengths, with a padding mask, the fused kernel was 14-23%
    slower instead (benchmarks/RESULTS.md, issue 15), so auto turns the dropout off for long inputs only.
    """
    if requested == "model":
        return None, "the model's own"
    if requested != "auto":
        return float(requested), f"--attention-dropout {requested}"
    mean = float(np.minimum(np.asarray(lengths), max_length).mean()) if len(lengths) else 0.0
    if mode != "truncate" or mean >= LONG_INPUT_TOKENS:
        return 0.0, f"0: long inputs (mean {mean:.0f} tokens, {mode}) train faster with PyTorch's fused attention"
    return None, f"the model's own: short inputs (mean {mean:.0f} tokens)"


def texts_by_length(dataset, windows: np.ndarray):
    """The rows reordered so texts of similar length follow each other (less padding per evaluation batch), each
    text's windows kept together and in order; returns the dataset and the windows per text in the new order."""
    starts = window_starts(windows)
    longest = np.maximum.reduceat(np.asarray(dataset["length"]), starts)
    order = np.argsort(-longest, kind="stable")
    rows = np.concatenate([np.arange(starts[i], starts[i] + windows[i]) for i in order])
    return dataset.select(rows), windows[order]
