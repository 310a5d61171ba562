"""Few labels on the tiny model: the step schedule a small set gets, mean pooling through `train`, and
`fineclass learning-curve` with two sizes, from the CLI and from Python."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import make_texts, run_cli

QUICK = ["--learning-rate", "1e-3", "--warmup-ratio", "0", "--no-baseline", "--no-report", "--quiet"]


@pytest.fixture(scope="module")
def sentence_encoder(tiny_model_dir, tmp_path_factory):
    """The tiny BERT as a sentence-transformers folder that declares mean pooling, as all-MiniLM-L6-v2 does."""
    directory = tmp_path_factory.mktemp("tiny-sentence-encoder") / "model"
    shutil.copytree(tiny_model_dir, directory)
    (directory / "1_Pooling").mkdir()
    (directory / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    return directory


@pytest.fixture(scope="module")
def small_run(sentence_encoder, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("few-labels")
    data = tmp / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    result = run_cli("train", data, "--model", sentence_encoder, "-o", tmp / "run", "--max-train-samples", "24",
                     "--min-steps", "40", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    return tmp / "run", result


def test_a_small_set_trains_min_steps_in_batches_of_16_and_says_so(small_run):
    run, result = small_run
    assert ("schedule: 24 training rows make 3 optimizer steps in 3 epochs (under --min-steps 40); training 40 steps "
            "of 16 texts instead (20 epochs), validating once, after the last step") in " ".join(result.output.split())
    assert "the validation split has 10 texts of class" in " ".join((result.output + result.stderr).split())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["data"]["rows"]["train"] == 24
    assert metrics["train"]["steps"] == 40 and metrics["train"]["batch_size"] == 16
    assert [v["step"] for v in metrics["validation"]] == [40]
    small = metrics["train"]["small_data"]
    assert small["small"] and small["pooling"] == "mean" and small["contrastive_weight"] == 1.0
    assert metrics["test"]["accuracy"] > 0.5  # three classes: better than chance after training


def test_mean_pooling_saves_a_standard_model_with_one_more_layer(small_run):
    from transformers import pipeline

    run, _ = small_run
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["num_hidden_layers"] == 3 and config["architectures"] == ["BertForSequenceClassification"]
    card = (run / "model" / "README.md").read_text()
    assert "- **Few labels:** 24 training rows make 3 optimizer steps" in card and "mean-pooled sentence embedding" in card
    classifier = pipeline("text-classification", model=str(run / "model"))
    assert classifier("i am so happy today")[0]["label"] in {"joy", "sadness", "anger"}
    predicted = run_cli("predict", run, "i feel happy and glad", "--json")
    assert predicted.exit_code == 0, predicted.output


def test_a_small_sets_checkpoint_choice_reads_a_validation_sample(sentence_encoder, tmp_path, monkeypatch):
    import fineclass.recipes.train.setup as train_recipe
    import fineclass.training.small_data as small_data

    monkeypatch.setattr(small_data, "VALIDATION_TEXTS", 20)  # of the toy data's 30 validation texts
    encoded, real_encode = {}, train_recipe.encode_frame

    def counting_encode(frame, tokenizer, label_space, max_length, split, long_texts):
        encoded[split] = len(frame)
        return real_encode(frame, tokenizer, label_space, max_length, split, long_texts)

    monkeypatch.setattr(train_recipe, "encode_frame", counting_encode)
    data = tmp_path / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    result = run_cli("train", data, "--model", sentence_encoder, "-o", tmp_path / "run", "--max-train-samples", "24",
                     "--min-steps", "20", "--pooling", "mean", "--contrastive-weight", "0", "--cls-only-last-layer", *QUICK)
    assert result.exit_code == 0, result.output
    assert "cls_only_last_layer: true" in (tmp_path / "run" / "config.yaml").read_text()
    assert "validating once, after the last step on 20 of the 30 validation texts" in " ".join(result.output.split())
    assert encoded == {"train": 24, "validation": 20}
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["train"]["small_data"]["validation_texts"] == 20
    assert metrics["data"]["rows"]["validation"] == 30  # the split itself, and tuned thresholds, keep all of it


def test_min_steps_0_keeps_the_epoch_schedule(sentence_encoder, tmp_path):
    data = tmp_path / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    result = run_cli("train", data, "--model", sentence_encoder, "-o", tmp_path / "run", "--max-train-samples", "24",
                     "--min-steps", "0", "--epochs", "2", *QUICK)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["train"]["steps"] == 2 and metrics["train"]["small_data"]["pooling"] == "cls"
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["num_hidden_layers"] == 2


def test_learning_curve_trains_each_size_and_seed_on_one_split(tiny_model_dir, tmp_path):
    data = tmp_path / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    out = tmp_path / "curve"
    result = run_cli("learning-curve", data, "--model", tiny_model_dir, "--sizes", "12,all", "--seeds", "2",
                     "--models", str(tiny_model_dir), "tfidf-logreg", "-o", out, "--min-steps", "10", "--epochs", "1",
                     *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    curve = json.loads((out / "learning_curve.json").read_text())
    assert curve["metric"] == "accuracy" and curve["rows"]["train"] == 210
    sizes = {(row["candidate"], row["size"]): row["runs"] for row in curve["summary"]}
    name = tiny_model_dir.name
    assert sizes == {(name, 12): 2, ("tfidf-logreg", 12): 2, (name, 210): 1, ("tfidf-logreg", 210): 1}
    seeds = sorted({(p["size"], p["seed"]) for p in curve["points"]})
    assert seeds == [(12, 42), (12, 43), (210, 42)]
    tests = {json.dumps(json.loads((out / "points" / f"12-seed{s}" / "data" / "test.jsonl").read_text().splitlines()[0]))
             for s in (42, 43)}
    assert len(tests) == 1  # every point is scored on the same test split
    assert sum(1 for _ in (out / "points" / "12-seed42" / "data" / "train.jsonl").open()) == 12
    run = out / "points" / "12-seed42" / "candidates" / name
    assert (run / "metrics.json").is_file() and not list(run.rglob("*.safetensors"))  # weights removed once scored
    assert curve["fits"][name] == {"fitted": False, "reason": "needs at least three sizes"}
    assert (out / "plots" / "learning_curve.png").stat().st_size > 10_000
    assert "learning curve (test split, accuracy)" in result.output


def test_learning_curve_from_python_with_a_dataframe(tiny_model_dir, tmp_path):
    import fineclass

    curve = fineclass.learning_curve(make_texts(300), sizes=[15, 30], seeds=1, model=str(tiny_model_dir),
                                     output_dir=tmp_path / "curve", models=["tfidf-logreg"], progress=None,
                                     keep_models=True, report=False)
    assert [(row["size"], row["runs"]) for row in curve.summary] == [(15, 1), (30, 1)]
    assert (tmp_path / "curve" / "points" / "15-seed42" / "candidates").is_dir()
    assert "<table>" in curve._repr_html_()


def test_learning_curve_sizes_are_checked_before_any_work(tmp_path):
    from fineclass import FineclassError, learning_curve

    result = run_cli("learning-curve", tmp_path / "missing.csv", "--sizes", "48,many")
    assert result.exit_code == 2
    assert "--sizes 'many' must be a whole number of training texts >= 2 or 'all'" in result.output
    with pytest.raises(FineclassError, match="--seeds must be >= 1"):
        learning_curve(make_texts(60), sizes=[10], seeds=0, output_dir=tmp_path / "c", progress=None)


def test_the_few_sample_strategies_train_from_the_cli_and_are_recorded(sentence_encoder, tmp_path):
    data = tmp_path / "toy.csv"
    make_texts(300).to_csv(data, index=False)
    result = run_cli("train", data, "--model", sentence_encoder, "-o", tmp_path / "run", "--max-train-samples", "24",
                     "--min-steps", "20", "--linear-probe", "--layer-lr-decay", "0.8", "--reinit-layers", "1", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "linear probe: the head starts from a logistic regression on 24 training rows' features" in " ".join(result.output.split())
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "linear_probe: true" in config and "layer_lr_decay: 0.8" in config and "reinit_layers: 1" in config
    refused = run_cli("train", data, "--model", sentence_encoder, "-o", tmp_path / "bad", "--layer-lr-decay", "1.5", *QUICK)
    assert refused.exit_code == 2 and "--layer-lr-decay must be in (0, 1], got 1.5" in refused.output + refused.stderr
    # refused before the run it would overwrite is touched
    too_many = run_cli("train", data, "--model", sentence_encoder, "-o", tmp_path / "run", "--overwrite",
                       "--reinit-layers", "3", *QUICK)
    assert too_many.exit_code == 2
    assert "--reinit-layers 3: the model has only 2 encoder layers" in too_many.output + too_many.stderr
    assert (tmp_path / "run" / "model" / "config.json").is_file()
