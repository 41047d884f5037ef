"""rma.uni and predict parity: every ``rma_*`` and ``predict_*`` analysis in the reference files.

Each test is one quantity over all (dataset, analysis) pairs; values from metafor 3.8-1.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import netstrata
from .reference import load
from .test_ma_data import analyses, effects, ref_value, rtol_for

RMA = analyses("rma_")
PREDICT = analyses("predict_")

# (attribute of PairwiseResult / RmaFit, key in R's result)
QUANTITIES = [
    ("estimate", "estimate"), ("se", "se"), ("statistic", "zval"), ("pvalue", "pval"),
    ("ci_low", "ci.lb"), ("ci_high", "ci.ub"), ("tau2", "tau2"), ("se_tau2", "se.tau2"),
    ("tau", "tau"), ("i2", "I2"), ("h2", "H2"), ("q", "QE"), ("q_pvalue", "QEp"),
    ("weights", "weights_percent"),
]


def _fit(ds, name):
    a = load("pairwise", ds)["analyses"][name]
    s = a["settings"]
    y, v = effects(ds)
    ci = "hksj" if s["test"] == "knha" else "wald"
    return netstrata.pairwise(y, v, method=s["method"], ci=ci, level=s["level"] / 100), a["result"], s


@pytest.mark.parametrize("attr,key", QUANTITIES)
@pytest.mark.parametrize("ds,name", RMA)
def test_rma_quantity(ds, name, attr, key):
    res, ref, s = _fit(ds, name)
    want = ref_value(ref, key)
    got = np.atleast_1d(np.asarray(getattr(res, attr), dtype=float))
    if s["method"] == "FE" and key == "se.tau2":  # R: NULL, netstrata: NaN
        assert np.all(np.isnan(got))
        return
    assert_allclose(got, want, rtol=rtol_for(s["method"]))


@pytest.mark.parametrize("ds,name", RMA)
def test_rma_omnibus_and_loglik(ds, name):
    res, ref, s = _fit(ds, name)
    fit = res.fit
    tol = rtol_for(s["method"])
    assert_allclose(fit.qm, ref_value(ref, "QM")[0], rtol=tol)
    # atol: R's pchisq returns subnormal tails (1.5e-321) where scipy returns 0
    assert_allclose(fit.qm_pvalue, ref_value(ref, "QMp")[0], rtol=tol, atol=1e-300)
    assert_allclose(fit.vcov.ravel(), ref_value(ref, "vcov"), rtol=tol)
    assert res.k == ref["k"]
    if s["test"] == "knha":
        assert res.df == ref["dfs"] == res.k - 1
        assert fit.qm_df == (1, res.k - 1)
    else:
        assert res.df is None
    if "fit_stats" in ref:
        want = ref["fit_stats"]
        got = fit.fit_stats(want["column"])
        for key in ("logLik", "deviance", "AIC", "BIC", "AICc"):
            assert_allclose(got[key], want[key], rtol=tol, err_msg=key)
        assert_allclose(res.loglik, want["logLik"], rtol=tol)
    assert res.converged


@pytest.mark.parametrize("ds,name", PREDICT)
def test_predict_intervals(ds, name):
    res, ref, s = _fit(ds, name)
    got = [res.estimate, res.se, res.ci_low, res.ci_high, res.pi_low, res.pi_high]
    want = [ref_value(ref, k)[0] for k in ("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub")]
    if s["method"] == "FE":
        # metafor's predict() gives no PI for a common-effect model (pi.lb = NULL): neither do we.
        assert np.isnan(want[4]) and np.isnan(want[5])
    assert_allclose(got, want, rtol=rtol_for(s["method"]), equal_nan=True)
