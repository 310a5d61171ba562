"""The few-label pieces on known numbers: the step schedule, the pair loss, and the mean-pooling layer."""

from __future__ import annotations

import json

import pytest
import torch

from fineclass.config import TrainConfig
from fineclass.modeling import append_mean_pooling_layer, declares_mean_pooling
from fineclass.training.small_data import choose_pooling, pair_loss, plan_small_data, small_validation_warning


def plan(rows: int, **options):
    return plan_small_data(TrainConfig(**options), rows)


def test_a_set_whose_epochs_make_under_min_steps_trains_min_steps_in_batches_of_16():
    small = plan(96)
    assert (small.small, small.max_steps, small.batch_size, small.eval_steps) == (True, 200, 16, 200)
    assert small.contrastive_weight == 1.0
    assert small.reason.startswith("96 training rows make 9 optimizer steps in 3 epochs (under --min-steps 200)")
    assert plan(2100).small and not plan(2200).small  # 66 x 3 = 198 steps, 69 x 3 = 207
    assert plan(2200).contrastive_weight == 0.0


def test_a_tiny_set_trains_at_most_40_epochs():
    tiny = plan(48)  # 3 steps of 16 an epoch: 120 steps, not 200
    assert (tiny.max_steps, tiny.eval_steps) == (120, 120)
    assert "training 120 steps of 16 texts instead (40 epochs)" in tiny.reason
    assert plan(80).max_steps == 200


def test_epochs_given_keep_the_epoch_schedule_and_the_line_says_how():
    assert not plan(60, epochs=1).small and not plan(96, epochs=40).small  # 60 BBC articles with --epochs 1: 1 epoch
    assert plan(60, epochs=1).reason == "60 training rows make 2 optimizer steps in 1 epochs"
    assert plan(96).reason.endswith("; --epochs, --max-steps or --min-steps 0 keeps the epoch schedule")
    assert TrainConfig().train_epochs == 3.0 and TrainConfig(epochs=1).train_epochs == 1.0


def test_a_small_set_validates_once_at_the_end_unless_early_stopping_or_save_steps_ask_for_more():
    assert "validating once, after the last step;" in plan(96).reason
    assert plan(96, early_stopping=2).eval_steps == 40  # 5 passes to compare
    assert plan(96, save_steps=25).eval_steps == 25
    assert "validating every 25 steps;" in plan(96, save_steps=25).reason


def test_a_small_sets_checkpoint_choice_reads_at_most_1000_validation_texts():
    sampled = plan_small_data(TrainConfig(), 96, validation_texts=3200)
    assert sampled.validation_texts == 1000
    assert "validating once, after the last step on 1,000 of the 3,200 validation texts;" in sampled.reason
    assert plan_small_data(TrainConfig(), 96, validation_texts=400).validation_texts is None  # all of a small split
    assert plan_small_data(TrainConfig(), 5000, validation_texts=3200).validation_texts is None  # not a small set


def test_the_user_can_keep_the_epoch_schedule():
    assert not plan(96, min_steps=0).small
    assert not plan(96, max_steps=20).small  # a schedule in steps chosen by hand
    assert plan(96, contrastive_weight=0.0).contrastive_weight == 0.0
    assert plan(5000, contrastive_weight=0.5).contrastive_weight == 0.5


def test_the_plan_changes_the_schedule_but_not_a_chosen_save_steps():
    config = TrainConfig(save_steps=25)
    applied = plan(96).apply(config)
    assert (applied.max_steps, applied.batch_size, applied.save_steps) == (200, 16, 25)
    assert plan(96).apply(TrainConfig()).save_steps == 200
    assert plan(5000).apply(TrainConfig()).max_steps is None


def test_the_pair_loss_is_the_squared_error_of_cosine_similarities_against_same_label():
    embeddings = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert float(pair_loss(embeddings, torch.tensor([0, 0, 1]), False)) == pytest.approx(0.0)
    # Pairs (0,1) same label, cosine 1; (0,2) and (1,2) different labels, cosine 0; all wrong when labels say so.
    assert float(pair_loss(embeddings, torch.tensor([0, 1, 1]), False)) == pytest.approx((1 + 0 + 1) / 3)
    one = torch.tensor([[1.0, 0.0]])
    assert float(pair_loss(one, torch.tensor([0]), False)) == 0.0  # no pairs in a batch of one


def test_the_multilabel_pair_target_is_the_jaccard_similarity_of_the_label_sets():
    embeddings = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # cosine 1
    labels = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # Jaccard 1/2
    assert float(pair_loss(embeddings, labels, True)) == pytest.approx(0.25)


def test_pooling_is_mean_for_a_small_set_of_a_mean_pooled_sentence_encoder(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    assert declares_mean_pooling(str(tmp_path)) and not declares_mean_pooling(str(tmp_path / "1_Pooling"))
    assert choose_pooling("auto", str(tmp_path), small=True)[0] == "mean"
    assert choose_pooling("auto", str(tmp_path), small=False)[0] == "cls"
    assert choose_pooling("auto", str(tmp_path / "1_Pooling"), small=True)[0] == "cls"
    assert choose_pooling("mean", str(tmp_path / "1_Pooling"), small=False)[0] == "mean"


def tiny_classifier():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=24,
                        max_position_embeddings=32, num_labels=3)
    return BertForSequenceClassification(config).eval()


def test_the_appended_layer_makes_cls_the_layernorm_of_the_mean_of_unmasked_tokens():
    model = tiny_classifier()
    ids = torch.tensor([[2, 5, 6, 7, 3], [2, 8, 3, 0, 0]])
    mask = (ids != 0).long()
    with torch.no_grad():
        before = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
    assert append_mean_pooling_layer(model) and model.config.num_hidden_layers == 3
    with torch.no_grad():
        after = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1][:, 0]
    weights = mask.unsqueeze(-1).float()
    mean = (before * weights).sum(1) / weights.sum(1)
    expected = torch.nn.functional.layer_norm(mean, (16,))
    assert torch.allclose(after, expected, atol=0.02)  # the [CLS] residual weighs 1/1000 of the mean


def test_the_mean_layer_saves_as_a_plain_bert_that_pipeline_loads_and_keeps_zero_queries(tmp_path):
    from transformers import AutoModelForSequenceClassification

    model = tiny_classifier().train()
    append_mean_pooling_layer(model)
    ids = torch.tensor([[2, 5, 6, 3]])
    model(input_ids=ids, labels=torch.tensor([1])).loss.backward()
    query = model.bert.encoder.layer[-1].attention.self.query.weight
    assert query.grad is not None and float(query.grad.abs().max()) == 0.0  # zero Q and K: no gradient, stays a mean
    model.eval().save_pretrained(tmp_path)
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path, trust_remote_code=False).eval()
    with torch.no_grad():
        assert torch.allclose(loaded(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-5)



def test_a_validation_split_with_under_20_texts_of_a_class_is_flagged():
    names = ("joy", "anger", "fear")
    few = [["joy"]] * 30 + [["anger"]] * 25 + [["fear"]] * 4
    assert small_validation_warning(few, names, multi_label=False) == (
        "the validation split has 4 texts of class 'fear' (under 20 for some class), so its scores, and any checkpoint "
        "they pick, are partly chance; give a larger validation split (--split, or a validation file) if you can")
    assert small_validation_warning([["joy"]] * 20 + [["anger"]] * 20 + [["fear"]] * 20, names, False) is None
    assert "0 texts of class 'anger'" in small_validation_warning([["joy"]] * 40, names, False)
    assert small_validation_warning([["joy"]], names, multi_label=True) is None
