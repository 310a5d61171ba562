"""A data URL's credentials and query string are used to download, and recorded nowhere: not in any file a command
writes, not in the CLI's output, not in the download cache's file names."""

from __future__ import annotations

import base64
import http.server
import threading
from pathlib import Path

import pytest
import yaml

from tests.conftest import make_texts, run_cli

USER, PASSWORD, TOKEN = "alice", "pw-s3cret-1", "tok-s3cret-2"
SECRETS = (PASSWORD, TOKEN, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())


class PrivateData(http.server.BaseHTTPRequestHandler):
    """Serves toy data only with the right Basic credentials and ?token=, as a private bucket would."""

    body = make_texts(90).to_csv(index=False).encode()

    def do_GET(self):
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected or not self.path.endswith(f"?token={TOKEN}"):
            self.send_error(403)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def private_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PrivateData)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{USER}:{PASSWORD}@127.0.0.1:{server.server_port}/emotions.csv?token={TOKEN}"
    server.shutdown()


def leaks(root: Path, output: str) -> list[str]:
    """Every file under root (its bytes and its name) and the CLI output that hold a secret."""
    found = [f"output: {secret}" for secret in SECRETS if secret in output]
    for path in root.rglob("*"):
        data = path.read_bytes() if path.is_file() else b""
        found += [f"{path.relative_to(root)}: {secret}" for secret in SECRETS
                  if secret.encode() in data or secret in path.name or USER + ":" in path.name]
    return found


def test_a_run_from_a_private_url_records_no_secret(private_url, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FINECLASS_CACHE", str(tmp_path / "cache"))
    result = run_cli("train", private_url, "--model", tiny_model_dir, "-o", tmp_path / "run", "--epochs", "1",
                     "--min-steps", "0", "--quiet", "--keep-checkpoints")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert leaks(tmp_path, result.output + result.stderr) == []
    recorded = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["data"]
    port = private_url.split(":")[3].split("/")[0]
    assert recorded == f"http://***@127.0.0.1:{port}/emotions.csv?***"
    assert f"<title>fineclass report: {recorded} (test split)</title>" in (tmp_path / "run" / "report.html").read_text()
    assert f"`{recorded}`" in (tmp_path / "run" / "model" / "README.md").read_text()
    assert "read emotions.csv:" in result.output  # the detection line names the file, nothing more


def test_compare_and_explore_from_a_private_url_record_no_secret(private_url, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FINECLASS_CACHE", str(tmp_path / "cache"))
    compared = run_cli("compare", private_url, "--models", "tfidf-logreg", "-o", tmp_path / "compare", "--quiet")
    assert compared.exit_code == 0, compared.output + str(compared.exception)
    explored = run_cli("explore", private_url, "--model", tiny_model_dir, "-o", tmp_path / "explore")
    assert explored.exit_code == 0, explored.output + str(explored.exception)
    assert leaks(tmp_path, compared.output + compared.stderr + explored.output + explored.stderr) == []
    assert "***@127.0.0.1" in (tmp_path / "compare" / "compare.json").read_text()


def test_a_failed_download_names_the_url_without_its_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("FINECLASS_CACHE", str(tmp_path / "cache"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PrivateData)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wrong = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.server_port}/emotions.csv?token=wrong-{TOKEN}"
        result = run_cli("train", wrong, "-o", tmp_path / "run")
    finally:
        server.shutdown()
    assert result.exit_code == 2
    shown = f"http://***@127.0.0.1:{server.server_port}/emotions.csv?***"
    assert f"downloading {shown}" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (f"error: could not download {shown}: Forbidden; check the address "
                                                      "and your network")
    assert leaks(tmp_path, result.output + result.stderr) == []
