import pytest

from fineclass.config import build_config, load_config_file, parse_split
from fineclass.errors import ConfigError


def test_flags_override_yaml_which_overrides_defaults(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("epochs: 5\nlearning-rate: 0.001\ndata: a.csv\noutput_dir: out\n")
    config = build_config(load_config_file(path), {"epochs": 2, "batch_size": None})
    assert (config.epochs, config.learning_rate, config.batch_size) == (2, 0.001, 32)


def test_unknown_yaml_key_is_named(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("epocs: 5\n")
    with pytest.raises(ConfigError, match=r"unknown keys \['epocs'\]"):
        load_config_file(path)


def test_all_problems_are_reported_together():
    with pytest.raises(ConfigError) as err:
        build_config({}, {"data": "a.csv", "output_dir": "o", "epochs": 0, "batch_size": 0})
    assert "--epochs must be > 0" in str(err.value) and "--batch-size must be >= 1" in str(err.value)


@pytest.mark.parametrize("bad", ["0.7,0.2", "0.5,0.2,0.1", "a,b,c", "0,0.5,0.5"])
def test_bad_split_is_refused(bad):
    with pytest.raises(ConfigError, match="--split"):
        parse_split(bad)


def test_split_parses():
    assert parse_split("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
