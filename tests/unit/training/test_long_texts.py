"""training/long_texts.py: train's choice of long-text mode and attention dropout, and the evaluation order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fineclass.config import TrainConfig
from fineclass.training.long_texts import choose_attention_dropout, choose_long_texts, texts_by_length


def test_auto_attention_dropout_is_off_for_long_inputs_only():
    tweets, articles = np.full(100, 25), np.full(100, 700)
    assert choose_attention_dropout("auto", "truncate", tweets, 512)[0] is None  # the model's own: faster there
    assert choose_attention_dropout("auto", "windows", tweets, 512)[0] == 0.0
    dropout, reason = choose_attention_dropout("auto", "truncate", articles, 512)
    assert dropout == 0.0 and "mean 512 tokens" in reason  # truncated at the window, still long
    assert choose_attention_dropout("model", "windows", articles, 512)[0] is None
    assert choose_attention_dropout("0.05", "truncate", tweets, 512)[0] == 0.05


def test_auto_reads_a_set_of_long_texts_as_windows_and_records_why(tiny_model_dir):
    from fineclass.modeling import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))
    train = pd.DataFrame({"text": ["i feel happy " * 10] * 3 + ["sad day"] * 7})  # 3 of 10 over a 16-token window
    policy, record = choose_long_texts(TrainConfig(max_windows=3), tokenizer, train, 16)
    assert (policy.mode, policy.max_length, policy.max_windows) == ("windows", 16, 3)
    assert record["requested"] == "auto" and record["texts_over_window"] == 0.3
    assert record["reason"].startswith("--long-texts auto: 30.0% of the training texts exceed 16 tokens")
    assert record["attention_dropout"] == 0.0  # cut texts train with PyTorch's fused attention
    short, record = choose_long_texts(TrainConfig(), tokenizer, train.iloc[3:], 16)
    assert short.mode == "truncate" and record["attention_dropout"] is None and record["texts_over_window"] == 0.0


def test_texts_by_length_keeps_each_texts_windows_together_longest_first():
    from datasets import Dataset

    dataset = Dataset.from_dict({"length": [3, 9, 9, 5, 1], "row": [0, 1, 2, 3, 4]})  # texts of 1, 2, 1, 1 windows
    ordered, windows = texts_by_length(dataset, np.array([1, 2, 1, 1]))
    assert ordered["row"] == [1, 2, 3, 0, 4] and windows.tolist() == [2, 1, 1, 1]
