"""Issue 16's few-sample strategies on the tiny model: layer-wise learning-rate decay, re-initialised top layers,
and LP-FT's linear probe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForSequenceClassification, AutoTokenizer, TrainingArguments

from fineclass.errors import ModelError
from fineclass.labels import LabelSpace
from fineclass.modeling import reinit_top_layers
from fineclass.training.small_data import fit_linear_probe
from fineclass.training.trainer import FineclassTrainer, lr_scale
from tests.conftest import make_texts


def test_layer_lr_decay_scales_each_layer_by_its_depth_from_the_top():
    assert lr_scale("bert.encoder.layer.5.attention.self.query.weight", 20.0, 0.9, 6) == 1.0
    assert lr_scale("bert.encoder.layer.4.output.dense.weight", 20.0, 0.9, 6) == pytest.approx(0.9)
    assert lr_scale("bert.encoder.layer.0.output.dense.weight", 20.0, 0.9, 6) == pytest.approx(0.9 ** 5)
    assert lr_scale("bert.embeddings.word_embeddings.weight", 20.0, 0.9, 6) == pytest.approx(0.9 ** 6)
    assert lr_scale("classifier.weight", 20.0, 0.9, 6) == 20.0
    assert lr_scale("bert.pooler.dense.weight", 20.0, 0.9, 6) == 20.0
    assert lr_scale("bert.encoder.layer.0.output.dense.weight", 20.0, 1.0, 6) == 1.0


def test_layer_lr_decay_reads_other_architectures_names():
    assert lr_scale("roberta.encoder.layer.0.output.dense.weight", 20.0, 0.5, 2) == 0.5
    assert lr_scale("roberta.embeddings.word_embeddings.weight", 20.0, 0.5, 2) == 0.25
    assert lr_scale("distilbert.transformer.layer.1.ffn.lin1.weight", 20.0, 0.5, 2) == 1.0
    assert lr_scale("distilbert.embeddings.word_embeddings.weight", 20.0, 0.5, 2) == 0.25
    assert lr_scale("pre_classifier.weight", 20.0, 0.5, 2) == 1.0  # DistilBERT's new layer below the head
    assert lr_scale("classifier.out_proj.weight", 20.0, 0.5, 2) == 20.0  # RoBERTa's head


def classifier(tiny_model_dir, labels: int = 3):
    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=labels)


def test_the_optimizer_gets_one_learning_rate_per_layer(tiny_model_dir, tmp_path):
    model = classifier(tiny_model_dir)
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-3, report_to=[])
    trainer = FineclassTrainer(model=model, args=args, head_lr_scale=10.0, layer_lr_decay=0.5)
    optimizer = trainer.create_optimizer()
    lr_of = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["bert.encoder.layer.1.output.dense.weight"])] == pytest.approx(1e-3)
    assert lr_of[id(named["bert.encoder.layer.0.output.dense.weight"])] == pytest.approx(5e-4)
    assert lr_of[id(named["bert.embeddings.word_embeddings.weight"])] == pytest.approx(2.5e-4)
    assert lr_of[id(named["classifier.weight"])] == pytest.approx(1e-2)
    assert len(lr_of) == len(named)  # every parameter is trained


def test_reinit_replaces_only_the_top_layers(tiny_model_dir):
    model = classifier(tiny_model_dir)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    reinit_top_layers(model, 1)
    after = dict(model.named_parameters())
    assert torch.equal(after["bert.encoder.layer.0.output.dense.weight"], before["bert.encoder.layer.0.output.dense.weight"])
    assert not torch.equal(after["bert.encoder.layer.1.output.dense.weight"], before["bert.encoder.layer.1.output.dense.weight"])
    assert torch.count_nonzero(after["bert.encoder.layer.1.output.dense.bias"]) == 0
    assert torch.equal(after["bert.encoder.layer.1.output.LayerNorm.weight"], torch.ones(32))
    weight = after["bert.encoder.layer.1.intermediate.dense.weight"]
    assert weight.std().item() == pytest.approx(model.config.initializer_range, rel=0.2)
    with pytest.raises(ModelError, match=r"^--reinit-layers 3: the model has only 2 encoder layers$"):
        reinit_top_layers(model, 3)


def test_reinit_finds_distilberts_layers():
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(0)
    model = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=50, dim=16, hidden_dim=32, n_layers=2, n_heads=2))
    before = model.distilbert.transformer.layer[1].ffn.lin1.weight.detach().clone()
    reinit_top_layers(model, 1)
    assert not torch.equal(model.distilbert.transformer.layer[1].ffn.lin1.weight, before)
    with pytest.raises(ModelError, match=r"^--reinit-layers 5: the model has only 2 encoder layers$"):
        reinit_top_layers(model, 5)


def test_the_linear_probe_puts_the_logistic_regressions_coefficients_in_the_head(tiny_model_dir):
    from sklearn.linear_model import LogisticRegression

    model = classifier(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    frame = make_texts(60)
    dataset = Dataset.from_dict({**tokenizer(list(frame["text"])), "labels": list(frame["label"])})
    space = LabelSpace(("joy", "sadness", "anger"), multi_label=False)
    assert fit_linear_probe(model, tokenizer, dataset, space, batch_size=16) == 60

    model.eval()
    inputs = tokenizer(list(frame["text"]), padding=True, return_tensors="pt")
    with torch.no_grad():
        features = model.bert(**inputs).pooler_output.numpy()
        logits = model(**inputs).logits.numpy()
    fitted = LogisticRegression(max_iter=1000).fit(features, frame["label"])
    np.testing.assert_allclose(logits, fitted.decision_function(features), atol=1e-4)


def test_a_multi_label_probe_fits_each_label_and_leaves_one_it_never_saw(tiny_model_dir):
    from sklearn.linear_model import LogisticRegression

    model = classifier(tiny_model_dir, labels=4)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    frame = make_texts(60)
    hot = np.zeros((60, 4), dtype=np.float32)
    hot[np.arange(60), frame["label"]] = 1.0  # label 3 never occurs
    dataset = Dataset.from_dict({**tokenizer(list(frame["text"])), "labels": hot.tolist()})
    space = LabelSpace(("joy", "sadness", "anger", "fear"), multi_label=True)
    unseen = model.classifier.weight[3].detach().clone()
    fit_linear_probe(model, tokenizer, dataset, space)
    assert torch.equal(model.classifier.weight[3], unseen)
    model.eval()
    inputs = tokenizer(list(frame["text"]), padding=True, return_tensors="pt")
    with torch.no_grad():
        features = model.bert(**inputs).pooler_output.numpy()
        logits = model(**inputs).logits.numpy()
    for label in range(3):  # one logistic regression a label, on that label's column
        fitted = LogisticRegression(max_iter=1000).fit(features, hot[:, label] > 0.5)
        np.testing.assert_allclose(logits[:, label], fitted.decision_function(features), atol=1e-4)


def probe_data(tokenizer, frame, labels):
    return Dataset.from_dict({**tokenizer(list(frame["text"])), "labels": labels})


def test_a_binary_probe_keeps_the_logistic_regressions_logit_difference(tiny_model_dir):
    from sklearn.linear_model import LogisticRegression

    model = classifier(tiny_model_dir, labels=2)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    frame = make_texts(40)
    y = [int(label == 0) for label in frame["label"]]
    fit_linear_probe(model, tokenizer, probe_data(tokenizer, frame, y), LabelSpace(("other", "joy"), multi_label=False))
    model.eval()
    inputs = tokenizer(list(frame["text"]), padding=True, return_tensors="pt")
    with torch.no_grad():
        features = model.bert(**inputs).pooler_output.numpy()
        logits = model(**inputs).logits.numpy()
    fitted = LogisticRegression(max_iter=1000).fit(features, y)
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0], fitted.decision_function(features), atol=1e-4)


def test_a_probe_on_one_class_or_soft_labels_under_half_changes_nothing(tiny_model_dir):
    model = classifier(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    frame = make_texts(20)
    before = model.classifier.weight.detach().clone()
    space = LabelSpace(("joy", "sadness", "anger"), multi_label=False)
    assert fit_linear_probe(model, tokenizer, probe_data(tokenizer, frame, [1] * 20), space) == 0
    soft = [[0.3, 0.0, 0.0]] * 20  # a wide column's fractions: under 0.5 is absent everywhere
    fit_linear_probe(model, tokenizer, probe_data(tokenizer, frame, soft), LabelSpace(("joy", "sadness", "anger"), multi_label=True))
    assert torch.equal(model.classifier.weight, before)
