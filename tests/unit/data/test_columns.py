"""Column choice with pandas' own dtypes (pandas 3 reads strings as `str`, not `object`), and label parsing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fineclass.data.columns import choose_columns
from fineclass.data.load import RawData
from fineclass.data.prepare import prepare_task
from fineclass.errors import DataError

TEXTS = ["i feel so happy today", "what a gloomy sad day", "this makes me furious", "glad and cheerful", "so down"]


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_the_longest_string_column_is_the_text_whatever_its_dtype(dtype):
    frame = pd.DataFrame({"id": ["a1", "a2", "a3", "a4", "a5"], "headline": TEXTS, "tag": ["x", "y", "x", "y", "x"]})
    frame = frame.astype({"headline": dtype, "id": dtype, "tag": dtype})
    columns = choose_columns(frame)
    assert (columns.text, columns.labels, columns.found_by) == (["headline"], ["tag"], {"label": "content", "text": "content"})


def test_pandas_reads_strings_as_str_here():
    """The case the old fallback missed: pandas 3's default string dtype is not object."""
    frame = pd.DataFrame({"message": TEXTS})
    assert frame["message"].dtype != object or pd.__version__.startswith("2")


@pytest.mark.parametrize(("columns", "expected"), [
    ({"Text": TEXTS, "Label": [0, 1, 0, 1, 0]}, (["Text"], ["Label"])),  # names in any case
    ({"comment_text": TEXTS, "Class Index": [1, 2, 1, 2, 1]}, (["comment_text"], ["Class Index"])),
    ({"sentence1": TEXTS, "sentence2": TEXTS[::-1], "label": [0, 1, 0, 1, 0]}, (["sentence1"], ["label"])),
])
def test_names_are_matched_in_any_case_and_spacing(columns, expected):
    chosen = choose_columns(pd.DataFrame(columns))
    assert (chosen.text, chosen.labels) == expected


def test_a_column_of_lists_is_the_label_column_whatever_its_name():
    frame = pd.DataFrame({"utterance": TEXTS, "intents": [["a"], ["b", "c"], ["a"], ["c"], ["b"]]})
    assert choose_columns(frame).labels == ["intents"]


def test_two_or_more_indicator_columns_are_wide_labels():
    frame = pd.DataFrame({"comment": TEXTS, "anger": [0, 1, 1, 0, 0], "joy": [True, False, False, True, False],
                          "fear": [0.0, 0.33, 0.83, 1.0, 0.0], "n": [3, 5, 7, 9, 11]})
    columns = choose_columns(frame)
    assert (columns.wide, columns.labels) == (True, ["anger", "joy", "fear"])


def test_label_columns_take_lists_and_ranges():
    frame = pd.DataFrame({"id": range(5), "text": TEXTS, "anger": 0, "fear": 1, "joy": 0, "trust": 1})
    assert choose_columns(frame, label_columns="anger:joy").labels == ["anger", "fear", "joy"]
    assert choose_columns(frame, label_columns="trust,ANGER").labels == ["trust", "anger"]
    with pytest.raises(DataError, match="--label-columns 'joy:anger': 'anger' comes before 'joy'"):
        choose_columns(frame, label_columns="joy:anger")


def raw(frame: pd.DataFrame) -> RawData:
    return RawData(frames={"all": frame}, source="mem")


def test_wide_rows_of_zeros_are_kept_and_fractions_become_soft_targets():
    frame = pd.DataFrame({"comment": TEXTS * 4, "anger": [0, 1, 0.33, 0, 0] * 4, "joy": [0, 0, 0.83, 1, 0] * 4})
    task = prepare_task(raw(frame))
    all_rows = task.frames["all"]
    assert len(all_rows) == 20 and all_rows["labels"].iloc[0] == [] and all_rows["labels"].iloc[2] == ["joy"]
    assert np.allclose(all_rows["targets"].iloc[2], [0.33, 0.83]) and task.label_space.multi_label
    assert "soft labels: 8 cells are fractions" in task.describe("mem.csv")


def test_one_hot_wide_columns_are_a_multi_class_task():
    frame = pd.DataFrame({"comment": TEXTS * 4, "anger": [1, 0, 0, 1, 0] * 4, "joy": [0, 1, 1, 0, 1] * 4})
    task = prepare_task(raw(frame))
    assert not task.label_space.multi_label and task.label_space.names == ("anger", "joy")


def test_a_wide_cell_that_is_not_an_indicator_names_its_row_and_column():
    frame = pd.DataFrame({"comment": TEXTS, "anger": [0, 1, 0, 1, 0], "joy": [0, 1, 2, 0, 0]})
    with pytest.raises(DataError, match=r"row 2: label column 'joy' holds 2; each of the label columns holds 0/1"):
        prepare_task(raw(frame), label_columns="anger,joy")


def test_several_text_columns_are_joined_in_the_order_given():
    frame = pd.DataFrame({"title": ["A", None, "C", "D", "E"], "body": TEXTS, "label": [0, 1, 0, 1, 0]})
    task = prepare_task(raw(frame), text_column="title,body", for_training=False)
    assert task.frames["all"]["text"].tolist()[:3] == ["A\n" + TEXTS[0], TEXTS[1], "C\n" + TEXTS[2]]


def test_one_based_ids_with_n_names_and_zero_based_otherwise(tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("world\nsports\nbusiness\n")
    one_based = RawData(frames={"all": pd.DataFrame({"text": TEXTS, "label": [1, 2, 3, 1, 2]})}, source="d", label_names_file=names)
    task = prepare_task(one_based, for_training=False)
    assert task.frames["all"]["labels"].str[0].tolist() == ["world", "sports", "business", "world", "sports"]
    assert "ids 1..3 read as 1-based (1 = 'world')" in task.describe("d.csv")
    zero_based = RawData(frames={"all": pd.DataFrame({"text": TEXTS, "label": [0, 1, 2, 0, 1]})}, source="d", label_names_file=names)
    assert prepare_task(zero_based, for_training=False).frames["all"]["labels"].str[0].tolist()[:3] == ["world", "sports", "business"]


def test_a_label_names_file_with_a_repeated_name_is_a_one_line_error(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("joy\nsadness\njoy\n")
    data = raw(pd.DataFrame({"text": TEXTS, "label": [0, 1, 2, 0, 1]}))
    with pytest.raises(DataError, match=r"names 'joy' twice \(lines 1 and 3\); each label needs its own name"):
        prepare_task(data, label_names_file=str(names))


def test_python_list_cells_are_label_lists():
    frame = pd.DataFrame({"text": TEXTS, "acts": ["['greet', 'bye']", "['bye']", "['greet']", "['bye']", "['greet']"]})
    task = prepare_task(raw(frame), for_training=False)
    assert task.frames["all"]["labels"].iloc[0] == ["greet", "bye"] and task.label_space.multi_label


def test_wide_single_label_rows_without_a_label_are_a_one_line_error():
    frame = pd.DataFrame({"comment": TEXTS * 4, "anger": [1, 0, 0, 1, 0] * 4, "joy": [0, 1, 0, 0, 1] * 4})
    with pytest.raises(DataError, match=r"row 2: every label column is 0, but the task is single-label \(4 such rows\)"):
        prepare_task(raw(frame), multi_label=False)


def test_a_dataframe_with_numbered_columns(tmp_path):
    from fineclass.data.memory import raw_from_memory

    frame = pd.DataFrame([[text, i % 2] for i, text in enumerate(TEXTS * 4)])
    task = prepare_task(raw_from_memory(frame), for_training=False)
    assert (task.text_column, task.label_column, len(task.frames["all"])) == ("0", "1", 20)


def test_the_runs_one_based_reading_applies_to_new_data(tmp_path):
    names = tmp_path / "classes.txt"
    names.write_text("world\nsports\nbusiness\nscience\n")
    new = RawData(frames={"all": pd.DataFrame({"text": TEXTS, "label": [1, 2, 3, 1, 2]})}, source="d", label_names_file=names)
    assert prepare_task(new, for_training=False).frames["all"]["labels"].str[0].tolist()[:3] == ["sports", "business", "science"]
    shifted = prepare_task(new, for_training=False, one_based_ids=True)
    assert shifted.frames["all"]["labels"].str[0].tolist()[:3] == ["world", "sports", "business"]
