"""What the report draws of a large network: the contribution matrix's rows beyond
MATRIX_ROWS_UP_TO comparisons (the summary of findings' comparisons with the reference)."""
from __future__ import annotations

import itertools

from netstrata.present.build import figures
from netstrata.present.labels import Labels


def _net(n_nodes: int):
    nodes = [f"T{i:02d}" for i in range(n_nodes)]
    comps = [f"{a}:{b}" for a, b in itertools.combinations(nodes, 2)]
    studies = [f"s{i}" for i in range(n_nodes - 1)]          # study i compares T00 with T(i+1)
    matrix = [[1.0 if c == f"T00:{nodes[j + 1]}" else (0.5 if nodes[j + 1] in c.split(":") else 0.0)
               for j in range(len(studies))] for c in comps]
    return {"treatments": nodes, "reference": "T00",
            "contributions": {"comparisons": comps, "studies": studies, "matrix": matrix}}


def test_small_matrix_is_drawn_whole():
    net = _net(8)                                   # 28 comparisons
    shown, note = figures._matrix_rows(net["contributions"], net)
    assert shown is net["contributions"] and note == ()


def test_large_matrix_shows_the_comparisons_with_the_reference():
    net = _net(12)                                  # 66 comparisons > MATRIX_ROWS_UP_TO
    assert len(net["contributions"]["comparisons"]) > figures.MATRIX_ROWS_UP_TO
    shown, note = figures._matrix_rows(net["contributions"], net)
    assert shown["comparisons"] == [f"T00:T{i:02d}" for i in range(1, 12)]
    assert shown["studies"] == net["contributions"]["studies"]          # every study feeds one of them
    assert all(row[i] == 1.0 for i, row in enumerate(shown["matrix"]))
    assert "11 comparisons with the reference" in note[0] and "network's 66" in note[0]
    blocks = figures.contribution_blocks({}, net, None, Labels({}), "Lumped")
    assert blocks[0].notes == note and blocks[0].figures[0].svg.count("<rect") == 11 * 11
