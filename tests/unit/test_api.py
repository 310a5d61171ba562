"""api.py: the Python API's argument handling: unknown keywords, progress choices, and the TrainConfig it builds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from transformers.trainer_callback import ProgressCallback, TrainerCallback

from fineclass import api
from fineclass.config import TrainConfig, read_options
from fineclass.errors import ConfigError
from fineclass.progress import RichProgressCallback


def test_an_unknown_keyword_names_the_closest_option():
    with pytest.raises(ConfigError, match=r"^fineclass.train\(\) got an unknown option 'epoch'; did you mean 'epochs'\?$"):
        api.train_config("d.csv", "runs/x", epoch=3)
    with pytest.raises(ConfigError, match=r"^fineclass.export\(\) got an unknown option 'zzz'; the options are "
                                          r"head_tokens, long_texts, max_windows, window_pooling, window_stride$"):
        api.export("runs/x", zzz=1)


def test_progress_is_the_callers_choice():
    assert api.make_progress(None) is None and api.make_progress(False) is None
    assert isinstance(api.make_progress("auto"), ProgressCallback) and isinstance(api.make_progress(True), ProgressCallback)
    assert isinstance(api.make_progress("rich"), RichProgressCallback)
    mine = TrainerCallback()
    assert api.make_progress(mine) is mine
    with pytest.raises(ConfigError, match="^progress must be 'auto', 'rich', None or a TrainerCallback, got 'fancy'$"):
        api.make_progress("fancy")


def test_keywords_become_the_checked_config_with_a_default_run_directory():
    config, raw = api.train_config("data/emotion.csv", epochs=2, learning_rate="2e-5", delimiter="tab", header=False)
    assert raw is None and config.data == "data/emotion.csv" and config.output_dir == "runs/emotion"
    assert config.epochs == 2.0 and config.learning_rate == 2e-5
    assert read_options(config).delimiter == "\t" and read_options(config).header is False
    with pytest.raises(ConfigError, match="^--epochs must be > 0, got -1.0$"):
        api.train_config("data/emotion.csv", epochs=-1)


def test_a_config_object_is_the_base_and_keywords_win(tmp_path):
    base = TrainConfig(model="my-model", epochs=5, batch_size=4)
    config, _ = api.train_config("d.csv", tmp_path / "run", config=base, batch_size=8)
    assert (config.model, config.epochs, config.batch_size, config.output_dir) == ("my-model", 5.0, 8, str(tmp_path / "run"))


def test_a_data_frame_is_read_in_memory():
    frame = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    config, raw = api.train_config(frame)
    assert raw is not None and list(raw.frames) == ["all"] and raw.frames["all"].equals(frame)
    assert config.output_dir == "runs/data"


def test_a_run_result_or_a_path_names_the_model(tmp_path):
    class Run:
        model_dir = tmp_path / "run" / "model"

    assert api.model_path(Run()) == tmp_path / "run" / "model" and api.model_path("runs/x") == Path("runs/x")
    options = {"delimiter": ";", "text_column": "t"}
    assert api.pop_read_options(options).delimiter == ";" and options == {"text_column": "t"}
