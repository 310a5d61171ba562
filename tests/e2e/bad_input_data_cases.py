"""Catalogue cases about the data: its file, its format, its columns and its labels."""

from pathlib import Path

import pandas as pd

from tests.conftest import make_texts
from tests.e2e.bad_input_registry import case, write_toy

# ---- the data file ------------------------------------------------------------------------------------


@case("train nope.csv", "a data file that does not exist",
      "data not found: nope.csv (give a CSV/TSV/TXT/JSON/JSONL/Parquet file, a directory, a URL or hf:NAME)",
      "check the path")
def missing_file(ctx):
    pass


@case("train data.xlsx", "an unsupported file type (.xlsx)",
      "unknown data format '.xlsx' for data.xlsx; use one of .csv, .tsv, .tab, .txt, .json, .jsonl, .ndjson, .parquet, "
      ".ft, .fasttext (rename the file if its content is one of these)",
      "export the sheet as CSV")
def unknown_format(ctx):
    Path("data.xlsx").write_bytes(b"PK\x03\x04")


@case("train d.csv", "an empty file (0 bytes)", "d.csv is empty (0 bytes); give a CSV file with a header row and rows",
      "check the export that wrote it")
def empty_file(ctx):
    Path("d.csv").write_bytes(b"")


@case("train d.csv", "a header and no rows", "d.csv has a header but no rows; add labeled rows", "add labeled rows")
def header_only(ctx):
    Path("d.csv").write_text("text,label\n")


@case("train d.csv --encoding klingon", "--encoding naming an encoding that does not exist",
      "--encoding 'klingon' is not an encoding Python knows (try utf-8, cp1252 or latin-1)",
      "name a real encoding, or leave --encoding out to detect it")
def unknown_encoding(ctx):
    write_toy()


@case("train d.csv --delimiter ';;'", "a --delimiter of two characters",
      "--delimiter must be one character (or tab), got ';;'", "give one character")
def long_delimiter(ctx):
    write_toy()


@case("train d.csv", "ragged rows (a row with more fields than the header)",
      "d.csv line 3 has a different number of fields from the 2 of most lines (1 such lines with comma as the "
      "delimiter); fix or quote those lines, or pass --delimiter and --quotechar",
      "fix or quote that line")
def ragged_rows(ctx):
    Path("d.csv").write_text("text,label\na,0\nb,1,extra,more\n")


@case("train d.csv", "duplicate column names", "d.csv has duplicate column names ['text']; give each column a unique name",
      "rename one of the columns")
def duplicate_columns(ctx):
    Path("d.csv").write_text("text,text,label\na,b,0\nc,d,1\n")


@case("train d.json", "a .json file that is not valid JSON",
      "d.json is not valid JSON (Expecting value at line 1 column 28); fix the file, or use JSON Lines",
      "fix the file at that line and column")
def invalid_json(ctx):
    Path("d.json").write_text('[{"text": "a", "label": 0},')


@case("train d.json", "a .json file that holds one object, not a list of records",
      "d.json holds a JSON object with keys ['label', 'text']; fineclass reads a list of records like "
      '[{"text": "...", "label": 0}], a dict of splits ({"train": [...], "test": [...]}), records under one key, '
      "or JSON Lines (.jsonl) with one record per line",
      "write a list of records, or JSON Lines")
def json_object(ctx):
    Path("d.json").write_text('{"text": "a", "label": 0}')


@case("train d.jsonl", "JSON Lines with one broken line",
      "line 3 of d.jsonl is not valid JSON (Expecting value at column 10); fix or remove that line",
      "fix or remove the line named")
def jsonl_bad_line(ctx):
    Path("d.jsonl").write_text('{"text": "a", "label": 0}\n{"text": "b", "label": 1}\n{"text": oops}\n')


@case("train d.jsonl", "JSON Lines with a line that is an array, not an object",
      'line 2 of d.jsonl holds a JSON array, not an object like the lines before it; write one object like '
      '{"text": "...", "label": 0} (or one [text, label] array) per line', "write one object per line")
def jsonl_array_line(ctx):
    Path("d.jsonl").write_text('{"text": "a", "label": 0}\n[1, 2]\n')


@case("train d.parquet", "a CSV file named .parquet",
      "could not read d.parquet as PARQUET: Could not open Parquet input source 'd.parquet': Parquet magic bytes not "
      "found in footer. Either the file is corrupted or this is not a parquet file.", "give the file its real extension")
def not_parquet(ctx):
    write_toy("d.parquet")


@case("train splits/", "a directory without a train file",
      "splits has no train file; a data directory needs a train file (train.csv, or a name with 'train' in it, like "
      "my-train.tsv; any of .csv, .tsv, .tab, .txt, .json, .jsonl, .ndjson, .parquet, .ft, .fasttext) and optionally "
      "validation/dev and test files; it holds ['data.csv', 'readme.txt']",
      "name the training file train.csv")
def no_train_file(ctx):
    Path("splits").mkdir()
    Path("splits/readme.txt").write_text("x")
    write_toy("splits/data.csv")


@case("train splits/", "a directory with two files that could be the train split",
      "splits has several train files (a-train.csv, b-train.csv); keep one, or give the file itself as DATA",
      "keep one train file in the directory")
def two_train_files(ctx):
    Path("splits").mkdir()
    write_toy("splits/a-train.csv")
    write_toy("splits/b-train.csv")


# ---- columns and labels -------------------------------------------------------------------------------


@case("train d.csv", "no column that looks like a label",
      "no label column found; pass --label-column NAME (the columns are ['text', 'stars'])", "pass --label-column")
def no_label_column(ctx):
    pd.DataFrame({"text": ["a", "b"], "stars": [1, 2]}).to_csv("d.csv", index=False)


@case("train d.csv", "no column that looks like text",
      "no text column found; pass --text-column NAME (the columns are ['n', 'label'])", "pass --text-column")
def no_text_column(ctx):
    pd.DataFrame({"n": [1, 2], "label": [0, 1]}).to_csv("d.csv", index=False)


@case("train d.csv --text-column body", "--text-column naming a column that does not exist",
      "--text-column 'body' is not a column; the columns are ['text', 'label', 'label_name']", "use one of the columns listed")
def named_column_missing(ctx):
    write_toy()


@case("train d.csv --text-column label", "--text-column naming the label column",
      "the text and label columns are both 'label'; pass --text-column and --label-column",
      "pass both columns")
def text_column_is_label_column(ctx):
    write_toy()


@case("train d.csv", "every text empty",
      "the data has no rows with both a text in 'text' and a label in 'label' (2 empty texts, 0 missing labels); "
      "fill them in or pick other columns", "fill in the texts")
def all_texts_empty(ctx):
    pd.DataFrame({"text": ["", " "], "label": [0, 1]}).to_csv("d.csv", index=False)


@case("train d.csv", "a label column that is all empty",
      "the data has no rows with both a text in 'text' and a label in 'label' (0 empty texts, 60 missing labels); "
      "fill them in or pick other columns", "fill in the labels, or pass --label-column")
def labels_all_empty(ctx):
    frame = make_texts(60)[["text"]].assign(label="")
    frame.to_csv("d.csv", index=False)


@case("train d.csv", "a single class", "the training data has a single class 'x'; a classifier needs rows of at least two classes",
      "add rows of other classes")
def single_class(ctx):
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}).to_csv("d.csv", index=False)


@case("train d.csv", "a label column mixing numbers and names",
      "the label column 'label' mixes numbers (1) and names ('joy'); use one kind throughout", "use ids or names, not both")
def mixed_labels(ctx):
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["1", "joy", "2"]}).to_csv("d.csv", index=False)


@case("train toy/", "a label id outside labels.txt",
      "train row 2: label 2 is outside the label names' range 0..1; fix the label or the label names file",
      "fix the label, or add its name to labels.txt")
def label_outside_names(ctx):
    Path("toy").mkdir()
    write_toy("toy/train.csv")
    Path("toy/labels.txt").write_text("joy\nsadness\n")


@case("train d.parquet", "a Parquet list column of floats (a 0/1 vector) as labels",
      "row 0: label list [0.0, 1.0, 1.0] holds 0.0 (float); a label list holds label ids (whole numbers) or names; "
      "a 0/1 vector is not read: list the ids of its 1s instead", "store the ids of the labels, like [1, 2]")
def parquet_float_lists(ctx):
    frame = make_texts(60)[["text"]].assign(label=[[0.0, 1.0, 1.0]] * 60)
    frame.to_parquet("d.parquet")


@case("train d.parquet --label-names names.txt", "a Parquet list of label names not in --label-names",
      "row 2: label 'anger' is not in the label names file, which names joy, sadness; "
      "fix the label, or add its name to the file", "add the name to the file")
def parquet_unknown_names(ctx):
    frame = make_texts(60)
    frame[["text"]].assign(label=[[name] for name in frame["label_name"]]).to_parquet("d.parquet")
    Path("names.txt").write_text("joy\nsadness\n")


@case("train toy/", "a label in the test file that training never saw",
      "test row 1: label 'z' never occurs in the training data (known labels: x, y); "
      "fix the label or add training rows for it", "fix the label, or add training rows for it")
def label_unseen_in_training(ctx):
    Path("toy").mkdir()
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x", "y", "x", "y"]}).to_csv("toy/train.csv", index=False)
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "z"]}).to_csv("toy/test.csv", index=False)
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]}).to_csv("toy/validation.csv", index=False)


@case("train d.csv --label-names names.txt", "a --label-names file that does not exist",
      "label names file not found: names.txt", "check the path")
def label_names_missing(ctx):
    write_toy()


@case("train d.csv --label-names names.txt", "a --label-names file that names one label twice",
      "label names file names.txt names 'joy' twice (lines 1 and 3); each label needs its own name",
      "give each label its own line")
def label_names_repeated(ctx):
    write_toy()
    Path("names.txt").write_text("joy\nsadness\njoy\n")


@case("train d.csv --label-columns anger,joy", "a wide label column holding something other than 0/1 or a fraction",
      "row 1: label column 'joy' holds 'maybe'; each of the label columns holds 0/1, true/false or a fraction between 0 and 1",
      "fix the cell, or give the label columns with --label-columns")
def wide_cell_not_indicator(ctx):
    frame = make_texts(60)[["text"]].assign(anger=[0, 1] * 30, joy=[0.5, 0.0] * 30)
    frame["joy"] = frame["joy"].astype(str)
    frame.loc[1, "joy"] = "maybe"
    frame.to_csv("d.csv", index=False)


@case("train d.csv --no-header --columns text,label", "--columns naming fewer columns than the file has",
      "--columns names 2 columns, but d.csv has 3", "name every column")
def columns_count(ctx):
    write_toy()


@case("train d.csv --label-column label --label-columns a,b", "both --label-column and --label-columns",
      "give --label-column (one column) or --label-columns (one 0/1 column per label), not both", "give one of them")
def both_label_flags(ctx):
    write_toy()


@case("train d.csv --text-pair-column other", "--text-pair-column naming a column that does not exist",
      "--text-pair-column 'other' is not a column; the columns are ['text', 'label', 'label_name']",
      "use one of the columns listed")
def pair_column_missing(ctx):
    write_toy()
