"""Awkward but valid data trains: label names that matplotlib would read as mathtext ($_$, a$b$c, \\frac) or rich as
markup ([/x], [bold]), and texts with markup. Every output shows them as they are."""

from __future__ import annotations

import json

import pytest

from fineclass.commands.common import console
from tests.conftest import make_texts, run_cli

NAMES = {"joy": "$_$", "sadness": "[/x]", "anger": "[bold]a$b$c\\frac"}
"""The toy classes renamed: mathtext that fails to parse, a closing tag with no opening one, a tag and TeX."""
MARKUP_TEXTS = ["[bold]happy[/bold] glad day", "[/x] so sad :smile:"]


@pytest.fixture(scope="module")
def awkward_run(tiny_model_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("awkward")
    frame = make_texts(150)
    frame["label_name"] = frame["label_name"].map(NAMES)
    frame.loc[:9, "text"] = [f"[i]{text}[/] $x$" for text in frame.loc[:9, "text"]]  # markup and $ in texts too
    frame[["text", "label_name"]].to_csv(tmp / "awkward.csv", index=False)
    result = run_cli("train", tmp / "awkward.csv", "--model", tiny_model_dir, "-o", tmp / "run", "--epochs", "2",
                     "--min-steps", "0", "--learning-rate", "1e-3", "--quiet")
    return tmp, result


@pytest.fixture
def wide_console(monkeypatch):
    """One table row a line, so a label is never wrapped or cut in the middle."""
    monkeypatch.setattr(console, "width", 200)


def test_training_finishes_with_metrics_report_and_model_card(awkward_run):
    tmp, result = awkward_run
    assert result.exit_code == 0, result.output + str(result.exception)
    run = tmp / "run"
    assert json.loads((run / "metrics.json").read_text())["task"]["labels"] == sorted(NAMES.values())
    assert (run / "report.html").is_file() and list((run / "plots").glob("*.png"))
    card = (run / "model" / "README.md").read_text()
    assert all(name in card for name in NAMES.values())


def test_the_summary_tables_print_label_names_literally(awkward_run):
    _, result = awkward_run
    per_class = result.output[result.output.index("per class"):]
    assert all(name in per_class for name in NAMES.values()), per_class


def test_predict_prints_markup_in_texts_and_labels_literally(awkward_run, wide_console):
    tmp, _ = awkward_run
    result = run_cli("predict", tmp / "run", *MARKUP_TEXTS, "--top-k", "3")
    assert result.exit_code == 0, result.output + str(result.exception)
    rows = [line for line in result.output.splitlines() if "happy" in line or "sad" in line]
    assert [MARKUP_TEXTS[0] in rows[0], MARKUP_TEXTS[1] in rows[1]] == [True, True], result.output
    assert all(name in rows[0] for name in NAMES.values()), result.output  # the top-3 column names every label


def test_explore_prints_and_plots_label_names_literally(awkward_run, tiny_model_dir, wide_console):
    tmp, _ = awkward_run
    result = run_cli("explore", tmp / "awkward.csv", "--model", tiny_model_dir, "-o", tmp / "explore")
    assert result.exit_code == 0, result.output + str(result.exception)
    classes = result.output[result.output.index("classes"):]
    assert all(name in classes for name in NAMES.values()), result.output
    assert (tmp / "explore" / "explore.html").is_file()


def test_plots_draw_mathtext_that_does_not_parse_as_text(tmp_path):
    import matplotlib

    from fineclass.plots import plot_class_counts

    counts = {"$_$": 3, "a$b$c": 2, "$\\frac$": 1, "\\frac": 4}
    assert plot_class_counts(counts, tmp_path / "counts.png").stat().st_size > 0
    assert matplotlib.rcParams["text.parse_math"] is True  # the caller's own figures keep mathtext
