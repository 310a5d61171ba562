"""JSON readers keep a nesting limit: one line names the depth, instead of a RecursionError."""

from __future__ import annotations

import json

import pytest

from fineclass.data.json_files import MAX_JSON_DEPTH, json_depth
from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.errors import DataError
from tests.conftest import make_texts

DEEP = "[" * 10_000 + "]" * 10_000
TOO_DEEP = ', past the 100 that fineclass reads; write records like {"text": "...", "label": 0}'


def nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_depth_counts_arrays_and_objects_but_not_brackets_in_strings():
    assert json_depth('{"a": [1, {"b": []}]}') == 4
    assert json_depth('["[[[[", "}}\\"[[", 3]') == 1
    assert json_depth(json.dumps(nested(250))) == 250


@pytest.mark.parametrize(("name", "content", "message"), [
    ("d.json", DEEP, "d.json nests JSON 10,000 levels deep" + TOO_DEEP),
    ("d.jsonl", '{"text": "a", "label": "x"}\n' + DEEP + "\n", "line 2 of d.jsonl nests JSON 10,000 levels deep" + TOO_DEEP),
    ("d.json", json.dumps([{"text": "a", "label": "x", "meta": nested(MAX_JSON_DEPTH)}]),
     "d.json nests JSON 102 levels deep" + TOO_DEEP),
])
def test_deep_json_files_are_refused_in_one_line(tmp_path, monkeypatch, name, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError) as caught:
        load_raw_data(name)
    assert str(caught.value) == message


def test_json_nested_as_deep_as_the_limit_is_read(tmp_path):
    records = [{"text": t, "label": n, "meta": nested(MAX_JSON_DEPTH - 2)} for t, n in zip(["a", "b"], ["x", "y"])]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert len(load_raw_data(str(tmp_path / "d.jsonl")).frames["all"]) == 2


def test_a_deep_label_cell_is_refused_in_one_line(tmp_path):
    frame = make_texts(30)[["text"]].assign(label='["joy"]')
    frame.loc[3, "label"] = DEEP
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError) as caught:
        prepare_task(load_raw_data(str(tmp_path / "d.csv")))
    assert str(caught.value) == (
        "row 3: label '" + "[" * 60 + "'... (20,000 characters) nests JSON 10,000 levels deep, past the 100 that "
        'fineclass reads; a label list is flat, like ["joy", "love"]')


def test_a_20_mb_json_line_is_read(tmp_path):
    text = "so happy " * 2_400_000
    lines = [json.dumps({"text": text, "label": "joy"}), '{"text": "sad", "label": "sadness"}']
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    frame = load_raw_data(str(tmp_path / "d.jsonl")).frames["all"]
    assert frame["text"].tolist() == [text, "sad"]
