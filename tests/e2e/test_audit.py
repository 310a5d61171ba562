"""`fineclass audit` through the real CLI and the Python API, on the tiny model (as the frozen encoder, and as the
model fine-tuned per fold). The tiny encoder is random, so these tests check what the audit writes and how it fixes
data, not how well it ranks: the ranking is measured in benchmarks/bench_audit.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CLASS_WORDS, make_multilabel_texts, make_texts, run_cli

NAMES = list(CLASS_WORDS)
LABEL_KIND = r"\blabel(?:;|$)"
NO_NEAR = ["--similarity", "1"]
"""The tiny random encoder makes most texts near-duplicates; a cosine of 1 leaves only the planted findings."""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip(frame: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """The frame with each of `rows` moved to the next class (its id and its name)."""
    frame = frame.copy()
    for row in rows:
        new = (frame.at[row, "label"] + 1) % 3
        frame.loc[row, ["label", "label_name"]] = [new, NAMES[new]]
    return frame


FLIPS = [4, 29, 54, 79, 104, 129]


def planted_csv(path: Path) -> Path:
    """150 keyword rows with FLIPS given the wrong class, then row 150 (a copy of row 0) and row 151 (row 1 shouted,
    with another label)."""
    frame = flip(make_texts(150), FLIPS)
    other = (frame.at[1, "label"] + 1) % 3
    extra = pd.DataFrame([
        {"text": frame.at[0, "text"], "label": frame.at[0, "label"], "label_name": frame.at[0, "label_name"]},
        {"text": frame.at[1, "text"].upper() + "!", "label": other, "label_name": NAMES[other]},
    ])
    pd.concat([frame, extra], ignore_index=True).to_csv(path, index=False)
    return path


def audit(data, out, tiny, *args):
    return run_cli("audit", data, "-o", out, "--embedder", tiny, "--quiet", *args)


def read_table(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "audit.csv", keep_default_na=False)


def test_audit_writes_the_table_report_and_summary(tiny_model_dir, tmp_path):
    data = planted_csv(tmp_path / "toy.csv")
    before = digest(data)
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR)
    assert result.exit_code == 0, result.output + str(result.exception)
    out = tmp_path / "out"
    assert (out / "audit.csv").read_text().splitlines()[0] == "row,split,text,given,suggested,score,kind,related"
    table = read_table(out)
    by_row = table.set_index("row")
    truth = make_texts(150)
    # the flips, and row 151: row 1's text under another label, which it is as wrong about as a flip
    assert sorted(table[table["kind"].str.contains(LABEL_KIND)]["row"]) == [*FLIPS, 151]
    assert by_row.loc[FLIPS, "suggested"].tolist() == truth.loc[FLIPS, "label_name"].tolist()
    assert by_row.loc[FLIPS, "given"].tolist() == [NAMES[(i + 1) % 3] for i in truth.loc[FLIPS, "label"]]
    assert by_row.at[150, "kind"] == "duplicate" and by_row.at[150, "related"] == "row 0"
    assert by_row.at[1, "kind"] == "conflicting-labels" and by_row.at[1, "related"] == "row 151"
    assert by_row.at[151, "kind"] == "label; conflicting-labels" and by_row.at[151, "related"] == "row 1"
    assert by_row.at[151, "suggested"] == truth.at[1, "label_name"]
    assert set(table["split"]) == {"all"}
    assert table["score"].is_monotonic_decreasing and set(table["row"][:7]) == {*FLIPS, 151}
    summary = json.loads((out / "audit.json").read_text())
    assert summary["rows"] == {"all": 152} and summary["flagged"] == len(table) == 9
    assert summary["counts"] == {"label": 7, "conflicting-labels": 2, "leakage": 0, "duplicate": 1, "near-duplicate": 0}
    html = (out / "audit.html").read_text()
    assert "Rows, most likely problem first" in html and "conflicting-labels" in html
    assert "9 of 152 rows flagged: label 7, conflicting-labels 2, leakage 0, duplicate 1, near-duplicate 0" in result.stdout
    assert json.loads((out / ".fineclass-manifest.json").read_text())["entries"] == ["audit.csv", "audit.html", "audit.json"]
    assert digest(data) == before


def test_normalized_margin_ranks_the_same_flips(tiny_model_dir, tmp_path):
    data = planted_csv(tmp_path / "toy.csv")
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--rank-by", "normalized-margin")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "audit.json").read_text())["rank_by"] == "normalized-margin"
    table = read_table(tmp_path / "out")
    assert table["score"].is_monotonic_decreasing and set(table["row"][:7]) == {*FLIPS, 151}


def split_directory(root: Path) -> Path:
    """train/dev/test TSVs and labels.txt: train has FLIPS, test has its row 7 flipped, and test row 0's text is also
    train's last row (150)."""
    root.mkdir()
    frames = {"train": flip(make_texts(150), FLIPS), "dev": make_texts(60, seed=2), "test": flip(make_texts(60, seed=3), [7])}
    frames["train"] = pd.concat([frames["train"], frames["test"].iloc[[0]]], ignore_index=True)
    for split, frame in frames.items():
        frame[["text", "label"]].to_csv(root / f"{split}.tsv", sep="\t", index=False)
    (root / "labels.txt").write_text("\n".join(NAMES) + "\n")
    return root


def dropped_rows(table: pd.DataFrame, split: str) -> set[int]:
    """The rows `--fix drop` removes from a split: label issues, conflicting labels, later copies and leaked copies."""
    kinds = table[table["split"] == split]
    drop = kinds["kind"].str.contains(r"\b(?:label|conflicting-labels|duplicate|leakage)(?:;|$)")
    return set(kinds[drop]["row"])


def test_fix_drop_cleans_train_and_copies_test_untouched(tiny_model_dir, tmp_path):
    data = split_directory(tmp_path / "data")
    before = {p.name: digest(p) for p in data.iterdir()}
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--fix", "drop")
    assert result.exit_code == 0, result.output + str(result.exception)
    out = tmp_path / "out"
    table = read_table(out)
    leak = table[table["kind"].str.contains("leakage")]
    assert leak[["split", "row", "related"]].values.tolist() == [["train", 150, "test row 0"]]
    assert set(table["split"]) <= {"train", "validation", "test"}
    assert {150, *FLIPS} <= dropped_rows(table, "train") and 7 in dropped_rows(table, "test")
    cleaned = out / "cleaned"
    assert sorted(p.name for p in cleaned.iterdir()) == ["dev.tsv", "labels.txt", "test.tsv", "train.tsv"]
    assert digest(cleaned / "test.tsv") == before["test.tsv"] and digest(cleaned / "labels.txt") == before["labels.txt"]
    for split, name in (("train", "train.tsv"), ("validation", "dev.tsv")):
        original = pd.read_csv(data / name, sep="\t")
        expected = original.drop(index=sorted(dropped_rows(table, split))).reset_index(drop=True)
        pd.testing.assert_frame_equal(pd.read_csv(cleaned / name, sep="\t"), expected)
    assert {p.name: digest(p) for p in data.iterdir()} == before


def test_fix_test_cleans_the_test_split_too(tiny_model_dir, tmp_path):
    data = split_directory(tmp_path / "data")
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--fix", "drop", "--fix-test")
    assert result.exit_code == 0, result.output
    dropped = dropped_rows(read_table(tmp_path / "out"), "test")
    assert 7 in dropped
    expected = pd.read_csv(data / "test.tsv", sep="\t").drop(index=sorted(dropped)).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "cleaned" / "test.tsv", sep="\t"), expected)


def test_fix_relabel_rewrites_ids_and_names_of_the_flagged_rows(tiny_model_dir, tmp_path):
    data = planted_csv(tmp_path / "toy.csv")
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--fix", "relabel")
    assert result.exit_code == 0, result.output
    expected = pd.read_csv(data)
    expected.loc[FLIPS] = make_texts(150).loc[FLIPS]  # the flips get their true labels back, ids and names
    expected.loc[151, ["label", "label_name"]] = make_texts(150).loc[1, ["label", "label_name"]].tolist()
    expected = expected.drop(index=[150]).reset_index(drop=True)  # the later copy of row 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "cleaned" / "toy.csv"), expected)


def test_fix_keeps_json_lines_as_json_lines(tiny_model_dir, tmp_path):
    data = tmp_path / "toy.jsonl"
    flip(make_texts(150), FLIPS).to_json(data, orient="records", lines=True)
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--fix", "drop")
    assert result.exit_code == 0, result.output
    assert dropped_rows(read_table(tmp_path / "out"), "all") == set(FLIPS)
    written = pd.read_json(tmp_path / "out" / "cleaned" / "toy.jsonl", lines=True)
    pd.testing.assert_frame_equal(written, make_texts(150).drop(index=FLIPS).reset_index(drop=True))


EXTRA_LABEL = {5: 0, 50: 0, 100: 0, 151: 0, 200: 1, 250: 1}
"""Multi-label train rows given one more label than their keywords say: row -> the label added."""


def multilabel_with_extra_labels(root: Path) -> Path:
    root.mkdir()
    train = make_multilabel_texts(300, 1)
    for row, added in EXTRA_LABEL.items():
        train.at[row, "label"] = ",".join(sorted({*train.at[row, "label"].split(","), str(added)}))
    train.to_csv(root / "train.tsv", sep="\t", index=False)
    make_multilabel_texts(90, 2).to_csv(root / "dev.tsv", sep="\t", index=False)
    make_multilabel_texts(90, 3).to_csv(root / "test.tsv", sep="\t", index=False)
    (root / "labels.txt").write_text("\n".join(NAMES) + "\n")
    return root


def test_multilabel_finds_the_added_labels_and_relabel_removes_them(tiny_model_dir, tmp_path):
    data = multilabel_with_extra_labels(tmp_path / "data")
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--fix", "relabel")
    assert result.exit_code == 0, result.output + str(result.exception)
    table = read_table(tmp_path / "out")
    flagged = table[table["kind"].str.contains(LABEL_KIND)].set_index("row")
    assert sorted(flagged.index) == sorted(EXTRA_LABEL) and set(flagged["split"]) == {"train"}
    clean = make_multilabel_texts(300, 1)
    for row, added in EXTRA_LABEL.items():
        assert NAMES[added] in flagged.at[row, "given"].split(", ")
        assert flagged.at[row, "suggested"] == ", ".join(NAMES[int(i)] for i in clean.at[row, "label"].split(","))
    train = table[table["split"] == "train"]
    copies = train[train["kind"].str.contains(r"\b(?:duplicate|leakage)(?:;|$)")]["row"]
    expected = pd.read_csv(data / "train.tsv", sep="\t", dtype=str)
    expected.loc[list(EXTRA_LABEL), "label"] = clean.loc[list(EXTRA_LABEL), "label"]
    expected = expected.drop(index=list(copies)).reset_index(drop=True)  # relabel still drops later copies
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "cleaned" / "train.tsv", sep="\t", dtype=str), expected)


def test_fine_tuning_per_fold(tiny_model_dir, tmp_path):
    data = tmp_path / "toy.csv"
    make_texts(60).to_csv(data, index=False)
    result = audit(data, tmp_path / "out", tiny_model_dir, *NO_NEAR, "--model", tiny_model_dir, "--epochs", "1",
                   "--folds", "2")
    assert result.exit_code == 0, result.output + str(result.exception)
    summary = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert summary["method"] == f"fine-tuned {tiny_model_dir} per fold (1 epochs)" and summary["folds"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".fineclass-manifest.json", "audit.csv", "audit.html",
                                                                    "audit.json"]


def test_python_api(tiny_model_dir, tmp_path):
    import fineclass

    frame = flip(make_texts(150), FLIPS)
    result = fineclass.audit(frame, tmp_path / "out", embedder=str(tiny_model_dir), similarity=1.0, fix="drop")
    assert isinstance(result, fineclass.AuditResult)
    pd.testing.assert_frame_equal(result.issues, read_table(tmp_path / "out"), check_dtype=False)
    assert result.rows == {"all": 150} and result.paths["csv"] == tmp_path / "out" / "audit.csv"
    assert result.probabilities.shape == (150, 3) and result.label_names == tuple(NAMES)
    html = result._repr_html_()
    assert "rows audited" in html and "150 (all 150)" in html and result.issues.at[0, "text"] in html
    written = pd.read_csv(tmp_path / "out" / "cleaned" / "data.csv")  # a DataFrame has no format of its own: CSV
    pd.testing.assert_frame_equal(written, make_texts(150).drop(index=FLIPS).reset_index(drop=True))
    with pytest.raises(fineclass.ConfigError, match="got an unknown option 'text_colum'; did you mean 'text_column'\\?"):
        fineclass.audit(frame, tmp_path / "other", text_colum="text")


def test_an_earlier_audit_needs_overwrite_and_overwrite_removes_only_its_files(tiny_model_dir, tmp_path):
    data = planted_csv(tmp_path / "toy.csv")
    out = tmp_path / "out"
    assert audit(data, out, tiny_model_dir, *NO_NEAR, "--fix", "drop").exit_code == 0
    again = audit(data, out, tiny_model_dir, *NO_NEAR)
    assert again.exit_code == 2
    assert again.stderr == f"error: {out / 'audit.csv'} already exists; pass --overwrite to replace it, or choose another --output-dir\n"
    replaced = audit(data, out, tiny_model_dir, *NO_NEAR, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert not (out / "cleaned").exists()  # the earlier --fix's copy was audit's own
    (out / "notes.txt").write_text("mine")
    refused = audit(data, out, tiny_model_dir, *NO_NEAR, "--overwrite")
    assert refused.exit_code == 2 and (out / "notes.txt").read_text() == "mine"
    assert refused.stderr == (f"error: output directory {out} holds files fineclass did not write (notes.txt); choose "
                              "another --output-dir so they are not lost\n")


@pytest.mark.parametrize("args, message", [
    (["--folds", "1", "--rank-by", "margin", "--similarity", "0", "--fix", "trim"],
     "--folds must be a whole number >= 2, got 1; --rank-by must be one of self-confidence, normalized-margin, got "
     "'margin'; --similarity must be in (0, 1], got 0.0; --fix must be one of drop, relabel, got 'trim'"),
    (["--fix-test"], "--fix-test needs --fix drop or --fix relabel"),
    (["--epochs", "0"], "--epochs must be > 0, got 0.0"),
    (["--folds", "170"], "--folds 170 needs at least 170 rows, and DATA has 152; add rows or lower --folds"),
    (["--model", "no/such-dir/"], None),
])
def test_bad_options_are_one_line_errors(tiny_model_dir, tmp_path, args, message):
    data = planted_csv(tmp_path / "toy.csv")
    result = audit(data, tmp_path / "out", tiny_model_dir, *args)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.output
    if message is not None:
        assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "out").exists()
