"""train's options are generated from TrainConfig: every field is an option, with the field's default and docstring."""

from __future__ import annotations

from dataclasses import MISSING

import click
import pytest
import typer

from fineclass.cli import app
from fineclass.commands.options import field_docs, shown_default
from fineclass.config import OPTION_FIELDS, TrainConfig, build_config
from fineclass.errors import ConfigError


def train_command() -> click.Command:
    return typer.main.get_command(app).commands["train"]


def test_every_config_field_is_a_train_option_with_its_default_and_help():
    options = {p.name: p for p in train_command().params}
    docs = field_docs(TrainConfig)
    for field in OPTION_FIELDS:  # TrainConfig's fields, the nested read options by their flat names
        if field.name == "data":
            assert options["data"].param_type_name == "argument"
            continue
        option = options[field.name]
        assert option.help == docs[field.name] and docs[field.name], field.name
        default = shown_default(field.name, None if field.default is MISSING else field.default)
        assert option.show_default == (default if default is not None else False), field.name
        assert option.default is None  # "not given", so a YAML value or the field default applies


def test_the_flags_keep_their_names():
    names = {p.name: p.opts + p.secondary_opts for p in train_command().params}
    assert names["learning_rate"] == ["--learning-rate", "--lr"]
    assert names["multi_label"] == ["--multi-label", "--single-label"]
    assert names["trainer_args"] == ["--trainer-arg"] and names["output_dir"] == ["--output-dir", "-o"]


def test_compare_takes_trains_options():
    compare = typer.main.get_command(app).commands["compare"]
    train = {p.name: p for p in train_command().params}
    for param in compare.params:
        if param.name in train and param.name not in ("data", "output_dir", "overwrite", "quiet"):
            assert param.help == train[param.name].help


def test_trainer_args_are_parsed_and_checked():
    config = build_config({}, {"data": "d.csv", "output_dir": "o", "trainer_args": ["lr_scheduler_type=cosine", "adam_beta2=0.98"]})
    assert config.trainer_args == {"lr_scheduler_type": "cosine", "adam_beta2": 0.98}
    with pytest.raises(ConfigError, match="--trainer-arg no_such_field: TrainingArguments has no field 'no_such_field'"):
        build_config({}, {"data": "d.csv", "output_dir": "o", "trainer_args": ["no_such_field=1"]})
    with pytest.raises(ConfigError, match="--trainer-arg num_train_epochs is set by fineclass; use --epochs instead"):
        build_config({}, {"data": "d.csv", "output_dir": "o", "trainer_args": {"num_train_epochs": 2}})
    with pytest.raises(ConfigError, match="must be KEY=VALUE"):
        build_config({}, {"data": "d.csv", "output_dir": "o", "trainer_args": ["cosine"]})


def test_predictor_precision_auto_follows_the_cpu(tiny_model_dir, monkeypatch):
    from fineclass import devices
    from fineclass.inference.predictor import Predictor
    from fineclass.labels import LabelSpace
    from fineclass.modeling import build_model, load_tokenizer

    model = build_model(str(tiny_model_dir), LabelSpace(("a", "b"), False))
    tokenizer = load_tokenizer(str(tiny_model_dir))
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: True)
    assert Predictor(model, tokenizer, precision="auto").backend.precision == "bf16"
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: False)
    model = build_model(str(tiny_model_dir), LabelSpace(("a", "b"), False))
    assert Predictor(model, tokenizer, precision="auto").backend.precision == "fp32"
    with pytest.raises(ConfigError, match="precision must be one of auto, fp32, bf16, got 'fp16'"):
        Predictor(model, tokenizer, precision="fp16")
