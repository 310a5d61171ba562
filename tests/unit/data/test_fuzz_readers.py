"""Property-based fuzzing of the readers: any bytes, in any file name we read, give rows or a FineclassError.

Random bytes, truncated files and mutated real files go through what `train` does before the model loads
(read, detect, pick columns, parse labels, split) and what `predict --input` does (plan, read in chunks).
Anything else raised is a traceback a user would see, and fails the test.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fineclass.data.load import load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.data.split import split_task
from fineclass.errors import FineclassError
from fineclass.inference.files import iter_input_chunks, plan_input
from tests.layouts import LAYOUTS, build

SUFFIXES = [".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".ft"]
FUZZ = settings(max_examples=int(os.environ.get("FINECLASS_FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=list(HealthCheck), derandomize=not os.environ.get("FINECLASS_FUZZ_EXAMPLES"))


def seeds() -> list[tuple[str, bytes]]:
    """Real files of every layout (the train file of a directory), as (suffix, bytes)."""
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(LAYOUTS):
            directory = Path(tmp) / name
            directory.mkdir()
            expected = build(name, directory)
            path = directory / (expected.predict_input or expected.data)
            if path.is_dir():
                path = next(p for p in sorted(path.iterdir()) if "train" in p.name)
            found.append((path.suffix, path.read_bytes()[:6000]))
    return found


SEEDS = seeds()


def read_as_train_and_predict_do(path: Path) -> None:
    try:
        task = prepare_task(load_raw_data(str(path)))
        split_task(task, (0.7, 0.2, 0.1), seed=0)
    except FineclassError as err:
        assert "\n" not in str(err), str(err)
    try:
        plan = plan_input(path, None)
        for chunk in iter_input_chunks(path, 50, layout=plan.layout):
            plan.texts(chunk)
    except FineclassError as err:
        assert "\n" not in str(err), str(err)


def read_bytes_as_a_file(data: bytes, suffix: str) -> None:
    """Write the bytes to a file of that suffix in a directory of their own, read it, and remove the directory."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as directory:
        path = Path(directory) / f"data{suffix}"
        path.write_bytes(data)
        read_as_train_and_predict_do(path)


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data, suffix):
    read_bytes_as_a_file(data, suffix)


@FUZZ
@given(seed=st.sampled_from(SEEDS), cut=st.integers(min_value=0, max_value=6000))
def test_truncated_real_files(seed, cut):
    suffix, data = seed
    read_bytes_as_a_file(data[:cut], suffix)


@FUZZ
@given(seed=st.sampled_from(SEEDS), edits=st.lists(
    st.tuples(st.integers(min_value=0, max_value=6000), st.sampled_from(["flip", "insert", "delete"]),
              st.sampled_from([b",", b";", b"\t", b'"', b"'", b"\n", b"\r", b"\x00", b"\xff", b"\xe9", b"[", b"{", b"__label__"])),
    min_size=1, max_size=6))
def test_mutated_real_files(seed, edits):
    suffix, data = seed
    mutated = bytearray(data)
    for position, kind, piece in edits:
        at = position % (len(mutated) + 1)
        if kind == "insert":
            mutated[at:at] = piece
        elif kind == "delete":
            del mutated[at:at + len(piece)]
        elif mutated:
            mutated[at % len(mutated)] = piece[0]
    read_bytes_as_a_file(bytes(mutated), suffix)
