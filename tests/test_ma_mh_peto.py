"""Peto's method (``rma.peto``, ``escalc(measure="PETO")``) parity with metafor 3.8-1.

Reference values: tests/data/reference/pairwise/*.json, analyses ``rma.peto`` and ``escalc_PETO``
(R 4.2.2, metafor 3.8-1; datasets from metadat 1.2-0, cited in each JSON file). Closed forms:
rtol 1e-10.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from netstrata.errors import DataError, ParameterError, StatisticalWarning
from netstrata.ma.mh.tables import ZeroCellRule, table_effects
from netstrata.ma.peto import peto

from .reference import datasets, load, num, table

RTOL = 1e-10  # closed forms

PETO = [ds for ds in datasets("pairwise") if "rma.peto" in load("pairwise", ds)["analyses"]]
ESCALC = [ds for ds in datasets("pairwise") if "escalc_PETO" in load("pairwise", ds)["analyses"]]


def tables(ds: str):
    t = table("pairwise", ds)
    return (t["events_1"].to_numpy(float), t["n_1"].to_numpy(float), t["events_2"].to_numpy(float),
            t["n_2"].to_numpy(float), tuple(t["study"]))


def fit(ds: str):
    ref = load("pairwise", ds)["analyses"]["rma.peto"]
    s = ref["settings"]
    e1, n1, e2, n2, study = tables(ds)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = peto(e1, n1, e2, n2, add=s["add"], to=s["to"], drop00=s["drop00"], study=study)
    return res, caught, ref


def test_reference_cases_found():
    assert len(PETO) == 6 and len(ESCALC) == 5


@pytest.mark.parametrize("ds", PETO)
def test_rma_peto_estimate_se_ci(ds):
    res, _, ref = fit(ds)
    r = ref["result"]
    got = [res.estimate, res.se, res.statistic, res.pvalue, res.ci_low, res.ci_high]
    want = [num(r[key]) for key in ("estimate", "se", "zval", "pval", "ci.lb", "ci.ub")]
    assert_allclose(got, want, rtol=RTOL)


@pytest.mark.parametrize("ds", PETO)
def test_rma_peto_heterogeneity_q_i2_h2(ds):
    res, _, ref = fit(ds)
    r = ref["result"]
    got = [res.q, res.q_pvalue, res.i2, res.h2, res.tau2]
    want = [num(r[key]) for key in ("QE", "QEp", "I2", "H2", "tau2")]
    assert_allclose(got, want, rtol=RTOL)
    assert (res.k, res.k_pos) == (r["k"], r["k.pos"])


@pytest.mark.parametrize("ds", PETO)
def test_rma_peto_warns_where_r_warned(ds):
    _, caught, ref = fit(ds)
    ours = [w for w in caught if issubclass(w.category, StatisticalWarning)]
    assert bool(ours) == bool(ref.get("warnings"))


@pytest.mark.parametrize("ds", ESCALC)
def test_escalc_peto_effect_and_variance(ds):
    """Per-study Peto log odds ratios with escalc's add/to/drop00 (the kernel behind peto().effect)."""
    ref = load("pairwise", ds)["analyses"]["escalc_PETO"]
    s = ref["settings"]
    e1, n1, e2, n2, study = tables(ds)
    yi, vi = table_effects(e1, n1 - e1, e2, n2 - e2, "PETO", ZeroCellRule(s["add"], s["to"], s["drop00"]))
    assert_allclose(yi, num(ref["result"]["yi"]), rtol=RTOL)
    assert_allclose(vi, num(ref["result"]["vi"]), rtol=RTOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = peto(e1, n1, e2, n2, add=s["add"], to=s["to"], drop00=s["drop00"], study=study)
    assert_allclose(res.effect, num(ref["result"]["yi"]), rtol=RTOL)


def test_rma_peto_nielweise2007_dropped_study_and_k_yi():
    res, _, _ = fit("nielweise2007")
    assert res.k == 18 and res.k_yi == 17 and res.k_pos == 17
    assert [s for s, _ in res.dropped] == ["Yucel 2004"]


def test_rma_peto_bcg_repr_and_summary():
    res, _, _ = fit("bcg")
    assert repr(res) == "PetoResult(k=13, estimate=-0.4744 [-0.5541, -0.3948], q=167.7302)"
    frame = res.summary().to_frame()
    assert frame.loc["Q heterogeneity", "df"] == 12
    assert res.ratio[0] == pytest.approx(np.exp(res.estimate))


# ---------------------------------------------------------------- identities


def test_peto_pooled_equals_inverse_variance_mean_of_study_peto_ors():
    """Without zero cells, sum(O-E)/sum(V) is the 1/v-weighted mean of the per-study (O-E)/V."""
    e1, n1, e2, n2, _ = tables("cannon2006")
    res = peto(e1, n1, e2, n2)
    w = 1 / res.variance
    assert_allclose(res.estimate, np.sum(w * res.effect) / np.sum(w), rtol=RTOL)
    assert_allclose(res.se, np.sqrt(1 / np.sum(w)), rtol=RTOL)


def test_peto_q_equals_inverse_variance_q_of_study_effects():
    e1, n1, e2, n2, _ = tables("cannon2006")
    res = peto(e1, n1, e2, n2)
    assert_allclose(res.q, np.sum((res.effect - res.estimate) ** 2 / res.variance), rtol=RTOL)


def test_peto_no_informative_table_raises_data_error():
    with pytest.raises(DataError, match="Peto"):
        peto([0, 0], [10, 12], [0, 0], [11, 13], drop00=False)


@pytest.mark.parametrize(("kwargs", "argument"), [
    (dict(level=0), "level"), (dict(to="x"), "to"), (dict(study=[1, 2, 3]), "study"),
])
def test_peto_bad_arguments_raise_parameter_error(kwargs, argument):
    with pytest.raises(ParameterError, match=f"'{argument}'"):
        peto([1, 2], [10, 10], [3, 4], [10, 10], **kwargs)


def test_peto_events_above_n_raise_parameter_error():
    with pytest.raises(ParameterError, match="'events_2'"):
        peto([1, 2], [10, 10], [3, 14], [10, 10])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 80), st.integers(1, 80), st.integers(0, 999), st.integers(0, 999)),
                min_size=2, max_size=8), st.randoms(use_true_random=False))
def test_peto_swap_negates_and_permutation_invariant(rows, rnd):
    n1 = np.array([r[0] + 1 for r in rows], float)
    n2 = np.array([r[1] + 1 for r in rows], float)
    e1 = np.array([r[2] % (n + 1) for r, n in zip(rows, n1)], float)
    e2 = np.array([r[3] % (n + 1) for r, n in zip(rows, n2)], float)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        try:
            fwd = peto(e1, n1, e2, n2)
        except DataError:
            return
        rev = peto(e2, n2, e1, n1)
        perm = peto(e1[order], n1[order], e2[order], n2[order])
    assert_allclose([rev.estimate, rev.se, rev.q], [-fwd.estimate, fwd.se, fwd.q], rtol=1e-9, atol=1e-12)
    assert_allclose([perm.estimate, perm.se, perm.q], [fwd.estimate, fwd.se, fwd.q], rtol=1e-10, atol=1e-13)
