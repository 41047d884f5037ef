"""netstrata._dist against scipy.stats: the same bits on a grid that includes the edges
(out-of-support arguments, q of 0 and 1, NaN, df <= 0 and infinite df)."""
import warnings

import numpy as np
import pytest
import scipy.stats as st

from netstrata import _dist

X = np.array([-np.inf, -40, -3.5, -1, -0.0, 0.0, 1e-300, 0.3, 1, 1.959963984540054, 2.5, 40, np.inf, np.nan])
Q = np.array([-0.1, 0.0, 1e-300, 0.025, 0.05, 0.5, 0.975, 1 - 1e-16, 1.0, 1.1, np.nan])
DF = np.array([-1, 0, 0.5, 1, 2, 3.7, 10, 1e6, np.inf, np.nan])


def _same(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=True), np.argwhere(~((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("name", ["cdf", "sf", "ppf", "isf"])
def test_norm_matches_scipy_stats(name):
    args = Q if name in ("ppf", "isf") else X
    _same(getattr(_dist, f"norm_{name}")(args), getattr(st.norm, name)(args))
    for v in args:                                   # scalars: NumPy float64 scalars, same bits
        got, want = getattr(_dist, f"norm_{name}")(float(v)), getattr(st.norm, name)(float(v))
        assert isinstance(got, np.floating) and np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("dist", ["t", "chi2"])
@pytest.mark.parametrize("name", ["cdf", "sf", "ppf", "isf"])
def test_t_and_chi2_match_scipy_stats(dist, name):
    args = Q if name in ("ppf", "isf") else X
    a, df = np.meshgrid(args, DF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = getattr(getattr(st, dist), name)(a, df)
        got = getattr(_dist, f"{dist}_{name}")(a, df)
        _same(got, want)
        assert isinstance(getattr(_dist, f"{dist}_{name}")(0.3, 4.0), np.floating)


def test_z_quantile_is_the_normal_quantile():
    assert _dist.z_quantile(0.95) == float(st.norm.ppf(0.975)) == 1.959963984540054
