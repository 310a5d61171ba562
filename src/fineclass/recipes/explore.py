"""The explore recipe: read the data as `train` does, measure it, and write explore.html with its figures."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoConfig

from fineclass.config import DEFAULT_MODEL
from fineclass.data.explore import Exploration, explore_task, write_explore_html
from fineclass.data.load import RawData, load_raw_data
from fineclass.data.prepare import prepare_task
from fineclass.data.read import ReadOptions
from fineclass.modeling import load_tokenizer, model_max_length, resolve_model_path
from fineclass.outputs import OutputKind, check_output_dir, prepare_output_dir, record_entries
from fineclass.rundir import PLOTS

EXPLORE_HTML = "explore.html"
EXPLORE_OUTPUT = OutputKind("explore", legacy_markers=(EXPLORE_HTML,), legacy_entries=(EXPLORE_HTML, PLOTS),
                            result=EXPLORE_HTML)


def explore_data(data: str, output_dir: Path, model: str | None = None, *, text_column=None, label_column=None,
                 label_columns=None, text_pair_column=None, label_names=None, multi_label=None,
                 options: ReadOptions | None = None, max_length: int | None = None, overwrite: bool = False,
                 announce=None, raw: RawData | None = None) -> Exploration:
    """Class balance, lengths and figures for `data`; `model` is the tokenizer that measures token lengths."""
    out = Path(output_dir)
    inputs = [("DATA", data), ("--label-names", label_names), ("--model", model)]
    check_output_dir(out, EXPLORE_OUTPUT, overwrite, inputs)
    raw = raw or load_raw_data(data, options)
    task = prepare_task(raw, text_column, label_column, label_names, multi_label, for_training=False,
                        label_columns=label_columns, text_pair_column=text_pair_column)
    if announce:
        announce(task.describe(data))
    path = resolve_model_path(model or DEFAULT_MODEL)
    tokenizer = load_tokenizer(path)
    limit = model_max_length(tokenizer, AutoConfig.from_pretrained(path), max_length)
    prepare_output_dir(out, EXPLORE_OUTPUT, overwrite, inputs)
    record_entries(out, EXPLORE_HTML, PLOTS)
    result = explore_task(task, tokenizer, limit, out)
    result.report_path = write_explore_html(result, data, out / EXPLORE_HTML)
    return result
