"""A domain that could not be assessed never reads as "no concerns": the rating is provisional.

Also: a ratio MID (RR 1.25, GRADE's default threshold; Guyatt 2011 J Clin Epidemiol 64:1283)
is read on the log scale.
"""
from __future__ import annotations

import json
import math
import warnings

import pandas as pd
import pytest

import netstrata
from netstrata.certainty import mid_zone, rate_network, summary_of_findings
from netstrata.certainty.judgement import NOT_ASSESSABLE, not_assessed_text, provisional_label
from netstrata.synthesis.result import dumps

pytestmark = pytest.mark.filterwarnings("ignore:.*not assessed:netstrata.errors.StatisticalWarning")


def _star() -> pd.DataFrame:
    """Star network (no loops): B:C is indirect only, so incoherence is not assessable there."""
    return pd.DataFrame({"study": ["s1", "s2", "s3", "s4", "s5"], "treat1": ["B", "B", "B", "C", "C"],
                         "treat2": ["A"] * 5, "effect": [-1.0, -1.4, -0.6, -0.3, -0.5],
                         "se": [0.3, 0.4, 0.35, 0.3, 0.25]})


LEVELS = {f"s{i}": 1 for i in range(1, 6)}


@pytest.fixture(scope="module")
def fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return netstrata.network(_star(), reference="A")


def test_provisional_label_wording():
    assert provisional_label("High", ()) == "High"
    assert provisional_label("High", ("within_study_bias",)) == "High (provisional: within-study bias not assessed)"
    assert provisional_label("Low", ("within_study_bias", "indirectness", "incoherence")) == \
        "Low (provisional: within-study bias, indirectness and incoherence not assessed)"
    assert not_assessed_text(()) == ""


def test_star_without_study_levels_every_rating_provisional(fit):
    t = rate_network(fit, measure="MD", mid=0.5)
    for r in t:
        assert r.provisional
        assert {"within_study_bias", "indirectness"} <= set(r.not_assessed)
        assert r.label.startswith(f"{r.rating} (provisional: within-study bias")
        # the not-assessed domains are exactly those judged "not assessable"
        assert set(r.not_assessed) == {d.domain for d in r.domains if d.judgement == NOT_ASSESSABLE}
    assert t.provisional_count() == len(t) == 3


def test_star_with_study_levels_only_the_loopless_comparison_is_provisional(fit):
    t = rate_network(fit, measure="MD", mid=0.5, rob=LEVELS, indirectness=LEVELS)
    got = {r.comparison: (r.provisional, r.not_assessed) for r in t}
    assert got == {"B:A": (False, ()), "C:A": (False, ()), "B:C": (True, ("incoherence",))}
    assert t["B:A"].label == t["B:A"].rating
    assert t["B:C"].label == f"{t['B:C'].rating} (provisional: incoherence not assessed)"


def test_overriding_a_not_assessable_domain_removes_the_provisional_flag(fit):
    t = rate_network(fit, measure="MD", mid=0.5, rob=LEVELS, indirectness=LEVELS,
                     overrides={"B:C": {"incoherence": ("some concerns", "clinical judgement: populations differ")}})
    assert not t["B:C"].provisional and t["B:C"].incoherence.judgement == "some concerns"


def test_provisional_shown_in_summary_json_and_repr(fit):
    t = rate_network(fit, measure="MD", mid=0.5, rob=LEVELS)
    s = t.summary()
    assert "provisional" in s.frame.columns
    assert set(s.frame["rating"]) <= {"High", "Moderate", "Low", "Very low"}      # badges stay plain levels
    assert (s.frame["provisional"] == "indirectness not assessed").loc[["B:A", "C:A"]].all()
    assert any("ratings are provisional" in n for n in s.notes)
    d = json.loads(dumps(t.to_dict()))
    assert d["provisional"] == 3
    r = next(x for x in d["ratings"] if x["comparison"] == "B:C")
    assert r["provisional"] is True and r["not_assessed"] == ["indirectness", "incoherence"]
    assert r["label"].endswith("(provisional: indirectness and incoherence not assessed)")
    assert "provisional=3" in repr(t) and "provisional" in repr(t["B:A"])
    assert "provisional" in t["B:A"].summary().notes[0]


def test_summary_of_findings_marks_provisional_statements(fit):
    t = rate_network(fit, measure="MD", mid=0.5, indirectness=LEVELS)
    sof = summary_of_findings(t, reference="A", outcome="pain")
    f = sof.to_frame().set_index("intervention")
    assert f["provisional"].all() and (f["not_assessed"] == "within_study_bias").all()
    assert f.loc["B", "statement"].endswith("The certainty is provisional (within-study bias not assessed).")
    assert set(f["certainty"]) <= {"High", "Moderate", "Low", "Very low"}
    assert (sof.summary().frame["provisional"] == "within-study bias not assessed").all()
    full = summary_of_findings(rate_network(fit, measure="MD", mid=0.5, rob=LEVELS, indirectness=LEVELS),
                               reference="A", outcome="pain").to_frame()
    assert not full["provisional"].any() and not full["statement"].str.contains("provisional").any()


# ------------------------------------------------------------------ ratio MID on the log scale
@pytest.mark.parametrize("mid", [1.25, 0.8])
def test_ratio_mid_zone_is_symmetric_on_log_scale(mid):
    z = mid_zone(mid, "RR")
    assert z.log_scale
    assert z.low == pytest.approx(-math.log(1.25), rel=1e-12) and z.high == pytest.approx(math.log(1.25), rel=1e-12)
    lo, hi = z.natural()
    assert lo == pytest.approx(0.8, rel=1e-12) and hi == pytest.approx(1.25, rel=1e-12)


def test_rr_mid_imprecision_reads_log_scale():
    """Log-RR CIs inside (-log 1.25, log 1.25) are precise; one crossing log 1.25 is not. Were the
    MID read as a difference (1.25 on the log scale) both would be "no concerns"."""
    from netstrata.certainty.rules import imprecision
    z = mid_zone(1.25, "RR")
    inside = imprecision(math.log(0.9), math.log(1.2), z, effect=math.log(1.04))
    crossing = imprecision(math.log(1.05), math.log(1.6), z, effect=math.log(1.3))
    assert inside.judgement == "no concerns"
    assert crossing.judgement != "no concerns"
    assert crossing.inputs["zone_high"] == pytest.approx(math.log(1.25), rel=1e-12)
