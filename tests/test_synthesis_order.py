"""Row order never changes the results: shuffling the rows of every input table leaves
results.json byte-identical (floating-point sums depend on term order, so the pipeline reads
every table in a canonical, content-based order; netstrata.synthesis.canonical)."""
from __future__ import annotations

import csv
import dataclasses
import json
import random
import shutil
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netstrata
from netstrata.data import example_path
from netstrata.synthesis import analyse_review
from netstrata.synthesis.canonical import canonical_frame

from .test_data_support import EXAMPLE

SIMULATED = example_path("simulated-spine")


def _shuffled(review, seed: int):
    """The same review with the rows of every table permuted (each row keeps its spreadsheet row
    number, the index, so provenance is unchanged: only the order differs)."""
    rng = np.random.default_rng(seed)
    tables = {k: v.iloc[rng.permutation(len(v))] for k, v in review.tables.items()}
    return dataclasses.replace(review, tables=MappingProxyType(tables))


@pytest.fixture(scope="module")
def landmark():
    review = netstrata.load_review(EXAMPLE)
    return review, analyse_review(review, progress=False, workers=1).to_json()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_shuffled_rows_give_byte_identical_results_json(landmark, seed):
    review, expected = landmark
    assert analyse_review(_shuffled(review, seed), progress=False, workers=1).to_json() == expected


def test_shuffled_rows_byte_identical_with_multiverse():
    """simulated-spine has a [sensitivity] section: the specifications are invariant too."""
    review = netstrata.load_review(SIMULATED)
    a = analyse_review(review, progress=False, workers=1).to_json()
    assert json.loads(a)["multiverse"] is not None
    assert analyse_review(_shuffled(review, 11), progress=False, workers=1).to_json() == a


def _strip_rows(x):
    """Drop spreadsheet row numbers (they move with the rows in a file)."""
    if isinstance(x, dict):
        return {k: _strip_rows(v) for k, v in x.items() if k not in ("row", "row_a", "row_b")}
    if isinstance(x, list):
        return [_strip_rows(v) for v in x]
    return x


def test_shuffled_csv_files_change_only_row_numbers(tmp_path, landmark):
    """Shuffling the CSV files themselves: everything but the spreadsheet row numbers (provenance
    of register and QC rows) is identical, including the order of the exclusion register."""
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project)
    rnd = random.Random(5)
    for f in sorted(project.glob("*.csv")):
        with open(f, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        body = rows[1:]
        rnd.shuffle(body)
        with open(f, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([rows[0], *body])
    review = netstrata.load_review(project)
    got = json.loads(analyse_review(review, progress=False, workers=1).to_json())
    want = json.loads(landmark[1])
    assert got["fingerprint"] == want["fingerprint"]
    assert _strip_rows(got) == _strip_rows(want)


def test_canonical_frame_sorts_by_key_then_content():
    import pandas as pd
    f = pd.DataFrame({"study": ["b", "a", "a"], "x": [1.0, 10.0, 2.0]}, index=[5, 6, 7])
    out = canonical_frame(f, ("study",))
    assert list(out.index) == [7, 6, 5]                      # numbers compare as numbers (2 < 10)
    assert canonical_frame(f.iloc[::-1], ("study",)).equals(out)
