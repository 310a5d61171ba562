"""The Python API: the issue's snippet as written, from a DataFrame and from a path, on the tiny model."""

from __future__ import annotations

import pytest
import yaml

import fineclass
from tests.conftest import make_texts, run_cli

FAST = {"max_steps": 8, "baseline": False, "report": False}


@pytest.fixture(scope="module")
def frame():
    return make_texts(150)


def test_the_snippet_runs_as_written_from_a_dataframe(frame, tiny_model_dir, tmp_path):
    other_df = make_texts(60, seed=9)
    run = fineclass.train(frame, text_column="text", label_column="label", output_dir=tmp_path / "x", epochs=3,
                          model=str(tiny_model_dir), progress=None, **{**FAST, "report": True})
    assert 0 <= run.metrics.test["accuracy"] <= 1 and run.run_dir == tmp_path / "x"
    assert run.label_names == ("joy", "sadness", "anger")  # named from the label_name column
    assert run.metrics.train["steps"] == 8 and run.metrics.train["max_steps"] == 8
    [prediction] = run.predictor().predict(["i feel great"])
    assert prediction.label in run.label_names
    ev = fineclass.evaluate(run, other_df)
    assert ev.rows == 60 and 0 <= ev.metrics["accuracy"] <= 1 and ev.report_path.is_file()
    exported = fineclass.export(run, quantize="int8")
    assert (exported.path / "model.onnx").is_file() and set(exported.check) == {"torch", "onnx"}
    compared = fineclass.compare(frame, models=["tfidf-logreg", str(tiny_model_dir)], output_dir=tmp_path / "cmp",
                                 progress=None, **FAST)
    assert [c.kind for c in compared.candidates] and len(compared.candidates) == 2
    explored = fineclass.explore(frame, tmp_path / "explore", model=str(tiny_model_dir))
    assert explored.class_counts == {"joy": 50, "sadness": 50, "anger": 50}
    for shown in (run, ev, explored, compared):
        html = shown._repr_html_()
        assert "<table" in html
    assert "<img" in run._repr_html_() and "accuracy" in run._repr_html_()


def test_the_same_run_from_a_path_a_dataset_and_a_dict_of_splits(frame, tiny_model_dir, tmp_path):
    import datasets

    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    from_path = fineclass.train(path, output_dir=tmp_path / "p", model=str(tiny_model_dir), progress=None, **FAST)
    from_frame = fineclass.train(frame, output_dir=tmp_path / "f", model=str(tiny_model_dir), progress=None, **FAST)
    for split in ("train", "validation", "test"):  # the same rows in the same splits, whichever way the data came
        assert (from_path.run_dir / "data" / f"{split}.jsonl").read_text() == (from_frame.run_dir / "data" / f"{split}.jsonl").read_text()
    dataset = datasets.Dataset.from_pandas(frame[["text", "label_name"]])
    from_dataset = fineclass.train(dataset, output_dir=tmp_path / "d", model=str(tiny_model_dir), progress=None, **FAST)
    assert from_dataset.label_names == ("anger", "joy", "sadness")
    splits = {"train": frame.iloc[:100], "dev": frame.iloc[100:125], "test": frame.iloc[125:]}
    from_splits = fineclass.train(splits, output_dir=tmp_path / "s", model=str(tiny_model_dir), progress=None, **FAST)
    assert from_splits.metrics.data["rows"] == {"train": 100, "validation": 25, "test": 25}


def test_a_bad_option_raises_the_message_the_cli_prints(frame, tiny_model_dir, tmp_path):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    cli = run_cli("train", path, "--model", tiny_model_dir, "--epochs", "-1", "--batch-size", "0")
    assert cli.exit_code == 2
    with pytest.raises(fineclass.ConfigError) as err:
        fineclass.train(path, model=str(tiny_model_dir), epochs=-1, batch_size=0)
    assert cli.stderr.strip() == f"error: {err.value}"
    with pytest.raises(fineclass.ConfigError, match=r"unknown option 'epoch'; did you mean 'epochs'\?"):
        fineclass.train(path, epoch=3)
    with pytest.raises(fineclass.DataError, match="data must be a path, an http"):
        fineclass.train([("text", 1)], output_dir=tmp_path / "x")


def test_a_yaml_key_a_flag_and_a_keyword_give_the_same_config_yaml(frame, tiny_model_dir, tmp_path):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    settings = {"epochs": 2, "learning_rate": 3e-4, "seed": 7, "trainer_args": {"lr_scheduler_type": "cosine"}}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump({**settings, "max-steps": 3, "baseline": False}))
    common = ["--model", tiny_model_dir, "--quiet"]
    by_yaml = run_cli("train", path, "-o", tmp_path / "yaml", "--config", tmp_path / "run.yaml", *common)
    by_flag = run_cli("train", path, "-o", tmp_path / "flag", "--epochs", "2", "--lr", "3e-4", "--seed", "7",
                      "--trainer-arg", "lr_scheduler_type=cosine", "--max-steps", "3", "--no-baseline", *common)
    assert by_yaml.exit_code == 0 and by_flag.exit_code == 0, by_yaml.output + by_flag.output
    fineclass.train(path, output_dir=tmp_path / "kw", model=str(tiny_model_dir), progress=None, max_steps=3,
                    baseline=False, **settings)
    configs = [yaml.safe_load((tmp_path / name / "config.yaml").read_text()) for name in ("yaml", "flag", "kw")]
    for config in configs:
        config.pop("output_dir")
    assert configs[0] == configs[1] == configs[2]
    assert configs[0]["trainer_args"] == {"lr_scheduler_type": "cosine"} and configs[0]["max_steps"] == 3
