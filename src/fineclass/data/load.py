"""Read DATA (a file, a directory of split files, a URL, or hf:NAME[:CONFIG]) into DataFrames."""

from __future__ import annotations

import csv
import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fineclass.data.diagnose import check_delimiter, check_not_empty, describe_decode_error, describe_json_error
from fineclass.errors import DataError

logger = logging.getLogger(__name__)

FORMATS = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl", ".parquet": "parquet"}
SPLIT_ALIASES = {
    "train": ("train",),
    "validation": ("validation", "dev", "valid", "val"),
    "test": ("test",),
}
LABEL_NAME_FILES = ("labels.txt", "label_names.txt", "classes.txt")
DELIMITERS = {"csv": ",", "tsv": "\t"}


def read_options(fmt: str) -> dict:
    """pandas options for a delimited or JSON Lines file, shared by whole-file and chunked reading."""
    if fmt in DELIMITERS:
        # Only empty cells are missing: a text that says "NA" or "null" is still text.
        return {"sep": DELIMITERS[fmt], "encoding": "utf-8-sig", "keep_default_na": False, "na_values": [""]}
    return {"lines": fmt == "jsonl", "encoding": "utf-8-sig", "dtype": False}


@dataclass
class RawData:
    """Tables as read, before columns are chosen: one per split, or one called 'all'."""

    frames: dict[str, pd.DataFrame]
    source: str
    label_names_file: Path | None = None
    hub_label_names: dict[str, list[str]] = field(default_factory=dict)
    """Label names per column from a hub dataset's ClassLabel features."""


def load_raw_data(data: str) -> RawData:
    """Dispatch on what DATA looks like."""
    if data.startswith("hf:"):
        return load_hub_dataset(data)
    if data.startswith(("http://", "https://")):
        path = download_file(data)
        return RawData(frames={"all": read_table(path, fmt=format_of(Path(data.split("?")[0])))}, source=data)
    path = Path(data).expanduser()
    if path.is_dir():
        return load_split_directory(path)
    if not path.exists():
        raise DataError(f"data not found: {data} (give a CSV/TSV/JSON/JSONL/Parquet file, a directory, a URL or hf:NAME)")
    return RawData(frames={"all": read_table(path)}, source=str(path), label_names_file=find_label_names_file(path.parent))


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(
            f"unknown data format {suffix or '(no extension)'!r} for {path}; "
            f"use one of {', '.join(FORMATS)} (rename the file if its content is one of these)"
        )
    return FORMATS[suffix]


def read_table(path: Path, fmt: str | None = None) -> pd.DataFrame:
    """Read one file into a DataFrame; every failure becomes a one-line DataError."""
    fmt = fmt or format_of(path)
    if not path.is_file():
        raise DataError(f"data not found: {path}")
    check_not_empty(path, fmt)
    try:
        frame = _read_by_format(path, fmt)
    except UnicodeDecodeError:
        raise DataError(describe_decode_error(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError, OSError, csv.Error) as err:
        # pandas raises TypeError for a JSON Lines line that is an array, not an object
        detail = describe_json_error(path, fmt) if fmt in ("json", "jsonl") and not isinstance(err, OSError) else None
        raise DataError(detail or f"could not read {path} as {fmt.upper()}: {first_line(err)}") from None
    if fmt in DELIMITERS:
        check_delimiter(path, fmt, list(frame.columns))
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(f"{path} has duplicate column names {dupes}; give each column a unique name")
    if len(frame) == 0:
        raise DataError(f"{path} has a header but no rows; add labeled rows")
    return frame


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _read_by_format(path: Path, fmt: str) -> pd.DataFrame:
    if fmt in DELIMITERS:
        frame = pd.read_csv(path, **read_options(fmt))
        _check_duplicate_header(path, fmt)
        return frame
    if fmt in ("json", "jsonl"):
        return pd.read_json(path, **read_options(fmt))
    return pd.read_parquet(path)


def _check_duplicate_header(path: Path, fmt: str) -> None:
    """pandas renames a repeated header 'a' to 'a.1'; we want to tell the user instead."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle, delimiter=DELIMITERS[fmt]), [])
    seen = [name for name in header if header.count(name) > 1]
    if seen:
        raise DataError(f"{path} has duplicate column names {sorted(set(seen))}; give each column a unique name")


def load_split_directory(directory: Path) -> RawData:
    """A directory with train.* and optionally validation.* (or dev.*) and test.*."""
    frames = {}
    for split, aliases in SPLIT_ALIASES.items():
        for alias in aliases:
            matches = sorted(p for p in directory.iterdir() if p.stem == alias and p.suffix.lower() in FORMATS)
            if matches:
                frames[split] = read_table(matches[0])
                break
    if "train" not in frames:
        present = sorted(p.name for p in directory.iterdir())
        raise DataError(
            f"{directory} has no train file; a data directory needs train.csv/.tsv/.json/.jsonl/.parquet "
            f"(and optionally validation/dev and test files); it holds {present[:10]}"
        )
    return RawData(frames=frames, source=str(directory), label_names_file=find_label_names_file(directory))


def find_label_names_file(directory: Path) -> Path | None:
    for name in LABEL_NAME_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def read_label_names(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"label names file not found: {path}")
    names = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    if not names:
        raise DataError(f"label names file {path} is empty; write one label name per line")
    return names


def download_file(url: str, cache_dir: Path | None = None) -> Path:
    """Download once into the cache; a partial download never looks complete."""
    cache_dir = cache_dir or Path(os.environ.get("FINECLASS_CACHE", Path.home() / ".cache" / "fineclass"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = Path(url.split("?")[0]).name or "data"
    target = cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"
    if target.exists():
        return target
    logger.info("downloading %s", url)
    fd, partial = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            written, expected = _copy_response(url, out)
        if expected is not None and written != expected:
            raise DataError(f"download of {url} was interrupted ({written} of {expected} bytes); run the command again")
        os.replace(partial, target)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or first_line(err)
        raise DataError(f"could not download {url}: {reason}; check the address and your network") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def _copy_response(url: str, out) -> tuple[int, int | None]:
    """Bytes written, and the bytes the server announced (Content-Length) if it did."""
    written = 0
    with urllib.request.urlopen(url, timeout=60) as response:
        length = response.headers.get("Content-Length")
        try:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                written += len(chunk)
        except http.client.IncompleteRead as err:  # the connection closed before Content-Length bytes came
            written += len(err.partial)
    return written, int(length) if length is not None and length.isdigit() else None


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
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"could not load hub dataset {name!r}: {first_line}") from None
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
