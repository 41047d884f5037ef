"""Issue 14's property: random edits of the bundled examples either fail `validate` or run with no
data notes (a note that a stage failed on the input) and never raise.

An edit replaces a cell by a value a reviewer could plausibly type (another value of the column,
a code of a related vocabulary, empty, NR, unclear, a number, the cell with a typo), removes a
row, or changes a plan value (MID, time window, node level, strata, a sensitivity alternative).
When `validate` accepts the edited project, the primary analysis runs (optional stages on) and
every multiverse specification is prepared.
"""
from __future__ import annotations

import re
import shutil
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netstrata.data import example_path, load_review
from netstrata.synthesis.validation import validate_project

from .test_data_support import read_rows, write_rows

#: a note saying a stage failed on the input (an exception swallowed), not an informational one
DATA_NOTE = re.compile(r"(Error|Exception|could not|cannot|matches no)")
TABLES = ("studies", "arms", "outcomes", "fidelity", "contrasts", "exclusions", "rob")
WORDS = ("", "NR", "unclear", "0", "1", "2", "-1", "12", "26", "0.5", "1.25", "100", "RCT", "single_arm",
         "NRS_comparative", "prospective", "retrospective", "sham_procedure", "needle_no_current", "RFN_FACET",
         "RFN_SIJ", "ESI", "lumbar", "cervical", "sacral", "facet_joint_pain", "reported", "not_reported",
         "success", "pain", "complete_relief", "MD", "RR", "T1", "Lord 1996", "Cohen 2008", "rf", "sham",
         "Low", "Some concerns", "High", "RoB 2", "ROBINS-I", "CINeMA", "Serious")
PLAN_EDITS = (
    ("mid = 1.25", ("mid = 1.5", "mid = 0.8", "mid = 25", "mid = 2")),
    ("mid = 1.5", ("mid = 15", "mid = 0.5", "mid = 3")),
    ('time_window = "closest to but not after 6 months"',
     ('time_window = "closest to but not after 6 weeks"', 'time_window = "closest to 12 weeks"',
      'time_window = "closest to but not before 1 year"', 'time_window = "closest to 2 days"')),
    ('level = "family"', ('level = "technique"', 'level = "anatomy"', 'level = "wang2025"', 'level = "selection"')),
    ('variables = ["region", "diagnosis"]', ('variables = ["region"]', 'variables = ["diagnosis", "duration"]',
                                            'variables = ["time_window"]', 'variables = ["family"]',
                                            'variables = ["selection_n_blocks", "region"]')),
    ("[sensitivity]", ('[sensitivity]\ndesign = ["randomised", "comparative"]',
                       '[sensitivity]\nmixed_duration = ["exclude", "include"]',
                       '[sensitivity]\nrisk_of_bias = ["any", "rob_overall=low"]',
                       '[sensitivity]\ndata_collection = ["any", "prospective"]',
                       '[sensitivity]\nselection = ["any", "selection_control=placebo_controlled"]')),
    ('kind = "binary"\nmeasure = "RR"', ('kind = "binary"\nmeasure = "OR"', 'kind = "binary"\nmeasure = "RD"')),
    ('kind = "continuous"\nmeasure = "MD"', ('kind = "continuous"\nmeasure = "SMD"',)),
)


def _column_pool(rows, j):
    return sorted({r[j] for r in rows[1:]})


@st.composite
def edits(draw):
    """A list of edits: ("cell", table, row, column, value), ("drop", table, row) or ("plan", old, new)."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("cell", "cell", "cell", "drop", "plan")))
        if kind == "plan":
            old, news = draw(st.sampled_from(PLAN_EDITS))
            out.append(("plan", old, draw(st.sampled_from(news))))
            continue
        table = draw(st.sampled_from(TABLES))
        out.append((kind, table, draw(st.integers(0, 10_000)), draw(st.integers(0, 100)),
                    draw(st.sampled_from(("word", "same_column", "typo"))), draw(st.sampled_from(WORDS))))
    return out


def _apply(project, edit) -> None:
    if edit[0] == "plan":
        toml = project / "netstrata.toml"
        text = toml.read_text(encoding="utf-8")
        toml.write_text(text.replace(edit[1], edit[2], 1), encoding="utf-8")
        return
    kind, table, i, j, how, word = edit
    path = project / f"{table}.csv"
    if not path.is_file():
        return
    rows = read_rows(path)
    if len(rows) < 2:
        return
    r = 1 + i % (len(rows) - 1)
    if kind == "drop":
        del rows[r]
    else:
        c = j % len(rows[0])
        cell = rows[r][c]
        if how == "same_column":
            pool = _column_pool(rows, c)
            value = pool[i % len(pool)]
        elif how == "typo" and len(cell) > 1:
            value = cell[:-1] if i % 2 else cell[1:]
        else:
            value = word
        rows[r][c] = value
    write_rows(path, rows)


def _check(project) -> None:
    """validate fails, or run (primary analysis, optional stages; every specification prepared)
    raises nothing and notes no failure."""
    v = validate_project(project)
    if not v.ok:
        return
    from netstrata.synthesis.canonical import canonical_review
    from netstrata.synthesis.checks import check_review
    from netstrata.synthesis.multiverse import specifications
    from netstrata.synthesis.pipeline import analyse_review
    from netstrata.synthesis.records import prepare
    review = load_review(project)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_review(review, multiverse=False, progress=False, workers=1)
    bad = [n for n in res.notes if DATA_NOTE.search(n)]
    assert not bad, bad
    assert res.record_counts["unaccounted"] == 0
    checked = check_review(canonical_review(review))
    for spec in specifications(checked.sensitivity, checked.primary):
        prepare(review, spec.choices)


@pytest.mark.parametrize("name", ["spine-landmark", "simulated-spine"])
def test_examples_validate_and_run_without_data_notes(tmp_path, name):
    project = tmp_path / name
    shutil.copytree(example_path(name), project)
    _check(project)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=edits())
def test_random_edits_fail_validate_or_run_cleanly(tmp_path_factory, changes):
    project = tmp_path_factory.mktemp("edit") / "spine-landmark"
    shutil.copytree(example_path("spine-landmark"), project)
    for e in changes:
        _apply(project, e)
    _check(project)
