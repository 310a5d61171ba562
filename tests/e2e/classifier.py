"""A classifier directory without training: the tiny BERT with an untrained head, for predict and evaluate."""

import shutil
from pathlib import Path

NAMES = ["joy", "sadness", "anger"]


def save_untrained_classifier(tiny_model_dir: Path, directory: Path) -> Path:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_model_dir, num_labels=len(NAMES), id2label=dict(enumerate(NAMES)), label2id={n: i for i, n in enumerate(NAMES)})
    model.save_pretrained(directory)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tiny_model_dir / name, directory / name)
    return directory
