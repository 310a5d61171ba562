"""Input that looks odd but is fine: a UTF-8 byte-order mark, and a text of a megabyte."""

import json

from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from tests.conftest import make_texts, run_cli

BOM = b"\xef\xbb\xbf"
QUICK = ["--epochs", "1", "--quiet", "--no-baseline", "--no-report"]


def test_csv_with_a_byte_order_mark_trains_and_predicts(tiny_model_dir, tmp_path):
    data = tmp_path / "excel.csv"
    data.write_bytes(BOM + make_texts(60).to_csv(index=False).encode())  # "text" is the first column
    out = tmp_path / "run"
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", out, "--split", "0.7,0,0.3", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    splits = json.loads((out / "splits.json").read_text())
    assert (splits["text_column"], splits["label_column"]) == ("text", "label")
    predicted = run_cli("predict", out, "--input", data, "--output", tmp_path / "p.jsonl")
    assert predicted.exit_code == 0, predicted.output
    assert len((tmp_path / "p.jsonl").read_text().splitlines()) == 60


def test_json_lines_with_a_byte_order_mark_load(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_bytes(BOM + make_texts(30).to_json(orient="records", lines=True).encode())
    task = prepare_task(load_raw_data(str(data)))
    assert (task.text_column, task.label_column, len(task.frames["all"])) == ("text", "label", 30)


def test_a_one_megabyte_text_is_truncated_with_a_warning(tiny_model_dir, tmp_path):
    frame = make_texts(60)
    frame.loc[0, "text"] = "happy " * 175_000  # 1.05 MB in one cell
    data = tmp_path / "big.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    # No test split: the Predictor scores that one, and the warning is about the rows training reads.
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", out, "--split", "0.8,0,0.2", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    split = next(s for s, rows in json.loads((out / "splits.json").read_text())["rows"].items() if 0 in rows)
    assert f"{split}: 1 of " in result.stderr and "texts are longer than 64 tokens" in result.stderr
    predicted = run_cli("predict", out, "happy " * 175_000, "--json")
    assert predicted.exit_code == 0 and json.loads(predicted.stdout)["labels"]


def test_training_on_texts_the_vocabulary_cannot_read_warns(tiny_model_dir, tmp_path):
    frame = make_texts(60)
    frame["text"] = ["zorblax quux " + text.split()[0] for text in frame["text"]]  # 2 of 3 tokens are [UNK]
    data = tmp_path / "unread.csv"
    frame.to_csv(data, index=False)
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", tmp_path / "run", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "67% of the texts' tokens are [UNK] for this model's vocabulary" in result.stderr
    assert "multilingual" in result.stderr
