"""Sentence vectors from an encoder that is never trained: mean-pooled, L2-normalised last hidden states.

`compare`'s frozen-encoder candidate and `audit` (its fast probabilities and its near-duplicates) embed through this.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fineclass.errors import ModelError, first_line


class MeanPooledEncoder:
    """A model's encoder with its tokenizer, turning texts into one unit vector each."""

    def __init__(self, model_path: str, batch_size: int = 128, max_length: int | None = None, device: str = "cpu",
                 precision: str = "fp32"):
        """`device` and `precision` as devices.py resolves them: "cpu" or "cuda[:N]", and "fp32" or "bf16" (autocast)."""
        from transformers import AutoModel

        from fineclass.modeling import load_tokenizer, model_max_length

        self.tokenizer = load_tokenizer(model_path)
        try:
            self.encoder = AutoModel.from_pretrained(model_path).eval().to(device)
        except (OSError, ValueError) as err:
            raise ModelError(f"could not load model {model_path!r}: {first_line(err)}") from None
        self.batch_size = batch_size
        self.max_length = model_max_length(self.tokenizer, self.encoder.config, max_length)
        self.device = torch.device(device)
        self.autocast = precision == "bf16"

    @property
    def dimensions(self) -> int:
        return self.encoder.config.hidden_size

    def embed(self, texts: list[str], pairs: list[str] | None = None,
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """One vector per text (or text pair), in input order. Texts are sorted by length so each batch pads little;
        `on_batch` is told how many texts each finished batch held (for a progress bar)."""
        encoded = self.tokenizer(list(texts), list(pairs) if pairs is not None else None, truncation=True,
                                 max_length=self.max_length)
        order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
        keys = [k for k in self.tokenizer.model_input_names if k in encoded]
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = self.tokenizer.pad({k: [encoded[k][i] for i in rows] for k in keys}, return_tensors="pt").to(self.device)
            with torch.inference_mode(), torch.autocast(self.device.type, torch.bfloat16, enabled=self.autocast):
                hidden = self.encoder(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            vectors[rows] = torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()
            if on_batch is not None:
                on_batch(len(rows))
        return vectors
