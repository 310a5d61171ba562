from __future__ import annotations

import numpy as np

from fineclass.data.duplicates import duplicate_groups, group_ids, nearest_neighbours, normalise_text


def test_normalise_text_ignores_case_punctuation_symbols_and_spacing():
    assert normalise_text("  I'm SO happy!!  :) ") == "im so happy"
    assert normalise_text("im   so\thappy") == "im so happy"
    assert normalise_text("Ｆｕｌｌ width") == "full width"  # NFKC


def test_a_text_of_punctuation_only_keeps_it():
    assert normalise_text("?!") == "?!"
    assert normalise_text("...") != normalise_text("?!")


def test_duplicate_groups_are_positions_sharing_a_key():
    groups = duplicate_groups(["a", "b", "a", "c", "b", "a"])
    assert [g.tolist() for g in groups] == [[0, 2, 5], [1, 4]]


def test_nearest_neighbours_skip_the_row_itself_and_its_exact_duplicates():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    keys = ["x", "x", "y", "z"]  # rows 0 and 1 are exact duplicates of each other
    best, cosine = nearest_neighbours(vectors, group_ids(keys), block_rows=2)
    assert best.tolist() == [2, 2, 3, 2]
    np.testing.assert_allclose(cosine, [0.6, 0.6, 0.8, 0.8], rtol=1e-6)


def test_a_row_alone_in_its_group_has_no_neighbour():
    best, cosine = nearest_neighbours(np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32), np.array([0, 0]))
    assert best.tolist() == [-1, -1] and cosine.tolist() == [-1.0, -1.0]
