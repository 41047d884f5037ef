"""Small-study tests (``regtest``, ``ranktest``, ``trimfill``) parity with metafor 3.8-1.

Reference values: tests/data/reference/pairwise/*.json, analyses ``regtest_*``, ``ranktest_*``
and ``trimfill_*`` (R 4.2.2, metafor 3.8-1; the 12 metadat 1.2-0 datasets cited in each file).
yi/vi are those of the fitted model named in the analysis settings (``on``): the input columns
or the file's own ``escalc_<measure>`` result (``yi_vi`` of that ``rma_*`` analysis).

Tolerances: closed forms (lm, FE, rank test, FE trim-and-fill) at rtol 1e-10; anything that
goes through REML (iterative Fisher scoring, stopping at a change in tau2 below 1e-5 as
metafor) at rtol 1e-6.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from netstrata.errors import StatisticalWarning
from netstrata.ma.bias import ranktest, regtest, trimfill

from .reference import datasets, load, num, table

RTOL_CLOSED = 1e-10
RTOL_ITER = 1e-6  # REML: as precise as R's own stopping rule (see tests/data/reference/README.md)


def analyses(prefix: str):
    return [(ds, name) for ds in datasets("pairwise") for name in load("pairwise", ds)["analyses"]
            if name.startswith(prefix)]


def model_effects(ds: str, on: str):
    """yi, vi of the rma model named in ``on`` (e.g. 'rma_REML (only yi, vi used)'), NA rows removed."""
    ref = load("pairwise", ds)
    how = ref["analyses"][on.split()[0]]["settings"]["yi_vi"]
    if how.startswith("from input columns"):
        t = table("pairwise", ds)
        y, v = t["yi"].to_numpy(float), t["vi"].to_numpy(float)
    else:
        measure = re.fullmatch(r"from escalc measure (\w+)", how).group(1)
        res = ref["analyses"][f"escalc_{measure}"]["result"]
        y, v = np.asarray(num(res["yi"]), float), np.asarray(num(res["vi"]), float)
    keep = ~(np.isnan(y) | np.isnan(v))
    return y[keep], v[keep]


def method_of(on: str) -> str:
    return load_method[on.split()[0]]


load_method = {"rma_REML": "REML", "rma_FE": "FE"}

REGTEST = analyses("regtest_")
RANKTEST = analyses("ranktest_")
TRIMFILL = analyses("trimfill_")


def test_reference_cases_found():
    assert (len(REGTEST), len(RANKTEST), len(TRIMFILL)) == (39, 26, 39)  # 13 datasets (nielweise2008 too)


# ---------------------------------------------------------------- regtest


def run_regtest(ds, name):
    ref = load("pairwise", ds)["analyses"][name]
    s = ref["settings"]
    y, v = model_effects(ds, s["on"])
    res = regtest(y, v, model=s["model"], predictor=s["predictor"], method=method_of(s["on"]))
    rtol = RTOL_ITER if (s["model"] == "rma" and method_of(s["on"]) == "REML") else RTOL_CLOSED
    return res, ref["result"], rtol


@pytest.mark.parametrize(("ds", "name"), REGTEST)
def test_regtest_statistic_pvalue_df(ds, name):
    res, r, rtol = run_regtest(ds, name)
    assert_allclose([res.statistic, res.pvalue], [num(r["zval"]), num(r["pval"])], rtol=rtol)
    assert res.df == r["dfs"]  # None (z test) or k - 2 (lm)


@pytest.mark.parametrize(("ds", "name"), REGTEST)
def test_regtest_limit_estimate_and_ci(ds, name):
    res, r, rtol = run_regtest(ds, name)
    got = [res.limit_estimate, res.limit_ci_low, res.limit_ci_high]
    want = [num(r[key]) for key in ("limit_estimate", "limit_ci.lb", "limit_ci.ub")]
    assert_allclose(got, want, rtol=rtol)


@pytest.mark.parametrize(("ds", "name"), REGTEST)
def test_regtest_fit_coefficients_and_se(ds, name):
    res, r, rtol = run_regtest(ds, name)
    assert_allclose(res.coef, num(r["fit_coef"]), rtol=rtol)
    assert_allclose(res.coef_se, num(r["fit_se"]), rtol=rtol)


# ---------------------------------------------------------------- ranktest


@pytest.mark.parametrize(("ds", "name"), RANKTEST)
def test_ranktest_kendall_tau_and_pvalue(ds, name):
    ref = load("pairwise", ds)["analyses"][name]
    y, v = model_effects(ds, ref["settings"]["on"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ranktest(y, v)
    assert_allclose([res.kendall_tau, res.pvalue], [num(ref["result"]["tau"]), num(ref["result"]["pval"])],
                    rtol=RTOL_CLOSED)
    # R warns "Cannot compute exact p-value with ties" exactly when we fall back to the normal test
    ours = [w for w in caught if issubclass(w.category, StatisticalWarning)]
    assert bool(ours) == bool(ref.get("warnings")) == res.ties == (not res.exact)


# ---------------------------------------------------------------- trimfill


def run_trimfill(ds, name):
    ref = load("pairwise", ds)["analyses"][name]
    s = ref["settings"]
    y, v = model_effects(ds, s["on"])
    method = method_of(s["on"])
    res = trimfill(y, v, method=method, estimator=s["estimator"])
    return res, ref["result"], RTOL_ITER if method == "REML" else RTOL_CLOSED


@pytest.mark.parametrize(("ds", "name"), TRIMFILL)
def test_trimfill_k0_side_and_se_k0(ds, name):
    res, r, _ = run_trimfill(ds, name)
    assert (res.k0, res.side, res.estimator, res.k) == (r["k0"], r["side"], r["estimator"], r["k"])
    assert_allclose([res.se_k0, res.p_k0], [num(r["se.k0"]), num(r["p.k0"])], rtol=RTOL_CLOSED)


@pytest.mark.parametrize(("ds", "name"), TRIMFILL)
def test_trimfill_filled_effects_and_variances(ds, name):
    res, r, rtol = run_trimfill(ds, name)
    assert_allclose(res.effect, num(r["yi"]), rtol=rtol)
    assert_allclose(res.variance, num(r["vi"]), rtol=RTOL_CLOSED)
    assert list(res.filled) == r["fill"]


@pytest.mark.parametrize(("ds", "name"), TRIMFILL)
def test_trimfill_refit_estimate_se_ci(ds, name):
    res, r, rtol = run_trimfill(ds, name)
    got = [res.estimate, res.se, res.statistic, res.pvalue, res.ci_low, res.ci_high]
    want = [num(r[key]) for key in ("estimate", "se", "zval", "pval", "ci.lb", "ci.ub")]
    assert_allclose(got, want, rtol=rtol)
    assert res.method == r["method"]


@pytest.mark.parametrize(("ds", "name"), TRIMFILL)
def test_trimfill_refit_tau2_and_heterogeneity(ds, name):
    res, r, rtol = run_trimfill(ds, name)
    got = [res.tau2, res.se_tau2, res.i2, res.h2, res.q, res.q_pvalue]
    want = [num(r[key]) for key in ("tau2", "se.tau2", "I2", "H2", "QE", "QEp")]
    assert_allclose(got, want, rtol=rtol)
