"""Each user mistake gets one line on stderr that names the problem and the fix, and exit code 2."""


import pandas as pd

from tests.conftest import make_texts, run_cli


def assert_user_error(result, *fragments):
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def train(tmp_path, data, *extra, model=None):
    args = ["train", data, "-o", tmp_path / "out", "--quiet", "--epochs", "1", *extra]
    if model:
        args += ["--model", model]
    return run_cli(*args)


def test_missing_file(tmp_path):
    assert_user_error(train(tmp_path, tmp_path / "nope.csv"), "data not found", "nope.csv")


def test_unknown_format(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    assert_user_error(train(tmp_path, path), "unknown data format '.xlsx'", ".csv, .tsv")


def test_no_label_column_lists_columns(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a", "b"], "stars": [1, 2]}).to_csv(path, index=False)
    assert_user_error(train(tmp_path, path), "no label column found", "--label-column", "['text', 'stars']")


def test_no_text_column_lists_columns(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"n": [1, 2], "label": [0, 1]}).to_csv(path, index=False)
    assert_user_error(train(tmp_path, path), "no text column found", "--text-column", "['n', 'label']")


def test_named_column_that_does_not_exist(tmp_path, emotion_like_csv):
    assert_user_error(train(tmp_path, emotion_like_csv, "--text-column", "body"), "--text-column 'body' is not a column")


def test_all_texts_empty(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": ["", " "], "label": [0, 1]}).to_csv(path, index=False)
    assert_user_error(train(tmp_path, path), "no rows with both a text")


def test_class_too_small_to_stratify(tmp_path):
    frame = make_texts(60)
    frame = pd.concat([frame, pd.DataFrame([{"text": "odd one", "label": 3, "label_name": "rare"}])])
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    assert_user_error(train(tmp_path, path), "too few rows to stratify", "'rare' (1)")


def test_label_in_test_never_seen_in_training(tmp_path):
    directory = tmp_path / "d"
    directory.mkdir()
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x", "y", "x", "y"]}).to_csv(directory / "train.csv", index=False)
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "z"]}).to_csv(directory / "test.csv", index=False)
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]}).to_csv(directory / "validation.csv", index=False)
    assert_user_error(train(tmp_path, directory), "test row 1: label 'z' never occurs in the training data")


def test_evaluate_label_unknown_to_the_model(tmp_path, tiny_model_dir):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=2, id2label={0: "x", 1: "y"}, label2id={"x": 0, "y": 1})
    model.save_pretrained(tmp_path / "m")
    (tmp_path / "m").joinpath("tokenizer.json").write_bytes((tiny_model_dir / "tokenizer.json").read_bytes())
    (tmp_path / "m").joinpath("tokenizer_config.json").write_bytes((tiny_model_dir / "tokenizer_config.json").read_bytes())
    data = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a", "b"], "label": ["x", "w"]}).to_csv(data, index=False)
    assert_user_error(run_cli("evaluate", tmp_path / "m", data), "label 'w' was never seen in training")


def test_unreadable_model_directory(tmp_path, emotion_like_csv):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    assert_user_error(train(tmp_path, emotion_like_csv, model=str(broken)), "could not load", "broken")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(train(tmp_path, emotion_like_csv, model=str(empty)), "has no config.json")
    assert_user_error(run_cli("predict", empty, "hello"), "neither a fineclass run directory nor a model directory")


def test_ragged_rows(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\na,0\nb,1,extra,more\n")
    assert_user_error(train(tmp_path, path), "line 3 has a different number of fields", "--delimiter")


def test_header_only(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label\n")
    assert_user_error(train(tmp_path, path), "has a header but no rows")


def test_single_class(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}).to_csv(path, index=False)
    assert_user_error(train(tmp_path, path), "single class 'x'")


def test_mixed_numbers_and_names(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": ["1", "joy", "2"]}).to_csv(path, index=False)
    assert_user_error(train(tmp_path, path), "mixes numbers (1) and names ('joy')")


def test_label_outside_labels_txt(tmp_path, multilabel_dir):
    (multilabel_dir / "labels.txt").write_text("joy\nsadness\n")
    assert_user_error(train(tmp_path, multilabel_dir), "outside the label names' range 0..1")


def test_duplicate_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,text,label\na,b,0\nc,d,1\n")
    assert_user_error(train(tmp_path, path), "duplicate column names ['text']")


def test_bad_option_values_are_reported_together(tmp_path, emotion_like_csv):
    assert_user_error(train(tmp_path, emotion_like_csv, "--batch-size", "0", "--learning-rate", "-1"), "--learning-rate must be > 0", "--batch-size must be >= 1")


def test_predict_without_input(tmp_path, tiny_model_dir):
    assert_user_error(run_cli("predict", tiny_model_dir), "give texts to classify, or --input FILE")
