"""Seeded, stratified samples of the training split (--max-train-samples)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("size", [12, 25, 40])
def test_max_train_samples_draws_exactly_n_rows_that_keep_the_classes(size):
    from fineclass.data.split import sample_stratified
    from tests.conftest import make_multilabel_texts, make_texts

    texts = make_texts(300).assign(labels=lambda f: [[name] for name in f["label_name"]])
    sample = sample_stratified(texts, size, multi_label=False, seed=42)
    assert len(sample) == size and set(sample["label_name"]) == {"joy", "sadness", "anger"}
    assert sample.equals(sample_stratified(texts, size, multi_label=False, seed=42))  # seeded
    tagged = make_multilabel_texts(300).assign(labels=lambda f: [label.split(",") for label in f["label"]])
    assert len(sample_stratified(tagged, size, multi_label=True, seed=42)) == size  # iterative stratification too
