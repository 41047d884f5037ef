"""confint.rma.uni parity (Q-profile CIs for tau2, tau, I2, H2), incl. metafor's bound flags."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import netstrata
from netstrata.errors import ParameterError
from netstrata.ma import heterogeneity_ci
from .reference import load
from .test_ma_data import RTOL_ITER, analyses, effects, ref_value

CONFINT = analyses("confint_")


def _ci(ds, name):
    a = load("pairwise", ds)["analyses"][name]
    y, v = effects(ds)
    res = netstrata.pairwise(y, v, method=a["settings"]["method"], level=a["settings"]["level"] / 100)
    return res.confint(), a["result"]


@pytest.mark.parametrize("ds,name", CONFINT)
@pytest.mark.parametrize("column,key", [("", "estimate"), ("_low", "ci.lb"), ("_high", "ci.ub")])
def test_confint_tau2_tau_i2_h2(ds, name, column, key):
    ci, ref = _ci(ds, name)
    got = [getattr(ci, q + column) for q in ("tau2", "tau", "i2", "h2")]
    # Q-profile bounds come from uniroot (tol eps^0.25): iterative tolerance; the estimate row
    # of a closed-form method is closed form but shares the test.
    assert_allclose(got, ref_value(ref, key), rtol=RTOL_ITER)


@pytest.mark.parametrize("ds,name", CONFINT)
def test_confint_bound_flags(ds, name):
    ci, ref = _ci(ds, name)
    assert (ci.lb_sign, ci.ub_sign, ci.ci_null) == (ref["lb.sign"], ref["ub.sign"], ref["ci.null"])


def test_confint_normand1999_dl_upper_bound_beyond_search_interval():
    """normand1999 DL: the upper bound exceeds tau2.max = 10·tau2 and is flagged '>' (as metafor)."""
    ci, ref = _ci("normand1999", "confint_DL")
    assert ci.ub_sign == ">"
    assert ci.tau2_high == pytest.approx(10 * ci.tau2, rel=1e-12)
    assert ci.tau2_low > ci.tau2  # the Q-profile interval need not contain the DL estimate


def test_confint_null_set_when_homogeneous():
    """Q(0) below the lower chi-square quantile: both bounds 0 and ci_null (metafor's rule)."""
    y = np.array([0.10, 0.11, 0.09, 0.10, 0.105])
    v = np.full(5, 0.04)
    ci = netstrata.pairwise(y, v, method="REML").confint()
    assert ci.ci_null and ci.lb_sign == ci.ub_sign == "<"
    assert ci.tau2_low == ci.tau2_high == 0.0


def test_confint_refused_for_fe():
    y, v = effects("bcg")
    with pytest.raises(ParameterError, match="FE"):
        netstrata.pairwise(y, v, method="FE").confint()


def test_confint_level_and_summary():
    y, v = effects("bcg")
    fit = netstrata.pairwise(y, v).fit
    wide, narrow = heterogeneity_ci(fit, 0.99), heterogeneity_ci(fit, 0.80)
    assert wide.tau2_low < narrow.tau2_low < fit.tau2 < narrow.tau2_high < wide.tau2_high
    frame = wide.summary().to_frame()
    assert list(frame.index) == ["tau2", "tau", "i2", "h2"]
    assert list(frame.columns) == ["estimate", "ci_low", "ci_high"]


@pytest.mark.parametrize("ds,mods", [("bcg", "~ ablat"), ("curtis1998", "~ factor(fungrp)"),
                                     ("molloy2014", "~ meanage")])
def test_confint_meta_regression_bounds_solve_the_q_profile_equations(ds, mods):
    """No R reference for confint on mods models: check the defining equations instead.

    Q(lb) = chi2_{k-p, 1-a/2} and Q(ub) = chi2_{k-p, a/2} within uniroot's tolerance in tau2.
    """
    from scipy import stats
    from netstrata.ma import meta_regression
    from netstrata.ma._proj import proj
    from .test_ma_data import moderators
    y, v = effects(ds)
    res = meta_regression(y, v, moderators(ds, mods))
    ci = res.confint()
    fit = res.fit
    df = fit.k - fit.p

    def q_at(t):
        return proj(1 / (fit.v + t), fit.X).quad(fit.y)
    for bound, quantile in ((ci.tau2_low, 0.975), (ci.tau2_high, 0.025)):
        if bound > 0:
            crit = stats.chi2.ppf(quantile, df)
            # |Q(t) - crit| <= |dQ/dt| * tol with tol = eps^0.25 ≈ 1.2e-4
            slope = abs(q_at(bound + 1e-6) - q_at(bound - 1e-6)) / 2e-6
            assert abs(q_at(bound) - crit) <= slope * 1.3e-4
    assert ci.tau2_low <= fit.tau2 <= ci.tau2_high
