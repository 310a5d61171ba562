"""--overwrite removes only what fineclass wrote, never an input, and a failed write leaves the old file whole.

Each refusal is checked byte for byte: every file under the directory is hashed before and after.
"""

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from fineclass.errors import DataError
from fineclass.inference.files import predict_file
from fineclass.inference.predictor import Predictor
from tests.conftest import copy_run, make_texts, run_cli

QUICK = ["--epochs", "1", "--min-steps", "0", "--quiet", "--no-baseline", "--no-report"]


def hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def refused(result, message: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1] == f"error: {message}"


def never_read(monkeypatch, module: str, name: str) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("the data was read before the output directory was checked")

    monkeypatch.setattr(f"{module}.{name}", fail)


@pytest.fixture
def run(multiclass_run, tmp_path) -> Path:
    return copy_run(multiclass_run[0], tmp_path)


def test_names_fineclass_uses_are_not_removed_when_it_did_not_write_them(tiny_model_dir, emotion_like_csv, tmp_path):
    exp = tmp_path / "exp"
    for name in ("data/mine.csv", "plots/figure.png", "model/weights.bin"):
        (exp / name).parent.mkdir(parents=True, exist_ok=True)
        (exp / name).write_bytes(name.encode())
    before = hashes(exp)
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", exp, "--overwrite", *QUICK)
    refused(result, f"output directory {exp} holds files fineclass did not write (data, model, plots); choose another "
                    "--output-dir so they are not lost")
    assert hashes(exp) == before


def test_a_run_records_what_it_wrote_and_a_new_entry_is_refused(run, multiclass_run, tiny_model_dir):
    manifest = json.loads((run / ".fineclass-manifest.json").read_text())
    assert manifest == {"command": "train", "entries": ["checkpoints", "config.yaml", "data", "metrics.json", "model",
                                                        "plots", "report.html", "splits.json"]}
    (run / "notes.txt").write_text("my notes")
    before = hashes(run)
    result = run_cli("train", multiclass_run[1], "--model", tiny_model_dir, "-o", run, "--overwrite", *QUICK)
    refused(result, f"output directory {run} holds files fineclass did not write (notes.txt); choose another "
                    "--output-dir so they are not lost")
    assert hashes(run) == before


def test_train_refuses_data_inside_the_run_before_reading_it(run, tiny_model_dir, tmp_path, monkeypatch):
    never_read(monkeypatch, "fineclass.recipes.train.setup", "load_raw_data")
    before = hashes(run)
    data = run / "data" / "train.jsonl"
    result = run_cli("train", data, "--model", tiny_model_dir, "-o", run, "--overwrite", *QUICK)
    refused(result, f"DATA {data} is inside --output-dir {run}, which --overwrite would clear; move it out of {run}, "
                    "or choose another --output-dir")
    link = tmp_path / "train-link.jsonl"
    link.symlink_to(data)
    result = run_cli("train", link, "--model", tiny_model_dir, "-o", run, "--overwrite", *QUICK)
    refused(result, f"DATA {link} is inside --output-dir {run}, which --overwrite would clear; move it out of {run}, "
                    "or choose another --output-dir")
    result = run_cli("train", tmp_path / "elsewhere.csv", "--model", run / "model", "-o", run, "--overwrite", *QUICK)
    refused(result, f"--model {run / 'model'} is inside --output-dir {run}, which --overwrite would clear; move it out "
                    f"of {run}, or choose another --output-dir")
    assert hashes(run) == before


def test_compare_refuses_data_inside_its_directory(tiny_model_dir, emotion_like_csv, tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    first = run_cli("compare", emotion_like_csv, "--models", "tfidf-logreg", "-o", out, "--quiet")
    assert first.exit_code == 0, first.output + str(first.exception)
    assert json.loads((out / ".fineclass-manifest.json").read_text()) == {
        "command": "compare", "entries": ["candidates", "compare.html", "compare.json", "data", "plots"]}
    before = hashes(out)
    never_read(monkeypatch, "fineclass.recipes.compare.run", "load_task")
    data = out / "data" / "train.jsonl"
    result = run_cli("compare", data, "--models", "tfidf-logreg", "-o", out, "--overwrite", "--quiet")
    refused(result, f"DATA {data} is inside --output-dir {out}, which --overwrite would clear; move it out of {out}, "
                    "or choose another --output-dir")
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, "--overwrite", *QUICK)
    refused(result, f"--output-dir {out} holds the output of `fineclass compare`, which `fineclass train` does not "
                    "replace; choose another --output-dir")
    assert hashes(out) == before


def test_learning_curve_refuses_data_inside_its_directory(tmp_path, monkeypatch):
    out = tmp_path / "curve"  # a curve made before manifests: recognised by learning_curve.json
    (out / "points").mkdir(parents=True)
    (out / "learning_curve.json").write_text("{}")
    make_texts(60).to_csv(out / "points" / "d.csv", index=False)
    before = hashes(out)
    never_read(monkeypatch, "fineclass.recipes.learning_curve", "load_task")
    data = out / "points" / "d.csv"
    result = run_cli("learning-curve", data, "--sizes", "10,20,all", "-o", out, "--overwrite", "--quiet")
    refused(result, f"DATA {data} is inside --output-dir {out}, which --overwrite would clear; move it out of {out}, "
                    "or choose another --output-dir")
    assert hashes(out) == before


def test_distill_refuses_a_teacher_inside_its_output(multiclass_run, tmp_path):
    parent = tmp_path / "runs"
    parent.mkdir()
    teacher = copy_run(multiclass_run[0], parent)
    before = hashes(parent)
    result = run_cli("distill", teacher, "--layers", "1", "-o", parent, "--overwrite", "--quiet")
    refused(result, f"TEACHER {teacher} is inside --output-dir {parent}, which --overwrite would clear; move it out of "
                    f"{parent}, or choose another --output-dir")
    result = run_cli("distill", teacher, "--layers", "1", "-o", teacher, "--overwrite", "--quiet")
    refused(result, f"TEACHER {teacher} is --output-dir {teacher}, which --overwrite would clear; move it out of "
                    f"{teacher}, or choose another --output-dir")
    assert hashes(parent) == before


def test_export_replaces_only_an_earlier_export(run):
    model = run / "model"
    before = hashes(run)
    for target, where in ((model, "is"), (run, "is inside")):
        result = run_cli("export", run, "-o", target, "--overwrite", "--no-check")
        refused(result, f"MODEL {model} {where} --output-dir {target}, which --overwrite would clear; move it out of "
                        f"{target}, or choose another --output-dir")
    assert hashes(run) == before
    assert run_cli("export", run, "--no-check").exit_code == 0
    onnx = run / "onnx"
    assert "onnx" in json.loads((run / ".fineclass-manifest.json").read_text())["entries"]
    manifest = json.loads((onnx / ".fineclass-manifest.json").read_text())
    assert manifest["command"] == "export" and "model.onnx" in manifest["entries"]
    (onnx / "notes.txt").write_text("deployed on 2026-12-07")
    exported = hashes(onnx)
    result = run_cli("export", run, "--overwrite", "--no-check")
    refused(result, f"output directory {onnx} holds files fineclass did not write (notes.txt); choose another "
                    "--output-dir so they are not lost")
    assert hashes(onnx) == exported
    (onnx / "notes.txt").unlink()
    assert run_cli("export", run, "--overwrite", "--no-check").exit_code == 0
    assert (onnx / "model.onnx").is_file() and not [p for p in run.iterdir() if p.name.startswith(".fineclass-staging")]


def test_evaluate_and_explore_refuse_a_directory_holding_their_inputs(run, multiclass_run, tiny_model_dir):
    before = hashes(run)
    result = run_cli("evaluate", run, "--report-dir", run, "--overwrite")
    refused(result, f"MODEL {run / 'model'} is inside --report-dir {run}, which --overwrite would clear; move it out of "
                    f"{run}, or choose another --report-dir")
    data = run / "data" / "test.jsonl"
    result = run_cli("explore", data, "--model", tiny_model_dir, "-o", run, "--overwrite")
    refused(result, f"DATA {data} is inside --output-dir {run}, which --overwrite would clear; move it out of {run}, "
                    "or choose another --output-dir")
    assert hashes(run) == before
    assert run_cli("evaluate", run).exit_code == 0  # RUN/evaluation-test, recorded in the run's manifest
    assert "evaluation-test" in json.loads((run / ".fineclass-manifest.json").read_text())["entries"]
    again = run_cli("train", multiclass_run[1], "--model", tiny_model_dir, "-o", run, "--overwrite", *QUICK)
    assert again.exit_code == 0, again.output + str(again.exception)
    assert not (run / "evaluation-test").exists()


def test_a_run_from_before_manifests_is_still_overwritten(run, multiclass_run, tiny_model_dir):
    (run / ".fineclass-manifest.json").unlink()  # as `make train` finds an old runs/emotion
    (run / ".model.partial").mkdir()  # a save the old code was killed in
    result = run_cli("train", multiclass_run[1], "--model", tiny_model_dir, "-o", run, "--overwrite", *QUICK)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert sorted(p.name for p in run.iterdir()) == [".fineclass-manifest.json", "config.yaml", "data", "metrics.json",
                                                     "model", "splits.json"]


def test_resume_does_not_continue_another_command_s_output(tiny_model_dir, emotion_like_csv, tmp_path):
    out = tmp_path / "explore"
    assert run_cli("explore", emotion_like_csv, "--model", tiny_model_dir, "-o", out).exit_code == 0
    before = hashes(out)
    result = run_cli("train", emotion_like_csv, "--model", tiny_model_dir, "-o", out, "--resume", *QUICK)
    refused(result, f"--output-dir {out} holds the output of `fineclass explore`, which `fineclass train` does not "
                    "replace; choose another --output-dir")
    assert hashes(out) == before


# ---- predict --output ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictor(multiclass_run) -> Predictor:
    return Predictor.from_dir(multiclass_run[0])


def test_predictions_go_to_a_partial_file_renamed_at_the_end(predictor, tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    make_texts(25).to_csv(source, index=False)
    target.write_text("earlier predictions\n")
    seen = []
    predict_file(predictor, source, target, None, top_k=1, threshold=None, chunk_rows=10,
                 on_rows=lambda n: seen.append((target.read_text(), (tmp_path / "out.csv.partial").stat().st_size > 0)))
    assert seen[-1] == ("earlier predictions\n", True)  # the old file stays whole until every row is in
    assert len(pd.read_csv(target)) == 25 and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_a_failed_prediction_keeps_its_rows_in_the_partial_file_and_the_old_output_whole(predictor, tmp_path):
    frame = make_texts(25)
    frame.loc[23, "text"] = None
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    target.write_text("earlier predictions\n")
    with pytest.raises(DataError) as err:
        predict_file(predictor, source, target, None, top_k=1, threshold=None, chunk_rows=10)
    partial = tmp_path / "out.csv.partial"
    assert str(err.value) == (f"{source} row 23: the text is empty; the predictions for rows 0 to 19 are in {partial}; "
                              "fill in or drop that row and run again with --overwrite")
    assert target.read_text() == "earlier predictions\n"
    assert list(pd.read_csv(partial, keep_default_na=False)["text"]) == list(frame["text"][:20])


def test_a_partial_file_that_is_the_input_is_refused(predictor, tmp_path):
    source = tmp_path / "out.csv.partial"
    make_texts(5).to_csv(source, index=False)
    before = source.read_bytes()
    with pytest.raises(DataError) as err:
        predict_file(predictor, source, tmp_path / "out.csv", None, top_k=1, threshold=None)
    assert str(err.value) == (f"--output {tmp_path / 'out.csv'} is written as {source} until it is complete, and that "
                              "is the --input file; choose another --output so the input is kept")
    assert source.read_bytes() == before
