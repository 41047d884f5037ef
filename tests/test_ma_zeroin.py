"""R's uniroot (Brent's zeroin as in R's C source) re-implemented in netstrata.ma.zeroin."""
from __future__ import annotations

import math

import numpy as np
import pytest

from netstrata.ma.zeroin import R_TOL, uniroot


def test_uniroot_tolerance_is_eps_to_the_quarter():
    assert R_TOL == np.finfo(float).eps ** 0.25


@pytest.mark.parametrize("f,lo,hi,root", [
    (lambda x: x**2 - 2, 0.0, 2.0, math.sqrt(2)),
    (lambda x: math.cos(x) - x, 0.0, 1.0, 0.7390851332151607),
    (lambda x: x**3 - x - 1, 1.0, 2.0, 1.324717957244746),
])
def test_uniroot_finds_root_within_tolerance(f, lo, hi, root):
    res = uniroot(f, lo, hi)
    assert res.converged and abs(res.root - root) < R_TOL
    precise = uniroot(f, lo, hi, tol=1e-14)
    assert precise.root == pytest.approx(root, abs=1e-13)


def test_uniroot_root_at_end_point_returns_it_without_iterating():
    res = uniroot(lambda x: x - 1.0, 1.0, 3.0)
    assert res.root == 1.0 and res.iterations == 0


def test_uniroot_same_sign_refused_as_r():
    with pytest.raises(ValueError, match="opposite sign"):
        uniroot(lambda x: x**2 + 1, -1.0, 1.0)


def test_uniroot_maxiter_exhausted_is_reported():
    res = uniroot(lambda x: x**3 - 2.0, 0.0, 1e6, tol=1e-15, maxiter=3)
    assert not res.converged and res.iterations == 3


def test_uniroot_iterates_differ_from_plain_bisection():
    """Brent interpolates: far fewer evaluations than bisection to eps^0.25 on [0, 100]."""
    calls = []
    uniroot(lambda x: calls.append(x) or (x - 3.3), 0.0, 100.0)
    assert len(calls) < 10  # bisection would need ~log2(100/1.2e-4) ≈ 20
