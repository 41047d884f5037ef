"""Summary-of-findings rows: GRADE absolute effects, MID-unit categories, Santesso 2020 wording.

Absolute effects are closed forms (GRADE guidelines 12, Guyatt 2013): compared at 1e-12.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from netstrata.certainty import ComparisonEvidence, NetworkEvidence, RATINGS, rate_network, summary_of_findings
from netstrata.certainty.sof import CATEGORIES, WORDING, absolute_effect, effect_category, statement
from netstrata.errors import ParameterError

# most tests here give rob only; the "not assessed" warning is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.*not assessed:netstrata.errors.StatisticalWarning")


def test_wording_table_complete():
    assert set(WORDING) == {(r, c) for r in RATINGS for c in CATEGORIES}


@pytest.mark.parametrize("certainty, category, effect, text", [
    ("High", "large", -1.0, "RFN results in a large reduction in pain."),
    ("High", "moderate", 1.0, "RFN increases pain."),
    ("High", "small", -1.0, "RFN reduces pain slightly."),
    ("High", "trivial", -1.0, "RFN results in little to no difference in pain."),
    ("Moderate", "large", -1.0, "RFN probably results in a large reduction in pain."),
    ("Moderate", "moderate", -1.0, "RFN probably reduces pain."),
    ("Moderate", "small", 1.0, "RFN probably increases pain slightly."),
    ("Moderate", "trivial", 1.0, "RFN probably results in little to no difference in pain."),
    ("Low", "large", 1.0, "RFN may result in a large increase in pain."),
    ("Low", "moderate", -1.0, "RFN may reduce pain."),
    ("Low", "small", -1.0, "RFN may reduce pain slightly."),
    ("Low", "trivial", -1.0, "RFN may result in little to no difference in pain."),
    ("Very low", "large", -1.0, "The evidence is very uncertain about the effect of RFN on pain."),
    ("Very low", "trivial", 1.0, "The evidence is very uncertain about the effect of RFN on pain."),
])
def test_statement_wording(certainty, category, effect, text):
    assert statement(certainty, category, effect, "RFN", "pain") == text


@pytest.mark.parametrize("size, category", [(0.0, "trivial"), (0.999, "trivial"), (1.0, "small"), (-1.5, "small"),
                                            (2.0, "moderate"), (2.99, "moderate"), (3.0, "large"), (-7.0, "large")])
def test_effect_category_thresholds_inclusive(size, category):
    assert effect_category(size) == category


def test_effect_category_configurable():
    assert effect_category(1.2, (0.5, 1.0, 1.5)) == "moderate"


@pytest.mark.parametrize("measure, effect, p0, expected", [
    ("RR", 0.5, 0.2, -100.0),                               # 0.5*0.2 = 0.10
    ("OR", 0.5, 0.2, 1000 * (0.1 / 0.9 - 0.2)),             # 0.5*0.2/(0.8+0.1)
    ("OR", 2.0, 0.5, 1000 * (2 / 3 - 0.5)),
    ("RD", -0.05, 0.3, -50.0),
    ("RR", 1.0, 0.4, 0.0),
])
def test_absolute_effect_grade(measure, effect, p0, expected):
    assert absolute_effect(measure, effect, p0) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def _table(measure="OR", mid=0.8, effect=math.log(0.5), ci=(math.log(0.3), math.log(0.8333))):
    """A hand-made two-comparison network: RFN vs sham (direct) and IA vs sham (indirect)."""
    comps = (
        ComparisonEvidence("RFN:sham", "RFN", "sham", "direct", effect, *ci, ci[0] - 0.1, ci[1] + 0.1),
        ComparisonEvidence("sham:IA", "sham", "IA", "indirect", 0.0, -0.1, 0.1, -0.2, 0.2),
    )
    shares = pd.DataFrame({"s1": [1.0, 0.5], "s2": [0.0, 0.5]}, index=["RFN:sham", "sham:IA"])
    ev = NetworkEvidence(comps, shares, {"RFN:sham": float("nan"), "sham:IA": float("nan")}, "random", 0.95)
    return rate_network(ev, measure=measure, mid=mid, rob={"s1": 1, "s2": 1}, indirectness={"s1": 1, "s2": 1})


def test_sof_rows_ratio_measure_with_baseline():
    sof = summary_of_findings(_table(), reference="sham", outcome="treatment failure", baseline_risk=0.4)
    f = sof.to_frame().set_index("intervention")
    assert list(f.index) == ["RFN", "IA"]
    assert f.loc["RFN", "effect"] == pytest.approx(0.5, rel=1e-12)
    assert f.loc["RFN", "ci_high"] == pytest.approx(0.8333, rel=1e-12)
    p1 = 0.5 * 0.4 / (0.6 + 0.5 * 0.4)
    assert f.loc["RFN", "per_1000"] == pytest.approx(1000 * (p1 - 0.4), rel=1e-12)
    lo = 0.3 * 0.4 / (0.6 + 0.3 * 0.4)
    assert f.loc["RFN", "per_1000_ci_low"] == pytest.approx(1000 * (lo - 0.4), rel=1e-12)
    assert f.loc["RFN", "mid_units"] == pytest.approx(math.log(0.5) / -math.log(0.8), rel=1e-12)
    assert f.loc["RFN", "category"] == "large"                     # log 0.5 / log 0.8 = 3.11 MID units
    assert f.loc["IA", "effect"] == pytest.approx(1.0, rel=1e-12)   # flipped to IA vs sham
    assert f.loc["IA", "ci_low"] == pytest.approx(math.exp(-0.1), rel=1e-12)
    assert f.loc["RFN", "certainty"] == "Moderate"                 # CI upper 0.833 crosses 0.8: imprecision
    assert f.loc["RFN", "statement"] == "RFN probably results in a large reduction in treatment failure."
    assert f.loc["IA", "statement"].startswith("IA ")


def test_sof_absolute_thresholds_in_events_per_1000():
    sof = summary_of_findings(_table(), reference="sham", outcome="failure", baseline_risk=0.4,
                              absolute_thresholds=(20, 50, 100))
    f = sof.to_frame().set_index("intervention")
    assert f.loc["RFN", "category"] == "large"                      # about -150 per 1000
    assert sof.threshold_scale == "events per 1000"


def test_sof_refuses_bad_arguments():
    t = _table()
    with pytest.raises(ParameterError, match="reference"):
        summary_of_findings(t, reference="nope", outcome="y")
    with pytest.raises(ParameterError, match="baseline_risk"):
        summary_of_findings(t, reference="sham", outcome="y", baseline_risk=1.2)
    with pytest.raises(ParameterError, match="needs 'baseline_risk'"):
        summary_of_findings(t, reference="sham", outcome="y", absolute_thresholds=(1, 2, 3))
    with pytest.raises(ParameterError, match="three increasing"):
        summary_of_findings(t, reference="sham", outcome="y", thresholds=(2, 1, 3))
    md = _table("MD", 1.5, -2.0, (-3.0, -1.0))
    with pytest.raises(ParameterError, match="applies to measures"):
        summary_of_findings(md, reference="sham", outcome="y", baseline_risk=0.2)


def test_sof_continuous_mid_units_and_summary():
    sof = summary_of_findings(_table("MD", 1.5, -3.0, (-4.0, -2.0)), reference="sham", outcome="pain (VAS, cm)",
                              stratum="lumbar facet", labels={"RFN": "Radiofrequency denervation"})
    row = sof.to_frame().set_index("intervention").loc["RFN"]
    assert row["mid_units"] == pytest.approx(-2.0, rel=1e-12) and row["category"] == "moderate"
    assert row["statement"] == "Radiofrequency denervation reduces pain (VAS, cm)."
    text = sof.summary().as_text()
    assert "lumbar facet" in text and "Santesso" in text
