"""examples/quickstart.ipynb runs in a real Jupyter kernel (nbclient), on the tiny model, so it cannot rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import make_texts

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def outputs_of(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        parts += [output.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def test_the_quickstart_notebook_trains_shows_and_predicts(tiny_model_dir, tmp_path, monkeypatch):
    data = tmp_path / "toy.csv"
    make_texts(150).to_csv(data, index=False)
    monkeypatch.setenv("FINECLASS_NOTEBOOK_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("FINECLASS_NOTEBOOK_DATA", str(data))
    monkeypatch.setenv("FINECLASS_NOTEBOOK_MAX_STEPS", "6")
    monkeypatch.setenv("FINECLASS_NOTEBOOK_OUT", str(tmp_path / "out"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    shown = {cell.source.splitlines()[-1]: outputs_of(cell) for cell in code}
    assert "<table" in shown["run"] and "<img" in shown["run"] and "accuracy" in shown["run"]
    assert "'labels': [" in shown["[p.to_dict() for p in predictor.predict([\"i feel so happy today\", \"this is so unfair\"], top_k=2)]"]
    assert "'label':" in shown['classifier("i am feeling low")']
    assert (tmp_path / "out" / "run" / "model" / "config.json").is_file()


def test_the_notebook_is_saved_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
