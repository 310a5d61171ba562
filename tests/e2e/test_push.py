"""`fineclass push`: the real huggingface_hub `create_repo` and `upload_folder`, with only the HTTP boundary replaced.

huggingface_hub sends every request through the client its `set_client_factory` makes; here that client's transport
is a fake Hub that answers the endpoints an upload calls (create the repository, a branch, check the card's YAML,
preupload, commit) and keeps what was committed, so the test reads back exactly which files arrived, with which bytes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import constants
from huggingface_hub.utils import _http

from tests.conftest import copy_run, run_cli
from tests.e2e.classifier import save_untrained_classifier

TOKEN = "hf_fineclassTestTokenThatMustNeverBePrinted"


class FakeHub:
    """The Hub's upload endpoints: every file is "regular" (sent inline in the commit), as small files are."""

    def __init__(self, owner: str = "me", refuse: int | None = None):
        self.owner, self.refuse = owner, refuse
        self.calls: list[tuple[str, str]] = []
        self.tokens: set[tuple[str, str | None]] = set()
        """(path, Authorization header) of every request."""
        self.created: list[dict] = []
        self.branches: list[str] = []
        self.commits: list[dict] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        path = request.url.path
        self.calls.append((request.method, path))
        self.tokens.add((path, request.headers.get("authorization")))
        if self.refuse:
            return httpx2.Response(self.refuse, json={"error": "Invalid credentials in Authorization header"})
        if path == "/api/repos/create":
            body = json.loads(request.content)
            self.created.append(body)
            return httpx2.Response(200, json={"url": f"https://huggingface.co/{body['organization'] or self.owner}/{body['name']}"})
        if path == "/api/validate-yaml":
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        if match := re.fullmatch(r"/api/models/[^/]+/[^/]+/branch/(.+)", path):
            self.branches.append(match[1])
            return httpx2.Response(200, json={})
        if re.fullmatch(r"/api/models/[^/]+/[^/]+/preupload/.+", path):
            files = json.loads(request.content)["files"]
            return httpx2.Response(200, json={"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                        for f in files]})
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/commit/(.+)", path):
            return self.commit(match[1], match[2], request.content)
        return httpx2.Response(404, json={"error": f"no route {path}"})

    def commit(self, repo_id: str, revision: str, body: bytes) -> httpx2.Response:
        lines = [json.loads(line) for line in body.decode().splitlines()]
        files = {line["value"]["path"]: base64.b64decode(line["value"]["content"]) for line in lines if line["key"] == "file"}
        header = next(line["value"] for line in lines if line["key"] == "header")
        self.commits.append({"repo_id": repo_id, "revision": revision, "summary": header["summary"], "files": files})
        return httpx2.Response(200, json={"commitUrl": f"https://huggingface.co/{repo_id}/commit/{'a' * 40}",
                                          "commitOid": "a" * 40})


@pytest.fixture
def hub(monkeypatch):
    """A FakeHub behind huggingface_hub's own HTTP client (its request hook included); HF_TOKEN holds TOKEN."""
    fake = FakeHub()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the tests' conftest sets HF_HUB_OFFLINE=1
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(fake), follow_redirects=True,
                                                   event_hooks={"request": [_http.hf_request_event_hook]}))
    yield fake
    _http.set_client_factory(_http.default_client_factory)


@pytest.fixture
def model_dir(tiny_model_dir, tmp_path) -> Path:
    """A small model directory with a model card and a subdirectory, and fineclass's own leftovers that stay home."""
    directory = save_untrained_classifier(tiny_model_dir, tmp_path / "model")
    (directory / "README.md").write_text("---\npipeline_tag: text-classification\n---\n# a model\n")
    (directory / "extra").mkdir()
    (directory / "extra" / "notes.txt").write_text("kept\n")
    (directory / ".fineclass-tmp.config.json.x1").write_text("{}")
    (directory / ".fineclass-manifest.json").write_text('{"command": "train", "entries": []}')
    return directory


def files_under(directory: Path) -> dict[str, bytes]:
    return {Path(root, name).relative_to(directory).as_posix(): Path(root, name).read_bytes()
            for root, _, names in os.walk(directory) for name in names if not name.startswith(".fineclass")}


def test_push_uploads_every_file_of_a_trained_run(multiclass_run, hub, tmp_path):
    run = copy_run(multiclass_run[0], tmp_path)
    result = run_cli("push", run, "--repo-id", "emotion-tiny", "--private")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert hub.created == [{"name": "emotion-tiny", "organization": None, "visibility": "private", "type": "model"}]
    (commit,) = hub.commits
    assert commit["repo_id"] == "me/emotion-tiny" and commit["revision"] == "main"
    assert commit["files"] == files_under(run / "model")  # every file, byte for byte, and nothing else
    assert {"README.md", "config.json", "model.safetensors"} <= set(commit["files"])
    # every upload call carried the token (huggingface_hub's own registry look-up of agent harnesses goes without)
    assert {auth for path, auth in hub.tokens if path != "/api/agent-harnesses"} == {f"Bearer {TOKEN}"}
    assert f"to me/emotion-tiny: https://huggingface.co/me/emotion-tiny/commit/{'a' * 40}" in result.stdout
    assert TOKEN not in result.output


def test_push_to_a_branch_with_a_message_leaves_fineclass_files_home(model_dir, hub):
    result = run_cli("push", model_dir, "--repo-id", "team/x", "--revision", "v2", "--commit-message", "first model")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert hub.branches == ["v2"]
    (commit,) = hub.commits
    assert commit["repo_id"] == "team/x" and commit["revision"] == "v2" and commit["summary"] == "first model"
    assert commit["files"] == files_under(model_dir)
    assert "extra/notes.txt" in commit["files"] and not any(name.startswith(".fineclass") for name in commit["files"])


def test_dry_run_lists_exactly_the_files_and_sends_nothing(model_dir, hub, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")  # a dry run needs no token
    result = run_cli("push", model_dir, "--repo-id", "me/x", "--dry-run")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert hub.calls == []
    lines = result.stdout.splitlines()
    expected = files_under(model_dir)
    total = sum(len(data) for data in expected.values())
    assert lines[0] == (f"dry run: would upload {len(expected)} files ({total / 1024:.1f} KB) from {model_dir} to me/x; "
                        "nothing was sent")
    listed = {m[1]: int(m[2].replace(",", "")) for m in (re.fullmatch(r"  (\S+) +([\d,]+) bytes", line) for line in lines[1:])}
    assert listed == {name: len(data) for name, data in expected.items()}


def test_python_api_push_returns_what_was_sent(model_dir, hub):
    import fineclass

    result = fineclass.push(model_dir, "me/api-model")
    assert [f.path for f in result.files] == sorted(files_under(model_dir))
    assert result.commit_url.endswith("a" * 40) and set(hub.commits[0]["files"]) == {f.path for f in result.files}


def test_a_refused_token_is_one_line_without_the_token(model_dir, hub):
    hub.refuse = 401
    result = run_cli("push", model_dir, "--repo-id", "me/x")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: the Hub refused the token (401) (Invalid credentials in Authorization "
                                     "header); set a valid HF_TOKEN or run `hf auth login` again")
    assert TOKEN not in result.output and hub.commits == []


def test_no_token_is_one_line_and_nothing_is_sent(model_dir, hub, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))  # no cached `hf auth login` either
    result = run_cli("push", model_dir, "--repo-id", "me/x")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no Hugging Face token found; set HF_TOKEN or run `hf auth login`, then push again"
    assert hub.calls == []


@pytest.mark.parametrize("broken, message", [
    ("no-model", "{run} has no model/ directory: the run did not finish training; train it again, or push a model directory"),
    ("no-card", "{run}/model has no model card (README.md); write one there (fineclass train writes one) and push again"),
    ("no-config", "{run}/model has no config.json, so it is not a model the Hub can load; push a complete model directory"),
])
def test_an_incomplete_run_is_one_line_before_any_request(model_dir, hub, tmp_path, broken, message):
    run = tmp_path / "run"
    run.mkdir()
    (run / "splits.json").write_text("{}")
    if broken != "no-model":
        shutil.copytree(model_dir, run / "model")
        (run / "model" / ("README.md" if broken == "no-card" else "config.json")).unlink()
    result = run_cli("push", run, "--repo-id", "me/x")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: " + message.format(run=run)
    assert hub.calls == []
