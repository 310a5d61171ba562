"""predict --input/--output streams in chunks: a bad row names its number and keeps the chunks before it,
and peak memory does not grow with the file (slow: 200k rows)."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fineclass.errors import DataError
from fineclass.inference.files import predict_file
from fineclass.inference.predictor import Predictor
from tests.conftest import make_texts
from tests.e2e.classifier import save_untrained_classifier

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def predictor(tiny_model_dir, tmp_path_factory) -> Predictor:
    return Predictor.from_dir(save_untrained_classifier(tiny_model_dir, tmp_path_factory.mktemp("classifier")))


def test_an_empty_text_at_row_k_names_k_and_keeps_the_chunks_before_it(predictor, tmp_path):
    frame = make_texts(25)
    frame.loc[23, "text"] = None
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    with pytest.raises(DataError) as err:
        predict_file(predictor, source, target, None, top_k=1, threshold=None, chunk_rows=10)
    assert str(err.value) == (f"{source} row 23: the text is empty; the predictions for rows 0 to 19 are in "
                              f"{target}.partial; fill in or drop that row and run again")
    assert not target.exists()  # renamed into place only once every row is in
    written = pd.read_csv(f"{target}.partial", keep_default_na=False)
    assert list(written["text"]) == list(frame["text"][:20])  # two whole chunks, in order
    assert set(written["label"]) <= {"joy", "sadness", "anger"}


def test_a_broken_line_part_way_names_the_line_and_keeps_the_chunks_before_it(predictor, tmp_path):
    lines = [f'{{"text": "{text}"}}' for text in make_texts(250)["text"]]
    lines[149] = '{"text": "cut off'  # past the first 100 rows, which are checked before the model runs
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        predict_file(predictor, source, target, None, top_k=1, threshold=None, chunk_rows=100)
    assert str(err.value) == (
        f"line 150 of {source} is not valid JSON (Unterminated string starting at column 10); fix or remove that line; "
        f"the predictions for rows 0 to 99 are in {target}.partial (run again once it is fixed)")
    assert len(pd.read_json(f"{target}.partial", lines=True)) == 100


def peak_rss_mib(command: list[str], env: dict) -> float:
    """Run a command and return its own peak resident memory (wait4 reports it for that one child)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, process.stderr.read().decode()[-2000:]
    return usage.ru_maxrss / 1024  # KiB on Linux


@pytest.mark.slow
def test_predicting_200k_rows_takes_no_more_memory_than_20k(tiny_model_dir, tmp_path):
    model = save_untrained_classifier(tiny_model_dir, tmp_path / "model")
    block = make_texts(1000)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}  # a fair share of a shared CPU
    peaks = {}
    for rows in (20_000, 200_000):
        source, target = tmp_path / f"in{rows}.csv", tmp_path / f"out{rows}.csv"
        pd.concat([block] * (rows // 1000), ignore_index=True).to_csv(source, index=False)
        peaks[rows] = peak_rss_mib([sys.executable, "-m", "fineclass", "predict", str(model), "--input", str(source),
                                    "--output", str(target)], env)
        assert sum(1 for _ in open(target)) == rows + 1
    print(f"peak RSS: 20k rows {peaks[20_000]:.0f} MiB, 200k rows {peaks[200_000]:.0f} MiB")
    # Chunked, the two peaks are within a few MiB (measured 571 and 572); reading the whole file at once
    # measured 582 and 1071 MiB.
    assert peaks[200_000] < peaks[20_000] + 100
    assert peaks[200_000] < 1536


def test_texts_cut_at_the_token_limit_get_one_warning(tiny_model_dir, tmp_path):
    from tests.conftest import run_cli

    model = save_untrained_classifier(tiny_model_dir, tmp_path / "classifier")
    short = run_cli("predict", model, "happy", "sad")
    assert short.exit_code == 0 and "token limit" not in short.stderr
    pd.DataFrame({"text": ["happy " * 200, "sad", "glad " * 100]}).to_csv(tmp_path / "in.csv", index=False)
    long = run_cli("predict", model, "mad " * 300, "--input", tmp_path / "in.csv", "--output", tmp_path / "out.csv")
    assert long.exit_code == 0, long.output
    assert "warning: 3 text(s) reached the model's 64-token limit; anything longer was cut there" in long.stderr


def test_texts_the_vocabulary_cannot_read_get_one_warning(tiny_model_dir, tmp_path):
    from tests.conftest import run_cli

    model = save_untrained_classifier(tiny_model_dir, tmp_path / "classifier")
    known = run_cli("predict", model, "i feel happy today", "so sad")
    assert known.exit_code == 0 and "[UNK]" not in known.stderr
    unread = run_cli("predict", model, "zorblax quux", "i feel")  # [UNK] [UNK] i feel: 2 of 4 tokens
    assert unread.exit_code == 0, unread.output
    assert "warning: 50% of the texts' tokens are [UNK] for this model's vocabulary" in unread.stderr
    assert unread.stderr.count("[UNK] for this model") == 1
    predictor = Predictor.from_dir(model)
    predictor.predict(["i feel zorblax"])
    assert (predictor.tokens_read, predictor.unknown_tokens) == (3, 1)  # [CLS] and [SEP] are not counted
    assert predictor.unknown_token_warning().startswith("33% of the texts' tokens are [UNK]")


def test_the_python_api_logs_the_unknown_token_warning(tiny_model_dir, tmp_path, caplog):
    import logging

    import fineclass

    model = save_untrained_classifier(tiny_model_dir, tmp_path / "classifier")
    with caplog.at_level(logging.WARNING, logger="fineclass"):
        fineclass.predict(model, ["i feel happy today"])
        assert "[UNK]" not in caplog.text
        fineclass.predict(model, ["zorblax quux", "i feel"])
    assert "50% of the texts' tokens are [UNK] for this model's vocabulary" in caplog.text
