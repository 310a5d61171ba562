"""Storage URLs, timeouts, the sampler's seed, and trials of dead processes."""

import pytest

from fineclass.errors import ConfigError
from fineclass.tuning.storage import fail_dead_trials, parse_timeout, storage_url
from fineclass.tuning.study import is_surplus, sampler_seed


@pytest.mark.parametrize("text, seconds", [("45m", 2700), ("2h", 7200), ("90s", 90), ("90", 90), ("1h30m", 5400), (600, 600)])
def test_timeouts(text, seconds):
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["45x", "", "m", "0s", "-5"])
def test_bad_timeouts(text):
    with pytest.raises(ConfigError, match="--timeout"):
        parse_timeout(text)


def test_storage_urls(tmp_path):
    assert storage_url(None, tmp_path) == f"sqlite:///{tmp_path.absolute()}/study.db"
    assert storage_url(f"journal:{tmp_path}/s.journal", tmp_path) == f"journal:{tmp_path}/s.journal"
    assert storage_url("postgresql+psycopg2://u:p@db/x", tmp_path) == "postgresql+psycopg2://u:p@db/x"
    with pytest.raises(ConfigError, match="does not exist"):
        storage_url(f"journal:{tmp_path}/missing/s.journal", tmp_path)
    with pytest.raises(ConfigError, match="is not a storage tune can use"):
        storage_url("redis://localhost", tmp_path)


def test_sampler_seed_is_the_run_seed_for_one_process():
    assert sampler_seed(42, "sqlite:///x.db", 0) == 42 and sampler_seed(42, "sqlite:///x.db", 3) == 45
    assert sampler_seed(42, "journal:/x", 0) != 42


def test_dead_process_trials_fail_and_surplus_counts_lower_numbers():
    import optuna

    study = optuna.create_study()
    dead = study.ask()
    dead.set_user_attr("host", __import__("socket").gethostname())
    dead.set_user_attr("pid", 2 ** 22 + 12345)  # above pid_max: no such process
    alive = study.ask()
    alive.set_user_attr("host", __import__("socket").gethostname())
    alive.set_user_attr("pid", __import__("os").getpid())
    assert fail_dead_trials(study) == [0]
    assert study.trials[0].state.name == "FAIL" and study.trials[1].state.name == "RUNNING"
    third = study.ask()
    assert not is_surplus(study, third.number, 2) and is_surplus(study, third.number, 1)
