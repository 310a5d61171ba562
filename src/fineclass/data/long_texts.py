"""Texts longer than the model's window: cut them (truncate), keep their head and tail, or read them as overlapping
windows whose scores are pooled into one per document.

Every mode turns a text into one or more pieces of the original string, cut at token boundaries found with the
fast tokenizer's character offsets. The pieces are then encoded like any other text, so the same code serves
training, evaluation, prediction, serving and ONNX exports, single texts and text pairs alike.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import numpy as np

from fineclass.errors import ConfigError
from fineclass.rundir import LongTexts

logger = logging.getLogger(__name__)

AUTO_SHARE = 0.05
"""`auto` keeps plain truncation while fewer than this share of the training texts exceed the window."""
RETOKENIZE_SLACK = 1
"""Tokens a cut piece leaves free in its window."""
AUTO_LONG_MODE = "windows"
"""What `auto` picks for long data: measured on the BBC news articles (benchmarks/RESULTS.md, issue 15)."""


@dataclass
class Pieces:
    """The model inputs for a list of documents: `texts[i]` (and `pairs[i]`) belong to document `documents[i]`."""

    texts: list[str]
    pairs: list[str] | None
    documents: np.ndarray
    counts: np.ndarray
    """Windows per document (1 for every mode but `windows`)."""


def content_budget(tokenizer, max_length: int, paired: bool = False) -> int:
    """Tokens of text that fit in one window, after the special tokens ([CLS] ... [SEP])."""
    return max_length - tokenizer.num_special_tokens_to_add(pair=paired)


def head_tokens_of(policy: LongTexts, budget: int) -> int:
    return min(budget - 1, policy.head_tokens if policy.head_tokens is not None else budget // 4)


def stride_of(policy: LongTexts, budget: int) -> int:
    return max(1, min(budget, policy.window_stride if policy.window_stride is not None else budget // 2))


def cut_documents(texts: list[str], tokenizer, policy: LongTexts, pairs: list[str] | None = None) -> Pieces:
    """Split or shorten each text as `policy.mode` says; texts within the window stay as they are.

    `truncate` returns the texts unchanged (the tokenizer cuts them later), so short-text data costs nothing extra.
    """
    count = len(texts)
    if policy.mode == "truncate" or count == 0:
        return Pieces(list(texts), None if pairs is None else list(pairs), np.arange(count), np.ones(count, dtype=np.int64))
    encoder = offset_encoder(tokenizer, policy.mode)
    offsets_of = [encoding.offsets for encoding in encoder.encode_batch(list(texts), add_special_tokens=False)]
    budgets = np.full(count, content_budget(tokenizer, policy.max_length, pairs is not None))
    if pairs is not None:  # the pair's own tokens share the window
        pair_lengths = [len(e.ids) for e in encoder.encode_batch(list(pairs), add_special_tokens=False)]
        budgets = np.maximum(budgets - np.array(pair_lengths, dtype=np.int64), max(8, int(budgets[0]) // 4))
    pieces, documents = [], []
    for index, (text, offsets) in enumerate(zip(texts, offsets_of)):
        budget = int(budgets[index])
        # A piece cut inside a word ("##ing") can re-tokenize one token longer (10 of BBC's 3,171 windows did): one
        # token of slack keeps the cut piece's end, which the tokenizer would otherwise truncate.
        spans = token_spans(len(offsets), budget if len(offsets) <= budget else budget - RETOKENIZE_SLACK, policy)
        for span in spans:
            pieces.append(text_of_spans(text, offsets, span))
            documents.append(index)
    documents = np.array(documents, dtype=np.int64)
    paired = None if pairs is None else [pairs[d] for d in documents]
    return Pieces(pieces, paired, documents, np.bincount(documents, minlength=count))


def token_spans(length: int, budget: int, policy: LongTexts) -> list[list[tuple[int, int]]]:
    """Which token ranges of a `length`-token text each piece keeps: one list of (start, end) ranges a piece."""
    if length <= budget:
        return [[(0, length)]]
    if policy.mode == "head-tail":
        head = head_tokens_of(policy, budget)
        return [[(0, head), (length - (budget - head), length)]]
    stride = stride_of(policy, budget)
    # Windows of the full budget each: the last one ends at the text's end, so none is short or padded.
    starts = list(range(0, length - budget, stride)) + [length - budget]
    if len(starts) > policy.max_windows:  # a huge document must not flood an epoch: keep the first, last and evenly between
        keep = np.unique(np.linspace(0, len(starts) - 1, policy.max_windows).round().astype(int))
        starts = [starts[i] for i in keep]
    return [[(start, start + budget)] for start in starts]


def text_of_spans(text: str, offsets, spans: list[tuple[int, int]]) -> str:
    """The characters that token ranges cover; separate ranges (head and tail) are joined with a space."""
    if spans == [(0, len(offsets))]:
        return text
    parts = [text[offsets[start][0]:offsets[end - 1][1]] for start, end in spans if end > start]
    return " ".join(parts)


def pool_windows(logits: np.ndarray, counts: np.ndarray, pooling: str = "mean") -> np.ndarray:
    """One row of logits per document from its windows' rows (documents' windows are consecutive).

    `mean` averages the logits. `max` takes each label's largest logit, which for multi-label is the largest
    sigmoid probability of any window: a label present anywhere in the document.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) == len(logits) and (counts == 1).all():
        return logits
    starts = window_starts(counts)
    if pooling == "max":
        return np.maximum.reduceat(logits, starts, axis=0)
    return np.add.reduceat(logits, starts, axis=0) / counts[:, None]


def first_of_each(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The first window's row of each document (the labels, which every window of a document shares)."""
    return np.asarray(values)[window_starts(counts)]


def window_starts(counts: np.ndarray) -> np.ndarray:
    """The row of each document's first window, given its number of windows (rows are in document order)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def has_offsets(tokenizer) -> bool:
    """Whether the tokenizer gives character offsets (a fast, Rust-backed tokenizer), which head-tail and windows need."""
    return getattr(tokenizer, "backend_tokenizer", None) is not None and getattr(tokenizer, "is_fast", False)


def offset_encoder(tokenizer, mode: str = "windows"):
    """A private copy of the fast tokenizer's backend with truncation and padding off, for the character offsets
    of whole texts. Calling the shared tokenizer with truncation off and then on would reconfigure its backend on
    every call, which another thread using it (a server) could see half-done."""
    if not has_offsets(tokenizer):
        raise ConfigError(f"--long-texts {mode} needs a fast tokenizer (character offsets); this model's "
                          f"{type(tokenizer).__name__} is not one: use --long-texts truncate")
    encoder = getattr(tokenizer, "_fineclass_offset_encoder", None)
    if encoder is None:
        encoder = copy.deepcopy(tokenizer.backend_tokenizer)
        encoder.no_truncation()
        encoder.no_padding()
        tokenizer._fineclass_offset_encoder = encoder
    return encoder


def over_window_share(lengths: np.ndarray, max_length: int) -> float:
    """Share of texts whose token count (with special tokens) exceeds the window."""
    lengths = np.asarray(lengths)
    return float((lengths > max_length).mean()) if len(lengths) else 0.0


def choose_mode(requested: str, lengths: np.ndarray, max_length: int, offsets: bool = True) -> tuple[str, str]:
    """The mode to use and why, for `--long-texts auto` (other modes stand as they are). `offsets`: whether the
    tokenizer can cut texts (a fast tokenizer); auto truncates when it cannot."""
    if requested != "auto":
        return requested, f"--long-texts {requested}"
    share = over_window_share(lengths, max_length)
    if share < AUTO_SHARE:
        return "truncate", (f"--long-texts auto: {share:.1%} of the training texts exceed {max_length} tokens "
                            f"(under {AUTO_SHARE:.0%}), so they are truncated")
    if not offsets:
        return "truncate", (f"--long-texts auto: {share:.1%} of the training texts exceed {max_length} tokens, but "
                            "this tokenizer gives no character offsets (not a fast tokenizer), so they are truncated")
    return AUTO_LONG_MODE, (f"--long-texts auto: {share:.1%} of the training texts exceed {max_length} tokens "
                            f"(at least {AUTO_SHARE:.0%}), so they are read as overlapping windows")


def token_counts(tokenizer, frame) -> np.ndarray:
    """Each text's token count (special tokens included, nothing cut), with its pair when the frame has one."""
    pairs = list(frame["text_pair"]) if "text_pair" in frame.columns else None
    return np.array([len(ids) for ids in tokenizer(list(frame["text"]), pairs, verbose=False)["input_ids"]])


def choose_policy(requested: str, lengths: np.ndarray, max_length: int, tokenizer, **settings) -> tuple[LongTexts, dict]:
    """The way texts over the window are read (`auto` decides from the training texts' `lengths`), and a record of
    the choice; `settings` are LongTexts' other fields (head_tokens, window_stride, ...)."""
    mode, reason = choose_mode(requested, lengths, max_length, has_offsets(tokenizer))
    if mode != "truncate":
        offset_encoder(tokenizer, mode)  # a tokenizer without offsets cannot cut texts: say so now
    policy = LongTexts(mode, max_length, **settings)
    return policy, {"requested": requested, "mode": mode, "reason": reason,
                    "texts_over_window": round(over_window_share(lengths, max_length), 4), **policy.__dict__}


def kept_share(lengths: np.ndarray, max_length: int, budget: int, policy: LongTexts | None = None) -> dict[str, float]:
    """For `explore`: the share of all text tokens each mode lets the model see, and the windows a text would need.

    `lengths` are token counts with special tokens, as the tokenizer gives them; `budget` is the text tokens a window holds.
    """
    policy = LongTexts("windows", max_length, None, policy.window_stride if policy else None,
                       max_windows=policy.max_windows if policy else 8)
    content = np.maximum(np.asarray(lengths, dtype=np.int64) - (max_length - budget), 0)
    total = max(int(content.sum()), 1)
    spans = [token_spans(int(n), budget, policy) for n in content]
    seen = sum(covered_tokens([span for piece in pieces for span in piece]) for pieces in spans)
    windows = np.array([len(pieces) for pieces in spans])
    cut = round(float(np.minimum(content, budget).sum() / total), 4)  # head-tail reads as many tokens, from both ends
    return {
        "truncate": cut,
        "head-tail": cut,
        "windows": round(seen / total, 4),
        "windows_per_text": round(float(windows.mean()), 3) if len(windows) else 0.0,
        "at_max_windows": round(float((windows >= policy.max_windows).mean()), 4) if len(windows) else 0.0,
    }


def covered_tokens(spans: list[tuple[int, int]]) -> int:
    """Tokens in the union of (start, end) ranges (overlapping windows count once)."""
    count, reach = 0, 0
    for start, end in sorted(spans):
        count += max(0, end - max(start, reach))
        reach = max(reach, end)
    return count


def describe(policy: LongTexts, tokenizer) -> str:
    """One line for the output: the mode and its settings."""
    budget = content_budget(tokenizer, policy.max_length) - RETOKENIZE_SLACK  # as cut texts use it
    if policy.mode == "head-tail":
        head = head_tokens_of(policy, budget)
        return f"head-tail: the first {head} and the last {budget - head} tokens of texts over {policy.max_length}"
    if policy.mode == "windows":
        return (f"windows of {policy.max_length} tokens every {stride_of(policy, budget)}, at most {policy.max_windows} "
                f"a text, {policy.window_pooling} of the windows' logits")
    return f"truncate at {policy.max_length} tokens"
