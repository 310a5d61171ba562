"""Hints on the detection line and in explore: a second label column, and texts the vocabulary cannot read."""

from __future__ import annotations

import pandas as pd

from fineclass.data.columns import choose_columns
from fineclass.data.tokenize import unknown_token_share, unknown_token_warning


def test_a_second_label_column_is_named_with_the_flag_that_trains_on_it():
    frame = pd.DataFrame({"text": [f"news {i} about things" for i in range(40)],
                          "category": [f"c{i % 10}" for i in range(40)], "sentiment": [i % 2 for i in range(40)]})
    columns = choose_columns(frame)
    assert columns.labels == ["category"] and columns.also_labels == ["sentiment"]
    assert choose_columns(frame, label_column="sentiment").also_labels == []  # given: no hint
    assert choose_columns(frame[["text", "category"]]).also_labels == []


def test_the_describe_line_carries_the_hint(tmp_path):
    from fineclass.data.load import load_raw_data
    from fineclass.data.prepare import prepare_task
    from fineclass.data.read import ReadOptions

    path = tmp_path / "news.csv"
    pd.DataFrame({"text": [f"news {i} about things" for i in range(40)], "category": [f"c{i % 4}" for i in range(40)],
                  "sentiment": [i % 2 for i in range(40)]}).to_csv(path, index=False)
    line = prepare_task(load_raw_data(str(path), ReadOptions())).describe(str(path))
    assert line.endswith("; 'sentiment' looks like labels too: --label-column sentiment trains on it instead")


def test_unknown_tokens_are_counted_and_warned_about(tiny_model_dir):
    from fineclass.modeling import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_model_dir))  # a word-level vocabulary of the test sentences
    assert unknown_token_share(tokenizer, ["i feel happy today", "so sad"]) == 0.0
    assert unknown_token_share(tokenizer, ["i feel zorblax", "qwerty"]) == 0.5  # i, feel, [UNK]; [UNK]: 2 of 4
    assert unknown_token_warning(tokenizer, ["i feel happy today"]) is None
    warning = unknown_token_warning(tokenizer, ["zorblax quux", "i feel"])
    assert warning.startswith("50% of the texts' tokens are [UNK] for this model's vocabulary")
    assert "multilingual" in warning
