"""Double extraction: seeded disagreements are all found and none invented; A<->B mirrors the report."""
from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netstrata.appraisal import compare_extractions
from netstrata.appraisal.extraction import COLUMNS, KINDS, mirror_kind
from netstrata.errors import DataError, ParameterError

VOCAB = ["placebo_controlled", "comparative_LA", "uncontrolled_single"]
DATA_COLS = ["events", "n", "mean", "sd", "selection_control"]


def random_outcomes(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for s in range(int(rng.integers(3, 7))):
        study = f"Author{s} {1990 + s}"
        for arm in ["rf", "sham", "la"][: int(rng.integers(2, 4))]:
            for outcome in ["pain", "function"]:
                for t in [4, 12, 26]:
                    n = int(rng.integers(10, 80))
                    rows.append({"study": study, "arm": arm, "outcome": outcome, "timepoint_weeks": str(t),
                                 "events": str(int(rng.integers(0, n))), "n": str(n),
                                 "mean": f"{rng.normal(5, 2):.2f}", "sd": f"{rng.uniform(1, 3):.2f}",
                                 "selection_control": str(rng.choice(VOCAB)),
                                 "location": f"p{int(rng.integers(1, 9))}", "extractor": "JW"})
    return pd.DataFrame(rows)


def _key(frame, i):
    r = frame.iloc[i]
    return r["study"], r["arm"], r["outcome"], r["timepoint_weeks"]


def seed_disagreements(a: pd.DataFrame, k: int, rng: np.random.Generator):
    """Copy A to B, apply k disagreements plus cosmetic changes that are NOT disagreements."""
    b = a.copy()
    b["extractor"] = "MB"
    expected = set()
    studies = list(dict.fromkeys(a["study"]))
    n_study = min(1, k // 4)            # sometimes a whole study is missing from B
    for study in studies[:n_study]:
        expected.add(("study_only_in_a", study, "", "", "", "", f"present ({int((a.study == study).sum())} rows)",
                      "absent"))
        b = b[b["study"] != study]
    k -= n_study
    rows = [i for i in range(len(a)) if a.iloc[i]["study"] not in studies[:n_study]]
    cells = rng.permutation([(i, c) for i in rows for c in DATA_COLS])
    used_rows, seeded, done = set(), set(), 0
    for i, col in cells:
        if done == k:
            break
        i, col = int(i), str(col)
        if i in used_rows:
            continue
        used_rows.add(i)
        study, arm, outcome, t = _key(a, i)
        pos = b.index[(b.study == study) & (b.arm == arm) & (b.outcome == outcome) & (b.timepoint_weeks == t)][0]
        seeded.add(pos)
        mode = int(rng.integers(0, 6))
        va = a.at[i, col]
        if mode == 0:                                   # drop the row from B
            b = b.drop(index=pos)
            expected.add(("row_only_in_a", study, arm, outcome, t, "", "present", "absent"))
        elif mode == 1 and col != "selection_control":
            vb = str(float(va) + 1.0)
            b.at[pos, col] = vb
            expected.add(("numeric", study, arm, outcome, t, col, va, vb))
        elif mode == 1:
            vb = next(v for v in VOCAB if v != va)
            b.at[pos, col] = vb
            expected.add(("vocabulary", study, arm, outcome, t, col, va, vb))
        elif mode == 2:
            b.at[pos, col] = "unclear"
            expected.add(("unclear_vs_value", study, arm, outcome, t, col, va, "unclear"))
        elif mode == 3:
            b.at[pos, col] = ""
            expected.add(("missing_vs_value", study, arm, outcome, t, col, va, ""))
        elif mode == 4:
            a.at[i, col], b.at[pos, col] = "NR", "unclear"
            expected.add(("nr_vs_unclear", study, arm, outcome, t, col, "NR", "unclear"))
        else:                                           # NR in A, a value in B
            a.at[i, col] = "NR"
            expected.add(("unclear_vs_value", study, arm, outcome, t, col, "NR", va))
        done += 1
    for pos in b.index.difference(list(seeded)):        # cosmetic: never reported
        if rng.random() < 0.3:
            b.at[pos, "selection_control"] = "  " + b.at[pos, "selection_control"].upper() + " "
        if rng.random() < 0.3 and b.at[pos, "n"] not in ("", "unclear", "NR"):
            b.at[pos, "n"] = b.at[pos, "n"] + ".0"
        if rng.random() < 0.3:
            b.at[pos, "location"] = "page " + b.at[pos, "location"]   # provenance, not compared
    b = b.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).reset_index(drop=True)
    return a, b, expected


def found(result) -> set:
    d = result.disagreements
    return {tuple(r) for r in d[["kind", "study", "arm", "outcome", "timepoint", "column", "value_a",
                                 "value_b"]].itertuples(index=False)}


@pytest.mark.parametrize("seed", range(25))
def test_seeded_disagreements_exactly_found(seed):
    rng = np.random.default_rng(seed)
    a = random_outcomes(rng)
    k = int(rng.integers(0, 12))
    a, b, expected = seed_disagreements(a, k, rng)
    result = compare_extractions(a, b, label_a="A", label_b="B")
    assert found(result) == expected
    assert result.n_disagreements == len(expected)
    assert result.agreed == (not expected)


def test_cosmetic_differences_are_not_disagreements():
    a = pd.DataFrame({"study": ["Lord 1996"], "arm": ["rf"], "outcome": ["pain"], "timepoint_weeks": ["12"],
                      "n": ["12"], "selection_control": ["placebo_controlled"], "quote": ["x"]})
    b = pd.DataFrame({"study": [" lord  1996"], "arm": ["RF"], "outcome": ["pain"], "timepoint_weeks": ["12.0"],
                      "n": ["12.00"], "selection_control": ["Placebo_Controlled "], "quote": ["different quote"]})
    result = compare_extractions(a, b)
    assert result.agreed and result.n_cells == 2


def test_numeric_tolerance_abs_and_rel():
    a = pd.DataFrame({"study": ["S"], "mean": ["10.0"]})
    b = pd.DataFrame({"study": ["S"], "mean": ["10.04"]})
    assert compare_extractions(a, b).counts() == {"numeric": 1}
    assert compare_extractions(a, b, atol=0.05).agreed
    assert compare_extractions(a, b, rtol=0.005).agreed
    assert not compare_extractions(a, b, rtol=0.003).agreed


def test_disagreement_carries_both_extractors_and_locations():
    a = pd.DataFrame({"study": ["S"], "arm": ["x"], "n": ["10"], "extractor": ["JW"], "location": ["p3 T1"]})
    b = pd.DataFrame({"study": ["S"], "arm": ["x"], "n": ["11"], "extractor": ["MB"], "location": ["p4"]})
    row = compare_extractions(a, b).disagreements.iloc[0]
    assert (row.extractor_a, row.extractor_b, row.location_a, row.location_b) == ("JW", "MB", "p3 T1", "p4")
    assert row.location == "p3 T1 | p4" and row.table == "arms" and (row.row_a, row.row_b) == (2, 2)


def test_columns_and_tables_present_in_one_extraction_only():
    a = {"studies": pd.DataFrame({"study": ["S"], "year": ["1996"], "region": ["lumbar"]}),
         "arms": pd.DataFrame({"study": ["S"], "arm": ["x"], "n": ["1"]})}
    b = {"studies": pd.DataFrame({"study": ["S"], "year": ["1996"], "duration": ["chronic"]})}
    result = compare_extractions(a, b)
    assert set(result.disagreements["kind"]) == {"column_only_in_a", "column_only_in_b", "table_only_in_a"}


def test_lord_1996_selection_threshold_unclear_vs_placebo_controlled():
    # The multisociety letter's dispute: the NMA recorded Lord 1996's diagnostic-block paradigm as
    # "unclear"; the ACP Journal Club abstract says "placebo-controlled diagnostic blocks".
    a = pd.DataFrame({"study": ["Lord 1996"], "selection_control": ["placebo_controlled"],
                      "selection_reporting": ["explicit"], "location": ["NEJM 335:1721, Methods"]})
    b = pd.DataFrame({"study": ["Lord 1996"], "selection_control": ["unclear"],
                      "selection_reporting": ["unclear"], "location": ["appendix"]})
    d = compare_extractions(a, b, label_a="panel", label_b="published NMA").disagreements
    row = d[d.column == "selection_control"].iloc[0]
    assert (row.kind, row.value_a, row.value_b) == ("unclear_vs_value", "placebo_controlled", "unclear")
    assert (row.extractor_a, row.extractor_b) == ("panel", "published NMA")
    assert d[d.column == "selection_reporting"].iloc[0].kind == "unclear_vs_value"


def test_lord_1996_dispute_reproduced_from_the_bundled_project():
    from netstrata.appraisal.project import compare_project
    from netstrata.data import example_path
    result = compare_project(example_path())
    d = result.disagreements
    lord = d[(d.study == "Lord 1996") & (d.column == "selection_control")]
    assert len(lord) == 1
    row = lord.iloc[0]
    assert (row.table, row.kind, row.value_a, row.value_b) == ("studies", "unclear_vs_value",
                                                               "placebo_controlled", "unclear")
    assert set(d.table) <= {"studies", "arms", "outcomes"}


def test_different_study_sets_are_findings_not_errors():
    a = pd.DataFrame({"study": ["A 2001", "B 2002"], "n": ["1", "2"]})
    b = pd.DataFrame({"study": ["B 2002", "C 2003"], "n": ["2", "3"]})
    result = compare_extractions(a, b)
    assert result.counts() == {"study_only_in_a": 1, "study_only_in_b": 1}
    assert result.studies_a == ("A 2001", "B 2002") and result.studies_b == ("B 2002", "C 2003")


def test_duplicate_key_and_missing_key_column_are_data_errors():
    a = pd.DataFrame({"study": ["S", "S"], "arm": ["x", " X"], "n": ["1", "2"]})
    with pytest.raises(DataError, match="duplicate arms row") as err:
        compare_extractions(a, a)
    assert err.value.problems[0].row == 3
    with pytest.raises(DataError, match="key column missing"):
        compare_extractions(a.iloc[:1], a.iloc[:1].drop(columns="arm"), table="arms")
    with pytest.raises(ParameterError, match="'table' parameter"):
        compare_extractions(a, a, table="outcome")
    with pytest.raises(ParameterError, match="atol"):
        compare_extractions(a.iloc[:1], a.iloc[:1], atol=-1)
    with pytest.raises(ParameterError, match="DataFrame"):
        compare_extractions([1], a)


def test_json_and_csv_are_deterministic_and_complete():
    rng = np.random.default_rng(3)
    a, b, expected = seed_disagreements(random_outcomes(rng), 8, rng)
    r1 = compare_extractions(a, b)
    r2 = compare_extractions(a.sample(frac=1, random_state=1), b.sample(frac=1, random_state=2))
    assert r1.to_json() == compare_extractions(a, b).to_json()            # same input, same bytes
    assert r1.to_csv() == compare_extractions(a, b).to_csv()
    # row order of the input changes only the spreadsheet row numbers, not the report
    cols = [c for c in COLUMNS if c not in ("row_a", "row_b")]
    pd.testing.assert_frame_equal(r1.disagreements[cols], r2.disagreements[cols])
    doc = json.loads(r1.to_json())
    assert doc["n_disagreements"] == len(expected) == len(doc["disagreements"])
    assert list(r1.disagreements.columns) == list(COLUMNS)
    assert "disagreement" in r1.summary().as_text() and repr(r1).startswith("ExtractionComparison(")


CELL = st.sampled_from(["1", "2", "2.0", "NR", "nr", "unclear", "", "abc", "ABC ", "x y", "3.5"])


@st.composite
def table_pairs(draw):
    keys = draw(st.lists(st.tuples(st.sampled_from(["S1", "S2", "S3"]), st.sampled_from(["a", "b"])),
                         min_size=0, max_size=6, unique=True))
    keys_b = draw(st.lists(st.tuples(st.sampled_from(["S1", "S2", "S4"]), st.sampled_from(["a", "b"])),
                           min_size=0, max_size=6, unique=True))
    cols_a = ["n", "mean"] + (["extra"] if draw(st.booleans()) else [])
    cols_b = ["n", "mean"] + (["other"] if draw(st.booleans()) else [])

    def frame(ks, cols):
        return pd.DataFrame([{"study": s, "arm": a, **{c: draw(CELL) for c in cols}} for s, a in ks],
                            columns=["study", "arm", *cols])
    return frame(keys, cols_a), frame(keys_b, cols_b)


@settings(max_examples=150, deadline=None)
@given(table_pairs())
def test_swapping_a_and_b_mirrors_the_report(pair):
    a, b = pair
    ab = compare_extractions(a, b, table="arms", label_a="A", label_b="B").disagreements
    ba = compare_extractions(b, a, table="arms", label_a="B", label_b="A").disagreements
    assert len(ab) == len(ba)
    swapped = ba.rename(columns={"value_a": "value_b", "value_b": "value_a", "extractor_a": "extractor_b",
                                 "extractor_b": "extractor_a", "location_a": "location_b",
                                 "location_b": "location_a", "row_a": "row_b", "row_b": "row_a"})[list(COLUMNS)]
    swapped["kind"] = swapped["kind"].map(mirror_kind)
    pd.testing.assert_frame_equal(ab.reset_index(drop=True), swapped.reset_index(drop=True))
    assert set(ab["kind"]) <= set(KINDS)


@settings(max_examples=100, deadline=None)
@given(table_pairs())
def test_an_extraction_agrees_with_itself(pair):
    a, _ = pair
    assert compare_extractions(a, a.copy(), table="arms").agreed


def test_validated_review_tables_compare_like_raw_files():
    # load_review parses numbers (27 -> 27.0, NaN for empty): the comparison sees the same cells
    from netstrata.data import example_path, load_review
    review = load_review(example_path())
    result = compare_extractions(review.tables["studies"], review.tables["studies-b"], table="studies")
    row = result.disagreements.set_index("column").loc["selection_control"]
    assert (row.value_a, row.value_b, row.row_a) == ("placebo_controlled", "unclear", 2)


def test_compare_project_accepts_a_workbook_and_a_review(tmp_path):
    from netstrata.appraisal._cells import read_table
    from netstrata.appraisal.project import compare_project
    from netstrata.data import example_path, load_review
    root = example_path()
    book = tmp_path / "project.xlsx"
    with pd.ExcelWriter(book) as writer:
        for name in ("studies", "studies-b", "outcomes", "extraction-b"):
            read_table(root / f"{name}.csv").to_excel(writer, sheet_name=name, index=False)
    from_book = compare_project(book).disagreements
    from_folder = compare_project(load_review(root)).disagreements
    cols = [c for c in COLUMNS if c not in ("row_a", "row_b")]
    pd.testing.assert_frame_equal(from_book[cols], from_folder[cols])
    with pytest.raises(DataError, match="no second extraction"):
        compare_project(tmp_path)
