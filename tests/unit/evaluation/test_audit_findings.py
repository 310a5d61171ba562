from __future__ import annotations

import numpy as np
import pandas as pd

from fineclass.evaluation.audit_findings import count_kinds, issue_table, row_kinds, suggested_labels
from fineclass.evaluation.label_issues import LabelIssues
from fineclass.labels import LabelSpace

LABELS = LabelSpace(("joy", "sadness", "anger"), multi_label=False)


def rows_of(lines) -> pd.DataFrame:
    return pd.DataFrame(lines, columns=["split", "row", "text", "labels"])


def no_issues(n: int, quality=None) -> LabelIssues:
    quality = np.ones(n) if quality is None else np.asarray(quality, dtype=float)
    return LabelIssues(np.zeros(n, bool), quality, np.zeros(n, int), np.eye(3), np.zeros(3))


def far_apart(n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)  # every cosine 0: no near-duplicates


def test_copies_conflicts_and_leakage():
    rows = rows_of([
        ("train", 0, "I am SO happy!", ["joy"]),         # 0: the original of 1
        ("train", 1, "i am so happy", ["joy"]),          # 1: a later copy, same label
        ("train", 2, "so sad", ["sadness"]),             # 2: in test too -> leakage
        ("validation", 0, "so mad", ["anger"]),          # 3: conflicts with 4
        ("validation", 1, "So mad.", ["joy"]),           # 4
        ("test", 0, "so sad", ["sadness"]),              # 5: the test row stays the original
    ])
    kinds, related = row_kinds(rows, no_issues(6), far_apart(6), similarity=0.95)
    assert kinds == [[], ["duplicate"], ["leakage"], ["conflicting-labels"], ["conflicting-labels"], []]
    assert related == [[], [0], [5], [4], [3], []]
    assert count_kinds(kinds) == {"label": 0, "conflicting-labels": 2, "leakage": 1, "duplicate": 1, "near-duplicate": 0}


def test_near_duplicates_name_their_neighbour():
    rows = rows_of([("all", 0, "a", ["joy"]), ("all", 1, "b", ["joy"]), ("all", 2, "c", ["anger"])])
    vectors = np.array([[1, 0], [0.96, 0.28], [0, 1]], dtype=np.float32)  # cos(0, 1) = 0.96
    kinds, related = row_kinds(rows, no_issues(3), vectors, similarity=0.95)
    assert kinds == [["near-duplicate"], ["near-duplicate"], []] and related == [[1], [0], []]
    assert row_kinds(rows, no_issues(3), vectors, similarity=0.97)[0] == [[], [], []]


def test_the_table_is_sorted_by_score_and_names_related_rows():
    rows = rows_of([("all", 0, "x", ["joy"]), ("all", 1, "y", ["sadness"]), ("all", 2, "y", ["joy"])])
    issues = no_issues(3, quality=[0.9, 0.6, 0.2])
    kinds, related = row_kinds(rows, issues, far_apart(3), similarity=0.95)
    table = issue_table(rows, kinds, related, [["joy"], ["joy"], ["joy"]], issues)
    assert table.to_dict(orient="records") == [
        {"row": 2, "split": "all", "text": "y", "given": "joy", "suggested": "joy", "score": 0.8,
         "kind": "conflicting-labels", "related": "row 1"},
        {"row": 1, "split": "all", "text": "y", "given": "sadness", "suggested": "joy", "score": 0.4,
         "kind": "conflicting-labels", "related": "row 2"},
    ]


def test_multilabel_suggestions_never_give_back_the_label_flagged_as_wrong():
    labels = LabelSpace(("joy", "sadness", "neutral"), multi_label=True)
    targets = np.array([[0, 0, 1], [1, 0, 0]])
    flipped = np.array([[0, 0, 0], [1, 1, 0]])  # row 0: neutral flagged; row 1: sadness missing
    issues = LabelIssues(np.array([True, True]), np.zeros(2), flipped, np.zeros((3, 2, 2)), np.zeros(3))
    probs = np.array([[0.1, 0.4, 0.7], [0.9, 0.8, 0.1]])
    assert suggested_labels(issues, probs, labels, targets) == [["sadness"], ["joy", "sadness"]]
