import pytest

from fineclass.config import TrainConfig, build_config, load_config_file, parse_split
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


def test_yaml_numbers_written_as_strings_are_read_as_numbers(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("learning_rate: 2e-5\nsave_steps: 50\nsave-total-limit: 3\ndata: a.csv\noutput_dir: out\n")
    config = build_config(load_config_file(path), {})
    assert (config.learning_rate, config.save_steps, config.save_total_limit) == (2e-5, 50, 3)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epochs": "three"}, "--epochs must be a number, got 'three'"),
        ({"batch_size": 8.5}, "--batch-size must be a whole number, got 8.5"),
        ({"baseline": "yes"}, "--baseline must be true or false, got 'yes'"),
        ({"save_steps": 0}, "--save-steps must be >= 1, got 0"),
        ({"save_total_limit": 0}, "--save-total-limit must be >= 1, got 0"),
    ],
)
def test_wrong_value_types_are_named(values, message):
    with pytest.raises(ConfigError) as err:
        build_config({"data": "a.csv", "output_dir": "o", **values}, {})
    assert message in str(err.value)


def test_save_steps_evaluates_on_the_same_schedule():
    from fineclass.labels import LabelSpace
    from fineclass.training.arguments import build_training_arguments

    space = LabelSpace(names=("a", "b"), multi_label=False)
    every_epoch = build_training_arguments(build_config({"data": "a", "output_dir": "o"}, {}), "ck", space, "fp32")
    assert (every_epoch.save_strategy, every_epoch.eval_strategy, every_epoch.save_total_limit) == ("epoch", "epoch", 2)
    config = build_config({"data": "a", "output_dir": "o", "save_steps": 7, "save_total_limit": 4}, {})
    stepped = build_training_arguments(config, "ck", space, "fp32")
    assert (stepped.save_strategy, stepped.eval_strategy) == ("steps", "steps")
    assert (stepped.save_steps, stepped.eval_steps, stepped.save_total_limit) == (7, 7, 4)


def test_a_config_built_by_hand_is_checked_and_coerced_on_construction():
    from fineclass.config import TrainConfig
    from fineclass.errors import ConfigError

    with pytest.raises(ConfigError, match=r"--epochs must be > 0, got -1.0; --precision must be one of auto, fp32, bf16, got 'fp8'"):
        TrainConfig(data="d.csv", output_dir="o", epochs=-1, precision="fp8")
    config = TrainConfig(data="d.csv", output_dir="o", learning_rate="2e-5", split="0.8,0.1,0.1")
    assert config.learning_rate == 2e-5 and config.split == (0.8, 0.1, 0.1)


def test_column_lists_are_accepted_as_lists():
    config = build_config({"text_column": ["title", "description"]}, {"data": "d.csv", "output_dir": "o", "columns": ("a", "b")})
    assert (config.text_column, config.columns) == ("title,description", "a,b")


def test_every_field_is_in_one_group_and_yaml_may_nest_by_group(tmp_path):
    from fineclass.config import GROUPS, OPTION_FIELDS

    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(f.name for f in OPTION_FIELDS)  # each option once
    path = tmp_path / "run.yaml"
    path.write_text("optimisation:\n  epochs: 2\n  learning-rate: 3e-4\nthresholds:\n  min_positives: 5\nseed: 7\n")
    assert load_config_file(path) == {"epochs": 2, "learning_rate": "3e-4", "min_positives": 5, "seed": 7}


PUBLISHING = ("train does not publish models (push_to_hub and the hub_* settings are refused, so no hub token is saved "
              "with a run); publishing gets its own command")


@pytest.mark.parametrize("key", ["push_to_hub", "hub_token", "hub_model_id", "hub_strategy", "hub_private_repo"])
def test_trainer_args_that_publish_are_refused_without_their_value(key):
    with pytest.raises(ConfigError) as err:
        build_config({}, {"data": "d.csv", "output_dir": "run", "trainer_args": [f"{key}=hf_s3cret"]})
    assert str(err.value) == f"--trainer-arg {key}: {PUBLISHING}"


def test_a_yaml_config_cannot_publish_through_trainer_args_or_its_own_keys(tmp_path):
    nested = tmp_path / "nested.yaml"
    nested.write_text("optimisation:\n  trainer_args:\n    push_to_hub: true\n    hub_token: hf_s3cret\n")
    with pytest.raises(ConfigError) as err:
        build_config(load_config_file(nested), {"data": "d.csv", "output_dir": "run"})
    assert str(err.value) == f"--trainer-arg push_to_hub: {PUBLISHING}; --trainer-arg hub_token: {PUBLISHING}"
    flat = tmp_path / "flat.yaml"
    flat.write_text("hub_token: hf_s3cret\npush-to-hub: true\n")
    with pytest.raises(ConfigError, match=rf"^config file {flat} sets hub_token, push_to_hub: train does not publish"):
        load_config_file(flat)


def test_report_to_and_other_trainer_args_keep_working():
    config = build_config({}, {"data": "d.csv", "output_dir": "run", "trainer_args": ["report_to=none",
                                                                                     "lr_scheduler_type=cosine"]})
    assert config.trainer_args == {"report_to": "none", "lr_scheduler_type": "cosine"}


def test_config_yaml_records_a_data_url_without_credentials_or_query(tmp_path):
    from fineclass.config import save_config

    config = build_config({}, {"data": "https://alice:pw@host/d.csv?token=abc", "output_dir": "run"})
    save_config(config, tmp_path / "config.yaml")
    saved = load_config_file(tmp_path / "config.yaml")
    assert saved["data"] == "https://***@host/d.csv?***"
    assert config.data == "https://alice:pw@host/d.csv?token=abc"  # the run itself still reads the real URL
    assert "pw" not in (tmp_path / "config.yaml").read_text()


def test_the_read_options_are_nested_and_keep_their_flat_names(tmp_path):
    from fineclass.config import TrainConfig, save_config
    from fineclass.data.options import ReadOptions

    (tmp_path / "run.yaml").write_text("data:\n  delimiter: tab\n  columns: [text, label]\n")  # grouped YAML keys
    config = build_config(load_config_file(tmp_path / "run.yaml"),
                          {"data": "d.csv", "output_dir": "o", "quotechar": "none", "header": False})
    assert config.reading == ReadOptions(delimiter="\t", quotechar="none", header=False, columns=("text", "label"))
    assert config.reading.quotechar == ""  # given, and empty: quotes read as text
    save_config(config, tmp_path / "config.yaml")
    saved = load_config_file(tmp_path / "config.yaml")  # flat, as before, and read back the same
    assert {k: saved[k] for k in ("delimiter", "quotechar", "encoding", "header", "columns")} == {
        "delimiter": "\t", "quotechar": "none", "encoding": None, "header": False, "columns": "text,label"}
    assert build_config(saved, {}).reading == config.reading
    with pytest.warns(DeprecationWarning, match=r"TrainConfig\(delimiter=...\) is deprecated: the read options are "
                                                r"nested, give reading=ReadOptions\(...\) instead"):
        old = TrainConfig(data="d.csv", delimiter=";")
    assert old.reading == ReadOptions(delimiter=";")
    with pytest.warns(DeprecationWarning, match=r"TrainConfig.columns is deprecated: read config.reading.columns"):
        assert config.columns == "text,label"
    with pytest.raises(ConfigError, match=r"^--epochs must be > 0, got -1.0; --delimiter must be one character \(or "
                                          r"tab\), got 'ab'$"):
        TrainConfig(reading={"delimiter": "ab"}, epochs=-1)  # gathered with the other problems


@pytest.mark.parametrize("value", [False, 5, 2.5])
def test_trainer_args_that_are_neither_text_a_list_nor_a_mapping_are_refused(value):
    with pytest.raises(ConfigError) as err:
        build_config({}, {"data": "d.csv", "output_dir": "run", "trainer_args": value})
    assert str(err.value) == f"--trainer-arg must be KEY=VALUE, a list of them or a mapping, got {value!r}"


def test_a_null_in_a_config_file_means_the_default_and_none_by_hand_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("batch_size: null\nlearning_rate: 1e-4\nmax_length: null\n")
    config = build_config(load_config_file(path), {"data": "d.csv", "output_dir": "run"})
    assert config.batch_size == TrainConfig().batch_size and config.learning_rate == 1e-4 and config.max_length is None
    with pytest.raises(ConfigError) as err:
        TrainConfig(batch_size=None)
    assert str(err.value) == "--batch-size needs a value, got None"
