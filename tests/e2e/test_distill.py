"""`fineclass distill` on the tiny 2-layer teacher runs: a 1-layer student, multi-class and multi-label."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from fineclass.training.distill import distillation_loss
from tests.conftest import make_texts, run_cli

FAST = ["--epochs", "8", "--learning-rate", "1e-3", "--batch-size", "8", "--warmup-ratio", "0", "--no-baseline",
        "--no-report", "--quiet"]


def test_the_loss_is_kl_to_the_softened_teacher_plus_the_hard_labels():
    student = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    teacher = torch.tensor([[1.0, 0.5, -2.0], [0.0, 3.0, 0.0]])
    labels, has_label = torch.tensor([0, 1]), torch.tensor([1.0, 0.0])
    t, alpha = 2.0, 0.25
    p_teacher, log_student = torch.softmax(teacher / t, -1), torch.log_softmax(student / t, -1)
    kl = (p_teacher * (p_teacher.log() - log_student)).sum(-1).mean()
    hard = torch.nn.functional.cross_entropy(student[:1], labels[:1])  # the unlabeled row has no hard loss
    expected = alpha * hard + (1 - alpha) * t * t * kl
    got = distillation_loss(student, teacher, labels, has_label, False, t, alpha)
    assert torch.allclose(got, expected, atol=1e-6)
    same = distillation_loss(teacher, teacher, labels, torch.zeros(2), False, t, alpha)
    assert abs(float(same)) < 1e-6  # a student equal to its teacher, and no labels: nothing to learn


def test_the_multilabel_loss_is_bce_to_the_teachers_sigmoids():
    student, teacher = torch.tensor([[0.5, -1.0]]), torch.tensor([[2.0, -2.0]])
    labels = torch.tensor([[1.0, 0.0]])
    got = distillation_loss(student, teacher, labels, torch.ones(1), True, 1.0, 0.0)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(student, torch.sigmoid(teacher))
    assert torch.allclose(got, expected, atol=1e-6)


@pytest.fixture(scope="module")
def student_run(multiclass_run, tmp_path_factory):
    teacher, _ = multiclass_run
    tmp = tmp_path_factory.mktemp("distill")
    unlabeled = tmp / "unlabeled.csv"
    make_texts(60, seed=9)[["text"]].to_csv(unlabeled, index=False)
    result = run_cli("distill", teacher, "--layers", "1", "-o", tmp / "student", "--unlabeled", unlabeled, *FAST)
    assert result.exit_code == 0, result.output + str(result.exception)
    return teacher, tmp / "student", result


def test_a_one_layer_student_learns_the_teacher_on_its_split(student_run):
    teacher, student, result = student_run
    config = json.loads((student / "model" / "config.json").read_text())
    assert config["num_hidden_layers"] == 1 and config["label2id"] == {"joy": 0, "sadness": 1, "anger": 2}
    metrics = json.loads((student / "metrics.json").read_text())
    teacher_metrics = json.loads((teacher / "metrics.json").read_text())
    assert metrics["data"]["rows"] == teacher_metrics["data"]["rows"]  # the teacher's own split
    for split in ("train", "validation", "test"):
        ours, theirs = (pd.read_json(run / "data" / f"{split}.jsonl", lines=True) for run in (student, teacher))
        assert ours["text"].tolist() == theirs["text"].tolist() and ours["labels"].tolist() == theirs["labels"].tolist()
    assert metrics["train"]["distillation"] == {"teacher": str(teacher), "temperature": 4.0, "alpha": 0.1,
                                                "unlabeled_texts": 60}
    assert metrics["train"]["samples"] == 8 * (210 + 60)  # 8 epochs of the labeled and the unlabeled texts
    assert metrics["test"]["accuracy"] >= 0.9, metrics["test"]
    assert metrics["model"]["layers"] == 1 and metrics["model"]["base"] == f"first 1 layers of {teacher}"
    assert "distilling from" in result.output and "the teacher scores 270 texts once" in result.output
    assert (student / "model" / "README.md").is_file()


def test_the_student_loads_with_pipeline(student_run):
    from transformers import pipeline

    _, student, _ = student_run
    classifier = pipeline("text-classification", model=str(student / "model"))
    assert classifier("i am so happy")[0]["label"] in {"joy", "sadness", "anger"}


def test_a_multilabel_student_learns_the_teachers_sigmoids(multilabel_run, tmp_path):
    import fineclass

    teacher, _ = multilabel_run
    run = fineclass.distill(teacher, tmp_path / "student", layers=1, epochs=8, learning_rate=1e-3, batch_size=8,
                            warmup_ratio=0.0, baseline=False, report=False, progress=None)
    assert run.label_space.multi_label
    assert run.metrics.test["f1_micro"] > 0.6, run.metrics.test
    assert (run.model_dir / "thresholds.json").is_file()  # tuned on the validation split, as train does


@pytest.mark.parametrize(("flags", "message"), [
    (["--layers", "1", "--student", "x"], "give the student as --layers K (the teacher's first K layers) or --student MODEL, not both"),
    ([], "give the student as --layers K"),
    (["--layers", "5"], "--layers 5: the teacher has only 2 layers; use 1 to 2"),
    (["--layers", "1", "--alpha", "2"], "--alpha must be between 0 and 1, got 2.0"),
    (["--layers", "1", "--temperature", "0"], "--temperature must be > 0, got 0.0"),
])
def test_bad_options_are_one_line_errors(multiclass_run, tmp_path, flags, message):
    teacher, _ = multiclass_run
    result = run_cli("distill", teacher, "-o", tmp_path / "s", *flags)
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_the_teacher_must_be_a_run_and_the_student_must_share_its_tokenizer(multiclass_run, tiny_model_dir, tmp_path):
    teacher, _ = multiclass_run
    not_a_run = run_cli("distill", tiny_model_dir, "--layers", "1", "-o", tmp_path / "s")
    assert not_a_run.exit_code == 2 and "is not a fineclass run directory with its saved split" in not_a_run.output
    from transformers import BertConfig, BertModel, BertTokenizer

    other = tmp_path / "other"
    BertModel(BertConfig(vocab_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=16)).save_pretrained(other)
    BertTokenizer(vocab={t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"])}).save_pretrained(other)
    mismatch = run_cli("distill", teacher, "--student", other, "-o", tmp_path / "s2")
    assert mismatch.exit_code == 2 and "has another tokenizer than the teacher" in mismatch.output
