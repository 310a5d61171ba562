"""training/arguments.py: the one place a TrainConfig becomes TrainingArguments."""

from __future__ import annotations

import pytest

from fineclass.config import TrainConfig
from fineclass.errors import ConfigError
from fineclass.labels import LabelSpace
from fineclass.training.arguments import build_training_arguments, check_metric, checkpoint_schedule, default_metric

CLASSES = LabelSpace(("a", "b"), multi_label=False)
LABELS = LabelSpace(("a", "b"), multi_label=True)


def arguments(tmp_path, **settings):
    config = TrainConfig(output_dir=str(tmp_path / "run"), **settings)
    return build_training_arguments(config, str(tmp_path / "run" / "checkpoints"), CLASSES, "fp32")


def test_the_default_selection_metric_follows_the_task():
    assert default_metric(CLASSES) == "f1_macro" and default_metric(LABELS) == "f1_micro"


def test_a_metric_the_task_does_not_compute_is_refused_before_training():
    check_metric("accuracy", CLASSES)
    check_metric(None, LABELS)
    with pytest.raises(ConfigError, match="^--metric accuracy is not computed for multi-label data; use one of "
                                          "f1_micro, f1_macro, f1_weighted, f1_samples, exact_match, loss$"):
        check_metric("accuracy", LABELS)


def test_evaluation_runs_on_the_checkpoint_schedule():
    assert checkpoint_schedule(TrainConfig()) == {"eval_strategy": "epoch", "save_strategy": "epoch"}
    assert checkpoint_schedule(TrainConfig(save_steps=25)) == {
        "eval_strategy": "steps", "save_strategy": "steps", "eval_steps": 25, "save_steps": 25}


def test_the_config_becomes_training_arguments(tmp_path):
    args = arguments(tmp_path, learning_rate=3e-5, batch_size=8, eval_batch_size=16, gradient_accumulation_steps=2,
                     seed=7, save_total_limit=3)
    assert args.num_train_epochs == 3.0 and args.max_steps == -1  # --epochs not given: 3, no step limit
    assert (args.learning_rate, args.per_device_train_batch_size, args.per_device_eval_batch_size) == (3e-5, 8, 16)
    assert (args.gradient_accumulation_steps, args.seed, args.data_seed, args.save_total_limit) == (2, 7, 7, 3)
    assert args.output_dir == str(tmp_path / "run" / "checkpoints") and args.run_name == "run"
    assert args.load_best_model_at_end and args.metric_for_best_model == "f1_macro" and args.greater_is_better
    assert not args.bf16 and args.length_column_name == "length"


def test_loss_is_a_metric_to_lower_and_max_steps_caps_the_run(tmp_path):
    args = arguments(tmp_path, metric="loss", max_steps=40, epochs=2)
    assert args.metric_for_best_model == "loss" and not args.greater_is_better
    assert (args.max_steps, args.num_train_epochs) == (40, 2.0)


def test_trainer_args_go_on_top_and_a_refused_value_is_one_line(tmp_path):
    args = arguments(tmp_path, trainer_args={"lr_scheduler_type": "cosine", "logging_steps": 5})
    assert args.lr_scheduler_type == "cosine" and args.logging_steps == 5
    with pytest.raises(ConfigError, match="^--trainer-arg: TrainingArguments refused these settings: "):
        arguments(tmp_path, trainer_args={"lr_scheduler_type": "no-such-schedule"})
