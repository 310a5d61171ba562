"""recipes/train: each phase of the training recipe on the tiny model, then the table of contents end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fineclass.config import TrainConfig
from fineclass.errors import FineclassError
from fineclass.outputs import MANIFEST
from fineclass.recipes.train import (
    TrainHooks,
    best_epoch,
    build,
    finish,
    fit,
    open_run_dir,
    run_training,
    set_up,
    write_run_inputs,
)
from fineclass.recipes.train.finish import data_record
from tests.conftest import make_texts

QUICK = {"max_steps": 4, "batch_size": 8, "baseline": False, "report": False, "eval_batch_size": 16}


@pytest.fixture
def config(tiny_model_dir, tmp_path) -> TrainConfig:
    data = tmp_path / "toy.csv"
    make_texts(90).to_csv(data, index=False)
    return TrainConfig(data=str(data), output_dir=str(tmp_path / "run"), model=str(tiny_model_dir), **QUICK)


def with_(config: TrainConfig, **changes) -> TrainConfig:
    from dataclasses import replace

    return replace(config, **changes)


def test_set_up_reads_plans_and_encodes_before_the_output_directory_is_touched(config):
    lines = []
    setup = set_up(config, announce=lines.append)
    assert not Path(config.output_dir).exists()
    assert {split: len(frame) for split, frame in setup.frames.items()} == {"train": 63, "test": 18, "validation": 9}
    assert len(setup.encoded["train"][0]) == 63 and setup.encoded["train"][1].tolist() == [1] * 63  # one window a text
    assert len(setup.encoded["validation"][0]) == 9
    assert (setup.long_texts.mode, setup.max_length, setup.checkpoint, setup.pooling) == ("truncate", 64, None, "cls")
    assert not setup.plan.small  # --max-steps given: the user chose the schedule
    assert sorted(setup.label_space.names) == ["anger", "joy", "sadness"]
    assert [line.split(":")[0] for line in lines[1:]] == ["long texts", "schedule"]


def test_a_small_set_is_planned_from_its_rows_and_a_hooks_extra_texts(config):
    small = set_up(with_(config, max_steps=None))
    assert small.plan.small and small.plan.rows == 63
    assert set_up(with_(config, max_steps=None), hooks=ExtraTexts()).plan.rows == 63 + 500


def test_set_up_refuses_a_directory_of_others_files_before_reading_the_data(config, monkeypatch):
    out = Path(config.output_dir)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    monkeypatch.setattr("fineclass.recipes.train.setup.load_raw_data", lambda *a: pytest.fail("the data was read"))
    with pytest.raises(FineclassError, match=f"^output directory {out} is not empty; pass --overwrite to replace it"):
        set_up(config)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_build_applies_the_surgery_steps(config, tiny_model_dir):
    lines = []
    setup = set_up(with_(config, reinit_layers=1, freeze_embeddings=True, pooling="mean", cls_only_last_layer=True,
                         linear_probe=True))
    model = build(setup, lines.append)
    pretrained = load_file(tiny_model_dir / "model.safetensors")
    layer = "encoder.layer.{}.attention.self.query.weight"
    assert torch.equal(model.bert.state_dict()[layer.format(0)], pretrained[layer.format(0)])
    assert not torch.equal(model.bert.state_dict()[layer.format(1)], pretrained[layer.format(1)])  # re-initialised
    assert model.config.num_hidden_layers == 3 and setup.pooling == "mean"  # the mean layer appended on top
    assert not model.get_input_embeddings().weight.requires_grad
    assert lines == ["linear probe: the head starts from a logistic regression on 63 training rows' features"]


def test_open_run_dir_and_write_run_inputs_write_the_runs_inputs(config):
    setup = set_up(config)
    open_run_dir(setup)
    write_run_inputs(setup)
    out = Path(config.output_dir)
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "config.yaml", "data", "splits.json"])
    assert json.loads((out / MANIFEST).read_text())["command"] == "train"
    rows = [json.loads(line) for line in (out / "data" / "test.jsonl").read_text().splitlines()]
    assert len(rows) == 18 and set(rows[0]) == {"row", "text", "labels"}
    assert json.loads((out / "splits.json").read_text())["rows"]["test"] == [row["row"] for row in rows]


def test_fit_trains_and_finish_saves_scores_and_cleans_up(config):
    setup = set_up(with_(config, max_steps=2))
    open_run_dir(setup)
    model = build(setup)
    write_run_inputs(setup)
    fitted = fit(setup, model)
    out = Path(config.output_dir)
    assert fitted.trainer.state.global_step == 2 and fitted.seconds > 0 and fitted.precision in ("fp32", "bf16")
    assert "checkpoints" in json.loads((out / MANIFEST).read_text())["entries"]
    result = finish(setup, fitted)
    assert not (out / "checkpoints").exists() and result.metrics.train["steps"] == 2
    assert result.metrics.validation and result.metrics.test["rows"] == 18


class ExtraTexts(TrainHooks):
    def extra_texts(self) -> int:
        return 500


class Recording(TrainHooks):
    """A variant of training that marks each point the recipe calls it at."""

    command = "distill"

    def __init__(self):
        self.calls = []

    def adjust_plan(self, plan) -> None:
        self.calls.append("adjust_plan")

    def recorded_config(self, config):
        return with_(config, model="a recorded name")

    def prepare(self, setup, announce) -> None:
        self.calls.append("prepare")

    def train_dataset(self, setup):
        self.calls.append("train_dataset")
        return setup.encoded["train"][0].select(range(16))

    def record(self, train: dict) -> None:
        train["recorded"] = True


def test_run_training_writes_the_run_directory(config):
    result = run_training(config)
    out = Path(config.output_dir)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MANIFEST, "config.yaml", "data", "splits.json", "metrics.json", "model"])  # checkpoints removed, no report
    assert {"config.json", "model.safetensors", "long_texts.json", "README.md"} <= {p.name for p in (out / "model").iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["steps"] == 4 and metrics["data"]["rows"] == {"train": 63, "test": 18, "validation": 9}
    assert metrics["model"]["layers"] == 2 and metrics["test"]["rows"] == 18 and "baseline" not in metrics
    assert result.metrics.test["accuracy"] == metrics["test"]["accuracy"] and result.model_dir == out / "model"


def test_hooks_change_the_run_at_their_points(config):
    hooks = Recording()
    run_training(config, hooks=hooks)
    out = Path(config.output_dir)
    assert hooks.calls == ["adjust_plan", "prepare", "train_dataset"]
    assert json.loads((out / MANIFEST).read_text())["command"] == "distill"
    assert "model: a recorded name" in (out / "config.yaml").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["recorded"] is True and metrics["model"]["base"] == "a recorded name"


def test_the_best_epoch_is_the_first_with_the_best_score():
    validation = [{"epoch": 1.0, "f1_macro": 0.5, "loss": 0.9}, {"epoch": 2.0, "f1_macro": 0.7, "loss": 0.6},
                  {"epoch": 3.0, "f1_macro": 0.7, "loss": 0.7}]
    assert best_epoch(validation, "f1_macro") == 2.0 and best_epoch(validation, "loss") == 2.0
    assert best_epoch([], "f1_macro") is None


def test_the_data_record_names_samples_and_rare_classes(config):
    setup = set_up(with_(config, max_eval_samples=5))
    record = data_record(setup.config, setup.task, setup.frames)
    assert record["rows"] == {"train": 63, "test": 5, "validation": 5}
    assert record["sampled_from"] == {"test": 18, "validation": 9} and record["source"] == config.data
