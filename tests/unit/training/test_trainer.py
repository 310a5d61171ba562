"""training/trainer.py: FineclassTrainer's optimizer groups, its evaluation order, its losses and token counts."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from transformers import DataCollatorWithPadding, TrainingArguments

from fineclass.labels import LabelSpace
from fineclass.modeling import build_model, load_tokenizer
from fineclass.training.trainer import FineclassTrainer, MultiLabelCollator, is_head_parameter, lr_scale

SPACE = LabelSpace(("joy", "sadness", "anger"), multi_label=False)
TEXTS = ["i feel happy", "so sad today", "really angry and mad", "glad", "the day was very gloomy and down"]


@pytest.fixture
def tokenizer(tiny_model_dir):
    return load_tokenizer(str(tiny_model_dir))


def trainer_for(tiny_model_dir, tokenizer, tmp_path, **kwargs) -> FineclassTrainer:
    torch.manual_seed(0)
    model = build_model(str(tiny_model_dir), SPACE)
    encoded = tokenizer(TEXTS)
    dataset = Dataset.from_dict({**encoded, "labels": [0, 1, 2, 0, 1], "length": [len(i) for i in encoded["input_ids"]]})
    args = TrainingArguments(output_dir=str(tmp_path / "checkpoints"), learning_rate=1e-3, per_device_eval_batch_size=2,
                             per_device_train_batch_size=2, use_cpu=True, report_to="none", disable_tqdm=True,
                             weight_decay=0.01)
    return FineclassTrainer(model=model, args=args, train_dataset=dataset, eval_dataset=dataset, processing_class=tokenizer,
                            data_collator=DataCollatorWithPadding(tokenizer), **kwargs)


def test_learning_rate_scales_by_parameter():
    assert is_head_parameter("classifier.weight") and is_head_parameter("bert.pooler.dense.bias")
    assert not is_head_parameter("bert.encoder.layer.1.output.dense.weight")
    assert lr_scale("classifier.bias", 20.0, 0.5, 4) == 20.0
    assert lr_scale("bert.encoder.layer.3.attention.self.query.weight", 1.0, 0.5, 4) == 1.0  # the top layer
    assert lr_scale("bert.encoder.layer.1.attention.self.query.weight", 1.0, 0.5, 4) == 0.25
    assert lr_scale("bert.embeddings.word_embeddings.weight", 1.0, 0.5, 4) == 0.0625  # below the lowest layer
    assert lr_scale("bert.encoder.layer.0.output.dense.weight", 1.0, 1.0, 4) == 1.0  # no decay


def test_the_head_trains_at_its_multiple_of_the_learning_rate(tiny_model_dir, tokenizer, tmp_path):
    trainer = trainer_for(tiny_model_dir, tokenizer, tmp_path, head_lr_scale=20.0)
    optimizer = trainer.create_optimizer()
    rates = {(group["lr"], group["weight_decay"]) for group in optimizer.param_groups}
    assert rates == {(1e-3, 0.01), (1e-3, 0.0), (2e-2, 0.01), (2e-2, 0.0)}  # biases and LayerNorms: no decay
    head = {id(p) for name, p in trainer.model.named_parameters() if is_head_parameter(name)}
    fast = [p for group in optimizer.param_groups if group["lr"] == 2e-2 for p in group["params"]]
    assert {id(p) for p in fast} == head


def test_evaluation_reads_the_rows_in_dataset_order(tiny_model_dir, tokenizer, tmp_path):
    trainer = trainer_for(tiny_model_dir, tokenizer, tmp_path, ordered_eval=True)
    rows = [int(i) for batch in trainer.get_eval_dataloader() for i in batch["input_ids"][:, 1]]
    assert rows == [tokenizer(t)["input_ids"][1] for t in TEXTS]  # each text's first word, in order


def test_class_weights_change_the_loss(tiny_model_dir, tokenizer, tmp_path):
    plain = trainer_for(tiny_model_dir, tokenizer, tmp_path)
    weighted = trainer_for(tiny_model_dir, tokenizer, tmp_path, class_weight=torch.tensor([10.0, 1.0, 1.0]))
    batch = DataCollatorWithPadding(tokenizer)([{**tokenizer(t), "labels": label} for t, label in zip(TEXTS, [0, 1, 2, 0, 1])])
    with torch.no_grad():
        losses = [trainer.compute_loss(trainer.model.eval(), dict(batch)) for trainer in (plain, weighted)]
    assert weighted.own_loss and not plain.own_loss and not weighted.loss_is_scaled_for_ga
    assert abs(losses[0].item() - losses[1].item()) > 1e-4


def test_training_steps_count_real_and_padded_tokens(tiny_model_dir, tokenizer, tmp_path):
    trainer = trainer_for(tiny_model_dir, tokenizer, tmp_path)
    trainer.train_dataset = trainer.train_dataset.select([0, 1])  # one batch of two texts
    trainer.args.max_steps = 1
    trainer.train()
    counter = trainer.token_counter
    lengths = [len(tokenizer(t)["input_ids"]) for t in TEXTS[:2]]
    assert (counter.samples, counter.batches) == (2, 1)
    assert (counter.real_tokens, counter.padded_tokens) == (sum(lengths), 2 * max(lengths))


def test_the_multi_label_collator_gives_float_targets(tokenizer):
    batch = MultiLabelCollator(tokenizer)([{**tokenizer("glad"), "labels": [1, 0, 1]}, {**tokenizer("sad"), "labels": [0, 1, 0]}])
    assert batch["labels"].dtype == torch.float32 and batch["labels"].tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
