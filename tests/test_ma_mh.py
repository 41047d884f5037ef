"""Mantel-Haenszel (``rma.mh``) parity with metafor 3.8-1, plus identities and properties.

Reference values: tests/data/reference/pairwise/*.json, analyses ``rma.mh_OR``, ``rma.mh_RR``,
``rma.mh_RD``, and for incidence rates ``rma.mh_IRR``, ``rma.mh_IRD`` (R 4.2.2, metafor 3.8-1;
datasets from metadat 1.2-0, cited in each JSON file: bcg = Colditz et al. 1994, cannon2006 =
Cannon et al. 2006, dorn2007 = Dorn et al. 2007, lau1992 = Lau et al. 1992, li2007 = Li et al.
2007, nielweise2007 = Niel-Weise et al. 2007; nielweise2008 = Niel-Weise, Stijnen & van den
Broek 2008, bloodstream infections per catheter-days).
All MH quantities are closed forms: compared at rtol 1e-10.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from netstrata.errors import ParameterError, StatisticalWarning
from netstrata.ma.mh import mantel_haenszel

from .reference import datasets, load, num, table

RTOL = 1e-10  # closed forms

CASES = [(ds, name) for ds in datasets("pairwise") for name in load("pairwise", ds)["analyses"]
         if name.startswith("rma.mh_")]
IDS = [f"{ds}-{name.split('_')[1]}" for ds, name in CASES]


def tables(ds: str):
    t = table("pairwise", ds)
    return (t["events_1"].to_numpy(float), t["n_1"].to_numpy(float), t["events_2"].to_numpy(float),
            t["n_2"].to_numpy(float), tuple(t["study"]))


def _data(ds: str, measure: str) -> dict:
    """The data arguments of mantel_haenszel: 2x2 tables, or events over person-time (IRR, IRD)."""
    t = table("pairwise", ds)
    if measure in ("IRR", "IRD"):
        cols = ("events_1", "time_1", "events_2", "time_2")
    else:
        cols = ("events_1", "n_1", "events_2", "n_2")
    return {c: t[c].to_numpy(float) for c in cols} | {"study": tuple(t["study"])}


def fit(ds: str, name: str):
    """Our rma.mh for one reference analysis, with its settings; returns (result, warnings, reference)."""
    ref = load("pairwise", ds)["analyses"][name]
    s = ref["settings"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = mantel_haenszel(**_data(ds, s["measure"]), measure=s["measure"], add=s["add"], to=s["to"],
                              drop00=s["drop00"], correct=s["correct"])
    return res, caught, ref


def ref_value(result: dict, key: str) -> float:
    return np.nan if result[key] is None else num(result[key])


def test_reference_cases_found():
    assert len(CASES) == 20  # 6 binary datasets x OR, RR, RD; the rate dataset x IRR, IRD


@pytest.mark.parametrize(("ds", "name"), CASES, ids=IDS)
def test_rma_mh_estimate_se_ci(ds, name):
    res, _, ref = fit(ds, name)
    r = ref["result"]
    got = [res.estimate, res.se, res.statistic, res.pvalue, res.ci_low, res.ci_high]
    want = [num(r[key]) for key in ("estimate", "se", "zval", "pval", "ci.lb", "ci.ub")]
    assert_allclose(got, want, rtol=RTOL)


@pytest.mark.parametrize(("ds", "name"), CASES, ids=IDS)
def test_rma_mh_heterogeneity_q_i2_h2(ds, name):
    res, _, ref = fit(ds, name)
    r = ref["result"]
    got = [res.q, res.q_pvalue, res.i2, res.h2, res.tau2]
    want = [num(r[key]) for key in ("QE", "QEp", "I2", "H2", "tau2")]
    assert_allclose(got, want, rtol=RTOL)


@pytest.mark.parametrize(("ds", "name"), CASES, ids=IDS)
def test_rma_mh_cmh_and_tarone_tests(ds, name):
    res, _, ref = fit(ds, name)
    r = ref["result"]
    got = [res.cmh, res.cmh_pvalue, res.tarone, res.tarone_pvalue]
    want = [ref_value(r, key) for key in ("MH", "MHp", "TA", "TAp")]
    assert_allclose(got, want, rtol=RTOL)  # NaN (R's NULL) where the measure is not OR
    assert res.k == r["k"]
    assert res.k_pos == r["k.pos"]


@pytest.mark.parametrize(("ds", "name"), CASES, ids=IDS)
def test_rma_mh_warns_where_r_warned(ds, name):
    res, caught, ref = fit(ds, name)
    ours = [w for w in caught if issubclass(w.category, StatisticalWarning)]
    assert bool(ours) == bool(ref.get("warnings")), [str(w.message) for w in caught]


def test_rma_mh_nielweise2007_dropped_double_zero_study():
    """Yucel 2004 (0/118 vs 0/105) has no log OR: out of the Q test (k_yi = 17) and of Tarone's test."""
    res, _, _ = fit("nielweise2007", "rma.mh_OR")
    assert res.k == 18 and res.k_yi == 17 and res.k_pos == 17
    assert {s for s, _ in res.dropped} == {"Yucel 2004"}
    assert len(res.dropped) == 2
    assert any("Q test" in why for _, why in res.dropped)
    assert any("Tarone" in why for _, why in res.dropped)
    assert np.isnan(res.effect[14]) and np.isnan(res.variance[14])


def test_rma_mh_bcg_no_dropped_studies_and_repr():
    res, caught, _ = fit("bcg", "rma.mh_OR")
    assert res.dropped == () and not caught
    assert repr(res).startswith("MantelHaenszelResult(k=13, measure='OR', estimate=-0.4734 [-0.5538, -0.3930]")
    frame = res.summary().to_frame()
    assert_allclose(frame.loc["pooled (MH)", "estimate"], res.estimate, rtol=0)
    assert "Tarone test" in frame.index
    assert res.ratio[0] == pytest.approx(np.exp(res.estimate))


def test_rma_mh_rd_summary_has_no_or_tests():
    res, _, _ = fit("bcg", "rma.mh_RD")
    assert list(res.summary().to_frame().index) == ["pooled (MH)", "Q heterogeneity"]
    assert res.ratio is None and res.k_pos is None


# ---------------------------------------------------------------- identities


def test_mh_single_table_equals_woolf_log_odds_ratio():
    """With one table the MH OR is ad/bc and the RBG variance reduces to 1/a + 1/b + 1/c + 1/d."""
    a, b, c, d = 12.0, 30.0, 7.0, 41.0
    res = mantel_haenszel([a], [a + b], [c], [c + d])
    assert_allclose(res.estimate, np.log(a * d / (b * c)), rtol=RTOL)
    assert_allclose(res.se**2, 1 / a + 1 / b + 1 / c + 1 / d, rtol=RTOL)
    assert res.q == 0 and res.q_pvalue == 1 and res.i2 == 0 and res.h2 == 1


def test_mh_single_table_rr_and_rd_equal_crude_measures():
    rr = mantel_haenszel([12], [42], [7], [48], measure="RR")
    rd = mantel_haenszel([12], [42], [7], [48], measure="RD")
    assert_allclose(rr.estimate, np.log((12 / 42) / (7 / 48)), rtol=RTOL)
    assert_allclose(rr.se**2, 1 / 12 - 1 / 42 + 1 / 7 - 1 / 48, rtol=RTOL)
    assert_allclose(rd.estimate, 12 / 42 - 7 / 48, rtol=RTOL)


def test_mh_q_uses_escalc_effects_of_same_measure():
    """Q = sum (y_i - beta)^2 / v_i with the per-study log ORs (no zero cells: no correction)."""
    e1, n1, e2, n2, _ = tables("cannon2006")
    res = mantel_haenszel(e1, n1, e2, n2)
    y = np.log(e1 / (n1 - e1)) - np.log(e2 / (n2 - e2))
    v = 1 / e1 + 1 / (n1 - e1) + 1 / e2 + 1 / (n2 - e2)
    assert_allclose(res.effect, y, rtol=RTOL)
    assert_allclose(res.q, np.sum((y - res.estimate) ** 2 / v), rtol=RTOL)


def test_mh_level_changes_only_the_interval():
    e1, n1, e2, n2, _ = tables("bcg")
    r95, r90 = mantel_haenszel(e1, n1, e2, n2), mantel_haenszel(e1, n1, e2, n2, level=90)
    assert r90.level == 0.9 and r90.estimate == r95.estimate
    assert r95.ci_low < r90.ci_low < r90.ci_high < r95.ci_high


def test_mh_continuity_correction_of_cmh():
    e1, n1, e2, n2, _ = tables("bcg")
    with_cc = mantel_haenszel(e1, n1, e2, n2, correct=True)
    without = mantel_haenszel(e1, n1, e2, n2, correct=False)
    assert without.cmh > with_cc.cmh
    assert without.estimate == with_cc.estimate


def test_mh_drop00_second_rule_drops_table_from_pooling():
    """metafor drop00 = c(TRUE, TRUE): the double-zero table leaves the MH estimate too (k = 17)."""
    e1, n1, e2, n2, study = tables("nielweise2007")
    with pytest.warns(StatisticalWarning):
        res = mantel_haenszel(e1, n1, e2, n2, drop00=(True, True), study=study)
        ref = mantel_haenszel(np.delete(e1, 14), np.delete(n1, 14), np.delete(e2, 14), np.delete(n2, 14))
    assert res.k == 17
    assert_allclose(res.estimate, ref.estimate, rtol=RTOL)
    assert ("Yucel 2004" in {s for s, _ in res.dropped})


def test_mh_undefined_estimate_warns_and_is_nan():
    with pytest.warns(StatisticalWarning, match="undefined"):
        res = mantel_haenszel([0, 0], [10, 12], [3, 4], [11, 13])
    assert np.isnan(res.estimate) and np.isnan(res.q) and res.k_pos == 0


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(("kwargs", "argument"), [
    (dict(measure="XX"), "measure"),
    (dict(level=150), "level"),
    (dict(to="sometimes"), "to"),
    (dict(add=-1), "add"),
    (dict(drop00="yes"), "drop00"),
    (dict(correct=1), "correct"),
    (dict(study=["a"]), "study"),
    (dict(add=(0.5, 0.5, 0.5)), "add"),
])
def test_mh_bad_arguments_raise_parameter_error(kwargs, argument):
    with pytest.raises(ParameterError, match=f"'{argument}'"):
        mantel_haenszel([1, 2], [10, 10], [3, 4], [10, 10], **kwargs)


@pytest.mark.parametrize(("counts", "argument"), [
    (([11, 2], [10, 10], [3, 4], [10, 10]), "events_1"),
    (([1, 2], [10, 10], [3, -4], [10, 10]), "events_2"),
    (([1, 2], [10, 10, 3], [3, 4], [10, 10]), "same length"),
    (([1, 2], [0, 10], [0, 4], [10, 10]), "n_1"),
    (([1, np.nan], [10, 10], [3, 4], [10, 10]), "events_1"),
])
def test_mh_bad_counts_raise_parameter_error(counts, argument):
    with pytest.raises(ParameterError, match=argument):
        mantel_haenszel(*counts)


# ---------------------------------------------------------------- properties

tables_strategy = st.lists(
    st.tuples(st.integers(1, 60), st.integers(1, 60), st.integers(0, 1000), st.integers(0, 1000)),
    min_size=2, max_size=8)


def _from_draw(rows):
    n1 = np.array([r[0] + r[1] for r in rows], float)
    n2 = np.array([r[0] + r[1] + 3 for r in rows], float)
    e1 = np.array([r[2] % (n + 1) for r, n in zip(rows, n1)], float)
    e2 = np.array([r[3] % (n + 1) for r, n in zip(rows, n2)], float)
    return e1, n1, e2, n2


@settings(max_examples=60, deadline=None)
@given(tables_strategy, st.sampled_from(["OR", "RR", "RD"]))
def test_mh_swapping_groups_negates_estimate(rows, measure):
    e1, n1, e2, n2 = _from_draw(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        fwd = mantel_haenszel(e1, n1, e2, n2, measure=measure)
        rev = mantel_haenszel(e2, n2, e1, n1, measure=measure)
    assert_allclose(rev.estimate, -fwd.estimate, rtol=1e-9, atol=1e-12)
    assert_allclose(rev.se, fwd.se, rtol=1e-9)
    assert_allclose(rev.q, fwd.q, rtol=1e-9, atol=1e-12)
    if measure == "OR":
        assert_allclose([rev.cmh, rev.tarone], [fwd.cmh, fwd.tarone], rtol=1e-8, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(tables_strategy, st.sampled_from(["OR", "RR", "RD"]), st.randoms(use_true_random=False))
def test_mh_permuting_studies_changes_nothing(rows, measure, rnd):
    e1, n1, e2, n2 = _from_draw(rows)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        a = mantel_haenszel(e1, n1, e2, n2, measure=measure)
        b = mantel_haenszel(e1[order], n1[order], e2[order], n2[order], measure=measure)
    assert_allclose([b.estimate, b.se, b.q, b.cmh, b.tarone], [a.estimate, a.se, a.q, a.cmh, a.tarone],
                    rtol=1e-10, atol=1e-13)
    assert (b.k, b.k_yi, b.k_pos) == (a.k, a.k_yi, a.k_pos)


def test_mh_and_peto_results_are_frozen_and_render():
    import dataclasses

    from netstrata.ma.peto import peto
    e1, n1, e2, n2, study = tables("bcg")
    for res in (mantel_haenszel(e1, n1, e2, n2, study=study), peto(e1, n1, e2, n2, study=study)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            res.estimate = 0.0
        with pytest.raises(ValueError):
            res.effect[0] = 0.0  # per-study arrays are read-only
        summary = res.summary()
        assert "estimate" in summary.as_text() and "<table" in summary.as_html()
        assert "\n" not in repr(res)


def test_mh_default_labels_are_positions_and_all_dropped_refused():
    from netstrata.errors import DataError
    with pytest.warns(StatisticalWarning):
        res = mantel_haenszel([0, 3], [10, 10], [0, 4], [10, 10])
    assert res.study == (1, 2) and res.dropped[0][0] == 1
    with pytest.raises(DataError, match="drop00"), warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        mantel_haenszel([0, 0], [10, 10], [0, 0], [10, 10], drop00=(True, True))


@pytest.mark.parametrize("name", ["netstrata.ma.mh.api", "netstrata.ma.peto"])
def test_mh_docstring_examples(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
