"""Transitivity workbench: distributions per comparison, imbalance measures, flags and thresholds."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency
from scipy.stats.contingency import association

from netstrata.data import example_path, load_review, parse_plan
from netstrata.errors import ParameterError
from netstrata.synthesis.transitivity import (DEFAULT_THRESHOLDS, NETWORK, comparison_key, cramers_v,
                                              transitivity, transitivity_from_review, tvd)

COMPARISONS = (("A", "B"), ("A", "C"), ("B", "C"))


def _network(regions_by_comparison, ages_by_comparison) -> pd.DataFrame:
    rows, k = [], 0
    for (t1, t2), regions, ages in zip(COMPARISONS, regions_by_comparison, ages_by_comparison):
        for region, age in zip(regions, ages):
            k += 1
            rows.append({"study": f"S{k:02d}", "treat1": t1, "treat2": t2, "region": region, "age": float(age)})
    return pd.DataFrame(rows)


BALANCED = _network([["cervical", "lumbar"] * 5] * 3,
                    [[40, 50, 60, 45, 55, 40, 50, 60, 45, 55]] * 3)
IMBALANCED = _network([["cervical"] * 10, ["lumbar"] * 10, ["cervical", "lumbar"] * 5],
                      [[40 + i for i in range(10)], [60 + i for i in range(10)], [50 + i for i in range(10)]])


def test_balanced_network_raises_no_flag():
    res = transitivity(BALANCED, ["region", "age"])
    assert res.flagged.empty
    assert not res.network["flag"].any()
    assert res.imbalance["imbalance"].abs().max() == pytest.approx(0.0, abs=1e-12)
    assert res.network.set_index("modifier").loc["region", "value"] == pytest.approx(0.0, abs=1e-12)


def test_imbalanced_network_flags_the_imbalanced_comparisons():
    res = transitivity(IMBALANCED, ["region", "age"])
    flagged = set(zip(res.flagged["comparison"], res.flagged["modifier"]))
    assert flagged == {("A:B", "region"), ("A:C", "region"), ("A:B", "age"), ("A:C", "age")}
    assert res.flags_for("B:C") == ()
    assert set(res.flags_for("A:B")) == {"region", "age"}
    net = res.network.set_index("modifier")
    assert net.loc["region", "flag"] and net.loc["age", "flag"]


def test_imbalance_values_are_the_closed_forms():
    res = transitivity(IMBALANCED, ["region", "age"])
    imb = res.imbalance.set_index(["comparison", "modifier"])["imbalance"]
    # pooled region: 15 cervical / 30 -> 0.5; A:B all cervical -> TVD = 0.5
    assert imb[("A:B", "region")] == pytest.approx(0.5, rel=1e-12)
    assert imb[("B:C", "region")] == pytest.approx(0.0, abs=1e-12)
    ages = IMBALANCED["age"].to_numpy()
    smd_ab = (np.mean(ages[:10]) - ages.mean()) / ages.std(ddof=1)
    assert imb[("A:B", "age")] == pytest.approx(smd_ab, rel=1e-12)
    tab = res.table
    row = tab[(tab.comparison == "A:C") & (tab.modifier == "age") & (tab.statistic == "max")]
    assert row["value"].item() == 69.0
    pooled = tab[(tab.comparison == NETWORK) & (tab.modifier == "region")].set_index("statistic")["value"]
    assert pooled.to_dict() == {"cervical": 0.5, "lumbar": 0.5}


def test_cramers_v_matches_scipy():
    counts = np.array([[10, 0, 3], [0, 10, 2], [5, 5, 1]], float)
    v, chi2, df, p = cramers_v(counts)
    ref = chi2_contingency(counts, correction=False)
    assert chi2 == pytest.approx(ref.statistic, rel=1e-10)
    assert p == pytest.approx(ref.pvalue, rel=1e-10)
    assert df == ref.dof
    assert v == pytest.approx(association(counts.astype(int), method="cramer"), rel=1e-10)


def test_tvd_kernel():
    assert tvd(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == 0.5
    assert tvd(np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5])) == 0.0


def test_thresholds_come_from_the_plan_then_the_argument():
    plan = parse_plan({"project": {"name": "x", "pack": "spine"},
                       "outcomes": {"o": {"kind": "binary", "measure": "RR"}},
                       "certainty": {"transitivity": {"modifiers": ["region"], "tvd": 0.6}}})
    res = transitivity(IMBALANCED, plan=plan)
    assert res.threshold_source == "plan" and res.thresholds["tvd"] == 0.6
    assert res.flagged.empty                               # TVD 0.5 is under 0.6
    res2 = transitivity(IMBALANCED, ["region"], thresholds={"tvd": 0.1}, plan=plan)
    assert res2.threshold_source == "argument" and len(res2.flagged) == 2
    assert dict(transitivity(IMBALANCED, ["region"]).thresholds) == dict(DEFAULT_THRESHOLDS)


def test_comparison_key_is_order_free_and_studies_count_once():
    assert comparison_key("B", "A") == comparison_key("A", "B") == "A:B"
    flipped = IMBALANCED.rename(columns={"treat1": "treat2", "treat2": "treat1"})
    doubled = pd.concat([IMBALANCED, flipped])
    a = transitivity(IMBALANCED, ["region", "age"]).imbalance
    b = transitivity(doubled, ["region", "age"]).imbalance
    pd.testing.assert_frame_equal(a, b)
    assert (a.loc[a.modifier == "region", "n"] == 10).all()


def test_missing_cells_are_counted_and_nr_is_a_level():
    data = BALANCED.copy()
    data.loc[0, "region"] = None
    data.loc[1, "region"] = "NR"
    res = transitivity(data, {"region": "categorical"})
    ab = res.imbalance.set_index("comparison").loc["A:B"]
    assert ab["n"] == 9 and ab["n_missing"] == 1
    levels = set(res.table.loc[res.table.comparison == "A:B", "statistic"])
    assert "NR" in levels


def test_explicit_comparison_column_and_kind():
    data = BALANCED.assign(comparison=[comparison_key(a, b) for a, b in zip(BALANCED.treat1, BALANCED.treat2)])
    res = transitivity(data.drop(columns=["treat1", "treat2"]), {"age": "categorical"}, comparison="comparison")
    assert res.modifiers["age"] == "categorical"


@pytest.mark.parametrize("kwargs, match", [
    (dict(modifiers=["smoking"]), "smoking"),
    (dict(modifiers=[]), "at least one"),
    (dict(modifiers={"age": "ordinal"}), "modifiers"),
    (dict(modifiers=["age"], thresholds={"tvd": -1}), "thresholds"),
    (dict(modifiers=["age"], thresholds={"kl": 0.1}), "thresholds"),
    (dict(modifiers=["age"], comparison="design"), "comparison"),
])
def test_transitivity_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        transitivity(IMBALANCED, **kwargs)


def test_transitivity_needs_a_comparison_key():
    with pytest.raises(ParameterError, match="comparison"):
        transitivity(IMBALANCED.drop(columns="treat2"), ["age"])


def test_transitivity_from_the_example_review():
    review = load_review(example_path())
    res = transitivity_from_review(review, ["region", "selection_n_blocks", "sham_subtype"])
    comps = set(res.comparisons)
    assert {"RFN_FACET:sham_procedure", "RFN_SIJ:sham_procedure", "PRF_DRG:sham_procedure"} <= comps
    imb = res.imbalance.set_index(["comparison", "modifier"])
    assert imb.loc[("RFN_SIJ:sham_procedure", "region"), "n"] == 1        # Cohen 2008 only
    assert bool(imb.loc[("RFN_SIJ:sham_procedure", "region"), "flag"])    # all sacral vs a mixed network
    summary = res.summary()
    assert "flagged" in summary.to_frame().columns and "TVD" in summary.as_text()


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(len(IMBALANCED))))
def test_row_order_does_not_change_the_imbalance(order):
    a = transitivity(IMBALANCED, ["region", "age"]).imbalance
    b = transitivity(IMBALANCED.iloc[list(order)], ["region", "age"]).imbalance
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_plan_transitivity_table_is_checked():
    from netstrata.errors import DataError
    plan = parse_plan({"project": {"name": "x", "pack": "spine"},
                       "outcomes": {"o": {"kind": "binary", "measure": "RR"}},
                       "certainty": {"transitivity": {"modifiers": ["region"], "tvdd": 0.6}}})
    with pytest.raises(DataError) as exc:
        transitivity(IMBALANCED, plan=plan)
    p = exc.value.problems[0]
    assert p.column == "certainty.transitivity.tvdd" and p.hint == "did you mean 'tvd'?"


def test_a_review_can_be_passed_directly():
    review = load_review(example_path())
    a = transitivity(review, ["region"]).imbalance
    b = transitivity_from_review(review, ["region"]).imbalance
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ParameterError, match="DataFrame"):
        transitivity([1, 2, 3], ["region"])


def test_simulated_network_modifiers():
    """A simulated contrast table works as input: tiers drawn independently of nodes are balanced."""
    from netstrata.synthesis.simulate import simulate_contrasts
    sim = simulate_contrasts(400, seed=1)
    res = transitivity(sim.contrasts, ["fidelity_tier", "region"])
    imb = res.imbalance.set_index(["comparison", "modifier"])["imbalance"]
    assert imb[("RFN_FACET:sham_procedure", "fidelity_tier")] < 0.1       # tier independent of node
    assert imb[("RFN_SIJ:sham_procedure", "region")] > 0.5                # SI-joint RF only in sacral


def test_review_comparisons_per_outcome_include_contrast_level_rows():
    review = load_review(example_path())
    pain = transitivity_from_review(review, ["region"], outcome="pain")
    assert "PRF_DRG:sham_procedure" in pain.comparisons            # Shanthanna 2014, contrasts.csv only
    assert "RFN_FACET:exercise_program" in pain.comparisons         # MINT facet, contrasts.csv only
    assert transitivity_from_review(review, ["region"], outcome="complete_relief").comparisons == ()
