"""The model card (README.md) saved with each fine-tuned model."""

from __future__ import annotations

from pathlib import Path

import yaml

from fineclass.labels import LabelSpace
from fineclass.modeling import BUNDLED_ALIASES
from fineclass.outputs import write_text_atomic
from fineclass.redact import redact_source

HEADLINE_METRICS = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "exact_match")


def long_texts_line(record: dict | None) -> str:
    """How the model reads texts over its window; `pipeline()` itself always truncates, `fineclass predict` does not."""
    if not record or record.get("mode") == "truncate":
        return ""
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


def write_model_card(model_dir: Path, base_model: str, label_space: LabelSpace, metrics: dict, train: dict) -> None:
    test = metrics.get("test", {})
    if base_model.lower() in BUNDLED_ALIASES:
        base_model = "sentence-transformers/all-MiniLM-L6-v2"
    source = redact_source(str(metrics.get("data", {}).get("source", "?")))
    rows_text = ", ".join(f"{split} {n}" for split, n in metrics.get("data", {}).get("rows", {}).items())
    front = {
        "library_name": "transformers",
        "pipeline_tag": "text-classification",
        "tags": ["fineclass", "text-classification", "multi-label" if label_space.multi_label else "multi-class"],
        "base_model": base_model,
    }
    rows = "\n".join(f"| {name} | {test[name]:.4f} |" for name in HEADLINE_METRICS if name in test)
    labels = ", ".join(label_space.names)
    task = "multi-label (sigmoid per label, threshold in thresholds.json)" if label_space.multi_label else "multi-class (softmax)"
    text = f"""---
{yaml.safe_dump(front, sort_keys=False).strip()}
---

# Text classifier fine-tuned with fineclass

- **Base model:** `{base_model}`
- **Task:** {task}, {label_space.num_labels} labels: {labels}
- **Training data:** `{source}` (rows: {rows_text})
- **Training:** {train.get('epochs')} epochs, learning rate {train.get('learning_rate')}, batch size {train.get('batch_size')}, {train.get('seconds', 0):.0f} s
{small_data_line(train.get('small_data'))}{long_texts_line(train.get('long_texts'))}
## Test metrics

| metric | value |
|---|---|
{rows}

## Use

```python
from transformers import pipeline

classifier = pipeline("text-classification", model="{model_dir.name}")
classifier("I am super happy today!")
```

or `fineclass predict {model_dir.name} "I am super happy today!"`.
"""
    write_text_atomic(model_dir / "README.md", text)
