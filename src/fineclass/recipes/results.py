"""What the recipes return: typed results that a notebook cell shows as a metrics table and a confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fineclass import html as page_html
from fineclass.config import TrainConfig
from fineclass.labels import LabelSpace
from fineclass.rundir import RunMetrics

HEADLINE = ("accuracy", "f1_macro", "f1_micro", "f1_weighted", "f1_samples", "exact_match")


def metrics_table(columns: dict[str, dict | None]) -> str:
    """Headline metrics as rows, one column per source (test, baseline, ...)."""
    present = {name: values for name, values in columns.items() if values}
    keys = [k for k in HEADLINE if any(k in values for values in present.values())]
    rows = [[key, *(values.get(key, "") for values in present.values())] for key in keys]
    return page_html.table(["metric", *present], rows)


def figure(path: Path, alt: str) -> str:
    return page_html.image(path, alt) if Path(path).is_file() else ""


@dataclass
class RunResult:
    """A finished `train` run: its directory, its metrics, and the model it saved."""

    run_dir: Path
    model_dir: Path
    metrics: RunMetrics | None
    """None on the non-zero ranks of a multi-process run, which write nothing."""
    label_space: LabelSpace
    config: TrainConfig

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.label_space.names

    def predictor(self, **options):
        """A `Predictor` for the saved model (options as for `Predictor.from_dir`: precision, device, ...)."""
        from fineclass.inference.predictor import Predictor

        return Predictor.from_dir(self.model_dir, **options)

    def _repr_html_(self) -> str:
        metrics = self.metrics
        if metrics is None:
            return f"<p>run {self.run_dir} (written by rank 0)</p>"
        train = metrics.train
        summary = (f"<p><b>{self.run_dir}</b>: {'multi-label' if self.label_space.multi_label else 'multi-class'}, "
                   f"{self.label_space.num_labels} labels; trained {train['steps']} steps in {train['seconds']:.0f} s "
                   f"({train.get('samples_per_second', 0):.1f} samples/s, {train['precision']})</p>")
        test = None if metrics.test is None else {k: v for k, v in metrics.test.items() if k in HEADLINE}
        return summary + metrics_table({"test": test, "untrained baseline": metrics.baseline}) + \
            figure(self.run_dir / "plots" / "confusion_matrix_normalized.png", "confusion matrix")

    def __repr__(self) -> str:
        test = self.metrics.test if self.metrics and self.metrics.test else {}
        shown = ", ".join(f"{k}={test[k]:.4f}" for k in HEADLINE if k in test)
        return f"RunResult(run_dir={str(self.run_dir)!r}, labels={len(self.label_names)}, {shown})"


@dataclass
class EvaluationResult:
    """Scores of a model on one split, and where its report went."""

    split: str
    rows: int
    metrics: dict
    report_path: Path | None
    label_space: LabelSpace
    extra: dict = field(default_factory=dict)

    def _repr_html_(self) -> str:
        scalar = {k: v for k, v in self.metrics.items() if k in HEADLINE}
        plots = self.report_path.parent / "plots" if self.report_path else None
        image = figure(plots / "confusion_matrix_normalized.png", "confusion matrix") if plots else ""
        return f"<p>{self.split}: {self.rows} rows</p>" + metrics_table({self.split: scalar}) + image

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self.metrics[k]:.4f}" for k in HEADLINE if k in self.metrics)
        return f"EvaluationResult(split={self.split!r}, rows={self.rows}, {shown})"
