"""What `audit` writes: audit.csv (the flagged rows, most likely problem first), audit.html and audit.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fineclass import html as page_html
from fineclass.outputs import atomic_path, write_json_atomic, write_text_atomic

AUDIT_CSV = "audit.csv"
AUDIT_HTML = "audit.html"
AUDIT_JSON = "audit.json"
COLUMNS = ("row", "split", "text", "given", "suggested", "score", "kind", "related")
"""audit.csv's columns; `text_pair` follows `text` for sentence pairs."""
KINDS = {
    "label": "confident learning says the given label is probably wrong; `suggested` is the model's label",
    "conflicting-labels": "the same text (once normalised) appears with different labels",
    "leakage": "the same text is also in the test split, so the test score is optimistic",
    "duplicate": "an exact copy (once normalised) of an earlier row, with the same labels",
    "near-duplicate": "a different text whose embedding is at least --similarity close to another row's",
}
"""Issue kinds, in the order the summary lists them, with what each means."""
HTML_ROWS = 5000
"""audit.html shows at most this many rows; audit.csv has them all."""


@dataclass
class AuditResult:
    """An audit: the flagged rows and where the files went. A notebook shows the summary and the first rows."""

    output_dir: Path
    issues: pd.DataFrame
    """One line per flagged row, most likely problem first, with the columns of audit.csv."""
    counts: dict[str, int]
    """Flagged rows per issue kind (a row may have several kinds)."""
    rows: dict[str, int]
    """Rows audited per split."""
    summary: dict
    """How the audit was made and what it estimates: method, folds, out-of-fold accuracy, estimated noise, seconds."""
    paths: dict[str, Path] = field(default_factory=dict)
    """audit.csv, audit.html, audit.json, and `cleaned` when --fix wrote a cleaned copy."""
    cleaned: list[Path] = field(default_factory=list)
    """The files of the cleaned copy."""
    probabilities: np.ndarray | None = field(default=None, repr=False)
    """(rows, labels) out-of-fold probabilities, rows in the order they were read (split by split)."""
    label_names: tuple[str, ...] = ()
    """The columns of `probabilities`."""

    def _repr_html_(self) -> str:
        return summary_html(self) + issues_table(self.issues.head(20))


def summary_rows(result: AuditResult) -> list[list]:
    rows = [["rows audited", f"{sum(result.rows.values()):,} ({', '.join(f'{s} {n:,}' for s, n in result.rows.items())})"],
            ["rows flagged", f"{len(result.issues):,}"]]
    rows += [[key.replace("_", " "), value] for key, value in result.summary.items() if not isinstance(value, dict)]
    return rows


def summary_html(result: AuditResult) -> str:
    counts = page_html.table(["issue", "rows", "meaning"], [[kind, result.counts.get(kind, 0), meaning]
                                                            for kind, meaning in KINDS.items()])
    return page_html.table(["", "value"], summary_rows(result)) + counts


def issues_table(issues: pd.DataFrame) -> str:
    return page_html.table(list(issues.columns), issues.astype(object).where(issues.notna(), "").values.tolist())


def write_audit_files(result: AuditResult, title: str) -> dict[str, Path]:
    """audit.csv, audit.html and audit.json in the output directory, each written whole or not at all."""
    out = result.output_dir
    paths = {"csv": out / AUDIT_CSV, "html": out / AUDIT_HTML, "json": out / AUDIT_JSON}
    with atomic_path(paths["csv"]) as tmp:
        result.issues.to_csv(tmp, index=False)
    shown = result.issues.head(HTML_ROWS)
    note = (f"<p class=\"note\">The first {HTML_ROWS:,} of {len(result.issues):,} rows; audit.csv has them all.</p>"
            if len(result.issues) > HTML_ROWS else "")
    sections = [("Summary", summary_html(result)),
                ("Rows, most likely problem first", note + issues_table(shown))]
    write_text_atomic(paths["html"], page_html.page(title, sections))
    write_json_atomic(paths["json"], {"rows": result.rows, "flagged": len(result.issues), "counts": result.counts,
                                      **result.summary})
    return paths
