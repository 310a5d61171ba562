"""A damaged model directory is one FineclassError through the Python API, with the CLI's message.

The directories are the bad-input catalogue's own (tests/e2e/bad_input_secrets_safety_cases.py): each case is loaded
here through the API call that matches its command, and must raise the message the catalogue asserts for the CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import fineclass
from fineclass.errors import ModelError
from fineclass.inference.predictor import Predictor
from fineclass.modeling import load_classifier, resolve_model_path
from fineclass.rundir import LongTexts, Thresholds
from tests.e2e import bad_input_secrets_safety_cases as secrets_cases
from tests.e2e.bad_input_registry import CASES, Case, Context
from tests.e2e.classifier import save_untrained_classifier

DAMAGED = [c for c in CASES if c.setup.__module__ == secrets_cases.__name__ and c.setup.__name__ not in
           ("trainer_arg_hub_token", "yaml_push_to_hub", "yaml_hub_token")]


@pytest.fixture(scope="module")
def classifier_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return save_untrained_classifier(tiny_model_dir, tmp_path_factory.mktemp("classifier"))


def api_call(entry: Case):
    """The Python API's counterpart of the case's command line."""
    command, target = entry.args[0], entry.args[1]
    if command == "train":
        return lambda: fineclass.train(target, "out", model=entry.args[entry.args.index("--model") + 1], epochs=1,
                                       progress=None)
    if command == "distill":
        return lambda: fineclass.distill(target, "student", layers=1, progress=None)
    if command == "export":
        return lambda: fineclass.export(target, check=False)
    if command == "predict":
        return lambda: fineclass.predict(target, ["hello"])
    return lambda: Predictor.from_dir(target)  # serve loads its model with Predictor.from_dir


def test_every_command_of_the_catalogue_has_damaged_directories():
    assert {c.args[0] for c in DAMAGED} == {"predict", "export", "serve", "train", "distill"}


@pytest.mark.parametrize("entry", DAMAGED, ids=lambda c: c.name)
def test_the_api_raises_the_cli_message(entry: Case, tmp_path, monkeypatch, tiny_model_dir, classifier_dir):
    monkeypatch.chdir(tmp_path)
    Path("tiny").symlink_to(tiny_model_dir)
    Path("model").symlink_to(classifier_dir)
    entry.setup(Context(monkeypatch=monkeypatch))
    with pytest.raises(ModelError) as err:
        api_call(entry)()
    assert str(err.value) == entry.message
    assert not Path("out").exists() and not Path("student").exists()


@pytest.mark.parametrize("content, reason", [
    (b"[1, 2]", "its config.json holds a JSON array, not an object"),
    (b"null", "its config.json holds JSON null, not an object"),
    (b"\xff\xfe{}", "its config.json is not UTF-8 text"),
    (b"[" * 100_000, "its config.json is nested too deeply to read"),
    (b'{"model_type": "bert", "id2label": ["joy"]}', "id2label in its config.json is a JSON array, not an object"),
])
def test_config_json_that_is_not_an_object_of_settings(content, reason, classifier_dir, tmp_path):
    import shutil

    damaged = Path(shutil.copytree(classifier_dir, tmp_path / "m"))
    (damaged / "config.json").write_bytes(content)
    expected = f"could not load model {damaged}: {reason}; restore it from the model's source"
    for load in (load_classifier, resolve_model_path, Predictor.from_dir):
        with pytest.raises(ModelError) as err:
            load(str(damaged) if load is resolve_model_path else damaged)
        assert str(err.value) == expected


@pytest.mark.parametrize("content, reason", [
    ('{"thresholds": {"joy": "high"}}', "the threshold of 'joy' is 'high', not a number from 0 to 1"),
    ('{"thresholds": {"joy": 1.5}}', "the threshold of 'joy' is 1.5, not a number from 0 to 1"),
    ('{"thresholds": {"joy": NaN}}', "the threshold of 'joy' is nan, not a number from 0 to 1"),
    ('{"thresholds": [0.5]}', "its thresholds are a JSON array, not an object of label: threshold"),
    ('{"default": true}', "its default is True, not a number from 0 to 1"),
    ('{"min_positives": "ten"}', "min_positives is 'ten', not a whole number"),
    ('"per-label"', "it holds a JSON string, not an object"),
    ("", "it is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
])
def test_a_damaged_thresholds_json_is_named_with_its_problem(content, reason, tmp_path):
    (tmp_path / "thresholds.json").write_text(content)
    with pytest.raises(ModelError) as err:
        Thresholds.read(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'thresholds.json'} is not a valid thresholds record: {reason}; delete it to "
                              "use 0.5 for every label, or run `fineclass tune-thresholds` on the run to write it again")


@pytest.mark.parametrize("content, reason", [
    ('{"mode": "windows", "max_length": "512"}', "max_length is '512', not a whole number"),
    ('{"max_length": 1}', "max_length is 1, not a window of at least 2 tokens"),
    ('{"window_stride": 2.5}', "window_stride is 2.5, not a whole number"),
    ('{"mode": "slide"}', "--long-texts must be one of auto, truncate, head-tail, windows, got 'slide'"),
    ("7", "it holds a JSON number, not an object"),
])
def test_a_damaged_long_texts_json_is_named_with_its_problem(content, reason, tmp_path):
    (tmp_path / "long_texts.json").write_text(content)
    with pytest.raises(ModelError) as err:
        LongTexts.read(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'long_texts.json'} is not a valid long-text record: {reason}; delete it to "
                              "truncate long texts, or train the model again")


def test_records_that_are_whole_still_read(tmp_path):
    (tmp_path / "thresholds.json").write_text('{"strategy": "global", "thresholds": {"joy": 0.3, "anger": 1}}')
    (tmp_path / "long_texts.json").write_text('{"mode": "windows", "max_length": 64, "head_tokens": null}')
    assert Thresholds.read(tmp_path).for_labels(["joy", "anger", "sadness"]) == [0.3, 1.0, 0.5]
    assert LongTexts.read(tmp_path) == LongTexts("windows", 64)


def test_retuning_replaces_a_damaged_thresholds_json(tiny_model_dir, tmp_path):
    """tune-thresholds is the fix the message names, so it must not read the file it replaces."""
    import json

    from transformers import AutoModelForSequenceClassification

    from tests.conftest import make_multilabel_texts

    names = ["joy", "sadness", "anger"]
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=3, id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)},
        problem_type="multi_label_classification")
    run = tmp_path / "run"
    model.save_pretrained(run / "model")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (run / "model" / name).write_bytes((tiny_model_dir / name).read_bytes())
    (run / "splits.json").write_text("{}")
    (run / "data").mkdir()
    rows = [{"row": i, "text": r.text, "labels": [names[int(c)] for c in r.label.split(",")]}
            for i, r in enumerate(make_multilabel_texts(30).itertuples())]
    (run / "data" / "validation.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (run / "model" / "thresholds.json").write_text("{oops")
    tuned = fineclass.tune_thresholds(run)
    assert Thresholds.read(run / "model").thresholds == pytest.approx(tuned, abs=1e-4)


def test_an_onnx_export_with_a_damaged_config_json_gets_the_same_message(classifier_dir, tmp_path):
    export = fineclass.export(classifier_dir, output_dir=tmp_path / "onnx", check=False).path
    (export / "config.json").write_text("[]")
    with pytest.raises(ModelError) as err:
        Predictor.from_dir(export)
    assert str(err.value) == (f"could not load model {export}: its config.json holds a JSON array, not an object; "
                              "restore it from the model's source")
