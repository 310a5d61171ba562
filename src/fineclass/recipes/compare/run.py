"""The compare recipe: check the candidates → split once → build, time and score each → leaderboard."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from fineclass.config import TrainConfig
from fineclass.errors import DataError
from fineclass.labels import LabelSpace
from fineclass.recipes.compare.candidates import (
    CANDIDATES,
    LABELS_FILE,
    CandidateResult,
    CompareContext,
    run_candidate,
)
from fineclass.recipes.compare.leaderboard import (
    COMPARE_HTML,
    COMPARE_JSON,
    PARETO_PLOT,
    headline_metric,
    rank_candidates,
    write_leaderboard,
)
from fineclass.recipes.compare.spec import check_candidates, parse_candidates
from fineclass.recipes.train import load_task
from fineclass.redact import redact_source
from fineclass.outputs import OutputKind, atomic_path, check_output_dir, prepare_output_dir, record_entries, write_text_atomic
from fineclass.rundir import DATA

logger = logging.getLogger(__name__)

ENTRIES = (COMPARE_JSON, COMPARE_HTML, PARETO_PLOT.parts[0], DATA, CANDIDATES)
COMPARE_OUTPUT = OutputKind("compare", legacy_markers=(COMPARE_JSON,), legacy_entries=ENTRIES, result=COMPARE_JSON)


@dataclass
class CompareResult:
    output_dir: Path
    labels: LabelSpace
    candidates: list[CandidateResult]
    """Ranked by the headline metric, best first."""
    paths: dict[str, Path]
    """compare.json, compare.html and the Pareto plot."""

    def _repr_html_(self) -> str:
        """The leaderboard as a table and the Pareto plot, inline in a notebook."""
        from fineclass import html as page_html
        from fineclass.recipes.compare.leaderboard import leaderboard_rows

        headers, rows = leaderboard_rows(self.candidates, self.labels)
        plot = self.paths.get("plot")
        return page_html.table(headers, rows) + (page_html.image(plot, "Pareto front") if plot and Path(plot).is_file() else "")


def run_compare(config: TrainConfig, models: list[str], progress=None, announce=None, raw=None) -> CompareResult:
    """Train or evaluate every candidate on one split of `config.data`, and write the leaderboard into config.output_dir."""
    specs = parse_candidates(models)  # syntax errors before any data is read
    out = Path(config.output_dir)
    inputs = sweep_inputs(config, specs)
    check_output_dir(out, COMPARE_OUTPUT, config.overwrite, inputs)
    task, frames = load_task(config, announce, raw)  # the same split train makes, with the same seed and fractions
    if "test" not in frames:
        raise DataError("compare scores every candidate on a test split, and DATA has none; "
                        "give a test file, or a --split with a test share like 0.7,0.2,0.1")
    labels = task.label_space
    specs = check_candidates(specs, labels)  # missing directories, K, label sets: before any training
    prepare_output_dir(out, COMPARE_OUTPUT, config.overwrite, inputs)
    record_entries(out, DATA, CANDIDATES)
    ctx = CompareContext(config, out, write_split(out / DATA, frames, labels), labels, frames, progress)
    results = []
    key = headline_metric(labels)
    for i, spec in enumerate(specs, 1):
        logger.info("[%d/%d] %s (%s)", i, len(specs), spec.name, spec.kind)
        result = run_candidate(spec, ctx)
        logger.info("[%d/%d] %s: %s %.4f, %s texts/s, p50 %.2f ms", i, len(specs), spec.name, key,
                    result.metrics[key], f"{result.texts_per_second:,.0f}", result.latency_ms_p50)
        results.append(result)
    ranked = rank_candidates(results, labels)
    summary = {
        "data": {"source": redact_source(config.data), "rows": {s: len(f) for s, f in frames.items()}, "dropped": task.dropped,
                 "split_dir": str(ctx.data_dir)},
        "task": {"multi_label": labels.multi_label, "labels": list(labels.names)},
        "measurement": {"threads": torch.get_num_threads(), "device": "cpu", "precision": "fp32 (torch), int8 (onnx-int8)"},
        "settings": {k: v for k, v in config.to_record().items() if k != "model"},  # each candidate names its own
    }
    record_entries(out, COMPARE_JSON, COMPARE_HTML, PARETO_PLOT.parts[0])
    paths = write_leaderboard(out, ranked, labels, summary)
    return CompareResult(output_dir=out, labels=labels, candidates=ranked, paths=paths)


def sweep_inputs(config: TrainConfig, specs) -> list[tuple[str, str]]:
    """What a compare or a learning curve reads: its data, a label-names file, and each candidate's model."""
    return [("DATA", config.data), ("--label-names", config.label_names), *(("--models", spec.model) for spec in specs)]


def write_split(directory: Path, frames: dict[str, pd.DataFrame], labels: LabelSpace) -> Path:
    """Each split's rows as JSON Lines, and the label names in order: the data directory every fine-tune reads."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, frame in frames.items():
        kept = [c for c in ("row", "text", "text_pair", "labels") if c in frame.columns]
        with atomic_path(directory / f"{split}.jsonl") as tmp:
            frame[kept].to_json(tmp, orient="records", lines=True, force_ascii=False)
    write_text_atomic(directory / LABELS_FILE, "\n".join(labels.names) + "\n")
    return directory
