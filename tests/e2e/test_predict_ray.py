"""`predict --engine ray`: files on a pool of Ray actors, one output per input, safe to kill and rerun; and
`fineclass.predict` on a `ray.data.Dataset`.

One local Ray instance (2 CPUs) serves the whole module; the CLI runs in this process and joins it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import make_texts, run_cli
from tests.e2e.classifier import save_untrained_classifier

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model(tiny_model_dir, tmp_path_factory) -> Path:
    return save_untrained_classifier(tiny_model_dir, tmp_path_factory.mktemp("classifier"))


def shard(i: int, n: int = 40) -> pd.DataFrame:
    frame = make_texts(n, seed=i)
    frame.insert(0, "ID", [f"s{i}-{k}" for k in range(n)])  # any case: found as the id
    return frame


@pytest.fixture
def inputs(tmp_path) -> Path:
    """Three shards, one in each format: Parquet, CSV and JSONL."""
    directory = tmp_path / "in"
    directory.mkdir()
    shard(0).to_parquet(directory / "a.parquet")
    shard(1).to_csv(directory / "b.csv", index=False)
    shard(2).to_json(directory / "c.jsonl", orient="records", lines=True)
    (directory / "notes.md").write_text("not data\n")  # not a data file: left alone
    return directory


def read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False)
    return pd.read_json(path, lines=True)


def outputs(directory: Path) -> dict[str, pd.DataFrame]:
    return {name: read_output(directory / name) for name in ("a.parquet", "b.csv", "c.jsonl")}


def predict_on_ray(model, source, out, *extra):
    result = run_cli("predict", model, "--input", source, "--output", out, "--engine", "ray", "--actors", "2", *extra)
    assert result.exit_code == 0, result.output + str(result.exception)
    return result


def test_every_row_once_with_its_id_and_kept_column_in_its_own_format(model, inputs, tmp_path):
    out = tmp_path / "out"
    result = predict_on_ray(model, inputs, out, "--keep-columns", "label_name")
    assert "3 input files; 0 already done" in result.stdout
    got = outputs(out)
    assert sorted(p.name for p in out.iterdir()) == [".fineclass-manifest.json", "a.parquet", "a.parquet.done",
                                                     "b.csv", "b.csv.done", "c.jsonl", "c.jsonl.done"]
    for i, (name, frame) in enumerate(got.items()):
        expected = shard(i)
        assert frame["ID"].tolist() == expected["ID"].tolist()  # every row once, in the input's order
        assert frame["label_name"].tolist() == expected["label_name"].tolist()
        assert frame["text"].tolist() == expected["text"].tolist()
        assert list(frame.columns)[:3] == ["ID", "label_name", "text"]
        assert json.loads((out / f"{name}.done").read_text())["rows"] == 40
    assert list(got["b.csv"].columns) == ["ID", "label_name", "text", "label", "score", "top_k"]
    assert list(got["c.jsonl"].columns) == list(got["a.parquet"].columns) == \
        ["ID", "label_name", "text", "labels", "scores", "top_k", "windows"]


def test_ray_agrees_with_plain_predict(model, inputs, tmp_path):
    predict_on_ray(model, inputs / "*.csv", tmp_path / "out")  # a glob
    plain = run_cli("predict", model, "--input", inputs / "b.csv", "--output", tmp_path / "plain.csv")
    assert plain.exit_code == 0, plain.output
    on_ray, local = read_output(tmp_path / "out" / "b.csv"), read_output(tmp_path / "plain.csv")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".fineclass-manifest.json", "b.csv", "b.csv.done"]
    assert on_ray["ID"].tolist() == local["ID"].tolist() == shard(1)["ID"].tolist()
    assert on_ray["label"].tolist() == local["label"].tolist()
    assert [float(s) for s in on_ray["score"]] == pytest.approx([float(s) for s in local["score"]], abs=2e-6)


def test_a_rerun_redoes_only_a_missing_output_and_a_changed_input(model, inputs, tmp_path):
    out = tmp_path / "out"
    predict_on_ray(model, inputs, out)
    before = (out / "a.parquet").stat().st_mtime_ns, (out / "a.parquet.done").stat().st_mtime_ns
    (out / "b.csv").unlink()
    shard(5, n=12).to_json(inputs / "c.jsonl", orient="records", lines=True)  # a new file under the same name
    result = predict_on_ray(model, inputs, out)
    assert "3 input files; 1 already done" in result.stdout
    assert sorted(line for line in result.stdout.splitlines() if line.startswith("wrote")) == \
        [f"wrote 12 predictions to {out / 'c.jsonl'}", f"wrote 40 predictions to {out / 'b.csv'}"]
    assert ((out / "a.parquet").stat().st_mtime_ns, (out / "a.parquet.done").stat().st_mtime_ns) == before
    got = outputs(out)
    assert got["b.csv"]["ID"].tolist() == shard(1)["ID"].tolist()
    assert got["c.jsonl"]["ID"].tolist() == shard(5, n=12)["ID"].tolist()


def test_what_a_kill_leaves_is_redone_and_no_row_twice(model, inputs, tmp_path):
    """The three states a kill can leave a file in: done (output and marker), renamed but not marked, and a
    temporary file half written. Only the first is kept."""
    out = tmp_path / "out"
    predict_on_ray(model, inputs, out)
    (out / "b.csv.done").unlink()  # killed between the rename and the marker
    (out / "b.csv").write_text("ID,text,label\ns1-0,stale,joy\n")
    half = (out / "c.jsonl").read_text().splitlines(keepends=True)[:7]
    (out / "c.jsonl").unlink()
    (out / "c.jsonl.done").unlink()
    (out / ".fineclass-tmp.c.jsonl.0badf00d").write_text("".join(half) + '{"ID": "s2-7", "te')  # killed mid-write
    kept_mtime = (out / "a.parquet").stat().st_mtime_ns
    result = predict_on_ray(model, inputs, out)
    assert "3 input files; 1 already done in" in result.stdout
    assert (out / "a.parquet").stat().st_mtime_ns == kept_mtime
    assert not [p.name for p in out.iterdir() if p.name.startswith(".fineclass-tmp")]
    ids = [i for frame in outputs(out).values() for i in frame["ID"]]
    assert sorted(ids) == sorted(i for k in range(3) for i in shard(k)["ID"])  # each once


def test_overwrite_starts_again_and_only_removes_what_it_wrote(model, inputs, tmp_path):
    out = tmp_path / "out"
    predict_on_ray(model, inputs / "a.parquet", out)
    result = predict_on_ray(model, inputs / "*.csv", out, "--overwrite")
    assert "1 input files; 0 already done" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [".fineclass-manifest.json", "b.csv", "b.csv.done"]


@pytest.mark.parametrize("setup, args, message", [
    (lambda tmp: (tmp / "out").mkdir() or (tmp / "out" / "mine.txt").write_text("x"), [],
     "output directory {tmp}/out holds files fineclass did not write (mine.txt); choose another --output so they are "
     "not lost"),
    (lambda tmp: None, ["--keep-columns", "ID,colour"],
     "--keep-columns 'colour' is not a column of {tmp}/in/a.parquet; its columns are ['ID', 'text', 'label', 'label_name']"),
    (lambda tmp: None, ["--keep-columns", "label"],
     "--keep-columns 'label' has the name of a column the predictions fill (text, label, score, top_k); "
     "rename it in the input, or leave it out"),  # b.csv's: Parquet and JSONL fill 'labels' instead
    (lambda tmp: None, ["--actors", "0"], "--actors must be at least 1, got 0"),
])
def test_bad_batches_are_one_line_before_ray_works(model, inputs, tmp_path, setup, args, message):
    setup(tmp_path)
    result = run_cli("predict", model, "--input", inputs, "--output", tmp_path / "out", "--engine", "ray", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == "error: " + message.format(tmp=tmp_path)


def test_an_empty_text_names_its_file_and_row_and_keeps_the_finished_files(model, inputs, tmp_path):
    broken = shard(1)
    broken.loc[5, "text"] = None
    broken.to_csv(inputs / "b.csv", index=False)
    result = run_cli("predict", model, "--input", inputs, "--output", tmp_path / "out", "--engine", "ray", "--actors", "1")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {inputs / 'b.csv'} row 5: the text is empty; fill in or drop that row and "
                                     "run again (the files already finished are kept)")
    assert (tmp_path / "out" / "a.parquet.done").is_file() and not (tmp_path / "out" / "b.csv").exists()


def test_python_api_predicts_a_ray_dataset(model):
    import fineclass
    from fineclass.inference.predictor import Predictor

    frame = shard(3, n=30)
    result = fineclass.predict(model, ray.data.from_pandas(frame), top_k=2, actors=1).to_pandas()
    assert result["ID"].tolist() == frame["ID"].tolist()
    assert list(result.columns) == [*frame.columns, "labels", "scores", "top_k"]
    local = Predictor.from_dir(model).predict(frame["text"].tolist(), top_k=2)
    assert [list(labels) for labels in result["labels"]] == [p.labels for p in local]
    assert [t[1]["score"] for t in result["top_k"]] == pytest.approx([p.top_k[1][1] for p in local], abs=2e-6)


def test_python_api_refuses_a_dataset_whose_columns_clash(model):
    import fineclass
    from fineclass.errors import DataError

    with pytest.raises(DataError, match=r"already has a column 'labels'"):
        fineclass.predict(model, ray.data.from_pandas(pd.DataFrame({"text": ["a"], "labels": ["x"]})))
