"""The search space: defaults, a --space file that narrows, fixes and adds settings, and the first points."""

import pytest

from fineclass.errors import ConfigError
from fineclass.tuning.space import Param, defaults_point, known_good_points, load_space, trial_settings
from fineclass.config import TrainConfig


def test_default_space_follows_the_task_and_leaves_out_fixed_options():
    multi_class, _ = load_space(None, False, set())
    assert set(multi_class) == {"learning_rate", "head_lr_scale", "epochs", "batch_size", "warmup_ratio",
                                "weight_decay", "class_weights"}
    assert multi_class["learning_rate"] == Param("learning_rate", "float", 1e-5, 5e-4, log=True)
    multi_label, _ = load_space(None, True, {"epochs", "batch_size"})
    assert {"pos_weight", "thresholds"} <= set(multi_label) and not {"epochs", "batch_size", "class_weights"} & set(multi_label)


def test_a_space_file_narrows_adds_choices_and_fixes(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("learning_rate: {low: 2e-5, high: 2.0e-4, log: true}\nbatch-size: [16, 32]\nmodel: [a, b]\n"
                    "class_weights: balanced\nepochs: {low: 2, high: 4}\n")
    space, pinned = load_space(path, False, set())
    assert space["learning_rate"] == Param("learning_rate", "float", 2e-5, 2e-4, log=True)
    assert space["batch_size"].choices == (16, 32) and space["model"].choices == ("a", "b")
    assert space["epochs"] == Param("epochs", "int", 2, 4)
    assert pinned == {"class_weights": "balanced"} and "class_weights" not in space


@pytest.mark.parametrize("text, message", [
    ("epochs: {low: 1.5, high: 3}", "--space S: epochs is a whole number, got 1.5"),
    ("warmup_ratio: {low: 0, high: 1.5}", "--space S: --warmup-ratio must be in [0, 1), got 1.5"),
    ("learning_rate: {low: 0, high: 1.0e-3, log: true}", "--space S: --learning-rate must be > 0, got 0.0"),
    ("weight_decay: {low: 0.0, high: 0.1, log: true}", "--space S: weight_decay is log-uniform, so low must be > 0, got 0"),
    ("batch_size: []", "--space S: batch_size lists no choices; give at least one, like batch_size: [a, b]"),
    ("learning_rate: {low: 1.0e-5}", "--space S: learning_rate must be {low: L, high: H} with an optional log: true"),
    ("- 1\n- 2", "--space S must hold a mapping of setting: range, like learning_rate: {low: 1e-5, high: 5e-4, log: true}"),
])
def test_bad_space_files_are_one_line_each(tmp_path, text, message):
    path = tmp_path / "S"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_space(path, False, set())
    assert str(err.value) == message.replace("--space S", f"--space {path}")


def test_trial_zero_is_the_defaults_and_known_good_points_fit_the_space():
    space, _ = load_space({"learning_rate": {"low": 1e-5, "high": 1.5e-4}, "class_weights": ["balanced"]}, False, set())
    point, left_out = defaults_point(space)
    assert point == {"learning_rate": 1e-4, "head_lr_scale": 20.0, "epochs": 3, "batch_size": 32, "warmup_ratio": 0.1,
                     "weight_decay": 0.01}
    assert left_out == []  # class_weights was fixed to balanced by the one-value list
    points = known_good_points(space, point)
    assert points == [{**point, "epochs": 2}]  # 2e-4 is outside the narrowed range; class weights are fixed


def test_a_trial_always_gives_epochs_explicitly():
    assert trial_settings(TrainConfig(), {}).epochs == 3.0
    assert trial_settings(TrainConfig(), {"epochs": 2, "batch_size": 16}).batch_size == 16
