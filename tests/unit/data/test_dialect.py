"""Quote characters: guessed ones are kept only when quoted fields occur, so texts are read as they are."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.data.read import ReadOptions, detect_layout, read_frames
from fineclass.errors import ConfigError, DataError
from tests.conftest import make_texts
from tests.layouts import APOSTROPHE_TWEETS, build


def read(path, **options):
    layout = detect_layout(path, ReadOptions(**options))
    return layout, read_frames(path, layout)["all"]


def test_tweets_that_start_with_an_apostrophe_are_read_as_they_are(tmp_path):
    build("apostrophe-tweets", tmp_path)
    layout, frame = read(tmp_path / "tweets.tsv")
    assert (layout.delimiter, layout.quotechar) == ("\t", None)
    written = [line.split("\t") for line in (tmp_path / "tweets.tsv").read_text().splitlines()[1:]]
    assert len(frame) == 33 and frame["Tweet"].tolist() == [row[1] for row in written]
    assert frame["Tweet"][4] == APOSTROPHE_TWEETS[4] and frame["Affect Dimension"][5] == written[5][2]


def test_a_text_that_opens_a_double_quote_in_a_tsv_is_kept_whole(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text('text\tlabel\n"Hello" she said\tjoy\nplain day\tsadness\n"so it begins\tanger\nlast one\tjoy\n')
    layout, frame = read(path)
    assert layout.quotechar is None
    assert frame["text"].tolist() == ['"Hello" she said', "plain day", '"so it begins', "last one"]


def test_quoted_fields_in_a_tsv_keep_their_quoting(tmp_path):
    """GoEmotions quotes the texts that hold a quote or a tab, CSV-style."""
    path = tmp_path / "d.tsv"
    frame = make_texts(30).assign(text=lambda f: f["text"].where(f.index % 5 != 0, '"quoted"\tand tabbed ' + f["text"]))
    frame[["text", "label_name"]].to_csv(path, sep="\t", index=False)
    layout, read_back = read(path)
    assert layout.quotechar == '"' and read_back["text"].tolist() == frame["text"].tolist()


def test_a_semicolon_file_quoted_with_apostrophes_is_read(tmp_path):
    """Texts hold ';' inside the quotes and a few hold a "quoted" phrase, which made csv.Sniffer guess '"'."""
    build("quoted-semicolons", tmp_path)
    layout, frame = read(tmp_path / "news.csv")
    assert (layout.delimiter, layout.quotechar, layout.header) == (";", "'", True)
    assert len(frame) == 60 and frame["text"][0].endswith('said "no comment" today') and ";" in frame["text"][1]
    assert "'" not in "".join(frame["text"])
    assert layout.describe() == "CSV (semicolon-separated, \"'\" quotes, header), UTF-8"


def test_a_quoted_field_past_the_sample_is_still_read_with_quotes(tmp_path):
    """The quote guess reads the first 256 KiB; a file whose first quoted field comes later is checked whole."""
    path = tmp_path / "d.csv"
    rows = [f"plain text number {i},{i % 2}" for i in range(20_000)]
    path.write_text("text,label\n" + "\n".join(rows) + '\n"late, with a comma",1\n')
    layout, frame = read(path)
    assert (layout.quotechar, layout.skipped_lines) == ('"', [])
    assert len(frame) == 20_001 and frame["text"].iloc[-1] == "late, with a comma"


def test_a_given_quote_character_is_used_as_given(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("text\tlabel\n'a\tb'\tjoy\nplain\tsadness\n")
    layout, frame = read(path, quotechar="'")
    assert layout.quotechar == "'" and frame["text"].tolist() == ["a\tb", "plain"]


@pytest.mark.parametrize(("name", "line"), [
    ("d.txt", ',"a' * 7_000_000),  # csv.Sniffer took over 5 minutes on this (stopped there)
    ("d.csv", "text,label\n" + "word " * 4_000_000 + ",joy\n" + "short,sad\n"),
    ("d.tsv", "text\tlabel\n" + "'twas " * 3_500_000 + "\tjoy\nshort\tsad\n"),
])
def test_a_20_mb_line_gives_rows_or_one_line_quickly(tmp_path, name, line):
    path = tmp_path / name
    path.write_text(line)
    start = time.perf_counter()
    try:
        task = prepare_task(load_raw_data(str(path)))
    except DataError as err:
        assert "\n" not in str(err) and len(str(err)) < 500
    else:
        assert len(task.frames["all"]) == 2 and len(task.frames["all"]["text"][0]) >= 20_000_000
    assert time.perf_counter() - start < 60


def test_the_layouts_are_read_with_the_quoting_they_use(tmp_path):
    """The quoting change leaves the layouts' readings alone: no quotes where none occur, '"' where they do."""
    for name, expected_quote in [("tab-txt", None), ("semicolon-csv", None), ("single-quotes", "'"), ("list-labels", '"')]:
        directory = tmp_path / name
        directory.mkdir()
        expected = build(name, directory)
        layout, frame = read(directory / expected.data)
        assert layout.quotechar == expected_quote, name
        assert not frame.map(lambda v: isinstance(v, str) and (v.startswith(("'", '"')) or "\n" in v)).any().any(), name


def test_a_tab_separated_file_without_quoting_reads_like_pandas_quote_none(tmp_path):
    path = tmp_path / "d.tsv"
    build("apostrophe-tweets", tmp_path)
    (tmp_path / "tweets.tsv").rename(path)
    expected = pd.read_csv(path, sep="\t", quoting=3, keep_default_na=False)
    pd.testing.assert_frame_equal(read(path)[1], expected, check_dtype=False)


def test_quotechar_none_reads_quotes_as_text(tmp_path):
    """Tweets wrapped whole in double quotes look like quoted fields; --quotechar none keeps their quotes."""
    path = tmp_path / "d.tsv"
    path.write_text('text\tlabel\n"I love it"\tjoy\n"so sad"\tsadness\nplain\tjoy\n')
    assert read(path)[1]["text"].tolist() == ["I love it", "so sad", "plain"]
    layout, frame = read(path, quotechar="none")
    assert layout.quotechar is None and frame["text"].tolist() == ['"I love it"', '"so sad"', "plain"]
    with pytest.raises(ConfigError, match=r"^--quotechar must be one character, or none to read quotes as text; got 'ab'$"):
        ReadOptions(quotechar="ab")
