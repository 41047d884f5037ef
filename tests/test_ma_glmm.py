"""Binomial-normal (random-effects logistic) model for single proportions: metafor rma.glmm(measure="PLO").

No R reference for rma.glmm exists in tests/data. What is checked, and against what:

* Published R output (4 decimals): metafor 3.8-1's own test file
  ``tests/testthat/test_analysis_example_stijnen2010.r`` (github cran/metafor, tag 3.8-1) prints
  ``rma.glmm(measure="PLO", xi=ci, ni=n2i, data=dat.nielweise2007)`` and the same for ``ai, n1i``
  (coef, se, tau2, and ``predict(res, transf=transf.ilogit)``), reproducing Stijnen, Hamza &
  Özdemir (2010, Stat Med 29:3046, doi:10.1002/sim.4040) Table II. Compared at 5e-5 (half a unit
  of the 4th decimal); the exact (many-node) likelihood gives values outside that window for the
  second analysis, so these checks pin down the 7-point AGQ approximation of glmer.
* The quadrature itself: AGQ with many nodes equals direct numerical integration (QUADPACK) of
  the marginal likelihood; τ = 0 gives the common-effect binomial likelihood for any node count.
* The heterogeneity tests: the Wald statistic equals the Wald test of the k - 1 study
  coefficients of a reference-coded saturated logistic model built explicitly here; the LRT
  equals the binomial G² statistic of the common-effect model.
* Recovery of (μ, τ) on simulated data.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.special import expit, logit

from hypothesis import given, settings
from hypothesis import strategies as st

from netstrata.errors import ConvergenceWarning, ParameterError
from netstrata.ma.glmm import proportion_glmm
from netstrata.ma.glmm.agq import (
    agq_deviance, binomial_deviance, conditional_modes, glm_saturated, normal_gh_rule,
    quad_deviance, saturated_loglik, wald_homogeneity,
)
from tests import reference as R

def _counts(name, ev, n):
    t = R.table("pairwise", name)
    return t[ev].to_numpy(float), t[n].to_numpy(float)


DATASETS = {
    "pritz1997": ("pritz1997", "events", "n"),
    "nielweise2007_control": ("nielweise2007", "events_2", "n_2"),
    "nielweise2007_treated": ("nielweise2007", "events_1", "n_1"),
}

# metafor 3.8-1 tests/testthat/test_analysis_example_stijnen2010.r: (coef, se, tau2, pred, ci.lb, ci.ub)
PUBLISHED = {
    "nielweise2007_control": (-3.4964, 0.2570, 0.8124, 0.0294, 0.0180, 0.0478),   # xi=ci, ni=n2i
    "nielweise2007_treated": (-4.8121, 0.3555, 0.8265, 0.0081, 0.0040, 0.0161),   # xi=ai, ni=n1i
}
HALF_UNIT = 5e-5  # the published numbers are rounded to 4 decimals


@pytest.fixture(scope="module")
def fits():
    return {key: proportion_glmm(*_counts(*spec)) for key, spec in DATASETS.items()}


# ------------------------------------------------------------------ published rma.glmm output

@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_nielweise2007_rma_glmm_plo_published(fits, key):
    res = fits[key]
    coef, se, tau2, pred, lb, ub = PUBLISHED[key]
    assert abs(res.estimate - coef) <= HALF_UNIT
    assert abs(res.se - se) <= HALF_UNIT
    assert abs(res.tau2 - tau2) <= HALF_UNIT
    assert abs(res.proportion - pred) <= HALF_UNIT
    assert abs(res.proportion_ci_low - lb) <= HALF_UNIT
    assert abs(res.proportion_ci_high - ub) <= HALF_UNIT


def test_nielweise2007_treated_published_value_needs_seven_point_agq():
    """The exact likelihood (40 nodes; 1e-12 from quadrature there) gives μ = -4.81185, τ² = 0.8253: outside the published
    -4.8121 / 0.8265, which 7-point AGQ (glmer's nAGQ=7) reproduces. So the test above can fail."""
    exact = proportion_glmm(*_counts(*DATASETS["nielweise2007_treated"]), nagq=40)
    assert abs(exact.estimate - PUBLISHED["nielweise2007_treated"][0]) > 2e-4
    assert abs(exact.tau2 - PUBLISHED["nielweise2007_treated"][2]) > 1e-3


# ------------------------------------------------------------------ the quadrature

@pytest.mark.parametrize("key", sorted(DATASETS))
@pytest.mark.parametrize("mu,tau", [(0.0, 0.3), (1.2, 0.7), (-3.5, 0.9), (-4.8, 2.0)])
def test_agq_many_nodes_equals_direct_integration(key, mu, tau):
    """AGQ converges to the integral as nodes are added (100 nodes: 1e-9 even at τ = 2)."""
    x, n = _counts(*DATASETS[key])
    exact = quad_deviance(x, n, mu, tau)
    assert_allclose(agq_deviance(x, n, mu, tau, 100), exact, rtol=1e-9, atol=1e-9)
    errors = [np.max(np.abs(agq_deviance(x, n, mu, tau, q) - exact)) for q in (3, 7, 20)]
    assert errors[2] < errors[0] and errors[2] < 1e-3


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_agq_seven_nodes_close_to_direct_integration(key):
    """7-point AGQ is an approximation: per-study deviance error below 1e-3 at the fitted values."""
    x, n = _counts(*DATASETS[key])
    res = proportion_glmm(x, n)
    err = agq_deviance(x, n, res.estimate, res.tau, 7) - quad_deviance(x, n, res.estimate, res.tau)
    assert np.max(np.abs(err)) < 1e-3


@pytest.mark.parametrize("nagq", [1, 2, 7, 20])
def test_agq_at_tau_zero_is_common_effect_binomial_deviance(nagq):
    x, n = _counts(*DATASETS["pritz1997"])
    mu = 0.8
    assert_allclose(agq_deviance(x, n, mu, 0.0, nagq), binomial_deviance(x, n, mu), rtol=1e-12, atol=1e-14)
    dev_by_hand = -2 * (stats.binom.logpmf(x, n, expit(mu)) - stats.binom.logpmf(x, n, x / n))
    assert_allclose(binomial_deviance(x, n, mu), dev_by_hand, rtol=1e-10, atol=1e-12)


def test_laplace_deviance_hand_formula():
    """nAGQ = 1: dev = d(μ + τû) + û² + log(1 + τ² n π(1-π)) at the conditional mode û."""
    x, n = np.array([3.0, 0.0, 7.0]), np.array([10.0, 12.0, 7.0])
    mu, tau = -0.4, 1.3
    u, hess = conditional_modes(x, n, mu, tau)
    pi = expit(mu + tau * u)
    assert_allclose(u - tau * (x - n * pi), 0.0, atol=1e-12)          # score of h at the mode
    expected = binomial_deviance(x, n, mu + tau * u) + u * u + np.log(1 + tau**2 * n * pi * (1 - pi))
    assert_allclose(agq_deviance(x, n, mu, tau, 1), expected, rtol=1e-12)
    assert_allclose(hess, 1 + tau**2 * n * pi * (1 - pi), rtol=1e-12)


def test_normal_gh_rule_integrates_normal_moments():
    z, w = normal_gh_rule(7)
    assert_allclose([np.sum(w), np.sum(w * z * z), np.sum(w * z**4), np.sum(w * z**6)], [1, 1, 3, 15], rtol=1e-12)


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_seven_nodes_close_to_exact_likelihood_estimates(key):
    """The 7-point fit is within 1e-3 of the exact-likelihood fit (40 nodes = quadrature, above)."""
    x, n = _counts(*DATASETS[key])
    a, b = proportion_glmm(x, n, nagq=7), proportion_glmm(x, n, nagq=40)
    assert abs(a.estimate - b.estimate) < 1e-3 and abs(a.tau - b.tau) < 1e-3


# ------------------------------------------------------------------ optimum and its information

@pytest.mark.parametrize("key", sorted(DATASETS))
def test_fit_is_a_stationary_point_of_the_agq_deviance(fits, key):
    x, n = _counts(*DATASETS[key])
    res = fits[key]
    f = lambda mu, tau: float(np.sum(agq_deviance(x, n, mu, tau, 7)))  # noqa: E731
    h = 1e-5
    g_mu = (f(res.estimate + h, res.tau) - f(res.estimate - h, res.tau)) / (2 * h)
    g_tau = (f(res.estimate, res.tau + h) - f(res.estimate, res.tau - h)) / (2 * h)
    assert abs(g_mu) < 1e-5 and abs(g_tau) < 1e-5
    assert res.deviance <= min(f(res.estimate + 1e-3, res.tau), f(res.estimate, res.tau + 1e-3))


def test_homogeneous_data_give_tau_zero_and_common_effect_inference():
    x, n = np.array([10.0, 10.0, 10.0, 10.0]), np.array([50.0, 50.0, 50.0, 50.0])
    res = proportion_glmm(x, n)
    assert res.tau2 < 1e-8
    assert_allclose(res.estimate, logit(0.2), atol=1e-9)
    assert_allclose(res.se, 1 / math.sqrt(200 * 0.2 * 0.8), rtol=1e-5)
    assert_allclose(res.loglik, np.sum(stats.binom.logpmf(x, n, 0.2)), rtol=1e-9)
    assert res.q_wald == 0.0 and res.q_lrt < 1e-9


def test_simulated_data_recover_mu_and_tau():
    rng = np.random.default_rng(20240917)
    k, mu, tau = 300, -1.0, 0.6
    n = rng.integers(40, 200, size=k).astype(float)
    x = rng.binomial(n.astype(int), expit(mu + tau * rng.standard_normal(k))).astype(float)
    res = proportion_glmm(x, n)
    assert abs(res.estimate - mu) < 3 * res.se
    assert abs(res.tau - tau) < 0.1
    assert res.ci_low < mu < res.ci_high


# ------------------------------------------------------------------ heterogeneity tests

def _wald_reference_coded(theta, weight):
    """b2' V22⁻¹ b2 for the glm coding intercept + study_1..study_{k-1} (study k aliased)."""
    k = len(theta)
    X = np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]])
    b = np.linalg.solve(X, theta)
    V = np.linalg.inv(X.T @ (weight[:, None] * X))
    b2, V22 = b[1:], V[1:, 1:]
    return float(b2 @ np.linalg.solve(V22, b2))


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_wald_heterogeneity_equals_saturated_glm_coefficient_test(fits, key):
    x, n = _counts(*DATASETS[key])
    theta, weight, _ = glm_saturated(x, n)
    coded = _wald_reference_coded(theta, weight)
    assert_allclose(wald_homogeneity(theta, weight), coded, rtol=1e-8)
    assert_allclose(fits[key].q_wald, coded, rtol=1e-8)


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_wald_heterogeneity_limit_is_cochran_q_of_raw_logits(fits, key):
    """Studies with 0 or n events get IRLS weight → 0, so QE.Wld → Q over the other studies with
    w = x (n - x) / n; the glm stopping rule leaves a remainder far below 1e-6."""
    x, n = _counts(*DATASETS[key])
    ok = (x > 0) & (x < n)
    y, w = logit(x[ok] / n[ok]), x[ok] * (n[ok] - x[ok]) / n[ok]
    q = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    assert_allclose(fits[key].q_wald, q, rtol=1e-6)
    assert fits[key].q_df == len(x) - 1
    assert_allclose(fits[key].q_wald_pvalue, stats.chi2.sf(q, len(x) - 1), rtol=1e-6)


@pytest.mark.parametrize("key", sorted(DATASETS))
def test_lrt_heterogeneity_is_binomial_g2_of_common_effect_model(fits, key):
    x, n = _counts(*DATASETS[key])
    p = x.sum() / n.sum()
    g2 = 2 * np.sum(stats.binom.logpmf(x, n, x / n) - stats.binom.logpmf(x, n, p))
    assert_allclose(fits[key].q_lrt, g2, rtol=1e-7)


def test_glm_saturated_matches_irls_fixed_point_for_inner_studies():
    x, n = _counts(*DATASETS["pritz1997"])
    theta, weight, loglik = glm_saturated(x, n)
    ok = (x > 0) & (x < n)
    assert_allclose(theta[ok], logit(x[ok] / n[ok]), rtol=1e-8)
    assert_allclose(weight[ok], x[ok] * (n[ok] - x[ok]) / n[ok], rtol=1e-4)   # weights from the previous iterate
    assert np.all(theta[x == n] > 15)                                          # drifting to +inf, stopped by R's rule
    assert_allclose(loglik, saturated_loglik(x, n), atol=1e-7)


def test_pritz1997_fit_statistics_and_i2(fits):
    res = fits["pritz1997"]
    x, n = _counts(*DATASETS["pritz1997"])
    _, _, ll_qe = glm_saturated(x, n)
    assert_allclose(res.loglik, ll_qe - res.deviance / 2, rtol=1e-12)
    assert_allclose(res.aic, -2 * res.loglik + 4, rtol=1e-12)
    assert_allclose(res.bic, -2 * res.loglik + 2 * np.log(14), rtol=1e-12)
    assert_allclose(res.aicc, -2 * res.loglik + 4 * 14 / 11, rtol=1e-12)
    # I² with vt from the escalc PLO variances of the reference file
    vi = R.num(R.load("pairwise", "pritz1997")["analyses"]["escalc_PLO"]["result"]["vi"])
    w = 1 / vi
    vt = 13 / (w.sum() - (w**2).sum() / w.sum())
    assert_allclose(res.vt, vt, rtol=1e-12)
    assert_allclose(res.i2, 100 * res.tau2 / (vt + res.tau2), rtol=1e-12)
    assert_allclose(res.h2, res.tau2 / vt + 1, rtol=1e-12)


def test_intervals_are_wald_z_and_back_transformed(fits):
    res = fits["pritz1997"]
    z = stats.norm.ppf(0.975)
    assert_allclose([res.ci_low, res.ci_high], [res.estimate - z * res.se, res.estimate + z * res.se], rtol=1e-12)
    half = z * math.sqrt(res.se**2 + res.tau2)
    assert_allclose([res.pi_low, res.pi_high], [res.estimate - half, res.estimate + half], rtol=1e-12)
    assert_allclose(res.proportion_pi_high, expit(res.estimate + half), rtol=1e-12)
    assert_allclose(res.pvalue, 2 * stats.norm.sf(abs(res.estimate / res.se)), rtol=1e-12)


def test_level_changes_only_intervals():
    x, n = _counts(*DATASETS["pritz1997"])
    a, b = proportion_glmm(x, n, level=0.95), proportion_glmm(x, n, level=90)
    assert a.estimate == b.estimate and b.ci_high < a.ci_high and b.level == 0.9


def test_repr_and_summary(fits):
    res = fits["pritz1997"]
    assert repr(res).startswith("GlmmProportion(k=14, nagq=7, estimate=1.37") and "\n" not in repr(res)
    frame = res.summary().to_frame()
    assert list(frame.index) == ["logit proportion", "proportion"]
    assert "Wald" in res.summary().as_text()
    with pytest.raises(AttributeError):
        res.tau2 = 1.0  # type: ignore[misc]


# ------------------------------------------------------------------ refusals

@pytest.mark.parametrize("events,n,needle", [
    ([3], [10], "at least 2 studies"),                 # glmer: grouping factor needs > 1 level
    ([0, 0, 0], [10, 12, 9], "no events"),
    ([10, 12], [10, 12], "only events"),
    ([3, 11], [10, 10], "'events'.*position 1 is 11 with n = 10"),
    ([3, 2.5], [10, 10], "'events'.*whole numbers"),
    ([3, 2], [10, 0], "'n'.*position 1 is 0"),
    ([], [], "empty"),
])
def test_bad_data_are_refused(events, n, needle):
    with pytest.raises(ParameterError, match=needle):
        proportion_glmm(events, n)


@pytest.mark.parametrize("nagq", [0, -1, 2.5, True, 101, "7"])
def test_bad_nagq_is_refused(nagq):
    with pytest.raises(ParameterError, match="'nagq'"):
        proportion_glmm([3, 4], [10, 10], nagq=nagq)


def test_diverging_tau_warns_and_reports_non_convergence():
    """Half the studies with no events, half with only events: τ → ∞ (glmer gives a huge θ)."""
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = proportion_glmm([0, 10, 0, 10], [10, 10, 10, 10])
    assert not res.converged


@settings(max_examples=8, deadline=None)
@given(st.permutations(list(range(14))))
def test_glmm_invariant_to_study_order(perm):
    x, n = _counts(*DATASETS["pritz1997"])
    a, b = proportion_glmm(x, n), proportion_glmm(x[perm], n[perm])
    assert_allclose([a.estimate, a.tau2, a.se, a.q_wald, a.q_lrt], [b.estimate, b.tau2, b.se, b.q_wald, b.q_lrt],
                    rtol=1e-7)


def test_no_warning_on_regular_data():
    x, n = _counts(*DATASETS["pritz1997"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert proportion_glmm(x, n).converged
