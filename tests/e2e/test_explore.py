"""`fineclass explore` writes valid figures and a self-contained HTML page."""

import re

from tests.conftest import run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_explore_multilabel(tiny_model_dir, multilabel_dir, tmp_path):
    out = tmp_path / "explore"
    result = run_cli("explore", multilabel_dir, "--model", tiny_model_dir, "-o", out)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "imbalance ratio" in result.stdout and "labels per text" in result.stdout
    names = {"class_counts", "words_by_class", "token_lengths", "labels_per_text", "cooccurrence"}
    assert {p.stem for p in (out / "plots").glob("*.png")} == names
    for png in (out / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == PNG_MAGIC
    page = (out / "explore.html").read_text()
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 5
    assert "http://" not in page and "https://" not in page
    again = run_cli("explore", multilabel_dir, "--model", tiny_model_dir, "-o", out)
    assert again.exit_code == 2 and "already exists; pass --overwrite" in again.stderr


def test_explore_counts_classes(tiny_model_dir, emotion_like_csv, tmp_path):
    result = run_cli("explore", emotion_like_csv, "--model", tiny_model_dir, "-o", tmp_path / "e", "--max-length", "8")
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "imbalance ratio 1.0" in result.stdout
    assert "exceed the limit of 8" in " ".join(result.stdout.split())  # rich wraps long lines
