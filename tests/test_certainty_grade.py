"""GRADE for NMA (Puhan 2014; Brignardello-Petersen 2018) as a second framework, and the minimally
contextualised conclusions (Brignardello-Petersen 2020, BMJ 371:m3900). Each rule of
netstrata/certainty/grade_nma.py has a test that computes the expected rating by hand."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

import netstrata
from netstrata.certainty import rate_network
from netstrata.certainty.grade_nma import GRADE_DOMAINS, null_imprecision
from netstrata.certainty.judgement import RATINGS
from netstrata.certainty.minimal_context import minimally_contextualised
from netstrata.certainty.zone import mid_zone
from netstrata.errors import DataError
from netstrata.synthesis import analyse_review

from .test_data_support import copy_example


def _net(rows):
    frame = pd.DataFrame(rows, columns=["study", "treat1", "treat2", "effect", "se"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.network(frame, method="DL")


STAR = [("s1", "A", "C", -0.9, 0.2), ("s2", "A", "C", -1.0, 0.25),
        ("s3", "B", "C", -0.2, 0.2), ("s4", "B", "C", -0.3, 0.3)]


def _grade(fit, rob, ind=None, **kw):
    ind = ind if ind is not None else {s: 1 for s in rob}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rate_network(fit, measure="MD", mid=0.5, rob=rob, indirectness=ind, framework="grade_nma", **kw)


def test_grade_direct_estimate_rated_without_imprecision_then_network_imprecision():
    t = _grade(_net(STAR), {"s1": 1, "s2": 1, "s3": 3, "s4": 3})
    assert t.domains == GRADE_DOMAINS and t.framework == "grade_nma"
    ac = t["A:C"]
    assert ac.evidence == "direct"
    dom = {d.domain: d.judgement for d in ac.domains}
    # two low-risk trials with I² = 0 (Q < df): no risk of bias, no inconsistency (I² bands, k = 2)
    assert dom["risk_of_bias"] == "no concerns" and dom["inconsistency"] == "no concerns"
    # A vs C: CI excludes the null (about -0.95 +- 0.3) -> no imprecision; High throughout
    assert dom["imprecision"] == "no concerns" and ac.rating == "High"
    bc = t["B:C"]
    assert {d.domain: d.judgement for d in bc.domains}["risk_of_bias"] == "major concerns"
    assert RATINGS.index(bc.rating) >= RATINGS.index("Low")


def test_grade_indirect_is_lowest_of_its_first_order_loop():
    """A vs B exists only through C: its certainty is the lower of A:C and B:C (Puhan 2014 step 2)."""
    t = _grade(_net(STAR), {"s1": 1, "s2": 1, "s3": 3, "s4": 3})
    ab = t["A:B"]
    assert ab.evidence == "indirect"
    # direct A:C: two low-risk trials, High; direct B:C: two high-risk trials, two levels down, Low
    step = next(s for s in ab.steps if "first-order loop" in s)
    assert step.endswith("lowest Low")
    # A vs B (about -0.7 with a CI excluding 0): no imprecision, so the network rating is the indirect one
    assert ab.domain("imprecision").judgement == "no concerns" and ab.uncapped == "Low"


def test_grade_intransitivity_flag_rates_the_indirect_estimate_down():
    fit = _net(STAR)
    rob = {s: 1 for s in ("s1", "s2", "s3", "s4")}
    plain = _grade(fit, rob)["A:B"]
    flagged = _grade(fit, rob, intransitivity={"A:B": (3, ("region differs (test)",))})["A:B"]
    assert flagged.domain("intransitivity").judgement == "major concerns"
    assert RATINGS.index(flagged.rating) == min(RATINGS.index(plain.rating) + 2, 3)


TRIANGLE = [("s1", "A", "B", -0.5, 0.2), ("s2", "A", "C", -0.9, 0.2), ("s3", "B", "C", -0.4, 0.2),
            ("s4", "A", "B", -0.6, 0.25)]


def test_grade_mixed_takes_the_higher_of_direct_and_indirect():
    t = _grade(_net(TRIANGLE), {"s1": 3, "s4": 3, "s2": 1, "s3": 1})
    ab = t["A:B"]
    assert ab.evidence == "mixed"
    steps = " ".join(ab.steps)
    assert "the higher of direct and indirect certainty" in steps
    # direct A:B rests on high-risk trials (two levels down); indirect via C is High: the network starts High
    assert "network estimate: the higher of direct and indirect certainty, High" in steps


def test_grade_indirect_not_rated_when_direct_high_and_dominant():
    rows = TRIANGLE + [("s5", "A", "B", -0.55, 0.05)]       # a large trial: direct A:B dominates
    t = _grade(_net(rows), {s: 1 for s in ("s1", "s2", "s3", "s4", "s5")})
    ab = t["A:B"]
    if ab.evidence == "mixed" and ab.inputs.prop_direct >= 0.5:
        assert any("indirect estimate not rated" in s for s in ab.steps)
        assert ab.domain("intransitivity").judgement == "not applicable"


@pytest.mark.parametrize("ci, expected", [((-0.8, -0.2), "no concerns"), ((-0.8, 0.1), "some concerns"),
                                          ((-0.9, 0.7), "major concerns"), ((0.1, 0.6), "no concerns")])
def test_grade_imprecision_against_the_null(ci, expected):
    """Minimally contextualised: CI includes the null -> one level; spans both MID limits -> two."""
    assert null_imprecision(*ci, mid_zone(0.5, "MD")).judgement == expected


def test_grade_incoherence_uses_the_comparison_side_split_not_the_global_test():
    t = _grade(_net(TRIANGLE), {s: 1 for s in ("s1", "s2", "s3", "s4")})
    ab = t["A:B"]
    inc = ab.domain("incoherence")
    assert inc.rule == "side-splitting p" and "difference_pvalue" in inc.inputs
    assert t["A:C"].domain("incoherence").inputs["evidence"] in ("mixed", "direct")


def test_grade_framework_through_the_plan_and_lumping_cap(tmp_path):
    project = copy_example(tmp_path)
    plan = project / "netstrata.toml"
    plan.write_text(plan.read_text(encoding="utf-8") + '\n[certainty]\nframework = "grade_nma"\n', encoding="utf-8")
    result = analyse_review(netstrata.load_review(project), multiverse=False, progress=False)
    for table in result.certainty.values():
        assert table.framework == "grade_nma"
        assert all(r.framework == "grade_nma" and r.steps for r in table)
    lumped = result.certainty["all / pain"]
    stratum = result.certainty["lumbar / facet_joint_pain / pain"]
    r = lumped["RFN_FACET:exercise_program"]
    assert RATINGS.index(r.rating) >= RATINGS.index(stratum.ratings[0].rating)


def test_certainty_plan_section_is_validated(tmp_path):
    project = copy_example(tmp_path)
    plan = project / "netstrata.toml"
    plan.write_text(plan.read_text(encoding="utf-8") + '\n[certainty]\nframework = "grade"\nrob_rul = "x"\n',
                    encoding="utf-8")
    with pytest.raises(DataError) as err:
        analyse_review(netstrata.load_review(project), multiverse=False, progress=False)
    cols = {p.column for p in err.value.problems}
    assert {"certainty.framework", "certainty.rob_rul"} <= cols
    assert all(p.file == "netstrata.toml" for p in err.value.problems)


# ----------------------------------------------------------------------------------- minimally contextualised
def test_minimally_contextualised_categories():
    """Brignardello-Petersen 2020 steps: superior to the reference, superior to another superior
    one, no different, inferior; in separate certainty groups."""
    rows = [("p1", "A", "P", -1.5, 0.2), ("p2", "B", "P", -0.6, 0.2), ("p3", "C", "P", 0.0, 0.3),
            ("p4", "D", "P", 0.9, 0.2), ("p5", "A", "B", -0.9, 0.2)]
    fit = _net(rows)
    t = _grade(fit, {f"p{i}": 1 for i in range(1, 6)})
    cats = minimally_contextualised(t, reference="P", small_values="desirable").set_index("intervention")
    assert cats.loc["C", "category"] == "no different from the reference"
    assert cats.loc["D", "category"] == "inferior to the reference"
    same_group = cats.loc["A", "group"] == cats.loc["B", "group"]
    if same_group:
        assert cats.loc["A", "category"] == "among the most effective"
        assert cats.loc["B", "category"] == "among the intermediate effective"
    hedge = {"High": "is", "Moderate": "probably", "Low": "may be", "Very low": "very uncertain"}
    for x, row in cats.iterrows():
        assert hedge[row["certainty"]] in row["statement"]
    flipped = minimally_contextualised(t, reference="P", small_values="undesirable").set_index("intervention")
    assert flipped.loc["D", "level"] >= 1 and flipped.loc["A", "category"] == "inferior to the reference"
