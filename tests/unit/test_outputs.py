"""Output directories: the manifest decides what --overwrite may remove; every file is written whole or not at all."""

import json
import os
from pathlib import Path

import pytest

from fineclass import outputs
from fineclass.errors import ConfigError
from fineclass.outputs import (
    MANIFEST,
    Manifest,
    OutputKind,
    check_output_dir,
    prepare_output_dir,
    record_entries,
    replace_dir_atomic,
    write_json_atomic,
    write_text_atomic,
)
from fineclass.rundir import RUN_OUTPUT

SWEEP = OutputKind("compare", legacy_markers=("compare.json",), legacy_entries=("compare.json", "data"),
                   result="compare.json")


def files_in(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def written_run(path: Path) -> Path:
    prepare_output_dir(path, RUN_OUTPUT, overwrite=False)
    record_entries(path, "model", "metrics.json")
    (path / "model").mkdir()
    (path / "model" / "config.json").write_text("{}")
    (path / "metrics.json").write_text("{}")
    return path


def test_a_new_directory_gets_a_manifest_of_what_was_written(tmp_path):
    run = written_run(tmp_path / "run")
    assert json.loads((run / MANIFEST).read_text()) == {"command": "train", "entries": ["metrics.json", "model"]}
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST, "metrics.json", "model"]  # the write probe is gone


def test_overwrite_removes_only_what_the_manifest_lists(tmp_path):
    run = written_run(tmp_path / "run")
    (run / "data").mkdir()  # a name fineclass uses, but this run did not write it
    (run / "data" / "d.csv").write_text("text,label\nhi,joy\n")
    with pytest.raises(ConfigError) as err:
        prepare_output_dir(run, RUN_OUTPUT, overwrite=True)
    assert str(err.value) == (f"output directory {run} holds files fineclass did not write (data); choose another "
                              "--output-dir so they are not lost")
    assert (run / "data" / "d.csv").read_text() == "text,label\nhi,joy\n" and (run / "model").is_dir()
    (run / "data" / "d.csv").unlink()
    (run / "data").rmdir()
    prepare_output_dir(run, RUN_OUTPUT, overwrite=True)
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST]
    assert Manifest.read(run) == Manifest("train", [])


def test_a_run_from_before_manifests_is_recognised_by_its_run_files(tmp_path):
    run = tmp_path / "old"
    (run / "model").mkdir(parents=True)
    for name in ("config.yaml", "splits.json", "metrics.json", "report.html"):
        (run / name).write_text("x")
    (run / ".model.partial").mkdir()  # a killed save of the old code
    prepare_output_dir(run, RUN_OUTPUT, overwrite=True)
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST]


def test_without_its_run_files_an_old_directory_is_not_fineclass(tmp_path):
    mine = tmp_path / "mine"
    (mine / "model").mkdir(parents=True)
    (mine / "model" / "weights.bin").write_bytes(b"mine")
    (mine / "metrics.json").write_text("{}")
    before = files_in(mine)
    with pytest.raises(ConfigError, match=r"holds files fineclass did not write \(metrics.json, model\)"):
        prepare_output_dir(mine, RUN_OUTPUT, overwrite=True)
    assert files_in(mine) == before


def test_a_non_empty_directory_needs_overwrite_and_the_result_file_is_named(tmp_path):
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "compare.json").write_text("{}")
    with pytest.raises(ConfigError) as err:
        check_output_dir(tmp_path / "sweep", SWEEP, overwrite=False)
    assert str(err.value) == (f"{tmp_path / 'sweep' / 'compare.json'} already exists; pass --overwrite to replace it, "
                              "or choose another --output-dir")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError) as err:
        check_output_dir(tmp_path / "run", RUN_OUTPUT, overwrite=False)
    assert str(err.value) == (f"output directory {tmp_path / 'run'} is not empty; pass --overwrite to replace it, "
                              "or choose another --output-dir")


def test_only_fineclass_leftovers_count_as_empty(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".fineclass-tmp.metrics.json.abc.json").write_text("{")
    prepare_output_dir(run, RUN_OUTPUT, overwrite=False)
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST]


def test_another_command_s_output_is_not_replaced(tmp_path):
    sweep = tmp_path / "sweep"
    prepare_output_dir(sweep, SWEEP, overwrite=False)
    record_entries(sweep, "compare.json")
    (sweep / "compare.json").write_text("{}")
    with pytest.raises(ConfigError) as err:
        prepare_output_dir(sweep, RUN_OUTPUT, overwrite=True)
    assert str(err.value) == (f"--output-dir {sweep} holds the output of `fineclass compare`, which `fineclass train` "
                              "does not replace; choose another --output-dir")
    assert (sweep / "compare.json").read_text() == "{}"


@pytest.mark.parametrize("where", ["data/d.csv", "data"])
def test_an_input_inside_the_directory_is_refused_before_anything_is_removed(tmp_path, where):
    run = written_run(tmp_path / "exp")
    record_entries(run, "data")
    (run / "data").mkdir()
    (run / "data" / "d.csv").write_text("text,label\n")
    before = files_in(run)
    with pytest.raises(ConfigError) as err:
        prepare_output_dir(run, RUN_OUTPUT, overwrite=True, inputs=[("DATA", run / where)])
    assert str(err.value) == (f"DATA {run / where} is inside --output-dir {run}, which --overwrite would clear; move it "
                              f"out of {run}, or choose another --output-dir")
    assert files_in(run) == before


def test_an_input_reached_through_a_symlink_or_equal_to_the_directory_is_refused(tmp_path):
    run = written_run(tmp_path / "exp")
    link = tmp_path / "model-link"
    link.symlink_to(run / "model")
    with pytest.raises(ConfigError, match="is inside --output-dir"):
        check_output_dir(run, RUN_OUTPUT, overwrite=True, inputs=[("--model", link)])
    with pytest.raises(ConfigError, match=f"^MODEL {run} is --output-dir {run}, which"):
        check_output_dir(run, RUN_OUTPUT, overwrite=True, inputs=[("MODEL", run)])
    not_paths = ["https://example.com/exp/d.csv?" + "q" * 5000, None, "a\x00b", ["a", "b"], object()]
    check_output_dir(run, RUN_OUTPUT, overwrite=True, inputs=[("DATA", value) for value in not_paths])


def test_a_symlinked_entry_is_unlinked_not_followed(tmp_path):
    run = written_run(tmp_path / "run")
    elsewhere = tmp_path / "datasets"
    elsewhere.mkdir()
    (elsewhere / "d.csv").write_text("keep")
    record_entries(run, "data")
    (run / "data").symlink_to(elsewhere)
    prepare_output_dir(run, RUN_OUTPUT, overwrite=True)
    assert (elsewhere / "d.csv").read_text() == "keep" and not (run / "data").exists()


def test_a_directory_made_inside_a_fineclass_output_is_recorded_there(tmp_path):
    run = written_run(tmp_path / "run")
    report = OutputKind("evaluate", option="--report-dir")
    prepare_output_dir(run / "evaluation-test", report, overwrite=False)
    assert "evaluation-test" in Manifest.read(run).entries
    prepare_output_dir(run, RUN_OUTPUT, overwrite=True)  # so replacing the run is not refused for it
    assert not (run / "evaluation-test").exists()


def test_a_corrupt_manifest_owns_nothing(tmp_path):
    run = written_run(tmp_path / "run")
    (run / MANIFEST).write_text('{"command": "train", "entr')
    with pytest.raises(ConfigError, match="holds files fineclass did not write"):
        prepare_output_dir(run, RUN_OUTPUT, overwrite=True)


def test_an_output_dir_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("mine")
    with pytest.raises(ConfigError, match=f"^--output-dir {tmp_path / 'f'} is a file; give a directory$"):
        check_output_dir(tmp_path / "f", RUN_OUTPUT, overwrite=True)


# ---- writing files --------------------------------------------------------------------------------------------


def test_atomic_writes_replace_the_file_and_leave_nothing_beside_it(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    write_json_atomic(target, {"accuracy": 0.5, "label": "ü"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"accuracy": 0.5, "label": "ü"}
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    write_text_atomic(tmp_path / "card.md", "# card\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.md", "metrics.json"]


def test_a_payload_that_cannot_be_serialised_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_failed_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "config.yaml"
    target.write_text("old")

    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_a_writer_that_fails_part_way_leaves_no_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with outputs.atomic_path(tmp_path / "plot.png") as tmp:
            assert tmp.suffix == ".png" and tmp.parent == tmp_path  # savefig picks the format by the suffix
            tmp.write_bytes(b"half")
            raise RuntimeError("the writer failed")
    assert list(tmp_path.iterdir()) == []


def test_a_new_directory_is_swapped_in_and_the_old_one_removed_after(tmp_path, monkeypatch):
    target, staging = tmp_path / "model", tmp_path / ".fineclass-staging.model"
    for directory, text in ((target, "old"), (staging, "new")):
        directory.mkdir()
        (directory / "weights").write_text(text)
    seen = []
    rename = os.replace

    def watch(src, dst):
        seen.append((Path(src).name, Path(dst).name, (target / "weights").read_text() if target.exists() else None))
        rename(src, dst)

    monkeypatch.setattr(os, "replace", watch)
    replace_dir_atomic(staging, target)
    assert (target / "weights").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    aside = seen[0][1]
    assert aside.startswith(".fineclass-old.model.") and seen == [("model", aside, "old"), (staging.name, "model", None)]


def test_a_failed_swap_puts_the_old_directory_back(tmp_path, monkeypatch):
    target, staging = tmp_path / "model", tmp_path / "staging"
    target.mkdir()
    (target / "weights").write_text("old")
    staging.mkdir()
    rename = os.replace

    def fail_second(src, dst):
        if Path(src) == staging:
            raise OSError(28, "No space left on device")
        rename(src, dst)

    monkeypatch.setattr(os, "replace", fail_second)
    with pytest.raises(OSError):
        replace_dir_atomic(staging, target)
    assert (target / "weights").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "staging"]


def test_an_unreadable_directory_is_one_line(tmp_path, monkeypatch):
    run = written_run(tmp_path / "run")

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(ConfigError) as err:
        check_output_dir(run, RUN_OUTPUT, overwrite=True)
    assert str(err.value) == (f"cannot read output directory {run}: Permission denied; fix its permissions or choose "
                              "another --output-dir")
