"""Output directories and the files in them.

Every directory a command creates holds a manifest of the entries fineclass wrote there, and `--overwrite` removes
only those. Every file is written beside its target, flushed, fsynced and renamed into place, so a crash leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from fineclass.errors import ConfigError

MANIFEST = ".fineclass-manifest.json"
OURS = ".fineclass"
"""Names that start with this are fineclass's own: the manifest, temporary files, staging and set-aside directories."""
RUN_COMMANDS = ("train", "distill")
"""Commands that write a run directory: each may replace the other's, and `train --resume` continues either's."""


@dataclass(frozen=True)
class OutputKind:
    """What a command writes into its output directory, and how a directory from before manifests is recognised."""

    command: str
    legacy_markers: tuple[str, ...] = ()
    """Files that together mark a directory without a manifest as this command's; empty: none is recognised."""
    legacy_entries: tuple[str, ...] = ()
    """The names such a directory may lose to --overwrite."""
    result: str | None = None
    """The file whose presence the "already exists" message names."""
    option: str = "--output-dir"
    """The flag that chooses the directory, for messages."""


@dataclass
class Manifest:
    """.fineclass-manifest.json: which command made the directory, and the top-level entries it wrote there."""

    command: str
    entries: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, directory: Path) -> Manifest | None:
        """The directory's manifest; None when it has none or it does not parse (then nothing in it counts as ours)."""
        try:
            payload = json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))
            return cls(command=str(payload["command"]), entries=[str(name) for name in payload["entries"]])
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return None

    def write(self, directory: Path) -> None:
        write_json_atomic(Path(directory) / MANIFEST, {"command": self.command, "entries": sorted(set(self.entries))})


def same_kind(a: str, b: str) -> bool:
    return a == b or (a in RUN_COMMANDS and b in RUN_COMMANDS)


def record_entries(directory: Path, *names: str) -> None:
    """Add `names` to the directory's manifest before they are written, so a crash part-way leaves them removable."""
    manifest = Manifest.read(directory)
    if manifest is not None and not set(names) <= set(manifest.entries):
        manifest.entries += names
        manifest.write(directory)


def check_output_dir(path: Path, kind: OutputKind, overwrite: bool, inputs=(), resume: bool = False) -> list[str]:
    """Refuse, before anything is read, what would lose a file; return the entries that preparing the directory removes.

    A directory with entries needs --overwrite (or --resume, a run's own continuation), holds only entries its manifest
    lists (or, without one, the legacy entries of `kind`), was made by the same kind of command, and holds none of
    `inputs`: (flag, path) pairs the command reads.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{kind.option} {path} is a file; give a directory")
    try:
        present = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
    except OSError as err:
        raise ConfigError(f"cannot read output directory {path}: {err.strerror}; fix its permissions or choose another "
                          f"{kind.option}") from None
    leftovers = [name for name in present if name != MANIFEST]
    if all(name.startswith(OURS) for name in present):
        return leftovers
    if not (overwrite or resume):
        result = path / kind.result if kind.result else None
        what = f"{result} already exists" if result and result.exists() else f"output directory {path} is not empty"
        raise ConfigError(f"{what}; pass --overwrite to replace it, or choose another {kind.option}")
    check_inputs_outside(path, inputs, kind.option)
    owned = owned_entries(path, kind)
    foreign = [name for name in present if name not in owned and not name.startswith(OURS)]
    if foreign:
        raise ConfigError(f"output directory {path} holds files fineclass did not write ({', '.join(foreign[:5])}); "
                          f"choose another {kind.option} so they are not lost")
    return leftovers


def owned_entries(path: Path, kind: OutputKind) -> set[str]:
    manifest = Manifest.read(path)
    if manifest is None:
        legacy = kind.legacy_markers and all((path / name).is_file() for name in kind.legacy_markers)
        return set(kind.legacy_entries) if legacy else set()
    if not same_kind(manifest.command, kind.command):
        raise ConfigError(f"{kind.option} {path} holds the output of `fineclass {manifest.command}`, which "
                          f"`fineclass {kind.command}` does not replace; choose another {kind.option}")
    return set(manifest.entries)


def check_inputs_outside(path: Path, inputs, option: str) -> None:
    """An input (data, labels file, model) at or under the directory would be deleted before or while it is read."""
    roots = both_forms(path)
    for flag, value in inputs:
        forms = local_forms(value)
        if not forms:
            continue  # a URL, a hub name, a model name, data in memory
        if any(form == root or root in form.parents for form in forms for root in roots):
            where = "is" if roots & forms else "is inside"
            raise ConfigError(f"{flag} {value} {where} {option} {path}, which --overwrite would clear; move it out of "
                              f"{path}, or choose another {option}")


def both_forms(path: Path) -> set[Path]:
    """The path as written (made absolute) and with every symlink resolved: either may lead into the directory."""
    return {Path(os.path.abspath(path)), path.resolve()}


def local_forms(value) -> set[Path]:
    """`both_forms` of an input that is an existing local path; empty for anything else."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        return set()
    try:
        source = Path(value).expanduser()
        return both_forms(source) if source.exists() else set()
    except (OSError, ValueError, RuntimeError):  # a name too long for a path, a NUL byte, a symlink loop
        return set()


def prepare_output_dir(path: Path, kind: OutputKind, overwrite: bool, inputs=(), resume: bool = False) -> None:
    """Check as `check_output_dir` does, remove what an earlier output of this kind wrote, and start a new manifest.

    A directory made inside another fineclass output (an evaluation in a run) is recorded in that one's manifest.
    """
    path = Path(path)
    remove_entries(path, check_output_dir(path, kind, overwrite, inputs, resume))
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=f"{OURS}-write-test", delete=True)
        probe.close()
    except OSError as err:
        raise ConfigError(f"cannot write to output directory {path}: {err.strerror}") from None
    Manifest(kind.command).write(path)
    record_entries(path.absolute().parent, path.name)


def remove_entries(path: Path, names) -> None:
    """Delete the named files and directories directly in `path`, and nothing else (a link, not what it points to)."""
    for name in names:
        target = path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()


# ---- one way to write a file ----------------------------------------------------------------------------------


@contextmanager
def atomic_path(target: Path):
    """A temporary path beside `target` for the block to write; fsynced and renamed over `target` when the block ends,
    removed when it fails. It ends in the target's suffix, so writers that choose a format by name (savefig) agree."""
    target = Path(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f"{OURS}-tmp.{target.name}.", suffix=target.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        sync_file(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_directory(target.parent)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, payload) -> None:
    """Serialised first, so a payload that cannot be written leaves no file at all."""
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def replace_dir_atomic(staging: Path, target: Path) -> None:
    """Swap a fully written `staging` directory in for `target`. The old one is renamed aside and deleted only after
    the new one is in place, so a complete directory is at one of the two names at every moment."""
    staging, target = Path(staging), Path(target)
    sync_tree(staging)
    aside = target.parent / f"{OURS}-old.{target.name}.{uuid.uuid4().hex[:8]}" if target.exists() else None
    if aside is not None:
        os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    sync_directory(target.parent)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(directory: Path) -> None:
    """Every file under `directory` on disk before it is renamed into place (the rename must not outrun its contents)."""
    for root, _, names in os.walk(directory):
        for name in names:
            sync_file(Path(root, name))
        sync_directory(Path(root))


def sync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable. Some file systems cannot fsync a directory; the rename stands regardless."""
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
