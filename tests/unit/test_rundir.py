"""rundir.py: the run directory's records (metrics, thresholds, long texts, splits), read back as they were written,
damaged ones refused in one line, and the paths a run or model directory resolves to."""

from __future__ import annotations

import errno
import json

import pytest

from fineclass.errors import FineclassError, ModelError
from fineclass.rundir import (
    LongTexts,
    RunMetrics,
    SplitsRecord,
    Thresholds,
    default_output_dir,
    output_errors,
    resolve_model_dir,
    run_dir_of,
    run_reading,
)


@pytest.fixture
def run(tmp_path):
    """A run directory's skeleton: model/config.json and splits.json."""
    (tmp_path / "run" / "model").mkdir(parents=True)
    (tmp_path / "run" / "model" / "config.json").write_text("{}")
    SplitsRecord("d.csv", 42, [0.7, 0.2, 0.1], "text", "label", {"train": [0, 2], "test": [1]},
                 reading={"text_columns": ["title", "body"], "text_join": " | "}).write(tmp_path / "run")
    return tmp_path / "run"


def test_metrics_read_back_as_written_with_a_urls_password_redacted(tmp_path):
    record = RunMetrics(task={"multi_label": False}, data={"source": "https://me:secret@host/d.csv?token=x", "rows": {}},
                        model={"base": "m"}, selection_metric="f1_macro", train={"steps": 3}, test={"accuracy": 0.5})
    record.write(tmp_path)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["data"]["source"] == "https://***@host/d.csv?***" and "baseline" not in saved
    assert record.data["source"].startswith("https://me:secret@")  # the record in memory is left as it was
    assert RunMetrics.read(tmp_path).test == {"accuracy": 0.5} and RunMetrics.read(tmp_path).train == {"steps": 3}


def test_thresholds_apply_per_label_and_a_missing_label_gets_the_default(tmp_path):
    assert Thresholds.read_for_labels(tmp_path, ["a"]) is None  # no thresholds.json: the caller's 0.5
    Thresholds({"a": 0.3, "b": 0.71234}, "per-label", 5, default=0.4).write(tmp_path)
    assert json.loads((tmp_path / "thresholds.json").read_text())["thresholds"] == {"a": 0.3, "b": 0.7123}
    assert Thresholds.read_for_labels(tmp_path, ["b", "c", "a"]) == [0.7123, 0.4, 0.3]


def test_a_damaged_thresholds_file_is_one_line_that_says_how_to_fix_it(tmp_path):
    (tmp_path / "thresholds.json").write_text('{"thresholds": {"a": 2}}')
    with pytest.raises(ModelError, match=r"thresholds.json is not a valid thresholds record: the threshold of 'a' is "
                                         r"2, not a number from 0 to 1; delete it to use 0.5 for every label"):
        Thresholds.read(tmp_path)


def test_long_texts_read_back_and_an_override_changes_only_what_it_names(tmp_path):
    assert LongTexts.read(tmp_path) is None
    assert LongTexts.read(tmp_path, override="windows") == LongTexts("windows", 10**6)  # the model's own limit
    LongTexts("head-tail", 128, head_tokens=32).write(tmp_path)
    assert LongTexts.read(tmp_path) == LongTexts("head-tail", 128, head_tokens=32)
    assert LongTexts.read(tmp_path, override="auto") == LongTexts("head-tail", 128, head_tokens=32)  # auto keeps it
    changed = LongTexts.read(tmp_path, override={"mode": "windows", "max_windows": 4, "window_stride": None})
    assert changed == LongTexts("windows", 128, head_tokens=32, max_windows=4)
    assert LongTexts.read(tmp_path, override=LongTexts("truncate", 64)) == LongTexts("truncate", 64)


def test_a_run_or_model_directory_resolves_to_the_model(run, tmp_path):
    assert resolve_model_dir(run) == run / "model" == resolve_model_dir(run / "model")
    assert run_dir_of(run / "model") == run and run_dir_of(tmp_path) is None
    assert run_reading(run) == {"text_columns": ["title", "body"], "text_join": " | "}
    assert run_reading(tmp_path / "elsewhere") == {}
    with pytest.raises(ModelError, match="^model directory not found: "):
        resolve_model_dir(tmp_path / "elsewhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="empty is neither a fineclass run directory nor a model directory"):
        resolve_model_dir(tmp_path / "empty")


def test_the_split_record_reads_back(run):
    record = SplitsRecord.read(run)
    assert record.rows == {"train": [0, 2], "test": [1]} and record.seed == 42 and record.split == [0.7, 0.2, 0.1]


def test_default_output_dirs_never_hold_a_urls_credentials():
    assert default_output_dir("data/emotion.csv") == "runs/emotion"
    assert default_output_dir("https://me:secret@host/files/news.tsv?token=x") == "runs/news"
    assert default_output_dir("hf:dair-ai/emotion") == "runs/emotion"


def test_a_full_disk_while_writing_a_run_is_one_line(tmp_path):
    with pytest.raises(FineclassError, match=f"^no space left on the device that holds {tmp_path}; the run there is "):
        with output_errors(tmp_path):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(FineclassError, match="^cannot write to /x/model: Permission denied; fix its permissions"):
        with output_errors(tmp_path):
            raise PermissionError(errno.EACCES, "Permission denied", "/x/model")
    with pytest.raises(KeyError):  # anything else is a bug and keeps its traceback
        with output_errors(tmp_path):
            raise KeyError("x")
