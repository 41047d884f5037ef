"""Identities, properties and argument checks of regtest, ranktest and trimfill.

Cross-method identities: Egger's weighted regression and the FE meta-regression on the standard
error share coefficients (the lm standard errors are the FE ones times the residual scale);
the exact Kendall distribution equals brute-force enumeration; passing a fitted model equals
passing its data and settings. Properties (hypothesis): permuting studies changes nothing;
mirroring the effects mirrors the results.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from netstrata.errors import ConvergenceWarning, DataError, ParameterError, StatisticalWarning
from netstrata.ma.bias import ranktest, regtest, trimfill
from netstrata.ma.bias.ranktest import kendall_tau, pkendall
from netstrata.ma.fit import rma_fit

from .reference import load, num, table

RTOL = 1e-10


def bcg_log_rr():
    res = load("pairwise", "bcg")["analyses"]["escalc_RR"]["result"]
    return np.asarray(num(res["yi"]), float), np.asarray(num(res["vi"]), float)


# ---------------------------------------------------------------- identities


def test_regtest_lm_and_fe_share_coefficients_bcg():
    y, v = bcg_log_rr()
    lm, fe = regtest(y, v, model="lm"), regtest(y, v, method="FE")
    assert_allclose(lm.coef, fe.coef, rtol=RTOL)
    assert_allclose(lm.coef_se, fe.coef_se * np.sqrt(lm.fit.sigma2), rtol=RTOL)
    assert lm.df == y.size - 2 and fe.df is None


def test_regtest_knha_gives_t_test_on_k_minus_2_df():
    y, v = bcg_log_rr()
    res = regtest(y, v, method="REML", ci="hksj")
    assert res.df == y.size - 2
    assert repr(res).startswith("RegTestResult(k=13, model='rma', predictor='sei', t(11)=")


def test_regtest_accepts_fitted_model_with_its_settings():
    from netstrata.ma import pairwise
    y, v = bcg_log_rr()
    fitted = pairwise(y, v, method="DL", ci="hksj", level=0.9)
    from_model = regtest(fitted)
    from_arrays = regtest(y, v, method="DL", ci="hksj", level=0.9)
    assert_allclose([from_model.statistic, from_model.limit_ci_low], [from_arrays.statistic, from_arrays.limit_ci_low],
                    rtol=RTOL)
    assert regtest(fitted, method="FE", ci="wald").method == "FE"  # explicit settings win


def test_regtest_on_meta_regression_keeps_moderators_and_has_no_limit_estimate():
    y, v = bcg_log_rr()
    ablat = table("pairwise", "bcg")["ablat"].to_numpy(float)
    fit = rma_fit(y, v, np.column_stack([np.ones(y.size), ablat]), "REML", False, 0.95)
    res = regtest(fit)
    assert res.coef.size == 3 and np.isnan(res.limit_estimate)
    assert_allclose(res.statistic, res.fit.statistic[2], rtol=0)


def test_regtest_sample_size_predictors():
    y, v = bcg_log_rr()
    t = table("pairwise", "bcg")
    n = (t["n_1"] + t["n_2"]).to_numpy(float)
    ninv = regtest(y, v, predictor="ninv", n=n, model="lm")
    ni = regtest(y, v, predictor="ni", n=n, model="lm")
    assert np.isfinite(ninv.limit_estimate) and np.isnan(ni.limit_estimate)
    manual = regtest(y, v, model="lm", predictor="vi")
    assert manual.predictor == "vi" and np.isfinite(manual.limit_estimate)


def test_ranktest_exact_distribution_equals_enumeration():
    """P(T <= q) from the Mahonian recursion equals counting all 6! permutations."""
    n = 6
    concordant = [sum(1 for i, j in itertools.combinations(range(n), 2) if p[i] < p[j])
                  for p in itertools.permutations(range(n))]
    for q in range(n * (n - 1) // 2 + 1):
        assert_allclose(pkendall(q, n), np.mean(np.array(concordant) <= q), rtol=1e-14)


def test_ranktest_kendall_tau_b_with_ties():
    """tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)) on a hand-counted example."""
    x = np.array([1.0, 2.0, 2.0, 3.0])
    y = np.array([1.0, 3.0, 2.0, 2.0])
    c = d = 0
    for i, j in itertools.combinations(range(4), 2):
        s = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
        c += s > 0
        d += s < 0
    assert_allclose(kendall_tau(x, y), (c - d) / np.sqrt((6 - 1) * (6 - 1)), rtol=RTOL)


def test_ranktest_accepts_fitted_model():
    from netstrata.ma import pairwise
    y, v = bcg_log_rr()
    assert ranktest(pairwise(y, v)).pvalue == ranktest(y, v).pvalue


def test_ranktest_exact_false_uses_normal_approximation_without_warning():
    y, v = bcg_log_rr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ranktest(y, v, exact=False)
    assert not res.exact and res.kendall_tau == ranktest(y, v).kendall_tau


def test_trimfill_accepts_fitted_model_and_refuses_moderators():
    from netstrata.ma import pairwise
    y, v = bcg_log_rr()
    assert trimfill(pairwise(y, v, method="FE")).k0 == trimfill(y, v, method="FE").k0 == 4
    fit = rma_fit(y, v, np.column_stack([np.ones(y.size), np.arange(y.size)]), "REML", False, 0.95)
    with pytest.raises(ParameterError, match="moderators"):
        trimfill(fit)


def test_trimfill_given_side_without_missing_studies_returns_original_fit():
    """bcg has no studies missing on the left: k0 = 0 and the FE fit of the 13 studies (rma_FE)."""
    y, v = bcg_log_rr()
    left = trimfill(y, v, method="FE", side="left")
    assert (left.side, left.k0, left.k, left.study) == ("left", 0, 13, tuple(range(1, 14)))
    ref = load("pairwise", "bcg")["analyses"]["rma_FE"]["result"]
    assert_allclose([left.estimate, left.se, left.q], [ref["estimate"], ref["se"], ref["QE"]], rtol=RTOL)


def test_trimfill_q0_estimator_has_no_p_value():
    y, v = bcg_log_rr()
    q0 = trimfill(y, v, method="FE", estimator="Q0")
    assert (q0.estimator, q0.side) == ("Q0", "right") and q0.k0 >= 4 and np.isnan(q0.p_k0)


def test_trimfill_non_convergence_warns_and_reports():
    y, v = bcg_log_rr()
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = trimfill(y, v, method="FE", max_iter=1)
    assert not res.converged and res.iterations == 1
    assert "did not converge" in res.summary().as_text()


def test_trimfill_repr_and_labels():
    y, v = bcg_log_rr()
    res = trimfill(y, v, method="FE", study=[f"s{i}" for i in range(13)])
    assert res.study[-4:] == ("Filled 1", "Filled 2", "Filled 3", "Filled 4")
    assert repr(res).startswith("TrimFillResult(k0=4, side='right', estimator='L0', k=17, method='FE'")


# ---------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(("call", "argument"), [
    (lambda y, v: regtest(y, v, model="glm"), "model"),
    (lambda y, v: regtest(y, v, predictor="se"), "predictor"),
    (lambda y, v: regtest(y, v, predictor="ni"), "n"),
    (lambda y, v: regtest(y, v, method="reml2"), "method"),
    (lambda y, v: regtest(y, v, knha="yes"), "knha"),
    (lambda y, v: regtest(y, v, ci="t"), "ci"),
    (lambda y, v: regtest(y, -v), "variance"),
    (lambda y, v: regtest(y[:-1], v), "same length"),
    (lambda y, v: regtest(y), "variance"),
    (lambda y, v: ranktest(y, v, exact="yes"), "exact"),
    (lambda y, v: ranktest(y[:2], v[:2]), "effect"),
    (lambda y, v: ranktest(y, np.zeros_like(v)), "variance"),
    (lambda y, v: trimfill(y, v, estimator="L1"), "estimator"),
    (lambda y, v: trimfill(y, v, side="up"), "side"),
    (lambda y, v: trimfill(y, v, max_iter=0), "max_iter"),
    (lambda y, v: trimfill(y, v, study=["a"]), "study"),
    (lambda y, v: trimfill(y[:1], v[:1]), "effect"),
])
def test_bias_bad_arguments_raise_parameter_error(call, argument):
    y, v = bcg_log_rr()
    with pytest.raises(ParameterError, match=f"{argument}"):
        call(y, v)


def test_regtest_equal_variances_is_rank_deficient():
    """metafor: 'Model matrix no longer of full rank after addition of predictor.'"""
    with pytest.raises(DataError, match="full rank"):
        regtest([0.1, 0.2, 0.5, 0.3], [0.04] * 4)


def test_ranktest_ties_warn_typed():
    with pytest.warns(StatisticalWarning, match="ties"):
        res = ranktest([0.1, 0.2, 0.5, 0.3, 0.0], [0.04, 0.04, 0.02, 0.09, 0.01])
    assert res.ties and not res.exact


# ---------------------------------------------------------------- properties

studies = st.lists(st.tuples(st.floats(-2, 2, allow_nan=False), st.floats(0.01, 1.0, allow_nan=False)),
                   min_size=5, max_size=15, unique_by=(lambda t: t[0], lambda t: t[1]))


@settings(max_examples=40, deadline=None)
@given(studies, st.randoms(use_true_random=False), st.sampled_from(["FE", "DL"]))
def test_bias_tests_invariant_to_study_order(rows, rnd, method):
    y, v = np.array(rows).T
    order = list(range(y.size))
    rnd.shuffle(order)
    a, b = regtest(y, v, method=method), regtest(y[order], v[order], method=method)
    assert_allclose([a.statistic, a.limit_estimate], [b.statistic, b.limit_estimate], rtol=1e-8, atol=1e-10)
    assert_allclose(ranktest(y, v).pvalue, ranktest(y[order], v[order]).pvalue, rtol=1e-12)
    ta, tb = trimfill(y, v, method=method), trimfill(y[order], v[order], method=method)
    assert (ta.k0, ta.side) == (tb.k0, tb.side)
    assert_allclose(ta.estimate, tb.estimate, rtol=1e-8, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(["FE", "DL"]))
def test_bias_tests_mirror_with_negated_effects(rows, method):
    y, v = np.array(rows).T
    a, b = regtest(y, v, method=method), regtest(-y, v, method=method)
    assert_allclose([b.statistic, b.limit_estimate], [-a.statistic, -a.limit_estimate], rtol=1e-8, atol=1e-10)
    assume(abs(a.coef[1]) > 1e-8)  # the side is undetermined for a zero Egger slope
    ta, tb = trimfill(y, v, method=method), trimfill(-y, v, method=method)
    assert ta.k0 == tb.k0 and {ta.side, tb.side} == {"left", "right"}
    assert_allclose(tb.estimate, -ta.estimate, rtol=1e-8, atol=1e-10)


def test_bias_results_are_frozen_and_render():
    import dataclasses
    y, v = bcg_log_rr()
    for res in (regtest(y, v), regtest(y, v, model="lm"), ranktest(y, v), trimfill(y, v)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(res, dataclasses.fields(res)[0].name, 0)
        summary = res.summary()
        assert "pvalue" in summary.as_text() and "<table" in summary.as_html()
        assert "\n" not in repr(res)


def test_trimfill_refuses_where_metafor_stops():
    """Q0 with 2k^2 - 4 S_r + 1/4 < 0 (R: 'missing value where TRUE/FALSE needed') and R0 with no
    effect below the trimmed estimate are refused with a DataError naming the estimator."""
    y = np.array([0.0, 1.0, 1.125, 0.5, 0.125])
    v = np.array([0.5, 0.125, 0.75, 0.25, 1.0])
    with pytest.raises(DataError, match="Q0"):
        trimfill(y, v, method="FE", estimator="Q0")
    with pytest.raises(DataError, match="R0"):
        trimfill(np.zeros(4), np.array([0.1, 0.2, 0.3, 0.4]), method="FE", estimator="R0", side="left")


@pytest.mark.parametrize("name", ["netstrata.ma.bias.regtest", "netstrata.ma.bias.ranktest"])
def test_bias_docstring_examples(name):
    import doctest
    import importlib
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
