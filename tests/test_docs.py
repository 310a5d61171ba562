"""The docs site: docs/options.md is generated from TrainConfig, and `mkdocs build --strict` passes (a broken link,
a missing page or a docstring mkdocstrings cannot render fails the build)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import MISSING
from pathlib import Path

import pytest

from fineclass.commands.options import FLAGS, field_docs, shown_default
from fineclass.config import GROUPS, OPTION_FIELDS, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
OPTIONS_DOC = ROOT / "docs" / "options.md"


def flags_of(name: str) -> str:
    if name == "data":
        return "`DATA` (argument)"
    names = FLAGS.get(name, (f"--{name.replace('_', '-')}",))
    return ", ".join(f"`{flag}`" for flag in names)


def render_options() -> str:
    """docs/options.md: every TrainConfig field by group, with its flag, YAML key, default and docstring."""
    docs = field_docs(TrainConfig)
    by_name = {f.name: f for f in OPTION_FIELDS}
    lines = [
        "# Training options",
        "",
        "Every option of `fineclass train`, generated from the `TrainConfig` dataclass in `src/fineclass/config.py` "
        "(`python -m tests.test_docs` writes this page; a test checks it is current). The same names are the keys of a "
        "YAML `--config` file (flat, or nested under the group names below) and the keywords of `fineclass.train(...)`. "
        "Flags override the YAML file, which overrides the defaults (a YAML `null` is the default). `compare`, `distill` "
        "and `learning-curve` take the same training options; `evaluate`, `explore` and `predict --input` take the "
        "data-reading ones.",
        "",
        "```yaml",
        "# run.yaml, used as: fineclass train data.csv --config run.yaml --epochs 2",
        "model: bert-base-uncased",
        "optimisation: {learning_rate: 2.0e-5, batch_size: 16}",
        "trainer_args: {lr_scheduler_type: cosine}",
        "```",
    ]
    for group, names in GROUPS.items():
        lines += ["", f"## {group.replace('_', ' ').capitalize()}", "", "| option | YAML key | default | meaning |",
                  "|---|---|---|---|"]
        for name in names:
            field = by_name[name]
            default = shown_default(name, None if field.default is MISSING else field.default)
            shown = "" if default in (None, "") else f"`{default}`"
            cells = [flags_of(name), f"`{name}`", shown, docs.get(name, "")]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def test_options_page_is_generated_from_the_config():
    assert OPTIONS_DOC.read_text(encoding="utf-8") == render_options(), "run: python -m tests.test_docs"


def test_every_option_is_on_the_page():
    text = OPTIONS_DOC.read_text(encoding="utf-8")
    for field in OPTION_FIELDS:
        assert f"`{field.name}`" in text, field.name


@pytest.mark.skipif(shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None, reason="mkdocs not installed")
def test_mkdocs_build_strict(tmp_path):
    mkdocs = str(Path(sys.executable).parent / "mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "python-api" / "index.html").is_file()
    assert "fineclass.train" in (tmp_path / "site" / "python-api" / "index.html").read_text(encoding="utf-8")


if __name__ == "__main__":
    OPTIONS_DOC.write_text(render_options(), encoding="utf-8")
    print(f"wrote {OPTIONS_DOC}")
