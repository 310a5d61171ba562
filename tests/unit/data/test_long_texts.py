"""Long texts: which tokens each mode keeps, how windows are pooled, and what `auto` chooses."""

from __future__ import annotations

import numpy as np
import pytest

from fineclass.data.long_texts import (
    choose_mode,
    covered_tokens,
    cut_documents,
    kept_share,
    pool_windows,
    token_spans,
)
from fineclass.errors import ConfigError
from fineclass.rundir import LongTexts


def windows(max_windows=8, stride=None, max_length=12):
    return LongTexts("windows", max_length, window_stride=stride, max_windows=max_windows)


def test_a_text_within_the_window_is_one_piece_in_every_mode():
    for mode in ("truncate", "head-tail", "windows"):
        assert token_spans(10, 10, LongTexts(mode, 12)) == [[(0, 10)]]


def test_head_tail_keeps_a_quarter_from_the_start_and_the_rest_from_the_end():
    assert token_spans(100, 40, LongTexts("head-tail", 42)) == [[(0, 10), (70, 100)]]
    assert token_spans(100, 40, LongTexts("head-tail", 42, head_tokens=30)) == [[(0, 30), (90, 100)]]


def test_windows_overlap_by_half_and_the_last_ends_at_the_text_end():
    spans = token_spans(25, 10, windows())
    assert spans == [[(0, 10)], [(5, 15)], [(10, 20)], [(15, 25)]]
    assert all(end - start == 10 for (start, end), in spans)  # equal lengths: no padding between windows
    assert token_spans(23, 10, windows()) == [[(0, 10)], [(5, 15)], [(10, 20)], [(13, 23)]]


def test_max_windows_keeps_the_first_and_last_window_and_spreads_the_rest():
    spans = token_spans(1000, 10, windows(max_windows=4))
    assert len(spans) == 4
    assert spans[0] == [(0, 10)] and spans[-1] == [(990, 1000)]
    starts = [span[0][0] for span in spans]
    assert starts == sorted(starts) and len(set(starts)) == 4


def test_mean_pooling_averages_each_texts_windows_and_max_takes_the_largest_logit():
    logits = np.array([[1.0, 0.0], [3.0, -2.0], [0.0, 5.0], [2.0, 2.0], [4.0, 0.0], [0.0, 0.0]], dtype=np.float32)
    counts = np.array([2, 1, 3])
    np.testing.assert_allclose(pool_windows(logits, counts, "mean"), [[2.0, -1.0], [0.0, 5.0], [2.0, 2.0 / 3]])
    np.testing.assert_allclose(pool_windows(logits, counts, "max"), [[3.0, 0.0], [0.0, 5.0], [4.0, 2.0]])
    assert pool_windows(logits, np.ones(6, dtype=int)) is logits  # one window each: nothing to pool


def test_auto_truncates_under_five_percent_of_long_texts_and_reads_windows_from_five_percent():
    short = np.array([10] * 96 + [600] * 4)
    mode, reason = choose_mode("auto", short, 512)
    assert mode == "truncate" and "4.0% of the training texts exceed 512 tokens" in reason
    mode, reason = choose_mode("auto", np.array([10] * 95 + [600] * 5), 512)
    assert mode == "windows" and "5.0%" in reason
    assert choose_mode("head-tail", short, 512) == ("head-tail", "--long-texts head-tail")


def test_covered_tokens_counts_overlaps_once():
    assert covered_tokens([(0, 10), (5, 15), (20, 25)]) == 20


def test_kept_share_says_how_much_of_the_text_each_mode_reads():
    lengths = np.array([12, 32])  # with the 2 special tokens: 10 and 30 text tokens, a window holds 10
    kept = kept_share(lengths, 12, 10)
    assert kept["truncate"] == pytest.approx(20 / 40)
    assert kept["windows"] == 1.0
    assert kept["windows_per_text"] == 3.0  # 1 and 5 windows


def test_cut_documents_cuts_at_token_boundaries_of_the_original_text(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    words = [f"w{i}" for i in range(30)]
    vocab_text = " ".join(["happy"] * 5 + ["sad"] * 20 + ["angry"] * 5)
    # 12 tokens hold 10 of text; a cut text's pieces keep one free for re-tokenizing: windows of 9 every 4.
    pieces = cut_documents([vocab_text, "glad day"], tokenizer, LongTexts("windows", 12))
    assert list(pieces.counts) == [7, 1] and list(pieces.documents) == [0] * 7 + [1]
    assert pieces.texts[0] == " ".join(["happy"] * 5 + ["sad"] * 4)
    assert pieces.texts[6] == " ".join(["sad"] * 4 + ["angry"] * 5)
    assert pieces.texts[-1] == "glad day"
    head_tail = cut_documents([vocab_text], tokenizer, LongTexts("head-tail", 12, head_tokens=3))
    assert head_tail.texts == ["happy happy happy sad angry angry angry angry angry"]
    # The vocabulary has no w-words: unknown tokens have offsets too.
    unknown = cut_documents([" ".join(words)], tokenizer, LongTexts("head-tail", 12, head_tokens=2))
    assert unknown.texts == ["w0 w1 " + " ".join(words[23:])]


def test_pairs_share_the_window_and_each_window_keeps_its_pair(tiny_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = " ".join(["sad"] * 20)
    pieces = cut_documents([text], tokenizer, LongTexts("windows", 16), pairs=["happy glad"])
    # 16 tokens hold [CLS] text [SEP] pair [SEP]: 3 special and 2 pair tokens leave 11 for the text (10 cut)
    assert all(len(piece.split()) == 10 for piece in pieces.texts)
    assert pieces.pairs == ["happy glad"] * len(pieces.texts)
    encoded = tokenizer(pieces.texts, pieces.pairs)
    assert all(len(ids) == 15 for ids in encoded["input_ids"])


def test_bad_settings_are_one_line_errors():
    with pytest.raises(ConfigError, match="--long-texts must be one of auto, truncate, head-tail, windows, got 'sliding'"):
        LongTexts("sliding", 512)
    with pytest.raises(ConfigError, match="--window-pooling must be mean or max, got 'median'"):
        LongTexts("windows", 512, window_pooling="median")
    with pytest.raises(ConfigError, match=r"--window-stride must be >= 1, got 0"):
        LongTexts("windows", 512, window_stride=0)
