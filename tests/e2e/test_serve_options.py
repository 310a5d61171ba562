"""`serve`'s safety options: checked before the model loads, the same in Python, and the warning an exposed
server without keys prints."""

from __future__ import annotations

import inspect
import logging

import pytest

import fineclass
from fineclass.commands.serve import serve as serve_command
from fineclass.errors import ConfigError, FineclassError
from fineclass.recipes import serve as recipe
from fineclass.serving.app import ServeSettings, create_app
from fineclass.serving.batcher import BatchingSettings
from tests.conftest import run_cli
from tests.serving_fixtures import KEY, save_classifier


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("options") / "model", multi_label=False)


@pytest.mark.parametrize(("flags", "message"), [
    (["--max-queue", "0", "--timeout-s", "0"], "--max-queue must be >= 1, got 0; --timeout-s must be > 0, got 0.0"),
    (["--api-key-file", "nowhere.txt"], "--api-key-file nowhere.txt: no such file; write one key a line"),
    (["--ssl-keyfile", "key.pem"], "--ssl-keyfile and --ssl-certfile go together; give both for HTTPS, or neither"),
    (["--ssl-keyfile", "key.pem", "--ssl-certfile", "cert.pem"], "--ssl-keyfile key.pem: no such file; --ssl-certfile cert.pem: no such file"),
    (["--limit-concurrency", "0", "--header-timeout-s", "-1"], "--limit-concurrency must be >= 1, got 0; --header-timeout-s must be > 0, got -1.0"),
    (["--allowed-hosts", "a.example,,b.example"], "--allowed-hosts takes names separated by commas, without spaces or empty entries"),
])
def test_bad_safety_options_are_one_line(model_dir, flags, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("serve", model_dir, *flags)
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {message}") and "Traceback" not in result.output


def test_a_short_key_in_the_environment_is_refused_without_showing_it(model_dir, monkeypatch):
    monkeypatch.setenv("FINECLASS_API_KEYS", "hunter2")
    result = run_cli("serve", model_dir)
    assert result.exit_code == 2 and "FINECLASS_API_KEYS: an API key must be at least 16 characters" in result.stderr
    assert "hunter2" not in result.output


def test_python_serve_checks_the_same_options(model_dir):
    with pytest.raises(ConfigError, match="api_keys: an API key must be at least 16 characters"):
        fineclass.serve(model_dir, api_keys=["short"])
    with pytest.raises(FineclassError, match="--timeout-s must be > 0, got -1"):
        fineclass.serve(model_dir, timeout_s=-1)


def test_server_settings_come_from_the_options(model_dir, monkeypatch):
    """What `serve` builds and how it listens, without listening: uvicorn.run is replaced."""
    ran = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: ran.update(app=app, **kwargs))
    fineclass.serve(model_dir, host="0.0.0.0", port=9001, api_keys=[KEY], max_queue=7, timeout_s=2.5,
                    allowed_hosts="api.example.com", cors_origins=["https://app.example.com"], limit_concurrency=64,
                    header_timeout_s=3, timeout_keep_alive=2, access_log=False)
    settings: ServeSettings = ran["app"].state.settings
    assert (settings.batching.max_queue, settings.timeout_s) == (7, 2.5)
    assert settings.access.api_keys == (KEY,) and settings.access.allowed_hosts == ("api.example.com",)
    assert settings.access.cors_origins == ("https://app.example.com",)
    assert (ran["host"], ran["port"], ran["limit_concurrency"], ran["timeout_keep_alive"]) == ("0.0.0.0", 9001, 64, 2)
    assert ran["http"].__name__ == "HeaderDeadlineProtocol" and ran["access_log"] is False
    assert ran["timeout_graceful_shutdown"] == 7  # past the 2.5 s deadline: SIGTERM lets every request finish


def test_an_exposed_server_without_keys_says_how_to_add_them(model_dir, monkeypatch, caplog):
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: None)
    app = create_app(fineclass.Predictor.from_dir(model_dir))
    with caplog.at_level(logging.WARNING, logger="fineclass"):
        recipe.run_server(app, recipe.ListenSettings(host="127.0.0.1"))
        quiet = caplog.text
        recipe.run_server(app, recipe.ListenSettings(host="0.0.0.0"))
    assert quiet == ""
    assert ("listening on 0.0.0.0 without API keys: anyone who can reach this address can use the model. Add keys with "
            "--api-key-file FILE (one key a line) or FINECLASS_API_KEYS=KEY1,KEY2") in caplog.text


@pytest.mark.parametrize(("host", "allowed", "answered"), [
    ("127.0.0.1", None, ("localhost", "127.0.0.1", "::1")),
    ("localhost", "proxy.internal", ("localhost", "127.0.0.1", "::1", "proxy.internal")),
    ("0.0.0.0", None, None),
    ("0.0.0.0", ["api.example.com", "*.example.org"], ("api.example.com", "*.example.org")),
])
def test_hosts_answered(host, allowed, answered):
    assert recipe.hosts_answered(host, allowed) == answered


def test_the_cli_defaults_are_the_settings_defaults():
    defaults = {name: p.default.default if hasattr(p.default, "default") else p.default
                for name, p in inspect.signature(serve_command).parameters.items()}
    listen = recipe.ListenSettings()
    for name in recipe.LISTEN_OPTIONS:
        assert defaults[name] == getattr(listen, name), name
    build = inspect.signature(recipe.build_server).parameters
    assert defaults["max_queue"] == build["max_queue"].default == BatchingSettings().max_queue
    assert defaults["timeout_s"] == build["timeout_s"].default == ServeSettings().timeout_s
