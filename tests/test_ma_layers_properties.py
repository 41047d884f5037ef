"""Property tests of the evidence layers: order invariance, identities, and the no-RCT rule."""
from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from netstrata.ma import pairwise
from netstrata.ma.layers import combine_layers

APPROACH_KW = {"separate": {}, "subgroup": {}, "moderator": {}, "downweight": {"inflation": 2.5, "shift": -0.2}}


@st.composite
def layered_data(draw, min_rct=1, min_nrs=1):
    """k studies with effects in (-3, 3), variances in (0.01, 1) and at least min_* of each design."""
    k_rct = draw(st.integers(min_rct, 6))
    k_nrs = draw(st.integers(min_nrs, 6))
    k = k_rct + k_nrs
    y = np.array(draw(st.lists(st.floats(-3, 3), min_size=k, max_size=k)))
    v = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))
    d = np.array(["RCT"] * k_rct + ["NRS_comparative"] * k_nrs)
    perm = np.array(draw(st.permutations(range(k))))
    return y, v, d, perm


def _quiet(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return combine_layers(*args, **kw)


@settings(max_examples=40, deadline=None)
@given(data=layered_data(), approach=st.sampled_from(sorted(APPROACH_KW)), method=st.sampled_from(["DL", "REML"]))
def test_layers_property_permuting_studies_changes_nothing(data, approach, method):
    y, v, d, p = data
    a = _quiet(y, v, d, approach=approach, method=method, **APPROACH_KW[approach])
    b = _quiet(y[p], v[p], d[p], approach=approach, method=method, **APPROACH_KW[approach])
    assert a.to_frame().equals(b.to_frame())
    # the same data in the same analysis order (identical studies may swap places)
    assert np.array_equal(y[a.order], y[p][b.order]) and np.array_equal(v[a.order], v[p][b.order])


@settings(max_examples=40, deadline=None)
@given(data=layered_data(), method=st.sampled_from(["FE", "DL", "REML", "PM"]))
def test_layers_property_inflation1_shift0_pools_all_studies(data, method):
    y, v, d, _ = data
    res = _quiet(y, v, d, approach="downweight", inflation=1, shift=0, method=method)
    every = pairwise(y[res.order], v[res.order], method=method) if y.size > 1 else None
    if every is not None:
        assert (res.combined.estimate, res.combined.tau2) == (every.estimate, every.tau2)
    assert res.combined.k == y.size


@settings(max_examples=40, deadline=None)
@given(data=layered_data(), inflation=st.floats(1.0, 1e6))
def test_layers_property_fe_downweighted_estimate_lies_between_rct_and_all(data, inflation):
    """FE: the combined mean is a weighted mean of the RCT and NRS means with the NRS weight
    divided by the inflation, so it moves from 'all pooled' (inflation 1) towards the RCT mean."""
    y, v, d, _ = data
    res = _quiet(y, v, d, approach="downweight", inflation=inflation, method="FE")
    every = _quiet(y, v, d, approach="downweight", inflation=1.0, method="FE").combined.estimate
    lo, hi = sorted((res.rct.estimate, every))
    assert lo - 1e-12 <= res.combined.estimate <= hi + 1e-12


@settings(max_examples=30, deadline=None)
@given(data=layered_data(min_rct=0), approach=st.sampled_from(sorted(APPROACH_KW)))
def test_layers_property_no_combined_without_rct(data, approach):
    y, v, d, _ = data
    nrs = d == "NRS_comparative"
    res = _quiet(y[nrs], v[nrs], d[nrs], approach=approach, **APPROACH_KW[approach])
    assert res.combined is None and res.rct is None and res.fallback == "nrs"
    assert res.layers == ("nrs",)


@settings(max_examples=30, deadline=None)
@given(data=layered_data())
def test_layers_property_q_between_is_the_squared_z_of_the_difference(data):
    y, v, d, _ = data
    c = _quiet(y, v, d, approach="subgroup", method="DL").comparison
    # atol: when both layers give the same estimate, Q and z² are 0 up to round-off (seen: 2.6e-34 vs 0)
    assert_allclose(c.q, (c.difference / c.se) ** 2, rtol=1e-10, atol=1e-20)
    assert_allclose(c.q_pvalue, c.pvalue, rtol=1e-8, atol=1e-300)
