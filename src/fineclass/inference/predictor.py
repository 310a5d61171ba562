"""Predictor: fast, order-preserving batch prediction, the one path every command shares."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fineclass.data.long_texts import cut_documents, pool_windows
from fineclass.data.tokenize import unknown_token_warning
from fineclass.errors import ConfigError
from fineclass.inference.backends import OnnxBackend, TorchBackend, is_onnx_dir
from fineclass.inference.scores import sigmoid, softmax
from fineclass.labels import LabelSpace
from fineclass.modelfiles import check_label_count, check_model_files
from fineclass.modeling import (check_vocabulary, compute_last_layer_for_cls_only, load_classifier, load_tokenizer,
                                model_max_length)
from fineclass.rundir import LongTexts, Thresholds, resolve_model_dir


@dataclass
class Prediction:
    """One text's result: the chosen label(s) with scores, and the top-k labels."""

    text: str
    labels: list[str]
    scores: list[float]
    top_k: list[tuple[str, float]] = field(default_factory=list)
    windows: int = 1
    """How many windows of the text the model read (more than 1 only with --long-texts windows)."""
    abstained: bool | None = None
    """With a minimum confidence: True when the answer is less sure than that (`labels` still says what it would be)."""

    @property
    def label(self) -> str | None:
        return self.labels[0] if self.labels else None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "labels": self.labels,
            "scores": [round(s, 6) for s in self.scores],
            "top_k": [{"label": n, "score": round(s, 6)} for n, s in self.top_k],
            "windows": self.windows,
            **({} if self.abstained is None else {"abstained": self.abstained}),
        }


class Predictor:
    """Classify texts with a fine-tuned model.

    Texts are sorted by token count so each batch pads only to its own longest text,
    run under `torch.inference_mode`, and returned in the order they came in. Texts longer than the window are
    read as `long_texts` says (truncated, head and tail, or overlapping windows pooled into one score per text).
    """

    def __init__(self, model, tokenizer, batch_size: int = 64, max_length: int | None = None, thresholds=None,
                 precision: str = "fp32", compile: bool = False, device: str | None = None,
                 long_texts: LongTexts | None = None, min_confidence: float | None = None):
        """`model` is a transformers model or a backend (TorchBackend, OnnxBackend).

        `long_texts` says how texts over the window are read; truncation at `max_length` when None. Its
        `max_length` is the window, unless `max_length` is given.

        `compile` torch.compiles a torch model (about 30 s once per process for MiniLM, then about 1.35x
        faster in bf16 on this CPU).
        `device` moves a torch model there ("cpu", "cuda", "cuda:1"); None leaves it where it was loaded (the CPU).
        `min_confidence` marks answers less sure than it as abstained (see `decide`).
        """
        self.backend = model if isinstance(model, (TorchBackend, OnnxBackend)) else TorchBackend(model, precision, compile, device)
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        window = max_length if max_length is not None else (long_texts.max_length if long_texts else None)
        self.max_length = model_max_length(tokenizer, self.backend.config, window)
        long_texts = long_texts or LongTexts("truncate", self.max_length)
        self.long_texts = LongTexts(**{**long_texts.__dict__, "max_length": self.max_length})
        self.label_space = LabelSpace.from_model_config(self.backend.config)
        self.thresholds = np.full(self.label_space.num_labels, 0.5) if thresholds is None else np.asarray(thresholds)
        self._single_text_tokenizer = single_text_tokenizer(tokenizer, self.max_length)
        self.texts_at_limit = 0
        """Texts encoded so far that reached `max_length` tokens and were truncated there (--long-texts truncate)."""
        self.tokens_read = 0
        self.unknown_tokens = 0
        """Tokens encoded so far (special tokens left out), and how many of them were the unknown token."""
        self._specials = {pair: tokenizer.num_special_tokens_to_add(pair=pair) for pair in (False, True)}
        self.min_confidence = check_min_confidence(min_confidence)
        self.window_counts = np.zeros(0, dtype=np.int64)
        """Windows read for each text of the last `predict_logits` call (`logits_and_windows` returns them instead,
        for callers that share the Predictor between threads)."""

    @classmethod
    def from_dir(cls, path: str | Path, long_texts: LongTexts | dict | str | None = None, **kwargs) -> Predictor:
        """Load a run, model or ONNX export directory; its thresholds.json and long_texts.json apply when present.

        `long_texts` replaces the saved way of reading long texts: a `LongTexts`, a mode ("windows"), or a dict of
        the fields to change ({"mode": "windows", "max_windows": 4}).
        """
        model_dir = resolve_model_dir(path)
        kwargs["long_texts"] = LongTexts.read(model_dir, override=long_texts)
        if is_onnx_dir(model_dir):
            kwargs.pop("compile", None)  # nothing to compile in an ONNX graph
            kwargs.pop("device", None)  # ONNX exports run on the CPU
            check_label_count(model_dir, check_model_files(model_dir))  # the JSON files, as for a torch model
            model = OnnxBackend(model_dir)
            tokenizer = load_tokenizer(str(model_dir))
        else:
            model, tokenizer = load_classifier(model_dir)
            compute_last_layer_for_cls_only(model)  # a model of our own loading: its [CLS] logits, 14% fewer products
        check_vocabulary(tokenizer, model.config, str(model_dir))
        if "thresholds" not in kwargs:
            kwargs["thresholds"] = Thresholds.read_for_labels(model_dir, LabelSpace.from_model_config(model.config).names)
        return cls(model, tokenizer, **kwargs)

    def predict_logits(self, texts: list[str], text_pairs: list[str] | None = None) -> np.ndarray:
        """Raw logits, one row per text, in input order (a long text's windows pooled into one row)."""
        logits, self.window_counts = self.logits_and_windows(texts, text_pairs)
        return logits

    def logits_and_windows(self, texts: list[str], text_pairs: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Logits per text, and how many windows each text was read as."""
        encoded, counts = self.encode_documents(texts, text_pairs)
        return self.pool(self.logits_from_encoded(encoded), counts), counts

    def encode_documents(self, texts: list[str], text_pairs: list[str] | None = None) -> tuple[dict, np.ndarray]:
        """`encode` for whole texts: each long text becomes its window(s) as `long_texts` says. Returns the
        encoded inputs, one per window, and the number of windows of each text (consecutive in the inputs)."""
        texts = list(texts)
        text_pairs = None if text_pairs is None else list(text_pairs)
        if text_pairs is not None and len(text_pairs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(text_pairs)} text pairs; give one pair per text")
        pieces = cut_documents(texts, self.tokenizer, self.long_texts, text_pairs)
        return self.encode(pieces.texts, pieces.pairs), pieces.counts

    def pool(self, logits: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """One row of logits per text from its windows' rows."""
        return pool_windows(logits, counts, self.long_texts.window_pooling)

    def encode(self, texts: list[str], text_pairs: list[str] | None = None) -> dict[str, list[list[int]]]:
        """Token ids (and masks) per text, truncated to the model's limit and not yet padded.

        `text_pairs` makes each input a sentence pair (text, pair), with segment ids, as the model was trained.
        """
        if not texts:
            return {"input_ids": []}
        if text_pairs is not None:
            text_pairs = list(text_pairs)
            if len(text_pairs) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(text_pairs)} text pairs; give one pair per text")
        fast = self._single_text_tokenizer
        if len(texts) == 1 and fast is not None and fast.truncation["direction"] == self.tokenizer.truncation_side:
            # The batch call releases the GIL; next to a busy model thread (serve), getting it back waited up to
            # the 5 ms switch interval. A single encode keeps the GIL: 40 us instead of 5 ms here.
            encoding = fast.encode(texts[0], text_pairs[0] if text_pairs else None)
            fields = {"input_ids": encoding.ids, "token_type_ids": encoding.type_ids, "attention_mask": encoding.attention_mask}
            encoded = {k: [fields[k]] for k in self.tokenizer.model_input_names if k in fields}
        else:
            batch = self.tokenizer(list(texts), text_pairs, truncation=True, max_length=self.max_length)
            encoded = {k: batch[k] for k in self.tokenizer.model_input_names if k in batch}
        if self.long_texts.mode == "truncate":  # other modes cut long texts themselves
            self.texts_at_limit += sum(len(ids) >= self.max_length for ids in encoded["input_ids"])
        self.count_unknown_tokens(encoded["input_ids"], text_pairs is not None)
        return encoded

    def count_unknown_tokens(self, input_ids: list[list[int]], pairs: bool) -> None:
        unknown = getattr(self.tokenizer, "unk_token_id", None)
        if unknown is None:
            return
        specials = self._specials[pairs]
        self.tokens_read += sum(max(len(ids) - specials, 0) for ids in input_ids)
        self.unknown_tokens += sum(ids.count(unknown) for ids in input_ids)

    def unknown_token_warning(self) -> str | None:
        """A warning when the texts encoded so far were a large share [UNK] for this model's vocabulary."""
        share = self.unknown_tokens / self.tokens_read if self.tokens_read else None
        return unknown_token_warning(self.tokenizer, [], share)

    def logits_from_encoded(self, encoded: dict[str, list[list[int]]]) -> np.ndarray:
        """Logits for texts `encode` returned: sorted by length, padded per batch, put back in order."""
        count = len(encoded["input_ids"])
        logits = np.zeros((count, self.label_space.num_labels), dtype=np.float32)
        lengths = np.array([len(ids) for ids in encoded["input_ids"]], dtype=np.int64)
        order = np.argsort(lengths, kind="stable")
        pad_multiple = getattr(self.backend, "pad_multiple", None)
        call_cost = getattr(self.backend, "call_cost_tokens", None)  # None (a GPU, a plain callable): never split
        for start in range(0, count, self.batch_size):
            chunk = order[start:start + self.batch_size]
            # Mixed lengths (a server batch) run as a few passes of similar length rather than one padded pass.
            for part in split_by_length(lengths[chunk], call_cost, pad_multiple or 1):
                rows = chunk[part]
                batch = self.tokenizer.pad({k: [v[i] for i in rows] for k, v in encoded.items()}, return_tensors="np",
                                           pad_to_multiple_of=pad_multiple)
                logits[rows] = self.backend(batch)
        return logits

    def warm_up(self) -> None:
        """Run three small batches of different shapes, so a compiled model (dynamic shapes) has compiled
        before the first real call, and oneDNN has built its first kernels."""
        for count, words in ((1, 4), (2, 12), (3, 20)):
            self.predict_logits([" ".join(["hello"] * words)] * count)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Softmax (multi-class) or per-label sigmoid (multi-label) of logits."""
        return sigmoid(logits) if self.label_space.multi_label else softmax(logits)

    def predict_proba(self, texts: list[str], text_pairs: list[str] | None = None) -> np.ndarray:
        """Softmax probabilities (multi-class) or per-label sigmoid probabilities (multi-label)."""
        return self.probabilities(self.predict_logits(texts, text_pairs))

    def predict(self, texts: list[str], top_k: int = 1, threshold: float | None = None,
                text_pairs: list[str] | None = None, min_confidence: float | None = None) -> list[Prediction]:
        """Labels for each text (or each (text, pair) with `text_pairs`); multi-label keeps every label at or
        above its threshold. `min_confidence` replaces the predictor's own for this call."""
        texts = list(texts)
        logits, windows = self.logits_and_windows(texts, text_pairs)
        return self.decide(texts, self.probabilities(logits), top_k, threshold, windows, min_confidence)

    def decide(self, texts, probs: np.ndarray, top_k: int = 1, threshold: float | None = None,
               windows=None, min_confidence: float | None = None) -> list[Prediction]:
        """Predictions from probabilities. Below the minimum confidence an answer is marked abstained: the top
        score for multi-class; for multi-label, when any label's decision is unsure, max(p, 1 - p) below it."""
        names = self.label_space.names
        floor = self.min_confidence if min_confidence is None else check_min_confidence(min_confidence)
        sure = confidence(probs, self.label_space.multi_label) if floor is not None else None
        thresholds = self.thresholds if threshold is None else np.full(len(names), threshold)
        results = []
        windows = np.ones(len(probs), dtype=np.int64) if windows is None else windows
        for text, p, count in zip(texts, probs, windows, strict=True):
            ranked = np.argsort(-p, kind="stable")
            top = [(names[i], float(p[i])) for i in ranked[:max(top_k, 1)]]
            if self.label_space.multi_label:
                chosen = [i for i in ranked if p[i] >= thresholds[i]]
            else:
                chosen = [int(ranked[0])]
            results.append(Prediction(text, [names[i] for i in chosen], [float(p[i]) for i in chosen], top, int(count)))
        if sure is not None:
            for result, value in zip(results, sure):
                result.abstained = bool(value < floor)
        return results


def confidence(probs: np.ndarray, multi_label: bool) -> np.ndarray:
    """How sure each answer is: the top score (multi-class), or the least sure label's max(p, 1 - p) (multi-label)."""
    probs = np.asarray(probs)
    if multi_label:
        return np.maximum(probs, 1 - probs).min(axis=1) if probs.size else np.zeros(len(probs))
    return probs.max(axis=1) if probs.size else np.zeros(len(probs))


def check_min_confidence(value: float | None) -> float | None:
    """A minimum confidence is a number from 0 to 1 (None: never abstain)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"min_confidence must be a number from 0 to 1, not {value!r}; for example 0.8")
    return float(value)


def single_text_tokenizer(tokenizer, max_length: int):
    """The fast tokenizer's Rust backend, set to truncate at `max_length` and not pad; None for slow tokenizers."""
    backend = getattr(tokenizer, "backend_tokenizer", None) if getattr(tokenizer, "is_fast", False) else None
    if backend is None:
        return None
    backend = copy.deepcopy(backend)
    backend.enable_truncation(max_length, direction=tokenizer.truncation_side)
    backend.no_padding()
    backend.encode_special_tokens = getattr(tokenizer, "split_special_tokens", False)
    return backend


def split_by_length(lengths: np.ndarray, call_cost_tokens: int | None, pad_multiple: int = 1) -> list[slice]:
    """Cut texts sorted by token count into forward passes that cost least in all.

    One pass costs about `call_cost_tokens` (its fixed overhead) plus count x longest padded tokens. A
    server batch of 32 random tweets pads to its longest text; cutting it into two or three runs of similar
    length saves more padded tokens than the extra passes cost. Dynamic programming over the cut points.
    None means a backend whose passes are never worth splitting: one pass.
    """
    count = len(lengths)
    if call_cost_tokens is None or count < 2:
        return [slice(0, count)]
    padded = -(-np.asarray(lengths, dtype=np.int64) // pad_multiple) * pad_multiple
    if count * padded[-1] - padded.sum() <= call_cost_tokens:
        return [slice(0, count)]  # the padding saved could not pay for a second pass
    best, cut = np.zeros(count + 1), np.zeros(count + 1, dtype=np.int64)
    for end in range(1, count + 1):
        costs = best[:end] + call_cost_tokens + (end - np.arange(end)) * padded[end - 1]
        cut[end] = int(np.argmin(costs))
        best[end] = costs[cut[end]]
    parts, end = [], count
    while end:
        parts.append(slice(int(cut[end]), end))
        end = int(cut[end])
    return parts[::-1]
