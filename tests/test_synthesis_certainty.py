"""The pipeline's certainty stage: study-level risk of bias (rob.csv), derived indirectness
(population frame, fidelity, per-stratum transitivity) and the provisional flag, on the bundled
example (spine-landmark: real published trials)."""
from __future__ import annotations

import csv
import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

import netstrata
from netstrata.cli import main
from netstrata.synthesis import analyse_review
from netstrata.synthesis.certainty_inputs import rob_levels, stratum_indirectness, stratum_transitivity

from .test_data_support import EXAMPLE, copy_example

LUMBAR = "lumbar / facet_joint_pain / success"
# RoB 2 answers giving "Low" in every domain (tests/test_appraisal_rob.py)
LOW_ALL = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y",
           "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}
LUMBAR_TRIALS = ("van Kleef 1999", "van Wijk 2005", "Juch 2017 MINT facet")


@pytest.fixture(scope="module")
def review():
    return netstrata.load_review(EXAMPLE)


@pytest.fixture(scope="module")
def result(review):
    return analyse_review(review, multiverse=False, progress=False)


def _write_rob(project, rows):
    with open(project / "rob.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["study", "result", "tool", "item", "answer", "reason"])
        w.writerows(rows)


def _rob_rows(study, result="", extra=()):
    return [[study, result, "RoB 2", k, v, ""] for k, v in LOW_ALL.items()] + [list(e) for e in extra]


@pytest.fixture(scope="module")
def with_rob(tmp_path_factory):
    """The example plus a rob.csv for the three lumbar facet trials; MINT (not blinded, self-reported
    success) is High in domain 4 (recorded override with its reason)."""
    project = copy_example(tmp_path_factory.mktemp("rob"))
    rows = [r for s in LUMBAR_TRIALS[:2] for r in _rob_rows(s)]
    rows += _rob_rows(LUMBAR_TRIALS[2], extra=[(LUMBAR_TRIALS[2], "", "RoB 2", "D4", "High",
                                                "participants not blinded; self-reported success")])
    _write_rob(project, rows)
    review = netstrata.load_review(project)
    return review, analyse_review(review, multiverse=False, progress=False)


# ------------------------------------------------------------------ the example as shipped (no rob.csv)
def test_example_plan_gives_success_grade_default_mid(review):
    spec = review.plan.outcome("success")
    assert spec.measure == "RR" and spec.mid == 1.25


def test_example_success_strata_are_rated_on_log_scale(result):
    assert {LUMBAR, "all / success", "all / pain"} <= set(result.certainty)
    z = result.certainty[LUMBAR].zone
    assert z.log_scale and z.high == pytest.approx(math.log(1.25), rel=1e-12)
    assert not any("has no MID" in n for n in result.notes)


@pytest.fixture(scope="module")
def no_rob_project(tmp_path_factory):
    """The example without its rob.csv (the example ships one since issue 12)."""
    project = copy_example(tmp_path_factory.mktemp("norob"))
    (project / "rob.csv").unlink()
    return project


def test_example_without_rob_every_rating_provisional_never_silently_high(no_rob_project):
    result = analyse_review(netstrata.load_review(no_rob_project), multiverse=False, progress=False)
    assert any("no rob.csv" in n for n in result.notes)
    for name, table in result.certainty.items():
        for r in table:
            assert r.provisional and "within_study_bias" in r.not_assessed, (name, r.comparison)
            assert r.within_study_bias.judgement == "not assessable"
            assert "provisional" in r.label


def test_example_indirectness_is_derived_for_every_rating(result):
    for table in result.certainty.values():
        for r in table:
            assert r.indirectness.judgement != "not assessable" and "indirectness" not in r.not_assessed


def test_mint_rf_vs_exercise_indirectness_reasons_name_fidelity(review, result):
    """Juch 2017 MINT reports too little of the RF technique (fidelity TU): indirectness level 2."""
    res = result.stratum(LUMBAR)
    ind = stratum_indirectness(review, res, res.primary, result.fidelity, result.transitivity.get(LUMBAR))
    row = ind.set_index("study").loc["Juch 2017 MINT facet"]
    assert row["level"] >= 2 and "fidelity TU" in row["reasons"]
    assert set(ind["study"]) == set(res.primary.network.studies)


def test_transitivity_is_computed_per_stratum(review, result):
    assert LUMBAR in result.transitivity and "all / success" in result.transitivity
    assert "success" in result.transitivity                 # the whole-review view per outcome is kept
    t = result.transitivity[LUMBAR]
    assert "region" not in t.modifiers and "diagnosis" not in t.modifiers   # constant within the stratum
    assert set(t.comparisons) == {"RFN_FACET:exercise_program", "RFN_FACET:sham_procedure"}
    again = stratum_transitivity(review, result.stratum(LUMBAR), [])
    pd.testing.assert_frame_equal(again.imbalance, t.imbalance)


def test_cli_summary_shows_provisional_certainty(tmp_path, no_rob_project):
    res = CliRunner().invoke(main, ["run", str(no_rob_project), "--out", str(tmp_path), "--workers", "1"])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if "Facet radiofrequency neurotomy vs Exercise programme" in x and "certainty" in x]
    assert lines and all("(provisional: within-study bias" in x for x in lines)
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    ratings = data["certainty"][LUMBAR]["ratings"]
    assert all(r["provisional"] and "within_study_bias" in r["not_assessed"] for r in ratings)
    assert all(r["label"].startswith(r["rating"] + " (provisional: ") for r in ratings)


# ------------------------------------------------------------------ with rob.csv
def test_rob_table_is_loaded_and_validated(with_rob, tmp_path):
    review, _ = with_rob
    assert len(review.table("rob")) == 3 * len(LOW_ALL) + 1
    bad = copy_example(tmp_path)
    _write_rob(bad, [["Lord 1969", "", "RoB 2", "1.1", "Y", ""]])
    with pytest.raises(netstrata.DataError, match="Lord 1969"):
        netstrata.load_review(bad)


def test_rob_csv_assesses_within_study_bias_of_lumbar_stratum(with_rob):
    _, result = with_rob
    table = result.certainty[LUMBAR]
    for r in table:
        assert r.within_study_bias.judgement != "not assessable"
        assert "within_study_bias" not in r.not_assessed
    # RF vs exercise rests on MINT alone (High risk of bias in domain 4): major concerns
    assert table["RFN_FACET:exercise_program"].within_study_bias.judgement == "major concerns"
    assert table["RFN_FACET:sham_procedure"].within_study_bias.judgement == "no concerns"


def test_rob_missing_for_a_contributing_study_leaves_domain_not_assessed(with_rob):
    _, result = with_rob
    assert any("all / success" in n and "Cohen 2008, Lord 1996" in n for n in result.notes)
    assert all("within_study_bias" in r.not_assessed for r in result.certainty["all / success"])


def test_rob_levels_pick_the_outcome_result_then_the_study_level_one():
    frame = pd.DataFrame({"study": ["A", "A", "B", "C", "C"], "result": ["success", "", "", "pain", "other"],
                          "tool": ["RoB 2"] * 4 + ["RoB 2"], "overall": ["High", "Low", "Some concerns", "Low", "High"]})
    table = type("T", (), {"frame": frame})()
    notes = []
    got = rob_levels(table, "success", ["A", "B", "C"], "S", notes)
    assert got.levels.to_dict() == {"A": 3, "B": 2, "C": 3}     # C: no such result, the worst is used
    assert got.tools == {"A": "RoB 2", "B": "RoB 2", "C": "RoB 2"} and got.critical == ()
    assert len(notes) == 1 and "worst" in notes[0] and "C" in notes[0]
    assert rob_levels(table, "success", ["A", "D"], "S", notes).levels is None and "for D" in notes[-1]
