"""The model card (README.md) saved with each fine-tuned model, in the Hugging Face Hub's format.

The front matter is `huggingface_hub`'s `ModelCardData`, with a `model-index` of the test metrics, so a hub page
shows them. A widget example is published only when the user gives one: a training row never is.
"""

from __future__ import annotations

import shlex
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from fineclass.labels import LabelSpace
from fineclass.modeling import BUNDLED_ALIASES
from fineclass.outputs import write_text_atomic
from fineclass.redact import redact_source
from fineclass.rundir import Thresholds

HEADLINE_METRICS = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "f1_samples", "exact_match")
LIBRARIES = ("fineclass", "transformers", "torch", "tokenizers", "huggingface_hub")
TASK = "text-classification"


def long_texts_line(record: dict | None, max_length: int | None = None) -> str:
    """How the model reads texts over its window; `pipeline()` itself always truncates, `fineclass predict` does not."""
    if not record or record.get("mode") == "truncate":
        return f"- **Long texts:** truncated to {(record or {}).get('max_length') or max_length} tokens.\n"
    return (f"- **Long texts:** {record['mode']} (`long_texts.json`, {record.get('max_length')}-token window). "
            "`fineclass predict` and `Predictor` read long texts this way; `pipeline()` truncates them.\n")


def small_data_line(small: dict | None) -> str:
    """How a small training set was trained, and the appended mean-pooling layer the model holds, if any."""
    if not small or not small.get("small"):
        return ""
    line = f"- **Few labels:** {small['reason']}"
    if small.get("pooling") == "mean":
        line += ("; the last encoder layer was appended to mean the token states (uniform attention), so the head "
                 "reads a mean-pooled sentence embedding")
    return line + "\n"


def hub_dataset(source: str) -> str | None:
    """The hub dataset a run trained on (hf:NAME[:CONFIG]), or None for files and URLs."""
    return source[3:].split(":")[0] if source.startswith("hf:") else None


def card_data(model_name: str, base_model: str, label_space: LabelSpace, metrics: dict,
              example: str | None = None) -> ModelCardData:
    """The front matter: the base model, the task, tags, the dataset where known, and the test metrics."""
    source = redact_source(str(metrics.get("data", {}).get("source", "?")))
    dataset = hub_dataset(source)
    test = metrics.get("test", {})
    results = [EvalResult(task_type=TASK, dataset_type=dataset or "custom", dataset_name=dataset or source,
                          dataset_split="test", metric_type=name, metric_value=float(test[name]))
               for name in HEADLINE_METRICS if name in test]
    extra = {"widget": [{"text": example}]} if example else {}
    return ModelCardData(
        model_name=model_name, base_model=base_model, pipeline_tag=TASK, library_name="transformers",
        tags=["fineclass", TASK, "multi-label" if label_space.multi_label else "multi-class"],
        datasets=[dataset] if dataset else None, eval_results=results or None, **extra,
    )


def label_table(label_space: LabelSpace, test: dict, thresholds: Thresholds | None) -> str:
    """One row a label: its id, name, test F1 and support, and its decision threshold (multi-label)."""
    per_class = test.get("per_class", {})
    head = "| id | label | test F1 | test support |" + (" threshold |" if thresholds else "")
    rows = [head, "|---|---|---|---|" + ("---|" if thresholds else "")]
    for index, name in enumerate(label_space.names):
        scores = per_class.get(name, {})
        f1 = f"{scores['f1']:.4f}" if "f1" in scores else ""
        row = f"| {index} | {name.replace('|', '&#124;')} | {f1} | {scores.get('support', '')} |"
        if thresholds:
            row += f" {thresholds.thresholds.get(name, thresholds.default):.3f} |"
        rows.append(row)
    return "\n".join(rows)


def library_versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def write_model_card(model_dir: Path, base_model: str, label_space: LabelSpace, metrics: dict, train: dict,
                     example: str | None = None) -> None:
    """Write model_dir/README.md; `example` (--card-example) becomes the hub widget's text."""
    if base_model.lower() in BUNDLED_ALIASES:
        base_model = "sentence-transformers/all-MiniLM-L6-v2"
    data = card_data(model_dir.name, base_model, label_space, metrics, example)
    text = f"---\n{data.to_yaml()}\n---\n\n{card_body(model_dir, base_model, label_space, metrics, train, example)}"
    write_text_atomic(model_dir / "README.md", str(ModelCard(text, ignore_metadata_errors=True)))


def card_body(model_dir: Path, base_model: str, label_space: LabelSpace, metrics: dict, train: dict,
              example: str | None) -> str:
    test = metrics.get("test", {})
    source = redact_source(str(metrics.get("data", {}).get("source", "?")))
    rows_text = ", ".join(f"{split} {n}" for split, n in metrics.get("data", {}).get("rows", {}).items())
    rows = "\n".join(f"| {name} | {test[name]:.4f} |" for name in HEADLINE_METRICS if name in test)
    thresholds = Thresholds.read(model_dir) if label_space.multi_label else None
    task = "multi-label (sigmoid per label, threshold in thresholds.json)" if label_space.multi_label else "multi-class (softmax)"
    sample = example or "I am super happy today!"
    return f"""# Text classifier fine-tuned with fineclass

- **Base model:** `{base_model}`
- **Task:** {task}, {label_space.num_labels} labels: {", ".join(label_space.names)}
- **Training data:** `{source}` (rows: {rows_text})
- **Training:** {train.get('epochs')} epochs, learning rate {train.get('learning_rate')}, batch size {train.get('batch_size')}, {train.get('seconds', 0):.0f} s
{small_data_line(train.get('small_data'))}{long_texts_line(train.get('long_texts'), train.get('max_length'))}- **Libraries:** {library_versions()}

## Test metrics

On the test split ({test.get('rows', '?')} rows).

| metric | value |
|---|---|
{rows}

## Labels

{label_table(label_space, test, thresholds)}

## Use

```python
from transformers import pipeline

classifier = pipeline("text-classification", model="{model_dir.name}")
classifier({sample!r})
```

or `fineclass predict {model_dir.name} {shlex.quote(sample)}`.
"""
