"""Read DATA (a file, a directory of split files, a URL, or hf:NAME[:CONFIG]) into DataFrames."""

from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fineclass.data.read import (
    FORMATS,
    FileLayout,
    ReadOptions,
    detect_layout,
    format_of,
    read_file,
    read_frames,
)
from fineclass.errors import DataError, first_line
from fineclass.redact import redact_source, redact_text

logger = logging.getLogger(__name__)

SPLIT_ALIASES = {
    "train": ("train", "training"),
    "validation": ("validation", "dev", "valid", "val"),
    "test": ("test", "testing"),
}
LABEL_NAME_FILES = ("labels.txt", "label_names.txt", "classes.txt")


@dataclass
class RawData:
    """Tables as read, before columns are chosen: one per split, or one called 'all'."""

    frames: dict[str, pd.DataFrame]
    source: str
    label_names_file: Path | None = None
    hub_label_names: dict[str, list[str]] = field(default_factory=dict)
    """Label names per column from a hub dataset's ClassLabel features."""
    layout: FileLayout | None = None
    """How the (first) file was read: format, encoding, dialect, header."""
    files: dict[str, str] = field(default_factory=dict)
    """The file each split came from, for a directory of split files."""


def load_raw_data(data: str, options: ReadOptions | None = None) -> RawData:
    """Dispatch on what DATA looks like."""
    options = options or ReadOptions()
    if data.startswith("hf:"):
        return load_hub_dataset(data)
    if data.startswith(("http://", "https://")):
        path = download_file(data)
        layout = detect_layout(path, options, fmt=format_of(Path(data.split("?")[0])))
        return RawData(frames=read_frames(path, layout), source=data, layout=layout)
    path = Path(data).expanduser()
    if path.is_dir():
        return load_split_directory(path, options)
    if not path.exists():
        raise DataError(f"data not found: {data} (give a CSV/TSV/TXT/JSON/JSONL/Parquet file, a directory, a URL or hf:NAME)")
    layout, frames = read_file(path, options)
    return RawData(frames=frames, source=str(path), label_names_file=find_label_names_file(path.parent), layout=layout)


def split_files(directory: Path) -> dict[str, Path]:
    """train/validation/test files: named after the split (train.csv, dev.tsv), or with the split's name as a part
    of the file name (2018-E-c-En-train.txt, my_test.csv) when exactly one file matches."""
    files = [p for p in directory.iterdir()
             if p.is_file() and p.suffix.lower() in FORMATS and p.name.lower() not in LABEL_NAME_FILES]
    found = {}
    for split, aliases in SPLIT_ALIASES.items():
        exact = sorted(p for p in files if p.stem.lower() in aliases)
        partial = sorted(p for p in files if set(re.split(r"[^a-z0-9]+", p.stem.lower())) & set(aliases))
        matches = exact or partial
        if len(matches) > 1:
            raise DataError(
                f"{directory} has several {split} files ({', '.join(p.name for p in matches[:5])}); "
                f"keep one, or give the file itself as DATA"
            )
        if matches:
            found[split] = matches[0]
    return found


def load_split_directory(directory: Path, options: ReadOptions) -> RawData:
    """A directory with train.* and optionally validation.* (or dev.*) and test.*."""
    files = split_files(directory)
    if "train" not in files:
        present = sorted(p.name for p in directory.iterdir())
        raise DataError(
            f"{directory} has no train file; a data directory needs a train file (train.csv, or a name with 'train' "
            f"in it, like my-train.tsv; any of {', '.join(FORMATS)}) and optionally validation/dev and "
            f"test files; it holds {present[:10]}"
        )
    read = {split: read_file(path, options) for split, path in files.items()}
    for split, (_, frames) in read.items():
        if list(frames) != ["all"]:
            raise DataError(f"{files[split]} holds splits {sorted(frames)} itself; give that file as DATA, not its directory")
    return RawData(frames={split: frames["all"] for split, (_, frames) in read.items()}, source=str(directory),
                   label_names_file=find_label_names_file(directory), layout=read["train"][0],
                   files={split: path.name for split, path in files.items()})


def find_label_names_file(directory: Path) -> Path | None:
    for name in LABEL_NAME_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def read_label_names(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"label names file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise DataError(f"label names file {path} is not UTF-8; re-save it as UTF-8") from None
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise DataError(f"label names file {path} is empty; write one label name per line")
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        name = line.strip()
        if name and name in seen:
            raise DataError(f"label names file {path} names {name!r} twice (lines {seen[name]} and {number}); "
                            "each label needs its own name")
        seen.setdefault(name, number)
    return names


def download_file(url: str, cache_dir: Path | None = None) -> Path:
    """Download once into the cache; a partial download never looks complete."""
    cache_dir = cache_dir or Path(os.environ.get("FINECLASS_CACHE", Path.home() / ".cache" / "fineclass"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = Path(urllib.parse.urlsplit(url).path).name or "data"  # no credentials or query in a file name
    target = cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"
    if target.exists():
        return target
    logger.info("downloading %s", redact_source(url))
    fd, partial = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            written, expected = _copy_response(url, out)
        if expected is not None and written != expected:
            raise DataError(f"download of {redact_source(url)} was interrupted ({written} of {expected} bytes); "
                            "run the command again")
        os.replace(partial, target)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or first_line(err)
        raise DataError(f"could not download {redact_source(url)}: {redact_text(str(reason))}; check the address and "
                        "your network") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def _copy_response(url: str, out) -> tuple[int, int | None]:
    """Bytes written, and the bytes the server announced (Content-Length) if it did."""
    written = 0
    with urllib.request.urlopen(authorized_request(url), timeout=60) as response:
        length = response.headers.get("Content-Length")
        try:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                written += len(chunk)
        except http.client.IncompleteRead as err:  # the connection closed before Content-Length bytes came
            written += len(err.partial)
    return written, int(length) if length is not None and length.isdigit() else None


def authorized_request(url: str) -> urllib.request.Request:
    """A request for `url`. Credentials in it (https://user:token@host/d.csv) become a Basic Authorization header,
    as curl sends them (urllib would read them as part of the host name); a redirect does not carry it elsewhere."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return urllib.request.Request(url)
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])))
    pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    request.add_unredirected_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    return request


def load_hub_dataset(spec: str) -> RawData:
    """hf:NAME[:CONFIG] through datasets.load_dataset; ClassLabel names are kept."""
    parts = spec[3:].split(":")
    name, config_name = parts[0], (parts[1] if len(parts) > 1 and parts[1] else None)
    if not name:
        raise DataError(f"{spec!r} names no dataset; use hf:NAME or hf:NAME:CONFIG, like hf:dair-ai/emotion")
    import datasets

    try:
        dataset_dict = datasets.load_dataset(name, config_name)
    except Exception as err:  # the hub raises many types: connection, missing repo, bad config
        raise DataError(f"could not load hub dataset {name!r}: {first_line(err)}") from None
    frames, label_names = {}, {}
    for split_name, dataset in dataset_dict.items():
        canonical = next((s for s, aliases in SPLIT_ALIASES.items() if split_name in aliases), split_name)
        frames[canonical] = dataset.to_pandas()
        for column, feature in dataset.features.items():
            inner = getattr(feature, "feature", feature)
            if isinstance(inner, datasets.ClassLabel):
                label_names[column] = list(inner.names)
    if "train" not in frames:
        raise DataError(f"hub dataset {name!r} has no train split; it has {sorted(frames)}")
    return RawData(frames=frames, source=spec, hub_label_names=label_names)
