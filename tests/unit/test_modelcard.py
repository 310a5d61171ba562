"""The model card: hub front matter read back with huggingface_hub, offline, and the facts in its body."""

from __future__ import annotations

import yaml
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

from fineclass.labels import LabelSpace
from fineclass.modelcard import write_model_card
from fineclass.rundir import Thresholds

METRICS = {
    "data": {"source": "https://user:secret@example.com/tweets.csv?token=abc", "rows": {"train": 70, "test": 20}},
    "test": {"accuracy": 0.75, "f1_macro": 0.5, "f1_micro": 0.75, "rows": 20, "seconds": 0.1,
             "per_class": {"joy": {"f1": 0.8, "support": 12}, "a|b": {"f1": 0.2, "support": 8}}},
}
TRAIN = {"epochs": 3.0, "learning_rate": 1e-4, "batch_size": 32, "seconds": 12.0, "max_length": 128,
         "long_texts": {"mode": "truncate", "max_length": 128}}


def write(tmp_path, multi_label=False, example=None, metrics=METRICS, base="bundled:all-MiniLM-L6-v2"):
    model_dir = tmp_path / "model"
    model_dir.mkdir(exist_ok=True)
    space = LabelSpace(("joy", "a|b"), multi_label)
    write_model_card(model_dir, base, space, metrics, TRAIN, example)
    return model_dir / "README.md"


def test_the_front_matter_holds_the_test_metrics_of_the_test_split(tmp_path):
    card = ModelCard.load(write(tmp_path))
    data = card.data
    assert (data.pipeline_tag, data.library_name) == ("text-classification", "transformers")
    assert data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert data.tags == ["fineclass", "text-classification", "multi-class"]
    scores = {r.metric_type: r.metric_value for r in data.eval_results}
    assert scores == {"accuracy": 0.75, "f1_macro": 0.5, "f1_micro": 0.75}
    assert {r.dataset_split for r in data.eval_results} == {"test"}
    assert {r.task_type for r in data.eval_results} == {"text-classification"}
    name, results = model_index_to_eval_results(eval_results_to_model_index("model", data.eval_results))
    assert name == "model" and results == data.eval_results


def test_the_data_source_is_redacted_everywhere(tmp_path):
    text = write(tmp_path).read_text()
    assert "secret" not in text and "token=abc" not in text
    assert "https://***@example.com/tweets.csv?***" in text


def test_a_hub_dataset_is_named_in_datasets_and_the_results(tmp_path):
    card = ModelCard.load(write(tmp_path, metrics={**METRICS, "data": {"source": "hf:dair-ai/emotion:split"}}))
    assert card.data.datasets == ["dair-ai/emotion"]
    assert {r.dataset_type for r in card.data.eval_results} == {"dair-ai/emotion"}


def test_no_widget_without_an_example_and_the_given_one_with_it(tmp_path):
    assert "widget" not in yaml.safe_load(write(tmp_path).read_text().split("---")[1])
    card = ModelCard.load(write(tmp_path, example="what a lovely morning"))
    assert card.data.widget == [{"text": "what a lovely morning"}]
    assert "classifier('what a lovely morning')" in card.text


def test_the_body_has_the_labels_thresholds_long_texts_and_versions(tmp_path):
    (tmp_path / "model").mkdir()
    Thresholds({"joy": 0.35, "a|b": 0.6}, "per-label", 10).write(tmp_path / "model")
    text = ModelCard.load(write(tmp_path, multi_label=True)).text
    assert "| 0 | joy | 0.8000 | 12 | 0.350 |" in text
    assert "| 1 | a&#124;b | 0.2000 | 8 | 0.600 |" in text  # a | in a label name cannot break the table
    assert "- **Long texts:** truncated to 128 tokens." in text
    assert "transformers " in text.split("**Libraries:**")[1] and "torch " in text.split("**Libraries:**")[1]
    assert "| accuracy | 0.7500 |" in text


def test_a_run_without_a_test_split_has_no_model_index(tmp_path):
    card = ModelCard.load(write(tmp_path, metrics={"data": METRICS["data"]}))
    assert card.data.eval_results is None and card.data.pipeline_tag == "text-classification"
