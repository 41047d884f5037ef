"""arms_to_contrasts against netmeta 2.9-0 ``pairwise()`` (meta 6.5-0) for every nma reference with one.

Datasets: dietaryfat (IRR), dogliotti2014, dong2013, gurusamy2011, linde2015, woods2010 (OR),
franchini2012 (MD); see each JSON's ``citation``. R keeps non-estimable pairs with TE = NA; here
they are in ``Contrasts.dropped`` with a reason, and ``Contrasts.all`` restores R's full table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netstrata import effect_sizes
from netstrata.effects import Contrasts, arms_to_contrasts
from netstrata.errors import DataError, ParameterError
from tests.reference import datasets, load, num, table

RTOL = 1e-10  # closed forms
NMA = [ds for ds in datasets("nma") if "pairwise" in load("nma", ds)["analyses"]]


def _run(ds):
    a = load("nma", ds)["analyses"]["pairwise"]
    s = a["settings"]
    res = arms_to_contrasts(table("nma", ds), s["sm"], incr=s["incr"], method_incr=s["method.incr"],
                            allstudies=s["allstudies"])
    return res, a["result"]["rows"], a["result"]


def test_every_arm_based_reference_is_covered():
    assert len(NMA) == 7


@pytest.mark.parametrize("ds", NMA)
def test_pairwise_rows_and_order(ds):
    res, r, full = _run(ds)
    allr = res.all
    assert len(allr) == full["n_rows"]
    assert list(allr["study"]) == r["studlab"]
    assert list(allr["treat1"]) == r["treat1"]
    assert list(allr["treat2"]) == r["treat2"]


@pytest.mark.parametrize("ds", NMA)
def test_pairwise_te(ds):
    res, r, _ = _run(ds)
    np.testing.assert_allclose(res.all["effect"].to_numpy(), num(r["TE"]), rtol=RTOL, atol=0)


@pytest.mark.parametrize("ds", NMA)
def test_pairwise_sete(ds):
    res, r, _ = _run(ds)
    np.testing.assert_allclose(res.all["se"].to_numpy(), num(r["seTE"]), rtol=RTOL, atol=0)


@pytest.mark.parametrize("ds", NMA)
def test_pairwise_incr_and_arm_columns(ds):
    res, r, _ = _run(ds)
    allr = res.all
    if "incr" in r:
        np.testing.assert_array_equal(allr["incr"].to_numpy(), num(r["incr"]))
    for ours, theirs in (("events1", "event1"), ("events2", "event2"), ("n1", "n1"), ("n2", "n2"),
                         ("mean1", "mean1"), ("sd2", "sd2"), ("time1", "time1")):
        if theirs in r:
            np.testing.assert_array_equal(allr[ours].to_numpy(), num(r[theirs]))


@pytest.mark.parametrize("ds", NMA)
def test_pairwise_dropped_are_exactly_r_na_rows(ds):
    res, r, _ = _run(ds)
    na = np.isnan(num(r["TE"]))
    assert len(res.dropped) == na.sum()
    assert np.array_equal(res.all["reason"].to_numpy() != "", na)
    assert res.contrasts["effect"].notna().all() and (res.contrasts["se"] > 0).all()
    assert (res.dropped["reason"] != "").all()


def test_dong2013_dropped_reasons():
    res, _, _ = _run("dong2013")
    assert set(res.dropped["reason"]) == {"no events in either arm"}


def test_linde2015_missing_events_are_reported():
    res, _, _ = _run("linde2015")
    assert set(res.dropped["reason"]) == {"missing arm data"}


def test_narms_column_counts_arms_of_each_study():
    res, _, _ = _run("woods2010")
    assert res.all.set_index("study")["narms"].groupby(level=0).first().to_dict() == {
        "Boyd 1997": 2, "Calverly 2003": 4, "Celli 2003": 2}


def test_repr_and_summary():
    res, _, _ = _run("gurusamy2011")
    assert repr(res) == "Contrasts(measure='OR', studies=11, contrasts=13, dropped=3)"
    assert "Not estimable" in res.summary().as_text()


# ---------------------------------------------------------------- identities and rules

def test_two_arm_or_equals_metafor_escalc_when_no_zero_cells():
    """Cross-method: a two-arm study without zero cells gives metafor's log OR and sqrt(vi)."""
    arms = pd.DataFrame({"study": ["a", "a", "b", "b"], "treatment": ["X", "Y", "X", "Y"],
                         "events": [12, 20, 5, 9], "n": [100, 98, 40, 44]})
    res = arms_to_contrasts(arms, "OR").contrasts
    es = effect_sizes("OR", events_1=[12, 5], n_1=[100, 40], events_2=[20, 9], n_2=[98, 44])
    np.testing.assert_allclose(res["effect"], es["effect"], rtol=1e-12)
    np.testing.assert_allclose(res["se"] ** 2, es["variance"], rtol=1e-12)


def test_multiarm_zero_cell_increments_every_arm_of_the_study():
    arms = pd.DataFrame({"study": ["s"] * 3 + ["t"] * 2, "treatment": ["A", "B", "C", "A", "B"],
                         "events": [0, 5, 7, 3, 4], "n": [20, 20, 20, 30, 30]})
    res = arms_to_contrasts(arms, "OR").contrasts
    s = res[res.study == "s"].set_index(["treat1", "treat2"])
    assert (s["incr"] == 0.5).all() and (res[res.study == "t"]["incr"] == 0).all()
    # B vs C has no zero cell itself but is still corrected: log((5.5*13.5)/(15.5*7.5))
    assert s.loc[("B", "C"), "effect"] == pytest.approx(np.log(5.5 * 13.5 / (15.5 * 7.5)), rel=1e-12)


def test_method_incr_if0all_and_all():
    arms = pd.DataFrame({"study": ["s", "s", "t", "t"], "treatment": ["A", "B", "A", "B"],
                         "events": [0, 5, 3, 4], "n": [20, 20, 30, 30]})
    assert (arms_to_contrasts(arms, "OR", method_incr="if0all").contrasts["incr"] == 0.5).all()
    arms.loc[0, "events"] = 1
    assert (arms_to_contrasts(arms, "OR", method_incr="if0all").contrasts["incr"] == 0).all()
    assert (arms_to_contrasts(arms, "OR", method_incr="all").contrasts["incr"] == 0.5).all()


def test_allstudies_keeps_double_zero_pairs():
    arms = pd.DataFrame({"study": ["s", "s"], "treatment": ["A", "B"], "events": [0, 0], "n": [20, 25]})
    assert len(arms_to_contrasts(arms, "OR").dropped) == 1
    kept = arms_to_contrasts(arms, "OR", allstudies=True).contrasts
    assert kept["effect"].iat[0] == pytest.approx(np.log(0.5 * 25.5 / (20.5 * 0.5)), rel=1e-12)


def test_smd_multiarm_uses_pooled_sd_and_study_n():
    """netmeta: SMD in a >2-arm study uses the SD pooled over all arms; se uses the study's total N
    (Crippa & Orsini 2016, eq. 5): se^2 = 1/n1 + 1/n2 + d^2 / (2 N)."""
    arms = pd.DataFrame({"study": ["s"] * 3, "treatment": ["A", "B", "C"], "mean": [1.0, 2.0, 4.0],
                         "sd": [1.0, 2.0, 3.0], "n": [10, 20, 30]})
    res = arms_to_contrasts(arms, "SMD").contrasts.set_index(["treat1", "treat2"])
    sp = np.sqrt((9 * 1 + 19 * 4 + 29 * 9) / (9 + 19 + 29))
    d = (1.0 - 4.0) / sp
    assert res.loc[("A", "C"), "effect"] == pytest.approx(d, rel=1e-12)
    assert res.loc[("A", "C"), "se"] == pytest.approx(np.sqrt(1 / 10 + 1 / 30 + d**2 / 120), rel=1e-12)


def test_row_order_follows_data_then_treat2_alphabetically():
    arms = pd.DataFrame({"study": ["s"] * 3, "treatment": ["Zeta", "beta", "Alpha"],
                         "events": [1, 2, 3], "n": [10, 10, 10]})
    c = arms_to_contrasts(arms, "RD").contrasts
    assert list(zip(c.treat1, c.treat2)) == [("Zeta", "Alpha"), ("Zeta", "beta"), ("beta", "Alpha")]


# ---------------------------------------------------------------- refusals

def test_duplicate_treatment_in_study_is_a_data_error():
    arms = pd.DataFrame({"study": ["s", "s"], "treatment": ["A", "A"], "events": [1, 2], "n": [10, 10]})
    with pytest.raises(DataError, match=r"row 3.*study 's'.*treatment listed twice"):
        arms_to_contrasts(arms, "OR")


def test_all_impossible_values_are_listed_at_once():
    arms = pd.DataFrame({"study": ["s", "s", "t", "t"], "treatment": ["A", "B", "A", "B"],
                         "events": [11, 2, -1, 3], "n": [10, 10, 10, 0]})
    with pytest.raises(DataError) as err:
        arms_to_contrasts(arms, "OR")
    assert len(err.value.problems) == 4  # events > n (row 2), events < 0 (row 4), n = 0 and events > n (row 5)
    assert {p.row for p in err.value.problems} == {2, 4, 5}


def test_missing_column_and_bad_measure():
    arms = pd.DataFrame({"study": ["s", "s"], "treatment": ["A", "B"], "events": [1, 2]})
    with pytest.raises(ParameterError, match=r"no \['n'\]"):
        arms_to_contrasts(arms, "OR")
    with pytest.raises(ParameterError, match=r"'measure'.*Did you mean 'SMD'"):
        arms_to_contrasts(arms, "SMDD")


# ---------------------------------------------------------------- properties

arm_rows = st.lists(st.tuples(st.integers(1, 40), st.integers(0, 40)), min_size=2, max_size=4)


@settings(max_examples=40, deadline=None)
@given(arm_rows, st.sampled_from(["OR", "RR", "RD"]))
def test_reversing_arm_order_swaps_and_negates(rows, measure):
    """Listing a study's arms in reverse order swaps treat1/treat2 and negates every effect."""
    n = [a + b for a, b in rows]
    ev = [a for a, _ in rows]
    names = [f"T{i}" for i in range(len(rows))]
    fwd = pd.DataFrame({"study": "s", "treatment": names, "events": ev, "n": n})
    rev = fwd.iloc[::-1].reset_index(drop=True)
    a = arms_to_contrasts(fwd, measure).all.set_index(["treat1", "treat2"])
    b = arms_to_contrasts(rev, measure).all
    b = b.set_index(["treat2", "treat1"]).rename_axis(["treat1", "treat2"]).reindex(a.index)
    np.testing.assert_allclose(b["effect"], -a["effect"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b["se"], a["se"], rtol=1e-10)


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_binary_pairs_equal_metafor_without_zero_cells(measure):
    """Cross-method: with no zero cells meta's study estimates equal metafor's escalc (no increment)."""
    arms = pd.DataFrame({"study": ["a", "a", "b", "b"], "treatment": ["X", "Y", "X", "Y"],
                         "events": [12, 20, 5, 9], "n": [100, 98, 40, 44]})
    c = arms_to_contrasts(arms, measure).contrasts
    es = effect_sizes(measure, events_1=[12, 5], n_1=[100, 40], events_2=[20, 9], n_2=[98, 44])
    np.testing.assert_allclose(c["effect"], es["effect"], rtol=1e-12)
    np.testing.assert_allclose(c["se"] ** 2, es["variance"], rtol=1e-12)


def test_rate_and_md_pairs_equal_metafor():
    rates = pd.DataFrame({"study": ["a", "a"], "treatment": ["X", "Y"], "events": [7, 12], "time": [310.0, 295.5]})
    c = arms_to_contrasts(rates, "IRR").contrasts
    es = effect_sizes("IRR", events_1=[7], time_1=[310.0], events_2=[12], time_2=[295.5])
    np.testing.assert_allclose([c["effect"].iat[0], c["se"].iat[0] ** 2], es.iloc[0].to_numpy(), rtol=1e-12)
    means = pd.DataFrame({"study": ["a", "a"], "treatment": ["X", "Y"], "mean": [3.1, 4.2], "sd": [1.2, 1.5],
                          "n": [30, 33]})
    c = arms_to_contrasts(means, "MD").contrasts
    es = effect_sizes("MD", mean_1=[3.1], sd_1=[1.2], n_1=[30], mean_2=[4.2], sd_2=[1.5], n_2=[33])
    np.testing.assert_allclose([c["effect"].iat[0], c["se"].iat[0] ** 2], es.iloc[0].to_numpy(), rtol=1e-12)


def test_missing_labels_are_data_errors():
    arms = pd.DataFrame({"study": ["s", None], "treatment": ["A", "B"], "events": [1, 2], "n": [10, 10]})
    with pytest.raises(DataError, match=r"row 3, column 'study'.*missing label"):
        arms_to_contrasts(arms, "OR")


def test_single_arm_studies_are_reported_not_silently_lost():
    arms = pd.DataFrame({"study": ["s", "s", "lonely"], "treatment": ["A", "B", "A"], "events": [1, 2, 3],
                         "n": [10, 10, 10]})
    res = arms_to_contrasts(arms, "OR")
    assert res.single_arm == ("lonely",) and len(res.contrasts) == 1
    assert "Only one arm, no comparison: lonely" in res.summary().as_text()
