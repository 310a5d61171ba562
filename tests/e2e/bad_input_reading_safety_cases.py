"""Catalogue cases added for safety: reading."""

import json
from pathlib import Path

import pandas as pd

from tests.conftest import make_texts
from tests.e2e.bad_input_registry import case, write_toy  # noqa: F401

DEEP = "[" * 10_000 + "]" * 10_000


@case("train d.json", "JSON nested 10,000 levels deep",
      'd.json nests JSON 10,000 levels deep, past the 100 that fineclass reads; write records like '
      '{"text": "...", "label": 0}',
      "write a list of flat records")
def json_nested_deep(ctx):
    Path("d.json").write_text(DEEP)


@case("predict model --input d.jsonl --output out.jsonl", "a JSON Lines line nested 10,000 levels deep",
      'line 2 of d.jsonl nests JSON 10,000 levels deep, past the 100 that fineclass reads; write records like '
      '{"text": "...", "label": 0}', "write one flat record per line")
def jsonl_line_nested_deep(ctx):
    Path("d.jsonl").write_text(json.dumps({"text": "a happy day"}) + "\n" + DEEP + "\n")


@case("train d.csv", "a label cell holding a list nested 10,000 levels deep",
      "row 2: label '" + "[" * 60 + "'... (20,000 characters) nests JSON 10,000 levels deep, past the 100 that "
      'fineclass reads; a label list is flat, like ["joy", "love"]', "write a flat list of label names or ids")
def label_cell_nested_deep(ctx):
    frame = make_texts(30)[["text"]].assign(label='["joy"]')
    frame.loc[2, "label"] = DEEP
    frame.to_csv("d.csv", index=False)


@case("train d.csv", "so few rows that no class has one for every split",
      "too few rows to split: 4 rows leave the test and validation splits empty (a class needs 3 rows to put one in "
      "each of train, test, validation); add rows, or give separate train/validation/test files",
      "add rows (a class with 3 rows gets one in each split), or give split files")
def too_few_rows_to_split(ctx):
    frame = pd.DataFrame({"text": ["glad", "happy", "sad", "down"], "label": ["joy", "joy", "sadness", "sadness"]})
    frame.to_csv("d.csv", index=False)
