"""Exact and near-duplicate texts: the same text once normalised, or embeddings at least this similar."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

BLOCK_ROWS = 1024
"""Rows compared at a time: one block of similarities is BLOCK_ROWS x n float32 (220 MB for 54,000 rows)."""
WHITESPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Unicode NFKC, case-folded, punctuation and symbols dropped, runs of whitespace made one space: "I'm SO happy!!"
    and "im so happy" are the same text. A text of punctuation only keeps its punctuation."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    kept = "".join(ch for ch in folded if not unicodedata.category(ch).startswith(("P", "S")))
    return WHITESPACE.sub(" ", kept).strip() or WHITESPACE.sub(" ", folded).strip()


def duplicate_groups(keys: Sequence[str]) -> list[np.ndarray]:
    """Positions that share a key, in order, for every key held by two or more positions."""
    positions: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        positions.setdefault(key, []).append(i)
    return [np.array(group) for group in positions.values() if len(group) > 1]


def nearest_neighbours(vectors: np.ndarray, groups: np.ndarray, block_rows: int = BLOCK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """For each unit vector, the most similar other vector outside its own duplicate group, and the cosine.

    `groups` gives each row a group id (rows with the same normalised text share one), so exact duplicates, which
    are reported as such, are never each other's near-duplicates. A row with no other row returns (-1, -1.0).
    """
    n = len(vectors)
    best = np.full(n, -1, dtype=np.int64)
    similarity = np.full(n, -1.0, dtype=np.float32)
    for start in range(0, n, block_rows):
        rows = np.arange(start, min(start + block_rows, n))
        sims = vectors[rows] @ vectors.T
        sims[groups[rows][:, None] == groups[None, :]] = -np.inf  # itself and its exact duplicates
        if n > 1:
            best[rows] = sims.argmax(axis=1)
            similarity[rows] = sims[np.arange(len(rows)), best[rows]]
    none = ~np.isfinite(similarity)
    best[none], similarity[none] = -1, -1.0
    return best, similarity


def group_ids(keys: Sequence[str]) -> np.ndarray:
    """A whole number per row; equal keys get equal numbers."""
    numbers: dict[str, int] = {}
    return np.array([numbers.setdefault(key, len(numbers)) for key in keys], dtype=np.int64)
