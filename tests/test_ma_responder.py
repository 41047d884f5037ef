"""Responder helpers: NNT with Altman's (1998) interval (doi:10.1136/bmj.317.7168.1309), MID units.

Hand values follow the paper's rules: NNT = 1/|ARR|; the interval limits are the reciprocals of
the risk-difference limits; when the risk-difference interval includes 0 the NNT interval is
"NNTH a to ∞ to NNTB b".
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from netstrata.errors import ParameterError
from netstrata.ma.responder import mid_units, nnt, nnt_from_counts

CLOSED = 1e-10


def test_nnt_benefit_interval_excluding_zero():
    res = nnt(0.1, ci_low=0.04, ci_high=0.25)
    assert res.kind == "NNTB" and not res.through_infinity
    assert_allclose([res.nnt, res.ci_low, res.ci_high], [10.0, 4.0, 25.0], rtol=CLOSED)
    assert res.ci_low_kind == res.ci_high_kind == "NNTB"
    assert res.text == "NNTB 10.0 (95% CI NNTB 4.0 to NNTB 25.0)"


def test_nnt_interval_through_infinity():
    """Altman's case: the RD interval (-0.02, 0.25) includes 0 → NNTH 50 to ∞ to NNTB 4."""
    res = nnt(0.1, ci_low=-0.02, ci_high=0.25)
    assert res.through_infinity
    assert (res.ci_low_kind, res.ci_high_kind) == ("NNTH", "NNTB")
    assert_allclose([res.ci_low, res.ci_high], [50.0, 4.0], rtol=CLOSED)
    assert res.text == "NNTB 10.0 (95% CI NNTH 50.0 to ∞ to NNTB 4.0)"


def test_nnt_harm_when_risk_difference_negative_for_beneficial_outcome():
    res = nnt(-0.05, ci_low=-0.08, ci_high=-0.02)
    assert res.kind == "NNTH"
    assert_allclose([res.nnt, res.ci_low, res.ci_high], [20.0, 12.5, 50.0], rtol=CLOSED)


def test_nnt_harmful_outcome_flips_meaning():
    """More adverse events on treatment (rd > 0, outcome harmful) is an NNTH."""
    res = nnt(0.05, ci_low=0.01, ci_high=0.09, outcome="harmful")
    assert res.kind == "NNTH" and res.ci_low_kind == "NNTH"
    assert_allclose([res.nnt, res.ci_low, res.ci_high], [20.0, 1 / 0.09, 100.0], rtol=CLOSED)
    fewer = nnt(-0.05, ci_low=-0.09, ci_high=0.01, outcome="harmful")
    assert fewer.kind == "NNTB" and fewer.through_infinity
    assert_allclose([fewer.ci_low, fewer.ci_high], [100.0, 1 / 0.09], rtol=CLOSED)
    assert (fewer.ci_low_kind, fewer.ci_high_kind) == ("NNTH", "NNTB")


def test_nnt_limit_at_zero_is_infinite():
    res = nnt(0.1, ci_low=0.0, ci_high=0.2)
    assert not res.through_infinity and math.isinf(res.ci_high) and res.ci_low == 5.0
    assert res.text.endswith("NNTB 5.0 to NNTB ∞)")
    zero = nnt(0.0, ci_low=-0.1, ci_high=0.1)
    assert math.isinf(zero.nnt) and zero.kind == "none" and zero.through_infinity


def test_nnt_from_se_uses_wald_interval():
    z = stats.norm.ppf(0.975)
    res = nnt(0.12, se=0.03)
    assert_allclose([res.rd_ci_low, res.rd_ci_high], [0.12 - z * 0.03, 0.12 + z * 0.03], rtol=CLOSED)
    assert_allclose([res.ci_low, res.ci_high], [1 / (0.12 + z * 0.03), 1 / (0.12 - z * 0.03)], rtol=CLOSED)


def test_nnt_without_interval():
    res = nnt(0.25)
    assert res.nnt == 4.0 and math.isnan(res.ci_low) and res.text == "NNTB 4.0"


def test_nnt_from_counts_hand_values():
    res = nnt_from_counts(30, 100, 20, 100)
    se = math.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    z = stats.norm.ppf(0.975)
    assert_allclose(res.rd, 0.1, rtol=CLOSED)
    assert_allclose([res.rd_ci_low, res.rd_ci_high], [0.1 - z * se, 0.1 + z * se], rtol=CLOSED)
    assert res.through_infinity and res.kind == "NNTB"


@settings(max_examples=80, deadline=None)
@given(st.floats(-0.9, 0.9), st.floats(0.001, 0.09), st.floats(0.001, 0.09))
def test_nnt_limits_are_reciprocals_of_rd_limits(rd, below, above):
    res = nnt(rd, ci_low=rd - below, ci_high=rd + above)
    got = sorted([res.ci_low, res.ci_high])
    want = sorted([math.inf if v == 0 else 1 / abs(v) for v in (rd - below, rd + above)])
    assert_allclose(got, want, rtol=1e-12)
    assert res.through_infinity == (rd - below < 0 < rd + above)


def test_nnt_repr_and_summary():
    res = nnt(0.1, ci_low=-0.02, ci_high=0.25)
    assert repr(res) == "NntResult(NNTB 10.0 (95% CI NNTH 50.0 to ∞ to NNTB 4.0), rd=0.1000)"
    frame = res.summary().to_frame()
    assert list(frame.index) == ["risk difference", "NNT"]


@pytest.mark.parametrize("kwargs,needle", [
    (dict(rd=1.5), "'rd'.*\\[-1, 1\\]"),
    (dict(rd=0.1, ci_low=0.2, ci_high=0.3), "contain the estimate"),
    (dict(rd=0.1, ci_low=0.05), "both 'ci_low' and 'ci_high'"),
    (dict(rd=0.1, se=0.01, ci_low=0.0, ci_high=0.2), "either 'se'"),
    (dict(rd=0.1, se=-0.01), "'se'.*non-negative"),
    (dict(rd=0.1, outcome="good"), "'outcome'"),
    (dict(rd=[0.1, 0.2]), "single number"),
])
def test_nnt_bad_arguments_are_refused(kwargs, needle):
    with pytest.raises(ParameterError, match=needle):
        nnt(**kwargs)


def test_nnt_from_counts_bad_counts_are_refused():
    with pytest.raises(ParameterError, match="'events'.*position 0 is 12 with n = 10"):
        nnt_from_counts(12, 10, 3, 10)


# ------------------------------------------------------------------ MID units

def test_mid_units_scalar_with_interval():
    res = mid_units(-1.8, mid=1.5, ci_low=-2.4, ci_high=-1.2)
    assert_allclose([res.effect_mid[0], res.ci_low_mid[0], res.ci_high_mid[0]], [-1.2, -1.6, -0.8], rtol=CLOSED)
    assert repr(res) == "MidUnits(mid=1.5, effect_mid=-1.2000 [-1.6000, -0.8000])"


def test_mid_units_vector_with_se():
    z = stats.norm.ppf(0.975)
    res = mid_units([-1.8, 0.3], mid=1.5, se=[0.3, 0.2])
    assert_allclose(res.ci_low_mid, (np.array([-1.8, 0.3]) - z * np.array([0.3, 0.2])) / 1.5, rtol=CLOSED)
    assert res.summary().to_frame().shape == (2, 6)


@pytest.mark.parametrize("kwargs,needle", [
    (dict(effect=1.0, mid=0.0), "'mid'.*positive"),
    (dict(effect=1.0, mid=-1.5), "'mid'.*positive"),
    (dict(effect=[1.0, 2.0], mid=1.5, se=[0.1]), "same length"),
    (dict(effect=[], mid=1.5), "empty"),
    (dict(effect=1.0, mid=1.5, ci_low=1.2, ci_high=2.0), "contain the estimate"),
])
def test_mid_units_bad_arguments_are_refused(kwargs, needle):
    with pytest.raises(ParameterError, match=needle):
        mid_units(**kwargs)
