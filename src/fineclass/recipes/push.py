"""`fineclass push`: upload a run's model directory to the Hugging Face Hub.

The upload is huggingface_hub's own `create_repo` and `upload_folder`; the token comes from where huggingface_hub
looks for it (HF_TOKEN, then the cached `hf auth login`), and fineclass never writes, prints or logs it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fineclass.errors import ConfigError, FineclassError, ModelError, first_line
from fineclass.outputs import MANIFEST, OURS
from fineclass.rundir import MODEL, SPLITS

MODEL_CARD = "README.md"
SKIPPED = [f"{OURS}*", f"**/{OURS}*"]
"""fineclass's own temporary files and manifest are never uploaded (huggingface_hub adds .git and its cache)."""


@dataclass
class PushFile:
    path: str
    """Path in the repository, relative to the model directory."""
    size: int
    """Bytes."""


@dataclass
class PushResult:
    """What was uploaded (or, with `dry_run`, what would be)."""

    repo_id: str
    model_dir: Path
    files: list[PushFile]
    revision: str | None = None
    private: bool = False
    dry_run: bool = False
    commit_url: str | None = None
    """The Hub's URL of the commit; None for a dry run."""

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def find_model_dir(run: str | Path) -> Path:
    """The model directory of a run (RUN/model) or a model directory itself, with a config.json and a model card."""
    path = Path(run).expanduser()
    if not path.is_dir():
        raise ModelError(f"run directory not found: {path}")
    model_dir = path / MODEL if (path / MODEL).is_dir() else path
    if model_dir is path and not (path / "config.json").is_file():
        if (path / SPLITS).is_file() or (path / MANIFEST).is_file():
            raise ModelError(f"{path} has no {MODEL}/ directory: the run did not finish training; train it again, "
                             "or push a model directory")
        raise ModelError(f"{path} is neither a fineclass run directory nor a model directory (no {MODEL}/ or config.json)")
    if not (model_dir / "config.json").is_file():
        raise ModelError(f"{model_dir} has no config.json, so it is not a model the Hub can load; push a complete "
                         "model directory")
    if not (model_dir / MODEL_CARD).is_file():
        raise ModelError(f"{model_dir} has no model card ({MODEL_CARD}); write one there (fineclass train writes "
                         "one) and push again")
    return model_dir


def list_push_files(model_dir: Path) -> list[PushFile]:
    """Exactly the files `upload_folder` sends: every file under the directory less huggingface_hub's defaults
    (.git, its cache) and fineclass's own temporary files, filtered by the function huggingface_hub itself uses."""
    from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

    found = {p.relative_to(model_dir).as_posix(): p for p in sorted(model_dir.glob("**/*")) if p.is_file()}
    kept = filter_repo_objects(found, ignore_patterns=[*SKIPPED, *DEFAULT_IGNORE_PATTERNS])
    return [PushFile(name, found[name].stat().st_size) for name in kept]


def check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        reason = str(err).split(". Use `repo_type`")[0].rstrip(".")
        raise ConfigError(f"--repo-id {repo_id!r} is not a Hub repository name: {reason}; use NAME or "
                          "OWNER/NAME, like me/emotion-minilm") from None


def push_model(run: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
               commit_message: str | None = None, dry_run: bool = False) -> PushResult:
    """Create the repository (kept if it exists), then upload the model directory to `revision` (a branch,
    created from the default branch if it is new). `dry_run` lists the files and sends nothing."""
    check_repo_id(repo_id)
    model_dir = find_model_dir(run)
    result = PushResult(repo_id, model_dir, list_push_files(model_dir), revision, private, dry_run)
    if dry_run:
        return result
    from huggingface_hub import HfApi, get_token

    token = get_token()
    if not token:
        raise ConfigError("no Hugging Face token found; set HF_TOKEN or run `hf auth login`, then push again")
    api = HfApi(token=token)
    with hub_errors(repo_id, token):
        repo = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        result.repo_id = repo.repo_id  # OWNER/NAME, also when only NAME was given
        if revision:
            api.create_branch(result.repo_id, branch=revision, exist_ok=True, repo_type="model")
        commit = api.upload_folder(repo_id=result.repo_id, folder_path=model_dir, revision=revision, repo_type="model",
                                   commit_message=commit_message or f"Upload {model_dir.name} with fineclass",
                                   ignore_patterns=list(SKIPPED))
    result.commit_url = commit.commit_url
    return result


@contextmanager
def hub_errors(repo_id: str, token: str):
    """The Hub's refusals and an unreachable network as one line that says what to do, with the token blanked out
    of anything the server or the HTTP library echoed."""
    try:
        yield
    except FineclassError:
        raise
    except Exception as err:
        message = describe_hub_error(err, repo_id)
        if message is None:
            raise
        raise FineclassError(message.replace(token, "***")) from None


def describe_hub_error(err: BaseException, repo_id: str) -> str | None:
    """The line for an error from the Hub or the network; None for anything else (a bug: its traceback stays)."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(err, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set, so nothing can be pushed; unset it and push again"
    if isinstance(err, HfHubHTTPError):
        status = err.response.status_code if err.response is not None else None
        server = (getattr(err, "server_message", None) or "").strip().splitlines()
        said = f" ({server[0]})" if server else ""
        if status == 401:
            return f"the Hub refused the token (401){said}; set a valid HF_TOKEN or run `hf auth login` again"
        if status == 403:
            return f"the token may not write to {repo_id} (403){said}; use a token with write access to it"
        return f"the Hub refused the push to {repo_id} ({status}){said}; fix that and push again"
    if type(err).__module__.split(".")[0] in ("httpx", "httpx2") or isinstance(err, OSError):
        return f"could not reach the Hub: {first_line(err)}; " \
               "check the network (and HF_ENDPOINT), then push again"
    return None
