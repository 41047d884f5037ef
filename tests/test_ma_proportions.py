"""Single-arm proportions: per-study intervals and pooled proportions (PLO / PFT).

Reference: tests/data/reference/pairwise/pritz1997.json (metafor 3.8-1; dat.pritz1997,
Zhou, Brizendine & Pritz 1999, Stat Med 18(5):557-566): ``escalc_PLO``, ``escalc_PFT``,
``rma_*``/``predict_*`` on the PLO scale.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats
from scipy.special import expit

from netstrata.errors import ParameterError
from netstrata.ma.fit import rma_fit
from netstrata.ma.proportions import (
    PROPORTION_CI_METHODS, PROPORTION_MEASURES, ft_inverse, ft_inverse_hm, ft_transform, pooled_proportion,
    study_proportions,
)
from tests import reference as R

RTOL = 1e-6        # iterative τ² estimators (metafor stops at 1e-5 change; we run the same steps)
CLOSED = 1e-10     # closed forms

PRITZ = R.table("pairwise", "pritz1997")
REF = R.load("pairwise", "pritz1997")["analyses"]
METHODS = ["FE", "DL", "REML", "PM", "ML", "SJ", "HE", "EB", "HS"]


# ------------------------------------------------------------------ per-study intervals

def _wilson_by_hand(x, n, level):
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


GRID = [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (1, 2), (16, 17), (43, 58), (58, 68), (250, 1000)]


@pytest.mark.parametrize("level", [0.95, 0.9, 0.99])
@pytest.mark.parametrize("x,n", GRID)
def test_wilson_interval_hand_formula_and_scipy(x, n, level):
    res = study_proportions([x], [n], method="wilson", level=level)
    lo, hi = _wilson_by_hand(x, n, level)
    assert_allclose([res.ci_low[0], res.ci_high[0]], [lo, hi], rtol=CLOSED, atol=1e-14)
    ci = stats.binomtest(x, n).proportion_ci(confidence_level=level, method="wilson")
    assert_allclose([res.ci_low[0], res.ci_high[0]], [ci.low, ci.high], rtol=CLOSED, atol=1e-14)


@pytest.mark.parametrize("level", [0.95, 0.9, 0.99])
@pytest.mark.parametrize("x,n", GRID)
def test_clopper_pearson_interval_beta_quantiles_and_scipy(x, n, level):
    res = study_proportions([x], [n], method="clopper-pearson", level=level)
    a = 1 - level
    lo = 0.0 if x == 0 else stats.beta.ppf(a / 2, x, n - x + 1)
    hi = 1.0 if x == n else stats.beta.ppf(1 - a / 2, x + 1, n - x)
    assert_allclose([res.ci_low[0], res.ci_high[0]], [lo, hi], rtol=1e-9, atol=1e-14)
    ci = stats.binomtest(x, n).proportion_ci(confidence_level=level, method="exact")
    assert_allclose([res.ci_low[0], res.ci_high[0]], [ci.low, ci.high], rtol=1e-9, atol=1e-14)


def test_clopper_pearson_3_of_10_known_value():
    """3/10: the exact 95% interval is 0.0667 to 0.6525 (textbook value, 4 decimals)."""
    res = study_proportions([3], [10], method="clopper-pearson")
    assert_allclose([res.ci_low[0], res.ci_high[0]], [0.0667, 0.6525], atol=5e-5)


def test_pritz1997_study_proportions_vectorised_matches_scalar():
    res = study_proportions(PRITZ.events, PRITZ.n, study=PRITZ.study)
    assert res.k == 14 and res.study[0] == "Giannotta et al."
    for i, (x, n) in enumerate(zip(PRITZ.events, PRITZ.n)):
        one = study_proportions([x], [n])
        assert res.ci_low[i] == one.ci_low[0] and res.ci_high[i] == one.ci_high[0]
    assert_allclose(res.proportion, PRITZ.events / PRITZ.n, rtol=CLOSED)


def test_study_proportions_level_as_percent_and_repr_summary():
    a = study_proportions([3, 4], [10, 8], level=95)
    b = study_proportions([3, 4], [10, 8], level=0.95)
    assert_allclose(a.ci_low, b.ci_low, rtol=0)
    assert repr(a).startswith("StudyProportions(k=2, method='wilson'") and "\n" not in repr(a)
    frame = a.summary().to_frame()
    assert list(frame.columns) == ["events", "n", "proportion", "ci_low", "ci_high"]
    assert "Wilson" in a.summary().as_text()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from(sorted(PROPORTION_CI_METHODS)))
def test_intervals_contain_estimate_and_stay_in_unit_interval(xn, method):
    x, n = xn
    res = study_proportions([x], [n], method=method)
    assert 0.0 <= res.ci_low[0] <= x / n + 1e-12
    assert x / n - 1e-12 <= res.ci_high[0] <= 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 300).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_clopper_pearson_limits_increase_with_events(xn):
    x, n = xn
    res = study_proportions([x, x + 1], [n, n], method="clopper-pearson")
    assert res.ci_low[1] > res.ci_low[0] and res.ci_high[1] > res.ci_high[0]


# ------------------------------------------------------------------ pooled: per-study effects

@pytest.mark.parametrize("measure", ["PLO", "PFT"])
def test_pritz1997_escalc_effects(measure):
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure=measure)
    ref = REF[f"escalc_{measure}"]["result"]
    assert_allclose(res.effect, R.num(ref["yi"]), rtol=CLOSED, atol=1e-15)
    assert_allclose(res.variance, R.num(ref["vi"]), rtol=CLOSED)


# ------------------------------------------------------------------ pooled PLO against rma/predict

@pytest.mark.parametrize("method", METHODS)
def test_pritz1997_pooled_plo_matches_rma(method):
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure="PLO", method=method)
    ref = REF[f"rma_{method}"]["result"]
    assert res.k == ref["k"]
    assert_allclose(res.estimate, ref["estimate"], rtol=RTOL)
    assert_allclose(res.se, ref["se"], rtol=RTOL)
    assert_allclose([res.ci_low, res.ci_high], [ref["ci.lb"], ref["ci.ub"]], rtol=RTOL)
    assert_allclose(res.tau2, ref["tau2"], rtol=RTOL, atol=1e-12)
    assert_allclose(res.q, ref["QE"], rtol=RTOL)
    assert_allclose(res.q_pvalue, ref["QEp"], rtol=RTOL)
    assert_allclose(res.pvalue, ref["pval"], rtol=RTOL)
    assert_allclose(res.i2, ref["I2"], rtol=RTOL, atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_pritz1997_pooled_plo_prediction_interval_matches_predict(method):
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure="PLO", method=method)
    ref = REF[f"predict_{method}"]["result"]
    if method == "FE":  # metafor's predict() reports no prediction interval for FE
        assert ref["pi.lb"] is None and math.isnan(res.pi_low) and math.isnan(res.proportion_pi_low)
        return
    assert_allclose([res.pi_low, res.pi_high], [ref["pi.lb"], ref["pi.ub"]], rtol=RTOL)


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_pritz1997_pooled_plo_knha_matches_predict(method):
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure="PLO", method=method, ci="hksj")
    ref = REF[f"predict_{method}_knha"]["result"]
    assert_allclose([res.estimate, res.se], [ref["pred"], ref["se"]], rtol=RTOL)
    assert_allclose([res.ci_low, res.ci_high, res.pi_low, res.pi_high],
                    [ref["ci.lb"], ref["ci.ub"], ref["pi.lb"], ref["pi.ub"]], rtol=RTOL)


@pytest.mark.parametrize("method", METHODS)
def test_pritz1997_pooled_plo_back_transformed_with_expit(method):
    """predict(res, transf=transf.ilogit): expit of the reference pred, ci and pi bounds."""
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure="PLO", method=method)
    ref = REF[f"predict_{method}"]["result"]
    assert_allclose(res.proportion, expit(ref["pred"]), rtol=RTOL)
    assert_allclose([res.proportion_ci_low, res.proportion_ci_high],
                    expit([ref["ci.lb"], ref["ci.ub"]]), rtol=RTOL)
    if ref["pi.lb"] is not None:
        assert_allclose([res.proportion_pi_low, res.proportion_pi_high],
                        expit([ref["pi.lb"], ref["pi.ub"]]), rtol=RTOL)


def test_pritz1997_pooled_plo_reml_back_transformed_values():
    """Hand values: expit(1.138909...) etc. printed to 4 decimals by predict(..., transf=transf.ilogit)."""
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure="PLO", method="REML")
    assert_allclose([res.proportion, res.proportion_ci_low, res.proportion_ci_high,
                     res.proportion_pi_low, res.proportion_pi_high],
                    [0.7575, 0.6605, 0.8337, 0.4661, 0.9179], atol=5e-5)


# ------------------------------------------------------------------ pooled PFT

def _ipft_hm_by_hand(t, ns):
    """Miller (1978), transf.ipft.hm of metafor 3.8-1, written out for one value."""
    nhm = len(ns) / sum(1.0 / n for n in ns)
    lower = 0.5 * (math.asin(0.0) + math.asin(math.sqrt(1 / (nhm + 1))))
    upper = 0.5 * (math.asin(math.sqrt(nhm / (nhm + 1))) + math.asin(1.0))
    if t > upper:
        return 1.0
    if t < lower:
        return 0.0
    s = math.sin(2 * t)
    sgn = math.copysign(1.0, math.cos(2 * t)) if math.cos(2 * t) != 0 else 0.0
    return 0.5 * (1 - sgn * math.sqrt(1 - (s + (s - 1 / s) / nhm) ** 2))


@pytest.mark.parametrize("method", ["FE", "DL", "REML"])
def test_pritz1997_pooled_pft_is_rma_on_escalc_pft_with_ipft_hm(method):
    ref = REF["escalc_PFT"]["result"]
    fit = rma_fit(R.num(ref["yi"]), R.num(ref["vi"]), None, method, False, 0.95)
    res = pooled_proportion(PRITZ.events, PRITZ.n, measure="PFT", method=method)
    assert_allclose([res.estimate, res.se, res.tau2], [fit.beta[0], fit.se[0], fit.tau2], rtol=RTOL, atol=1e-14)
    ns = list(PRITZ.n)
    assert_allclose(res.proportion, _ipft_hm_by_hand(fit.beta[0], ns), rtol=CLOSED)
    assert_allclose(res.proportion_ci_low, _ipft_hm_by_hand(fit.ci_low[0], ns), rtol=CLOSED)
    assert_allclose(res.proportion_ci_high, _ipft_hm_by_hand(fit.ci_high[0], ns), rtol=CLOSED)
    if method != "FE":
        half = fit.crit * math.sqrt(fit.se[0] ** 2 + fit.tau2)
        assert_allclose(res.proportion_pi_high, _ipft_hm_by_hand(fit.beta[0] + half, ns), rtol=CLOSED)
        assert_allclose(res.proportion_pi_low, _ipft_hm_by_hand(fit.beta[0] - half, ns), rtol=CLOSED)


def test_ipft_hm_clamps_outside_range_and_harmonic_mean():
    ns = np.array([10.0, 20.0, 40.0])
    nhm = 3 / np.sum(1 / ns)
    assert ft_inverse_hm(np.array([2.0]), ns)[0] == 1.0      # above transf.pft(1, nhm)
    assert ft_inverse_hm(np.array([0.0]), ns)[0] == 0.0      # below transf.pft(0, nhm)
    assert_allclose(ft_inverse_hm(np.array([0.7]), ns), ft_inverse(np.array([0.7]), nhm), rtol=0)


@pytest.mark.parametrize("n", [3, 10, 57, 1000])
def test_miller_inversion_undoes_double_arcsine(n):
    p = np.linspace(0, 1, 21)
    assert_allclose(ft_inverse(ft_transform(p, n), n), p, atol=1e-12)


# ------------------------------------------------------------------ identities, properties, errors

def test_pooled_fe_equals_weighted_mean_of_logits():
    res = pooled_proportion(PRITZ.events, PRITZ.n, method="FE")
    w = 1 / res.variance
    assert_allclose(res.estimate, np.sum(w * res.effect) / np.sum(w), rtol=CLOSED)
    assert_allclose(res.se, 1 / math.sqrt(np.sum(w)), rtol=CLOSED)


@settings(max_examples=20, deadline=None)
@given(st.permutations(list(range(14))))
def test_pooled_proportion_invariant_to_study_order(perm):
    a = pooled_proportion(PRITZ.events, PRITZ.n, method="REML")
    b = pooled_proportion(PRITZ.events.to_numpy()[perm], PRITZ.n.to_numpy()[perm], method="REML")
    assert_allclose([a.estimate, a.tau2, a.pi_low], [b.estimate, b.tau2, b.pi_low], rtol=1e-9)


def test_pooled_proportion_repr_and_summary():
    res = pooled_proportion(PRITZ.events, PRITZ.n)
    text = repr(res)
    assert text.startswith("PooledProportion(k=14, measure='PLO', method='REML', proportion=0.7575")
    frame = res.summary().to_frame()
    assert list(frame.index) == [PROPORTION_MEASURES["PLO"].label, "proportion"]
    assert_allclose(frame.loc["proportion", "estimate"], res.proportion, rtol=0)


def test_pooled_proportion_is_frozen():
    res = pooled_proportion(PRITZ.events, PRITZ.n)
    with pytest.raises(AttributeError):
        res.tau2 = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("func", [study_proportions, pooled_proportion])
@pytest.mark.parametrize("events,n,needle", [
    ([3, 11], [10, 10], r"'events'.*position 1 is 11 with n = 10\."),
    ([3, 1], [10, 0], "'n'.*positive; position 1 is 0\\."),
    ([3, 1], [10, -4], "'n'.*position 1 is -4\\."),
    ([3, 1.5], [10, 10], "'events'.*whole numbers.*position 1 is 1.5"),
    ([3, 1], [10, 10.2], "'n'.*whole numbers.*position 1 is 10.2"),
    ([3, -1], [10, 10], "'events'.*position 1 is -1 "),
    ([], [], "'events'.*empty"),
    ([3, 1], [10], "same length"),
    ([3, float("nan")], [10, 10], "'events'.*finite.*position 1"),
])
def test_bad_counts_are_refused(func, events, n, needle):
    with pytest.raises(ParameterError, match=needle):
        func(events, n)


def test_bad_options_are_refused():
    with pytest.raises(ParameterError, match="'method' parameter of study_proportions"):
        study_proportions([1], [2], method="agresti")
    with pytest.raises(ParameterError, match="'measure' parameter of pooled_proportion"):
        pooled_proportion([1, 2], [5, 5], measure="PAS")
    with pytest.raises(ParameterError, match="'method' parameter of pooled_proportion"):
        pooled_proportion([1, 2], [5, 5], method="reml2")
    with pytest.raises(ParameterError, match="'level'"):
        pooled_proportion([1, 2], [5, 5], level=0)
    with pytest.raises(ParameterError, match="'study'"):
        study_proportions([1, 2], [5, 5], study=["a"])
