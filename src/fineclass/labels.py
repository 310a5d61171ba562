"""LabelSpace: label names <-> ids, and single- or multi-label encoding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelSpace:
    """The ordered label names of a task, and whether a text may carry several of them."""

    names: tuple[str, ...]
    multi_label: bool

    def __post_init__(self) -> None:
        if len(set(self.names)) != len(self.names):
            duplicates = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"duplicate label names: {duplicates}")

    @property
    def num_labels(self) -> int:
        return len(self.names)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    @property
    def problem_type(self) -> str:
        return "multi_label_classification" if self.multi_label else "single_label_classification"

    def encode(self, labels: Sequence[str] | Sequence[Sequence[str]]) -> np.ndarray:
        """Label names to class ids (single-label) or a float32 multi-hot matrix (multi-label)."""
        label2id = self.label2id
        if not self.multi_label:
            return np.array([label2id[name] for name in labels], dtype=np.int64)
        multi_hot = np.zeros((len(labels), self.num_labels), dtype=np.float32)
        for row, names in enumerate(labels):
            for name in names:
                multi_hot[row, label2id[name]] = 1.0
        return multi_hot

    def to_dict(self) -> dict:
        return {"names": list(self.names), "multi_label": self.multi_label}

    @classmethod
    def from_model_config(cls, config) -> LabelSpace:
        """Read the label space back from a Hugging Face `PretrainedConfig`."""
        id2label = {int(i): name for i, name in config.id2label.items()}
        names = tuple(id2label[i] for i in range(len(id2label)))
        return cls(names=names, multi_label=config.problem_type == "multi_label_classification")
