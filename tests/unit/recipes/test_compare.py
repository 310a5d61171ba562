"""compare's pieces on known inputs: --models syntax, candidate checks, the Pareto front, baselines and the student."""

import logging

import numpy as np
import pytest
import torch

from fineclass.config import TrainConfig
from fineclass.errors import ConfigError
from fineclass.labels import LabelSpace
from fineclass.recipes.compare.leaderboard import pareto_front
from fineclass.recipes.compare.spec import (
    EVALUATE,
    FINETUNE,
    FROZEN,
    ONNX_INT8,
    SHRINK,
    TFIDF,
    check_candidates,
    parse_candidate,
    parse_candidates,
)

LABELS = LabelSpace(("joy", "sadness", "anger"), multi_label=False)


def test_parse_every_kind():
    assert parse_candidate("tfidf-logreg").kind == TFIDF
    assert parse_candidate("bert-base-uncased").kind == FINETUNE
    assert parse_candidate("bundled:all-MiniLM-L6-v2").kind == FINETUNE
    frozen = parse_candidate("frozen:bundled:all-MiniLM-L6-v2")
    assert (frozen.kind, frozen.model) == (FROZEN, "bundled:all-MiniLM-L6-v2")
    shrink = parse_candidate("shrink:bundled:all-MiniLM-L6-v2:3")
    assert (shrink.kind, shrink.model, shrink.layers) == (SHRINK, "bundled:all-MiniLM-L6-v2", 3)
    onnx = parse_candidate("runs/emotion@onnx-int8")
    assert (onnx.kind, onnx.model) == (ONNX_INT8, "runs/emotion")


@pytest.mark.parametrize("entry, message", [
    ("shrink:bert-base-uncased:two", "expected shrink:<model>:K, with K the number of layers to keep"),
    ("shrink:bert-base-uncased:0", "expected shrink:<model>:K"),
    ("shrink:bert-base-uncased", "expected shrink:<model>:K"),
    ("runs/emotion@onnx-fp16", "unknown suffix @onnx-fp16; the only suffix is @onnx-int8"),
    ("frozn:bert-base-uncased", "unknown candidate kind 'frozn:'"),
    ("frozen:", "frozen: needs a model after the colon"),
])
def test_bad_syntax_is_one_line(entry, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_candidates(["tfidf-logreg", entry])
    assert "\n" not in str(err.value) and repr(entry) in str(err.value)


def test_all_syntax_problems_together():
    with pytest.raises(ConfigError) as err:
        parse_candidates(["x@onnx", "shrink:m:k", "tfidf-logreg", "tfidf-logreg"])
    text = str(err.value)
    assert "@onnx" in text and "shrink:m:k" in text and "lists 'tfidf-logreg' 2 times" in text


def test_checks_layers_directories_and_labels(tiny_model_dir, tmp_path):
    from fineclass.modeling import build_model, load_tokenizer

    with pytest.raises(ConfigError) as err:
        check_candidates(parse_candidates([f"shrink:{tiny_model_dir}:5", str(tmp_path / "missing"),
                                           f"frozen:{tmp_path / 'nope'}"]), LABELS)
    text = str(err.value)
    assert f"K=5, but {tiny_model_dir} has only 2 layers; use K from 1 to 2" in text
    assert "missing is not a directory, and no model of that name could be loaded" in text
    assert "nope is not a directory" in text
    other = tmp_path / "other-task"
    build_model(str(tiny_model_dir), LabelSpace(("pos", "neg"), False)).save_pretrained(other)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(other)
    with pytest.raises(ConfigError, match=r"does not know DATA's labels \['joy', 'sadness', 'anger'\]"):
        check_candidates(parse_candidates([str(other)]), LABELS)
    with pytest.raises(ConfigError, match="the model is multi-class but DATA is multi-label"):
        check_candidates(parse_candidates([str(other)]), LabelSpace(("pos", "neg"), True))


def test_existing_classifier_is_evaluated_and_a_label_order_change_warns(tiny_model_dir, tmp_path, caplog):
    from fineclass.modeling import build_model, load_tokenizer

    reordered = tmp_path / "reordered"
    build_model(str(tiny_model_dir), LabelSpace(("anger", "joy", "sadness"), False)).save_pretrained(reordered)
    load_tokenizer(str(tiny_model_dir)).save_pretrained(reordered)
    with caplog.at_level(logging.WARNING, logger="fineclass"):
        specs = check_candidates(parse_candidates([str(reordered), str(tiny_model_dir)]), LABELS)
    assert [(s.kind, s.name, s.source) for s in specs] == [(EVALUATE, "reordered", "classifier"), (FINETUNE, tiny_model_dir.name, "base")]
    assert "differ from DATA's" in caplog.text


def test_decisions_follow_data_label_order():
    from types import SimpleNamespace

    from fineclass.recipes.compare.candidates import in_data_labels

    probs = np.array([[0.7, 0.2, 0.1, 0.0], [0.1, 0.2, 0.0, 0.7], [0.0, 0.1, 0.6, 0.3]], dtype=np.float32)
    model = SimpleNamespace(label_space=LabelSpace(("anger", "joy", "sadness", "love"), False), thresholds=None,
                            predict_proba=lambda texts: probs[: len(texts)])
    # anger -> DATA id 2; love is not one of DATA's labels, so that prediction is -1 (wrong); sadness -> 1
    assert in_data_labels(model, LABELS)(["a", "b", "c"]).tolist() == [2, -1, 1]
    multi = SimpleNamespace(label_space=LabelSpace(("anger", "joy", "sadness", "love"), True),
                            thresholds=np.array([0.5, 0.5, 0.5, 0.5]), predict_proba=lambda texts: probs[: len(texts)])
    decided = in_data_labels(multi, LabelSpace(("joy", "sadness", "anger"), True))(["a", "b", "c"])
    assert decided.tolist() == [[0, 0, 1], [0, 0, 0], [0, 1, 0]]


def test_pareto_front():
    points = [(0.9, 100.0), (0.8, 1000.0), (0.85, 50.0), (0.7, 1000.0), (0.95, 10.0), (0.9, 100.0)]
    # (0.85, 50) is beaten by (0.9, 100); (0.7, 1000) by (0.8, 1000); equal points do not dominate each other.
    assert pareto_front(points) == [True, True, False, False, True, True]


def split_frames(n: int = 240):
    from tests.conftest import make_texts

    frame = make_texts(n).rename(columns={"label_name": "name"})
    frame = frame.assign(labels=[[name] for name in frame["name"]], row=range(n))
    return {"train": frame.iloc[: n // 2], "validation": frame.iloc[n // 2: 3 * n // 4], "test": frame.iloc[3 * n // 4:]}


def test_tfidf_logreg_beats_chance_on_separable_data():
    from fineclass.evaluation.evaluate import encode_for_model
    from fineclass.recipes.compare.baselines import TfidfLogreg, score_decisions

    frames = split_frames()
    model = TfidfLogreg(frames, LABELS, TrainConfig())
    test = frames["test"]
    metrics = score_decisions(model.predict(list(test["text"])), encode_for_model(test, LABELS, "test"), LABELS)
    assert metrics["accuracy"] > 0.9  # chance is 1/3: the class is one keyword away
    assert model.head.C in (0.1, 1.0, 10.0)


def test_multi_label_scores_use_hard_decisions():
    from fineclass.recipes.compare.baselines import score_decisions

    labels = LabelSpace(("a", "b"), multi_label=True)
    truth = np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32)
    metrics = score_decisions(np.array([[1, 0], [1, 0], [0, 1]], dtype=np.int8), truth, labels)
    assert metrics["exact_match"] == pytest.approx(2 / 3)
    assert metrics["f1_micro"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))


def test_student_keeps_the_first_layers(tiny_model_dir, tmp_path):
    from transformers import AutoModel

    from fineclass.recipes.compare.shrink import build_student

    student = AutoModel.from_pretrained(build_student(str(tiny_model_dir), 1, tmp_path / "student"))
    teacher = AutoModel.from_pretrained(tiny_model_dir)
    assert student.config.num_hidden_layers == 1 and len(student.encoder.layer) == 1
    for (name, value), (_, original) in zip(student.encoder.layer[0].state_dict().items(),
                                            teacher.encoder.layer[0].state_dict().items()):
        assert torch.equal(value, original), name
    assert torch.equal(student.embeddings.word_embeddings.weight, teacher.embeddings.word_embeddings.weight)
    assert (tmp_path / "student" / "tokenizer_config.json").is_file()


def test_distill_candidates_name_the_teacher_run_and_the_layers():
    from fineclass.recipes.compare.spec import DISTILL

    spec = parse_candidate("distill:runs/emotion:3")
    assert (spec.kind, spec.model, spec.layers) == (DISTILL, "runs/emotion", 3)
    with pytest.raises(ConfigError, match="expected distill:<run>:K, with <run> a fineclass run directory"):
        parse_candidate("distill:runs/emotion")
