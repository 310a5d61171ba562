"""Which rows have which problems: confident learning's label issues, duplicates, conflicting labels, leakage and
near-duplicates, gathered into audit.csv's table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fineclass.data.duplicates import duplicate_groups, group_ids, nearest_neighbours, normalise_text
from fineclass.evaluation.audit_report import KINDS
from fineclass.evaluation.label_issues import LabelIssues
from fineclass.labels import LabelSpace


def row_kinds(rows: pd.DataFrame, issues: LabelIssues, vectors: np.ndarray, similarity: float):
    """Per row, its issue kinds and the rows each names (a duplicate's original, a near-duplicate's neighbour).

    `rows` has split, row, text, labels (and text_pair); `vectors` are the rows' unit embeddings."""
    pairs = rows["text_pair"] if "text_pair" in rows.columns else None
    keys = [normalise_text(text) if pairs is None else f"{normalise_text(text)} || {normalise_text(pair)}"
            for text, pair in zip(rows["text"], rows["text"] if pairs is None else pairs)]
    kinds: list[list[str]] = [[] for _ in range(len(rows))]
    related: list[list[int]] = [[] for _ in range(len(rows))]
    for i in np.flatnonzero(issues.is_issue):
        kinds[i].append("label")
    add_duplicate_kinds(rows, keys, kinds, related)
    neighbours, cosines = nearest_neighbours(vectors, group_ids(keys))
    for i in np.flatnonzero(cosines >= similarity - 1e-6):  # 1e-6: a cosine of 1 computed in float32
        kinds[i].append("near-duplicate")
        related[i].append(int(neighbours[i]))
    return kinds, related


def add_duplicate_kinds(rows: pd.DataFrame, keys: list[str], kinds, related) -> None:
    """A group of the same normalised text: every copy has conflicting labels if their labels differ; the copies
    after the first are duplicates, or leakage when the group has a test row (then the test row is the original)."""
    splits, label_sets = rows["split"].to_numpy(), [frozenset(names) for names in rows["labels"]]
    for group in duplicate_groups(keys):
        in_test = [i for i in group if splits[i] == "test"]
        original = in_test[0] if in_test else group[0]
        conflicting = len({label_sets[i] for i in group}) > 1
        for i in group:
            if conflicting:
                kinds[i].append("conflicting-labels")
                related[i].append(next(j for j in group if label_sets[j] != label_sets[i]))
            if i == original:
                continue
            if in_test and splits[i] != "test":
                kinds[i].append("leakage")
                related[i].append(original)
            elif not conflicting:
                kinds[i].append("duplicate")
                related[i].append(original)


def suggested_labels(issues: LabelIssues, probs: np.ndarray, labels: LabelSpace, targets: np.ndarray) -> list[list[str]]:
    """The labels the model believes: its top class, or for multi-label the given labels with the flagged ones
    flipped. When that leaves none, the most probable label that was not just flagged as wrong (GoEmotions'
    "u are a real piece of shit", given neutral with neutral flagged, would otherwise get neutral back)."""
    names = labels.names
    if not labels.multi_label:
        return [[names[i]] for i in issues.suggested]
    suggested = []
    for flipped, row_probs, given in zip(issues.suggested, probs, targets):
        kept = [names[j] for j in np.flatnonzero(flipped)]
        if not kept:
            removed = (given >= 0.5) & (flipped == 0)
            kept = [names[int(np.argmax(np.where(removed, -np.inf, row_probs)))]]
        suggested.append(kept)
    return suggested


def issue_table(rows: pd.DataFrame, kinds, related, suggested, issues: LabelIssues) -> pd.DataFrame:
    """audit.csv's lines: one per flagged row, the highest score (the least believable given label) first."""
    flagged = [i for i, found in enumerate(kinds) if found]
    where = [f"{s} row {r}" if s != "all" else f"row {r}" for s, r in zip(rows["split"], rows["row"])]
    table = pd.DataFrame({
        "row": rows["row"].to_numpy()[flagged], "split": rows["split"].to_numpy()[flagged],
        "text": rows["text"].to_numpy()[flagged],
        "given": [", ".join(rows["labels"].iloc[i]) for i in flagged],
        "suggested": [", ".join(suggested[i]) for i in flagged],
        "score": np.round(1 - issues.quality[flagged], 4),
        "kind": ["; ".join(kinds[i]) for i in flagged],
        "related": ["; ".join(where[j] for j in related[i]) for i in flagged],
    })
    if "text_pair" in rows.columns:
        table.insert(3, "text_pair", rows["text_pair"].to_numpy()[flagged])
    return table.iloc[np.argsort(-table["score"].to_numpy(), kind="stable")].reset_index(drop=True)


def count_kinds(kinds) -> dict[str, int]:
    return {kind: sum(kind in found for found in kinds) for kind in KINDS}
