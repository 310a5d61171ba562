"""Who may use a server: API keys and Host names, checked as ASGI middleware before any body is read.

FastAPI reads a request's body before its dependencies run, so a key check written as a dependency would
let anyone make the server read and parse a large body. Plain ASGI runs on the headers alone.
"""

from __future__ import annotations

import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from fineclass.errors import ConfigError
from fineclass.serving.responses import error

OPEN_PATHS = ("/", "/health")
"""Paths anyone may call: the page (it asks for a key) and the liveness probe."""
KEYS_ENV = "FINECLASS_API_KEYS"
MIN_KEY_CHARS = 16
KEY_PATTERN = re.compile(r"[\x21-\x2b\x2d-\x7e]+")  # visible ASCII but the comma: a key travels in a header
MAKE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
PORT = re.compile(r":\d*$")


@dataclass
class AccessSettings:
    """Who may call a server."""

    api_keys: tuple[str, ...] = ()
    """Keys accepted as `Authorization: Bearer KEY`; empty: no key is needed."""
    allowed_hosts: tuple[str, ...] | None = None
    """Host header names answered (any port; `*.example.com` for subdomains); None or "*": any."""
    cors_origins: tuple[str, ...] = ()
    """Origins whose web pages may call the API; empty: none (browsers keep other sites out)."""

    def __repr__(self) -> str:  # the keys stay out of logs and tracebacks
        return (f"AccessSettings(api_keys=<{len(self.api_keys)} key(s)>, allowed_hosts={self.allowed_hosts!r}, "
                f"cors_origins={self.cors_origins!r})")


def read_api_keys(keys=(), key_file: str | Path | None = None, environ=os.environ) -> tuple[str, ...]:
    """Every key given: `keys`, the lines of `key_file` (blank lines and # comments skipped), and the
    comma-separated FINECLASS_API_KEYS. Raises ConfigError for a key that is too short; never shows a key."""
    if isinstance(keys, str):
        raise ConfigError("api_keys must be a list of keys, not one string; pass api_keys=[key]")
    found = [(key, "api_keys") for key in keys]
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise ConfigError(f"--api-key-file {path}: no such file; write one key a line (make one with: {MAKE_KEY})")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError) as err:
            raise ConfigError(f"--api-key-file {path} cannot be read as UTF-8 text ({type(err).__name__})") from None
        found += [(line.strip(), f"--api-key-file {path} line {n}") for n, line in enumerate(lines, 1)
                  if line.strip() and not line.strip().startswith("#")]
        if not any(where.startswith("--api-key-file") for _, where in found):
            raise ConfigError(f"--api-key-file {path} holds no keys; write one key a line (make one with: {MAKE_KEY})")
    found += [(key.strip(), KEYS_ENV) for key in environ.get(KEYS_ENV, "").split(",") if key.strip()]
    for key, where in found:
        check_api_key(key, where)
    return tuple(dict.fromkeys(key for key, _ in found))


def check_api_key(key, where: str) -> None:
    if not isinstance(key, str) or len(key) < MIN_KEY_CHARS or not KEY_PATTERN.fullmatch(key):
        raise ConfigError(f"{where}: an API key must be at least {MIN_KEY_CHARS} characters of visible ASCII, with no "
                          f"spaces or commas (make one with: {MAKE_KEY})")


class ApiKeyGuard:
    """ASGI middleware: every path but / and /health needs `Authorization: Bearer KEY`; else 401."""

    def __init__(self, app, api_keys: tuple[str, ...]):
        self.app = app
        self.keys = [key.encode("ascii") for key in api_keys]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope["headers"])
        if token is not None and self.accepts(token):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="fineclass"' + ('' if token is None else ', error="invalid_token"')
        message = ("this server needs an API key: send the header Authorization: Bearer KEY" if token is None else
                   "the API key is not one this server accepts; check it against the server's --api-key-file "
                   f"or {KEYS_ENV}")
        await error(401, message, {"WWW-Authenticate": challenge})(scope, receive, send)

    def accepts(self, token: bytes) -> bool:
        # A list, not any() over a generator: every key is compared, so the time taken says nothing of which matched.
        return any([hmac.compare_digest(token, key) for key in self.keys])


def bearer_token(headers) -> bytes | None:
    value = next((v for k, v in headers if k == b"authorization"), None)
    if value is None:
        return None
    scheme, _, token = value.strip().partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" else b""


class HostGuard:
    """ASGI middleware: answer only requests whose Host header names this server, so a web page whose own
    name was re-pointed at 127.0.0.1 (DNS rebinding) cannot reach it. /health stays open to probes by IP."""

    def __init__(self, app, allowed_hosts: tuple[str, ...]):
        self.app = app
        self.names = {name.lower().rstrip(".") for name in allowed_hosts if not name.startswith("*.")}
        self.suffixes = tuple(name.lower()[1:] for name in allowed_hosts if name.startswith("*."))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
        name = host_name(raw)
        if name in self.names or (self.suffixes and name.endswith(self.suffixes)):
            await self.app(scope, receive, send)
            return
        allowed = ", ".join(sorted(self.names) + [f"*{s}" for s in self.suffixes])
        await error(400, f"the Host header {raw[:80]!r} does not name this server ({allowed}); call it by one of "
                         "those names, or start it with --allowed-hosts NAME")(scope, receive, send)


def host_name(host: str) -> str:
    """The name in a Host header, without its port: `[::1]:8000` -> `::1`, `Example.com.:80` -> `example.com`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return PORT.sub("", host).rstrip(".")
