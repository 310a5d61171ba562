"""`predict --input` carries the rows' ids (and --keep-columns) into every output row, so predictions join back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import make_texts, run_cli
from tests.e2e.classifier import NAMES, save_untrained_classifier


@pytest.fixture(scope="module")
def model(tiny_model_dir, tmp_path_factory) -> Path:
    return save_untrained_classifier(tiny_model_dir, tmp_path_factory.mktemp("classifier"))


@pytest.fixture
def source(tmp_path) -> Path:
    """Ids with leading zeros (kept as written), a column to keep, and one to leave out."""
    frame = make_texts(25)
    frame.insert(0, "Id", [f"{i:03d}" for i in range(25)])
    frame["source"] = ["web" if i % 2 else "app" for i in range(25)]
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    return path


def predict(model, source, target, *args):
    result = run_cli("predict", model, "--input", source, "--output", target, *args)
    assert result.exit_code == 0, result.output + str(result.exception)
    return result


def test_an_id_column_in_any_case_leads_every_csv_row(model, source, tmp_path):
    result = predict(model, source, tmp_path / "out.csv")
    assert "keeps 'Id'" in result.stdout
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "Id,text,label,score,top_k"
    assert [line.split(",")[0] for line in lines[1:]] == [f"{i:03d}" for i in range(25)]  # 007 stays 007


def test_jsonl_rows_carry_the_id_and_kept_columns_in_order(model, source, tmp_path):
    predict(model, source, tmp_path / "out.jsonl", "--keep-columns", "source,label_name", "--top-k", "2")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    frame = pd.read_csv(source, dtype=str)
    assert [list(r)[:4] for r in rows] == [["Id", "source", "label_name", "text"]] * 25
    assert [(r["Id"], r["source"], r["label_name"], r["text"]) for r in rows] == \
        list(zip(frame["Id"], frame["source"], frame["label_name"], frame["text"]))
    assert all(len(r["top_k"]) == 2 for r in rows)


def test_id_column_names_another_column_and_wide_keeps_it(model, source, tmp_path):
    predict(model, source, tmp_path / "out.tsv", "--id-column", "SOURCE", "--wide")
    frame = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert list(frame.columns) == ["source", "text", *NAMES]  # --id-column replaces the detected id
    assert frame["source"].tolist() == ["web" if i % 2 else "app" for i in range(25)]
    assert (frame[NAMES].sum(axis=1) <= 3).all()


def test_a_parquet_id_keeps_its_type_and_a_missing_cell_is_null(model, tmp_path):
    frame = make_texts(6)
    frame["id"] = [10, 11, None, 13, 14, 15]
    frame.to_parquet(tmp_path / "in.parquet")
    predict(model, tmp_path / "in.parquet", tmp_path / "out.jsonl")
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == \
        [10.0, 11.0, None, 13.0, 14.0, 15.0]


@pytest.mark.parametrize("args, message", [
    (["--keep-columns", "source,colour"],
     "--keep-columns 'colour' is not a column of {src}; its columns are ['Id', 'text', 'label', 'label_name', 'source']"),
    (["--id-column", "row"],
     "--id-column 'row' is not a column of {src}; its columns are ['Id', 'text', 'label', 'label_name', 'source']"),
    (["--keep-columns", "label"],
     "--keep-columns 'label' has the name of a column the predictions fill (text, label, score, top_k); rename it in "
     "the input, or leave it out"),
])
def test_a_bad_column_is_one_line_and_writes_nothing(model, source, tmp_path, args, message):
    result = run_cli("predict", model, "--input", source, "--output", tmp_path / "out.csv", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: " + message.format(src=source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_wide_refuses_a_kept_column_named_like_a_label(model, source, tmp_path):
    result = run_cli("predict", model, "--input", source, "--output", tmp_path / "out.csv", "--wide",
                     "--keep-columns", "label_name,joy")
    assert result.exit_code == 2
    assert "--keep-columns 'joy' is not a column" in result.stderr  # not in the file: refused before the model loads
    pd.read_csv(source).rename(columns={"source": "joy"}).to_csv(source, index=False)
    result = run_cli("predict", model, "--input", source, "--output", tmp_path / "out.csv", "--wide",
                     "--keep-columns", "joy")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --keep-columns 'joy' has the name of a column the predictions fill (text, "
                                     "joy, sadness, anger); rename it in the input, or leave it out")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.partial").exists()


def test_jsonl_rows_past_the_first_without_the_id_are_named(model, tmp_path):
    from fineclass.errors import DataError
    from fineclass.inference.files import predict_file
    from fineclass.inference.predictor import Predictor

    rows = [{"id": 1, "text": "i am happy"}, {"id": 2, "text": "so sad"}, {"text": "angry"}, {"text": "glad"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError) as caught:
        predict_file(Predictor.from_dir(model), source, tmp_path / "out.jsonl", None, top_k=1, threshold=None, chunk_rows=2)
    assert str(caught.value) == (f"{source} has rows without 'id', a column copied into every output row; fill it in "
                                 "there, or name another with --id-column / --keep-columns")
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl.partial").read_text().splitlines()] == [1, 2]
