"""API keys from every source, and the parsing of Authorization and Host headers."""

from __future__ import annotations

import pytest

from fineclass.errors import ConfigError
from fineclass.serving.security import bearer_token, host_name, read_api_keys

KEY_A, KEY_B, KEY_C = "alpha-key-0123456789", "bravo-key-0123456789", "charlie-key-0123456789"


def test_keys_come_from_the_list_the_file_and_the_environment(tmp_path):
    key_file = tmp_path / "keys.txt"
    key_file.write_text(f"# the team's keys\n\n  {KEY_B}  \n{KEY_A}\n")
    keys = read_api_keys([KEY_A], key_file, {"FINECLASS_API_KEYS": f" {KEY_C} ,,{KEY_B}"})
    assert keys == (KEY_A, KEY_B, KEY_C)
    assert read_api_keys((), None, {}) == ()


@pytest.mark.parametrize(("keys", "content", "environ", "message"), [
    ((), None, {}, "--api-key-file {dir}/missing.txt: no such file; write one key a line"),
    ((), "# only a comment\n\n", {}, "--api-key-file {dir}/keys.txt holds no keys; write one key a line"),
    ((), "short-secret\n", {}, "--api-key-file {dir}/keys.txt line 1: an API key must be at least 16 characters"),
    ((), f"{KEY_A}\nhas a space in it 0123\n", {}, "--api-key-file {dir}/keys.txt line 2: an API key must be"),
    (("tiny-secret",), None, {}, "api_keys: an API key must be at least 16 characters"),
    ((), None, {"FINECLASS_API_KEYS": "caf\u00e9-key-0123456789"}, "FINECLASS_API_KEYS: an API key must be"),
    (KEY_A, None, {}, "api_keys must be a list of keys, not one string; pass api_keys=[key]"),
])
def test_bad_keys_are_refused_without_showing_them(tmp_path, keys, content, environ, message):
    key_file = tmp_path / ("missing.txt" if content is None and "missing" in message else "keys.txt")
    if content is not None:
        key_file.write_text(content)
    with pytest.raises(ConfigError) as raised:
        read_api_keys(keys, key_file if "--api-key-file" in message else None, environ)
    assert str(raised.value).startswith(message.format(dir=tmp_path))
    for secret in ("short-secret", "has a space", "tiny-secret", "caf\u00e9"):
        assert secret not in str(raised.value)


def test_an_unreadable_key_file_is_one_line(tmp_path):
    key_file = tmp_path / "keys.bin"
    key_file.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match=r"keys.bin cannot be read as UTF-8 text \(UnicodeDecodeError\)"):
        read_api_keys((), key_file, {})


@pytest.mark.parametrize(("header", "token"), [
    (None, None), (b"Bearer abc", b"abc"), (b"bearer   abc  ", b"abc"), (b"Basic abc", b""), (b"Bearer", b""), (b"", b""),
])
def test_bearer_token(header, token):
    headers = [(b"host", b"x")] + ([] if header is None else [(b"authorization", header)])
    assert bearer_token(headers) == token


@pytest.mark.parametrize(("host", "name"), [
    ("localhost:8000", "localhost"), ("LocalHost", "localhost"), ("127.0.0.1:80", "127.0.0.1"), ("[::1]:8000", "::1"),
    ("[::1]", "::1"), ("example.com.", "example.com"), ("example.com.:443", "example.com"), ("", ""), ("[::1", "[::1"),
])
def test_host_name(host, name):
    assert host_name(host) == name
