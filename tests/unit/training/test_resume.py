"""--resume trusts a checkpoint only when every file the Trainer reads back is whole."""

import json
import logging
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from fineclass.errors import FineclassError
from fineclass.training.resume import checkpoint_problem, find_checkpoint


def write_checkpoint(directory: Path) -> Path:
    directory.mkdir(parents=True)
    save_file({"weight": torch.zeros(64, 64)}, directory / "model.safetensors")
    torch.save({"state": {}, "param_groups": []}, directory / "optimizer.pt")
    torch.save({"last_epoch": 3}, directory / "scheduler.pt")
    (directory / "trainer_state.json").write_text(json.dumps({"global_step": 3, "epoch": 1.0, "log_history": []}))
    return directory


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_whole_checkpoint_has_no_problem(tmp_path):
    assert checkpoint_problem(write_checkpoint(tmp_path / "checkpoint-3")) is None


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda c: cut(c / "trainer_state.json"), "trainer_state.json does not parse: "),
    (lambda c: (c / "trainer_state.json").write_text('{"epoch": 1.0}'), "trainer_state.json has no global_step, log_history"),
    (lambda c: (c / "trainer_state.json").unlink(), "no trainer_state.json"),
    (lambda c: cut(c / "model.safetensors", 0.9), "model.safetensors is cut short"),
    (lambda c: (c / "model.safetensors").unlink(), "no model weights"),
    (lambda c: cut(c / "optimizer.pt"), "optimizer.pt is cut short"),
    (lambda c: (c / "scheduler.pt").unlink(), "no scheduler.pt"),
])
def test_each_missing_or_cut_file_is_named(tmp_path, damage, problem):
    checkpoint = write_checkpoint(tmp_path / "checkpoint-3")
    damage(checkpoint)
    assert checkpoint_problem(checkpoint).startswith(problem)


def test_latest_falls_back_to_the_newest_complete_checkpoint(tmp_path, caplog):
    for step in (5, 10, 15):
        write_checkpoint(tmp_path / "checkpoints" / f"checkpoint-{step}")
    cut(tmp_path / "checkpoints" / "checkpoint-15" / "trainer_state.json")
    (tmp_path / "checkpoints" / "checkpoint-10" / "optimizer.pt").unlink()
    with caplog.at_level(logging.WARNING, logger="fineclass"):
        assert find_checkpoint(tmp_path, "latest") == tmp_path / "checkpoints" / "checkpoint-5"
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"{tmp_path / 'checkpoints' / 'checkpoint-15'} is incomplete", f"{tmp_path / 'checkpoints' / 'checkpoint-10'} is incomplete"]


def test_with_no_complete_checkpoint_training_starts_over(tmp_path, caplog):
    (tmp_path / "checkpoints" / "checkpoint-2").mkdir(parents=True)  # killed during the first save
    with caplog.at_level(logging.WARNING, logger="fineclass"):
        assert find_checkpoint(tmp_path, "latest") is None
    assert caplog.records[-1].getMessage() == (
        f"no complete checkpoint in {tmp_path / 'checkpoints'}: training starts from the beginning")


def test_an_incomplete_resume_from_is_refused(tmp_path):
    checkpoint = write_checkpoint(tmp_path / "checkpoint-3")
    cut(checkpoint / "scheduler.pt")
    with pytest.raises(FineclassError) as err:
        find_checkpoint(tmp_path, str(checkpoint))
    assert str(err.value) == (f"--resume-from {checkpoint} is an incomplete checkpoint (scheduler.pt is cut short); "
                              "give another checkpoint-N, or --resume to take the newest complete one")
