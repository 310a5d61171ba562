import json

import pandas as pd
import pytest

from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.data.split import split_task, stratified_split
from fineclass.errors import DataError
from tests.conftest import make_multilabel_texts, make_texts


def write(frame: pd.DataFrame, path):
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".json", ".jsonl", ".parquet"])
def test_every_format_gives_the_same_task(tmp_path, suffix):
    path = write(make_texts(30), tmp_path / f"data{suffix}")
    task = prepare_task(load_raw_data(str(path)))
    assert task.label_space.names == ("joy", "sadness", "anger")  # from the label_name column, in id order
    assert not task.label_space.multi_label
    assert len(task.frames["all"]) == 30
    assert task.frames["all"]["labels"][1] == ["sadness"]


def test_string_labels_are_sorted_names(tmp_path):
    frame = pd.DataFrame({"sentence": ["a b", "c d", "e f", "g h"], "category": ["spam", "ham", "spam", "ham"]})
    task = prepare_task(load_raw_data(str(write(frame, tmp_path / "d.csv"))))
    assert (task.text_column, task.label_column) == ("sentence", "category")
    assert task.label_space.names == ("ham", "spam")


def test_comma_joined_indices_are_multilabel_named_by_labels_txt(multilabel_dir):
    task = prepare_task(load_raw_data(str(multilabel_dir)))
    assert task.label_space.multi_label
    assert task.label_space.names == ("joy", "sadness", "anger")
    assert set(task.frames) == {"train", "validation", "test"}
    first = make_multilabel_texts(1, 1)["label"][0]
    assert task.frames["train"]["labels"][0] == [task.label_space.names[int(i)] for i in first.split(",")]


def test_list_cells_in_jsonl_are_multilabel(tmp_path):
    rows = [{"text": "x y", "tags": ["a", "b"]}, {"text": "z", "tags": ["b"]}, {"text": "w", "tags": ["a"]}]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    task = prepare_task(load_raw_data(str(path)), label_column="tags")
    assert task.label_space.multi_label and task.label_space.names == ("a", "b")


def test_single_label_override_refuses_rows_with_two_labels(multilabel_dir):
    with pytest.raises(DataError, match="--single-label was given, but some rows have several labels"):
        prepare_task(load_raw_data(str(multilabel_dir)), multi_label=False)


def test_multi_label_override_on_single_labels(tmp_path):
    task = prepare_task(load_raw_data(str(write(make_texts(30), tmp_path / "d.csv"))), multi_label=True)
    assert task.label_space.multi_label


def test_empty_texts_and_missing_labels_are_dropped_and_counted(tmp_path):
    frame = make_texts(30)
    frame.loc[0, "text"] = ""
    frame.loc[1, "label"] = None
    task = prepare_task(load_raw_data(str(write(frame, tmp_path / "d.csv"))))
    assert task.dropped == {"all": 2}
    assert len(task.frames["all"]) == 28


def test_split_is_70_20_10_and_stratified(tmp_path):
    task = prepare_task(load_raw_data(str(write(make_texts(300), tmp_path / "d.csv"))))
    frames = split_task(task, (0.7, 0.2, 0.1), seed=1)
    assert {k: len(v) for k, v in frames.items()} == {"train": 210, "test": 60, "validation": 30}
    for frame in frames.values():
        counts = frame["labels"].map(lambda l: l[0]).value_counts()
        assert counts.max() - counts.min() <= 1  # classes are equal in the toy data, so each split is too
    rows = [r for f in frames.values() for r in f["row"]]
    assert sorted(rows) == list(range(300))
    again = split_task(task, (0.7, 0.2, 0.1), seed=1)
    assert list(again["test"]["row"]) == list(frames["test"]["row"])


def test_iterative_split_keeps_every_label_in_every_part():
    frame = make_multilabel_texts(200)
    names = ("joy", "sadness", "anger")
    frame = frame.assign(labels=[[names[int(i)] for i in s.split(",")] for s in frame["label"]], row=range(200))
    parts = stratified_split(frame, {"train": 0.7, "test": 0.2, "validation": 0.1}, multi_label=True, seed=0)
    assert sum(len(p) for p in parts.values()) == 200
    for part in parts.values():
        assert {n for labels in part["labels"] for n in labels} == set(names)


def test_directory_without_validation_gets_one_carved_from_train(tmp_path):
    directory = tmp_path / "d"
    directory.mkdir()
    write(make_texts(200), directory / "train.csv")
    write(make_texts(60, seed=5), directory / "test.csv")
    frames = split_task(prepare_task(load_raw_data(str(directory))), (0.7, 0.2, 0.1), seed=0)
    assert len(frames["test"]) == 60
    assert len(frames["validation"]) == 25 and len(frames["train"]) == 175  # 0.1 / (0.7 + 0.1) of 200
