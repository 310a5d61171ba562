"""The one reader: format, encoding, dialect and header detection, and the JSON and fastText shapes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fineclass.data.load import load_raw_data, split_files
from fineclass.data.read import ReadOptions, detect_layout, iter_chunks, read_frames
from fineclass.errors import ConfigError, DataError
from tests.conftest import make_texts


def read(path, **options):
    layout = detect_layout(path, ReadOptions(**options))
    return layout, read_frames(path, layout)["all"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".txt"])
def test_the_delimiter_is_found_whatever_the_extension(tmp_path, delimiter, suffix):
    frame = make_texts(40).assign(text=lambda f: f["text"].str.replace(" ", ", ", n=1))  # commas inside texts
    path = tmp_path / f"d{suffix}"
    frame.to_csv(path, sep=delimiter, index=False)
    layout, read_back = read(path)
    assert (layout.format, layout.delimiter, layout.header) == ("csv", delimiter, True)
    pd.testing.assert_frame_equal(read_back, frame, check_dtype=False)


def test_single_quotes_are_found_and_removed(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\n'hello, world',a\n'so, so sad',b\nplain,a\n")
    layout, frame = read(path)
    assert layout.quotechar == "'" and frame["text"].tolist() == ["hello, world", "so, so sad", "plain"]


def test_the_guess_is_checked_against_every_line(tmp_path):
    """A sample of clean lines must not hide a line further on that breaks the guess."""
    path = tmp_path / "d.csv"
    lines = ["text;label"] + [f"row {i};a" for i in range(5000)] + ["late, with a comma;b"]
    path.write_text("\n".join(lines) + "\n")
    layout, frame = read(path)
    assert layout.delimiter == ";" and frame["text"].iloc[-1] == "late, with a comma"


def test_a_few_ragged_lines_are_skipped_with_a_warning_and_many_are_an_error(tmp_path, caplog):
    path = tmp_path / "d.csv"
    good = [f"text {i},{i % 2}" for i in range(300)]
    path.write_text("\n".join(["text,label", *good[:150], "a,b,c", *good[150:]]) + "\n")
    layout, frame = read(path)
    assert layout.skipped_lines == [152] and len(frame) == 300
    assert "skipped 1 line(s) with the wrong number of fields (2 expected), first at line 152" in caplog.text
    path.write_text("\n".join(["text,label", *good[:10], *["a,b,c"] * 5]) + "\n")
    with pytest.raises(DataError, match="line 12 has a different number of fields from the 2 of most lines"):
        read(path)


@pytest.mark.parametrize(("content", "header"), [
    ("text,label\nhappy day,joy\nsad day,sadness\nglad,joy\n", True),  # a known column name
    ("3,\"Fears for pension\",\"Unions say\"\n4,\"The race\",\"Second team\"\n1,\"War\",\"Many\"\n", False),  # AG News
    ("words,mood\nhappy day,joy\nsad day,sadness\nglad,joy\nfine,joy\n", True),  # 'mood' is none of its values
    ("happy day,joy\nsad day,sadness\nglad,joy\nfine,joy\n", False),  # 'joy' recurs below
])
def test_the_header_is_detected_by_content(tmp_path, content, header):
    path = tmp_path / "d.csv"
    path.write_text(content)
    layout = detect_layout(path)
    assert layout.header is header
    if not header:
        assert layout.columns == [f"column_{i + 1}" for i in range(len(content.splitlines()[0].split(",")))]


def test_flags_override_every_guess(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a|b\nx|1\ny|2\n")
    layout, frame = read(path, delimiter="|", header=False, columns=("text", "label"))
    assert (layout.delimiter, layout.header) == ("|", False)
    assert frame.to_dict("list") == {"text": ["a", "x", "y"], "label": ["b", "1", "2"]}
    assert ReadOptions(delimiter="tab").delimiter == "\t"
    with pytest.raises(ConfigError, match="--delimiter must be one character"):
        ReadOptions(delimiter=";;")
    with pytest.raises(ConfigError, match="--columns must be distinct"):
        ReadOptions(columns="a,a")
    with pytest.raises(DataError, match="--columns names 3 columns, but .* has 2"):
        read(path, columns=("a", "b", "c"))


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_a_file_that_is_not_utf8_is_read_in_its_encoding_with_a_warning(tmp_path, caplog, encoding):
    path = tmp_path / "d.csv"
    path.write_bytes("text,label\ncafé olé,a\nnaïve façade,b\n".encode(encoding))
    layout, frame = read(path)
    assert layout.encoding == "cp1252" and frame["text"].tolist() == ["café olé", "naïve façade"]
    assert "is not UTF-8 (line 2 has byte b'\\xe9'); reading it as cp1252" in caplog.text
    assert read(path, encoding="latin-1")[0].encoding == "latin-1"


def test_utf8_is_checked_over_the_whole_file_not_a_sample(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"text,label\n" + b"plain ascii text,a\n" * 20_000 + "late café,b\n".encode("cp1252"))
    layout, frame = read(path)
    assert layout.encoding == "cp1252" and frame["text"].iloc[-1] == "late café"


def test_utf16_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(make_texts(20).to_csv(index=False).encode("utf-16"))
    assert read(path)[0].encoding == "utf-16"
    path.write_bytes(b"\xef\xbb\xbf" + make_texts(20).to_csv(index=False).encode())
    layout, frame = read(path)
    assert layout.encoding == "utf-8-sig" and list(frame.columns) == ["text", "label", "label_name"]


@pytest.mark.parametrize(("document", "splits"), [
    ([{"text": "a", "label": 0}, {"text": "b", "label": 1}], {"all": 2}),
    ([["a", "x"], ["b", "y"]], {"all": 2}),
    ({"train": [["a", "x"], ["b", "y"]], "val": [["c", "x"]], "test": [{"text": "d", "label": "y"}]},
     {"train": 2, "validation": 1, "test": 1}),
    ({"data": [{"text": "a", "label": 0}]}, {"all": 1}),
    ({"text": ["a", "b"], "label": [0, 1]}, {"all": 2}),
])
def test_json_shapes(tmp_path, document, splits):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(document))
    frames = read_frames(path, detect_layout(path))
    assert {split: len(frame) for split, frame in frames.items()} == splits
    assert all({"text", "label"} <= set(frame.columns) for frame in frames.values())


def test_json_lines_of_arrays_are_text_label_pairs(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('["a", "x"]\n["b", "y"]\n')
    assert read(path)[1].to_dict("list") == {"text": ["a", "b"], "label": ["x", "y"]}


def test_fasttext_lines(tmp_path):
    path = tmp_path / "cooking.txt"
    path.write_text("__label__baking __label__bread how do i knead dough\n__label__eggs boil an egg\n")
    layout, frame = read(path)
    assert layout.format == "fasttext"
    assert frame.to_dict("list") == {"text": ["how do i knead dough", "boil an egg"], "label": [["baking", "bread"], ["eggs"]]}


def test_plain_lines_of_text_for_predict(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("i feel great, really\nso sad\nhm\n")
    layout, frame = read(path)
    assert layout.format == "lines" and frame["text"].tolist() == ["i feel great, really", "so sad", "hm"]


def test_chunks_concatenate_to_the_whole_file(tmp_path):
    path = tmp_path / "d.tsv"
    frame = make_texts(95)
    frame.to_csv(path, sep="\t", index=False)
    layout = detect_layout(path)
    chunks = list(iter_chunks(path, layout, 20))
    assert [len(c) for c in chunks] == [20, 20, 20, 20, 15]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), frame, check_dtype=False)


@pytest.mark.parametrize(("names", "found"), [
    (["train.csv", "dev.csv", "test.csv"], {"train": "train.csv", "validation": "dev.csv", "test": "test.csv"}),
    (["2018-E-c-En-train.txt", "2018-E-c-En-dev.txt", "2018-E-c-En-test.txt", "README.txt"],
     {"train": "2018-E-c-En-train.txt", "validation": "2018-E-c-En-dev.txt", "test": "2018-E-c-En-test.txt"}),
    (["my_train.csv", "my_test.csv", "classes.txt"], {"train": "my_train.csv", "test": "my_test.csv"}),
    (["train.csv", "train_small.csv"], {"train": "train.csv"}),  # the exact name wins
    (["contest.csv", "train.csv"], {"train": "train.csv"}),  # 'test' must be a whole part of the name
])
def test_split_files_by_name(tmp_path, names, found):
    for name in names:
        (tmp_path / name).write_text("text,label\na,0\n")
    assert {split: path.name for split, path in split_files(tmp_path).items()} == found


def test_a_url_is_read_as_a_file(tmp_path, monkeypatch):
    """Only the network is replaced: the download writes the served bytes, and the reader reads them."""
    import fineclass.data.load as load

    served = make_texts(30).to_csv(index=False, sep=";").encode()

    def fake_copy(url, out):
        out.write(served)
        return len(served), len(served)

    monkeypatch.setattr(load, "_copy_response", fake_copy)
    monkeypatch.setenv("FINECLASS_CACHE", str(tmp_path))
    raw = load_raw_data("https://example.org/data/emotion.csv")
    assert raw.layout.delimiter == ";" and len(raw.frames["all"]) == 30


def test_json_columns_with_list_labels_keep_their_columns(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"text": ["good movie", "bad film"], "labels": [["pos", "fun"], ["neg", "sad"]]}))
    frame = read_frames(path, detect_layout(path))["all"]
    assert frame.to_dict("list") == {"text": ["good movie", "bad film"], "labels": [["pos", "fun"], ["neg", "sad"]]}


def test_columns_flag_means_no_header_and_every_row_is_kept(tmp_path):
    path = tmp_path / "hl.csv"
    path.write_text("".join(f"some longer text number {i} here,{'neutral' if i == 0 else 'pos'}\n" for i in range(61)))
    assert len(read(path, columns=("text", "label"))[1]) == 61
    layout, frame = read(path)  # a first row whose label occurs once: the long text votes it is data
    assert layout.header is False and len(frame) == 61


def test_no_header_keeps_the_first_line_of_plain_text(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("Title\nsome text, with a comma\nmore text\n")
    assert read(path)[1]["text"].tolist() == ["some text, with a comma", "more text"]
    assert read(path, header=False)[1]["text"].tolist() == ["Title", "some text, with a comma", "more text"]


@pytest.mark.parametrize("odd", [",,,", "1", "a,b,c"])
def test_exactly_the_ragged_lines_are_skipped(tmp_path, odd):
    path = tmp_path / "d.csv"
    path.write_text("label,text\n" + "".join(f"{i % 2},text number {i}\n" for i in range(200)) + odd + "\n")
    layout, frame = read(path)
    assert layout.skipped_lines == [202] and len(frame) == 200 and frame["text"].notna().all()
