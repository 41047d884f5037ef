"""Plausibility rules: each rule fires on its seeded defect, with the suggested fix, and nowhere else."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netstrata.appraisal import RULES, check_plausibility
from netstrata.data import TimeWindow
from netstrata.errors import DataError, ParameterError


def arm_rows(changes=None):
    base = pd.DataFrame({"study": ["S 2001"] * 2, "arm": ["rf", "sham"], "outcome": ["pain"] * 2,
                         "timepoint_weeks": ["12"] * 2, "events": ["", ""], "n": ["40", "40"],
                         "mean": ["3.1", "4.0"], "sd": ["2.2", "2.4"]})
    for (i, col), v in (changes or {}).items():
        base.at[i, col] = v
    return base


def rules(report):
    return list(zip(report.findings["rule"], report.findings["arm"], report.findings["column"]))


def test_clean_table_has_no_findings():
    rep = check_plausibility(arm_rows())
    assert rep.findings.empty and (rep.n_errors, rep.n_warnings) == (0, 0)


def test_events_above_n_and_impossible_counts():
    rep = check_plausibility(arm_rows({(0, "events"): "41", (1, "events"): "-1"}))
    assert rules(rep) == [("P02", "rf", "events"), ("P01", "sham", "events")]
    assert rep.findings.iloc[0]["severity"] == "error" and rep.findings.iloc[0]["row"] == 2


@pytest.mark.parametrize("sd", ["0", "-1.5"])
def test_sd_not_positive(sd):
    rep = check_plausibility(arm_rows({(1, "sd"): sd}))
    assert ("P03", "sham", "sd") in rules(rep)


def test_se_entered_as_sd_suggests_se_times_sqrt_n():
    # SDs 0.35/0.38 with n = 40 are SEs of SDs ~2.2/2.4: |SMD| ~ 2.4 with them, ~0.4 when re-read
    rep = check_plausibility(arm_rows({(0, "sd"): "0.35", (1, "sd"): "0.38"}))
    p04 = rep.findings[rep.findings.rule == "P04"]
    assert list(p04["arm"]) == ["rf", "sham"]
    assert f"{0.35 * np.sqrt(40):.4g}" in p04.iloc[0]["suggestion"]


def test_one_arm_se_entered_as_sd():
    rep = check_plausibility(arm_rows({(1, "sd"): "0.38"}))
    p04 = rep.findings[rep.findings.rule == "P04"]
    assert list(p04["arm"]) == ["sham"] and "sqrt(n)" in p04.iloc[0]["suggestion"]


def test_large_smd_without_an_se_explanation():
    # n = 5: re-reading the SDs as SEs still gives |SMD| ~ 1.5, so no SE explanation (P04) applies
    rep = check_plausibility(arm_rows({(0, "mean"): "1.0", (1, "mean"): "9.0", (0, "n"): "5", (1, "n"): "5"}))
    assert [r[0] for r in rules(rep)] == ["P05"]


def contrast_row(effect, lo, hi, measure):
    return pd.DataFrame({"study": ["S"], "arm": [""], "effect": [effect], "ci_low": [lo], "ci_high": [hi],
                         "measure": [measure]})


def test_ratio_ci_symmetric_on_log_scale_passes_and_natural_symmetric_is_flagged():
    assert check_plausibility(contrast_row("2.0", "1.0", "4.0", "RR")).findings.empty
    rep = check_plausibility(contrast_row("2.0", "1.0", "3.0", "RR"))
    assert rules(rep) == [("P06", "", "ci_high")] and "natural scale" in rep.findings.iloc[0]["suggestion"]
    rep = check_plausibility(contrast_row("2.0", "1.0", "4.0", "MD"))
    assert "log scale" in rep.findings.iloc[0]["suggestion"]
    assert check_plausibility(contrast_row("-1.2", "-2.0", "-0.4", "MD")).findings.empty
    assert rules(check_plausibility(contrast_row("5", "1", "4", "MD"))) == [("P07", "", "effect")]
    assert rules(check_plausibility(contrast_row("0.5", "-0.1", "2", "OR")))[0][0] == "P06"


def test_analysed_n_against_randomised_n():
    arms = pd.DataFrame({"study": ["S 2001", "S 2001"], "arm": ["rf", "sham"], "n": ["40", "60"]})
    rep = check_plausibility(arm_rows({(0, "n"): "44"}), arms)
    assert rules(rep) == [("P08", "rf", "n"), ("P09", "sham", "n")]
    rep = check_plausibility(arm_rows(), arms, n_tolerance=0.5)
    assert rep.findings.empty


def test_shared_control_entered_inconsistently():
    rows = pd.concat([arm_rows(), arm_rows().iloc[[1]].assign(n="42")], ignore_index=True)
    rep = check_plausibility(rows)
    p10 = rep.findings[rep.findings.rule == "P10"]
    assert list(zip(p10["arm"], p10["column"], p10["row"])) == [("sham", "n", 4)]
    assert "first entered: 40" in p10.iloc[0]["suggestion"]


def test_time_window_from_bounds_and_from_a_plan_rule():
    rows = pd.concat([arm_rows(), arm_rows().assign(timepoint_weeks="30")], ignore_index=True)
    rep = check_plausibility(rows, windows={"pain": (8, 27)})
    assert list(rep.findings["rule"]) == ["P11", "P11"]
    assert "use time point 12" in rep.findings.iloc[0]["suggestion"]
    rule = TimeWindow("closest_not_after", 26.0, 1.0)
    rep = check_plausibility(rows, windows={"pain": rule})
    assert list(rep.findings["row"]) == [4, 5]


def test_bundled_example_with_its_plan_is_plausible():
    from netstrata.data import example_path, load_review
    review = load_review(example_path())
    rep = check_plausibility(review.outcomes, review.arms, plan=review.plan)
    assert rep.n_errors == 0
    assert set(rep.findings["row"]) <= set(review.outcomes.index)


def test_rules_registry_and_bad_arguments():
    assert all(r.severity in ("error", "warning") for r in RULES.values())
    with pytest.raises(DataError, match="study"):
        check_plausibility(pd.DataFrame({"x": [1]}))
    with pytest.raises(DataError, match="arms table"):
        check_plausibility(arm_rows(), pd.DataFrame({"study": ["S"]}))
    with pytest.raises(ParameterError, match="smd_limit"):
        check_plausibility(arm_rows(), smd_limit=0)
