"""labels.py: LabelSpace's names <-> ids, its encodings, and reading it back from a model config."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import BertConfig

from fineclass.labels import LabelSpace


def test_single_label_encodes_names_as_class_ids():
    space = LabelSpace(("joy", "sadness", "anger"), multi_label=False)
    ids = space.encode(["anger", "joy", "anger"])
    assert ids.dtype == np.int64 and ids.tolist() == [2, 0, 2]
    assert space.num_labels == 3 and space.problem_type == "single_label_classification"
    assert space.id2label == {0: "joy", 1: "sadness", 2: "anger"} and space.label2id["sadness"] == 1


def test_multi_label_encodes_a_multi_hot_matrix():
    space = LabelSpace(("a", "b", "c"), multi_label=True)
    hot = space.encode([["a", "c"], [], ["b"]])
    assert hot.dtype == np.float32
    assert hot.tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert space.problem_type == "multi_label_classification"


def test_a_name_given_twice_is_refused():
    with pytest.raises(ValueError, match=r"duplicate label names: \['b'\]"):
        LabelSpace(("a", "b", "b"), multi_label=False)


def test_an_unknown_name_is_a_key_error():
    with pytest.raises(KeyError):
        LabelSpace(("a",), multi_label=False).encode(["z"])


def test_the_space_reads_back_from_a_model_config_in_id_order():
    space = LabelSpace(("neg", "pos", "neutral"), multi_label=True)
    config = BertConfig(id2label={2: "neutral", 0: "neg", 1: "pos"}, problem_type=space.problem_type)
    assert LabelSpace.from_model_config(config) == space
    assert space.to_dict() == {"names": ["neg", "pos", "neutral"], "multi_label": True}
