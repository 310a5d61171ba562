"""The bad-input catalogue: every kind of malformed input, through the real CLI.

Each case asserts exit code 2, its exact one-line message, no traceback, and that the files the user had
are untouched. docs/errors.md is generated from this table (`python -m tests.e2e.test_bad_input_catalogue`),
and a test checks that it still matches, so the documented messages are the real ones.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import shlex
import threading
from pathlib import Path

import pytest

from tests.conftest import make_texts, run_cli
from tests.e2e import bad_input_data_cases, bad_input_run_cases  # noqa: F401 (they register the cases)
from tests.e2e import bad_input_output_safety_cases, bad_input_reading_safety_cases, bad_input_secrets_safety_cases  # noqa: F401
from tests.e2e import bad_input_ecosystem_cases  # noqa: F401
from tests.e2e import bad_input_tune_cases  # noqa: F401
from tests.e2e.bad_input_registry import CASES, DOC_URL, TRAIN_TEST_FLAGS, Case, Context
from tests.e2e.classifier import save_untrained_classifier

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


# ---- running the catalogue ----------------------------------------------------------------------------


class CutOffServer(http.server.BaseHTTPRequestHandler):
    """Announces the whole file, sends a third of it, and closes: a dropped connection."""

    body = make_texts(60).to_csv(index=False).encode()

    def do_GET(self):
        if not self.path.endswith("/data.csv"):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body[: len(self.body) // 3])
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CutOffServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def classifier_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return save_untrained_classifier(tiny_model_dir, tmp_path_factory.mktemp("classifier"))


def snapshot(root: Path) -> dict[str, str]:
    """Every file and link under root (links not followed), with a hash of its bytes and its mtime."""
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            path = Path(directory, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = f"link:{os.readlink(path)}"
            else:
                found[rel] = f"{hashlib.sha256(path.read_bytes()).hexdigest()}:{path.stat().st_mtime_ns}"
    return found


def command_line(args: list[str], url: str) -> list[str]:
    argv = [arg.replace(DOC_URL, url) for arg in args]
    return [argv[0], *TRAIN_TEST_FLAGS, *argv[1:]] if argv[0] == "train" else argv


@pytest.mark.parametrize("entry", CASES, ids=lambda c: c.name)
def test_bad_input(entry: Case, tmp_path, monkeypatch, tiny_model_dir, classifier_dir, server_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FINECLASS_CACHE", str(tmp_path / ".cache"))
    Path("tiny").symlink_to(tiny_model_dir)
    Path("model").symlink_to(classifier_dir)
    ctx = Context(monkeypatch=monkeypatch, url=server_url)
    entry.setup(ctx)
    before = snapshot(tmp_path)
    try:
        result = run_cli(*command_line(entry.args, server_url))
    finally:
        ctx.extra.get("restore", lambda: None)()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    expected = "error: " + entry.message.replace(DOC_URL, server_url)
    assert (errors[0][:len(expected)] if entry.prefix else errors[0]) == expected
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before, "a file the user had was changed"
    new = [k for k in after if k not in before and not k.startswith(entry.creates)]
    assert new == [], f"left behind: {new}"  # for downloads: no partial file in the cache


def render_table() -> str:
    """docs/errors.md: the catalogue as a table, messages as the tests assert them."""
    lines = [
        "# Errors",
        "",
        "A mistake in the input makes fineclass print one line, `error: ...`, and exit with code 2, before it",
        "loads a model where it can. Nothing you already have is overwritten without `--overwrite`. This table is",
        "generated from `tests/e2e/test_bad_input_catalogue.py` (`python -m tests.e2e.test_bad_input_catalogue`),",
        "whose tests run each command on the input described and check the exact message; paths are relative to",
        "the working directory, and `train` commands also had the test's `--model` and a short run.",
        "",
        f"{len(CASES)} kinds of bad input:",
        "",
        "| input | command | message (exit 2) | what to do |",
        "|---|---|---|---|",
    ]
    for entry in CASES:
        message = f"error: {entry.message}" + ("..." if entry.prefix else "")
        cells = [entry.input, f"`fineclass {shlex.join(entry.args)}`", f"`{message}`", entry.fix]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def test_docs_errors_md_is_this_catalogue():
    assert len(CASES) >= 30
    assert DOC.read_text(encoding="utf-8") == render_table(), "run: python -m tests.e2e.test_bad_input_catalogue"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render_table(), encoding="utf-8")
    print(f"wrote {DOC} ({len(CASES)} cases)")
