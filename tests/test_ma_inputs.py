"""Bad input, cross-method identities and properties of netstrata.pairwise / rma_fit."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import netstrata
from netstrata.errors import ConvergenceWarning, ParameterError, StatisticalWarning
from netstrata.ma import METHODS, meta_regression, pairwise, rma_fit
from .test_ma_data import effects

BCG_Y, BCG_V = effects("bcg")


# ---- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,match", [
    (dict(method="reml2"), r"'method' parameter of pairwise must be one of .*'REML'.*Got 'reml2'"),
    (dict(ci="knha"), r"'ci' parameter of pairwise must be one of \{'wald', 'hksj'\}. Got 'knha'"),
    (dict(level=150), r"'level' parameter"),
    (dict(level=0), r"'level' parameter"),
])
def test_pairwise_bad_option_names_argument_value_and_allowed(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        pairwise(BCG_Y, BCG_V, **kwargs)


@pytest.mark.parametrize("effect,variance,match", [
    ([], [], "empty"),
    ([0.1, np.nan], [0.1, 0.1], "finite"),
    ([0.1, 0.2], [0.1, np.inf], "finite"),
    ([0.1, 0.2], [0.1, -0.1], "non-negative"),
    ([0.1, 0.2], [0.1, 0.0], "positive"),
    ([0.1, 0.2, 0.3], [0.1, 0.2], "same length"),
    (["a", "b"], [0.1, 0.2], "numeric"),
])
def test_pairwise_bad_data_refused(effect, variance, match):
    with pytest.raises(ParameterError, match=match):
        pairwise(effect, variance)


def test_pairwise_k1_falls_back_to_the_study_with_warning():
    with pytest.warns(StatisticalWarning, match="only 1 study"):
        res = pairwise([0.4], [0.04], method="REML", ci="hksj")
    assert res.estimate == 0.4 and res.se == pytest.approx(0.2) and res.tau2 == 0.0
    assert res.df is None  # metafor forces test="z" when k = 1


def test_pairwise_extreme_variance_ratio_warns_as_metafor():
    with pytest.warns(StatisticalWarning, match="ratio of largest to smallest"):
        pairwise([0.1, 0.2, 0.3], [1e-8, 0.1, 0.2], method="DL")


def test_pairwise_level_95_equals_095():
    a, b = pairwise(BCG_Y, BCG_V, level=95), pairwise(BCG_Y, BCG_V, level=0.95)
    assert a.ci_low == b.ci_low and a.level == 0.95


def test_meta_regression_too_many_parameters_refused():
    with pytest.raises(ParameterError, match="larger than the number of studies"):
        meta_regression(BCG_Y[:3], BCG_V[:3], {"a": [1.0, 2.0, 4.0], "b": [0.0, 1.0, 5.0]})


def test_meta_regression_redundant_column_dropped_with_warning():
    mods = {"a": np.arange(13.0), "b": 2 * np.arange(13.0)}
    with pytest.warns(StatisticalWarning, match="redundant"):
        res = meta_regression(BCG_Y, BCG_V, mods)
    assert res.names == ("intercept", "a")


def test_pm_tau2_max_too_low_is_flagged_not_silent():
    """Q(tau2.max) above k-1: metafor stops ('tau2.max too low'); we warn and mark non-converged."""
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1000.0])  # mad(y) = 0, so tau2.max = 100
    v = np.full(6, 1e-4)
    with pytest.warns(ConvergenceWarning, match="tau2.max"):
        res = pairwise(y, v, method="PM")
    assert not res.converged and np.isnan(res.tau2) and np.isnan(res.estimate)


def test_public_api_exported():
    assert netstrata.pairwise is pairwise
    res = pairwise(BCG_Y, BCG_V)
    assert repr(res) == "PairwiseResult(k=13, method='REML', estimate=-0.7145 [-1.0669, -0.3622], tau2=0.3132)"
    frame = res.summary().to_frame()
    assert frame.loc["estimate", "value"] == res.estimate and "prediction" in frame.index
    assert res.zval == res.statistic and res.tau == pytest.approx(np.sqrt(res.tau2))


# ---- cross-method identities ---------------------------------------------------------------

def test_fe_pooled_equals_weighted_least_squares_lstsq():
    w = 1 / BCG_V
    coef, *_ = np.linalg.lstsq(np.sqrt(w)[:, None], np.sqrt(w) * BCG_Y, rcond=None)
    res = pairwise(BCG_Y, BCG_V, method="FE")
    assert_allclose(res.estimate, coef[0], rtol=1e-12)
    assert_allclose(res.se, 1 / np.sqrt(w.sum()), rtol=1e-12)


def test_fe_meta_regression_equals_weighted_least_squares_lstsq():
    x = np.linspace(0, 1, 13)
    X = np.column_stack([np.ones(13), x])
    sw = np.sqrt(1 / BCG_V)
    coef, *_ = np.linalg.lstsq(sw[:, None] * X, sw * BCG_Y, rcond=None)
    assert_allclose(meta_regression(BCG_Y, BCG_V, {"x": x}, method="FE").coef, coef, rtol=1e-10)


def test_fe_meta_regression_without_intercept_equals_lstsq():
    x = np.linspace(1, 2, 13)
    sw = np.sqrt(1 / BCG_V)
    coef, *_ = np.linalg.lstsq(sw[:, None] * x[:, None], sw * BCG_Y, rcond=None)
    res = meta_regression(BCG_Y, BCG_V, {"x": x}, method="FE", intercept=False)
    assert res.names == ("x",) and res.r2 is None
    assert_allclose(res.coef, coef, rtol=1e-10)
    assert res.qm_df == (1,)  # no intercept: all coefficients are tested


@pytest.mark.parametrize("method", [m for m in METHODS if m != "FE"])
def test_homogeneous_data_gives_tau2_zero_and_fe_estimate(method):
    """Studies with identical effects: every estimator gives tau2 = 0 and the FE estimate."""
    y, v = np.full(6, 0.3), np.array([0.1, 0.2, 0.05, 0.3, 0.15, 0.08])
    res, fe = pairwise(y, v, method=method), pairwise(y, v, method="FE")
    assert res.tau2 == 0.0
    assert_allclose([res.estimate, res.se], [fe.estimate, fe.se], rtol=1e-12)


def test_dl_with_tau2_zero_equals_fe():
    y = np.array([0.10, 0.12, 0.11, 0.09])
    v = np.full(4, 0.05)
    dl, fe = pairwise(y, v, method="DL"), pairwise(y, v, method="FE")
    assert dl.tau2 == 0.0 and dl.estimate == pytest.approx(fe.estimate, rel=1e-14)
    assert dl.pi_low == pytest.approx(fe.ci_low, rel=1e-14)


def test_intercept_only_fast_path_equals_general_design():
    for method in METHODS:
        a = rma_fit(BCG_Y, BCG_V, None, method, False, 0.95)
        b = rma_fit(BCG_Y, BCG_V, np.ones((13, 1)), method, False, 0.95)
        assert_allclose([a.tau2, a.beta[0], a.se[0], a.q, a.se_tau2],
                        [b.tau2, b.beta[0], b.se[0], b.q, b.se_tau2], rtol=1e-9, equal_nan=True)


def test_knha_scales_the_reml_variance_by_weighted_residual_mean_square():
    z, t = pairwise(BCG_Y, BCG_V), pairwise(BCG_Y, BCG_V, ci="hksj")
    w = 1 / (BCG_V + z.tau2)
    s2 = np.sum(w * (BCG_Y - z.estimate) ** 2) / 12
    assert_allclose(t.se**2, z.se**2 * s2, rtol=1e-12)


# ---- properties ------------------------------------------------------------------------------

studies = st.lists(st.tuples(st.floats(-3, 3), st.floats(0.01, 2)), min_size=3, max_size=25)


@settings(max_examples=40, deadline=None)
@given(studies, st.randoms(use_true_random=False), st.sampled_from(sorted(METHODS)))
def test_permuting_studies_leaves_results_unchanged(data, rnd, method):
    y, v = np.array(data).T
    order = list(range(len(y)))
    rnd.shuffle(order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = pairwise(y, v, method=method), pairwise(y[order], v[order], method=method)
    # (oscillating Fisher scoring may be flagged differently after reordering sums; compare fits)
    if a.converged and b.converged:
        assert_allclose([a.estimate, a.se, a.tau2, a.q, a.i2, a.pi_low],
                        [b.estimate, b.se, b.tau2, b.q, b.i2, b.pi_low], rtol=1e-6, atol=1e-9)
        assert_allclose(a.weights[order], b.weights, rtol=1e-6, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(studies, st.floats(-5, 5))
def test_shifting_effects_shifts_estimate_only(data, shift):
    y, v = np.array(data).T
    a, b = pairwise(y, v, method="DL"), pairwise(y + shift, v, method="DL")
    assert_allclose(b.estimate, a.estimate + shift, atol=1e-9)
    assert_allclose([b.tau2, b.se], [a.tau2, a.se], rtol=1e-7, atol=1e-10)


def test_rma_with_design_equals_meta_regression():
    from netstrata.ma import rma
    x = np.linspace(0, 1, 13)
    fit = rma(BCG_Y, BCG_V, X=np.column_stack([np.ones(13), x]), method="REML", ci="hksj")
    res = meta_regression(BCG_Y, BCG_V, {"x": x}, method="REML", ci="hksj")
    assert_allclose(fit.beta, res.coef, rtol=1e-14)
    assert fit.qm_df == (1, 11) and fit.df == 11


@pytest.mark.parametrize("kwargs,match", [
    (dict(test="t"), r"'test' parameter of rma must be one of \{'z', 'knha'\}"),
    (dict(X=np.ones((13, 2))), "full column rank"),
    (dict(X=np.ones((12, 1))), "finite"),
])
def test_rma_bad_arguments(kwargs, match):
    from netstrata.ma import rma
    with pytest.raises(ParameterError, match=match):
        rma(BCG_Y, BCG_V, **kwargs)
