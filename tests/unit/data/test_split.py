"""Seeded, stratified splits and samples: --max-train-samples, and classes too rare to stratify."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.data.split import rare_classes, split_task, stratified_split
from fineclass.errors import DataError
from tests.conftest import make_multilabel_texts, make_texts


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


# ---- train what can be trained: classes too rare to stratify ------------------------------------------

EMOTION = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "emotion" / "emotion.csv"
SHARES = {"train": 0.7, "test": 0.2, "validation": 0.1}


def single_label(counts: dict[str, int]) -> pd.DataFrame:
    names = [name for name, count in counts.items() for _ in range(count)]
    return pd.DataFrame({"text": [f"text {i}" for i in range(len(names))], "labels": [[n] for n in names],
                         "row": range(len(names))})


def per_split(parts: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    return {split: dict(Counter(n for labels in part["labels"] for n in labels)) for split, part in parts.items()}


def test_a_class_with_a_row_for_every_split_gets_one_in_each_and_a_rarer_one_stays_in_train():
    parts = stratified_split(single_label({"common": 40, "other": 30, "eight": 8, "three": 3, "two": 2}), SHARES,
                             multi_label=False, seed=0)
    counts = per_split(parts)
    assert [counts[s].get("three") for s in ("train", "test", "validation")] == [1, 1, 1]
    assert [counts[s].get("eight") for s in ("train", "test", "validation")] == [6, 1, 1]
    assert counts["train"]["two"] == 2 and "two" not in counts["test"] and "two" not in counts["validation"]
    assert sorted(r for part in parts.values() for r in part["row"]) == list(range(83))  # every row, once
    again = stratified_split(single_label({"common": 40, "other": 30, "eight": 8, "three": 3, "two": 2}), SHARES,
                             multi_label=False, seed=0)
    assert all(parts[s]["row"].tolist() == again[s]["row"].tolist() for s in parts)  # seeded


def test_iterative_stratification_places_rare_labels_the_same_way():
    frame = make_multilabel_texts(120).assign(labels=lambda f: [[("joy", "sadness", "anger")[int(i)] for i in s.split(",")]
                                                               for s in f["label"]], row=range(120))
    frame.loc[[3, 50, 90], "labels"] = frame.loc[[3, 50, 90], "labels"].map(lambda labels: [*labels, "rare"])
    frame.loc[[7, 8], "labels"] = frame.loc[[7, 8], "labels"].map(lambda labels: [*labels, "twice"])
    counts = per_split(stratified_split(frame, SHARES, multi_label=True, seed=0))
    assert [counts[s].get("rare") for s in ("train", "test", "validation")] == [1, 1, 1]
    assert counts["train"]["twice"] == 2 and "twice" not in counts["test"]
    assert all(counts[s][n] > 0 for s in counts for n in ("joy", "sadness", "anger"))


def test_only_rows_that_leave_a_split_empty_are_refused():
    with pytest.raises(DataError) as caught:
        stratified_split(single_label({"a": 2, "b": 2}), SHARES, multi_label=False, seed=0)
    assert str(caught.value) == (
        "too few rows to split: 4 rows leave the test and validation splits empty (a class needs 3 rows to put one "
        "in each of train, test, validation); add rows, or give separate train/validation/test files")


def test_the_warning_names_each_rare_class_with_its_rows_per_split(tmp_path, caplog):
    frame = pd.concat([make_texts(90), pd.DataFrame({"text": ["odd one", "odd two"], "label_name": ["rare", "rare"]})])
    frame[["text", "label_name"]].to_csv(tmp_path / "d.csv", index=False)
    task = prepare_task(load_raw_data(str(tmp_path / "d.csv")))
    frames = split_task(task, (0.7, 0.2, 0.1), seed=0)
    assert rare_classes(frames, (0.7, 0.2, 0.1)) == {"rare": {"train": 2, "validation": 0, "test": 0}}
    assert ("too few rows for reliable scores: class with fewer than the 10 rows that stratify over every split of "
            "0.7,0.2,0.1: 'rare' 2 (train 2, validation 0, test 0); a class with a row for every split has one in "
            "each, a rarer one is only trained on, and its scores are unreliable (the report marks it)") in caplog.text


@pytest.mark.skipif(not EMOTION.is_file(), reason="needs ../shared/datasets/emotion/emotion.csv")
def test_a_random_400_rows_of_emotion_split_with_every_class_in_every_split(tmp_path):
    sample = pd.read_csv(EMOTION).sample(400, random_state=0)
    sample.to_csv(tmp_path / "emotion-400.csv", index=False)
    task = prepare_task(load_raw_data(str(tmp_path / "emotion-400.csv")))
    frames = split_task(task, (0.7, 0.2, 0.1), seed=42)
    counts = per_split(frames)
    assert sum(counts["train"].values()) + sum(counts["test"].values()) + sum(counts["validation"].values()) == 400
    assert [counts[s]["surprise"] for s in ("train", "validation", "test")] == [6, 1, 1]  # 8 rows in all
    assert all(set(counts[s]) == set(counts["train"]) for s in counts)
    assert rare_classes(frames, (0.7, 0.2, 0.1)) == {"surprise": {"train": 6, "validation": 1, "test": 1}}
