"""R's ``uniroot``: Brent's zeroin exactly as in R's C source (``R_zeroin2``).

metafor's Paule-Mandel estimator and the Q-profile confidence interval call ``uniroot`` with
``tol = .Machine$double.eps^0.25``. Any other root finder (e.g. ``scipy.optimize.brentq``) stops
at a different iterate and gives a τ² differing around the 4th decimal, so parity with R needs
the very same sequence of iterates. This module re-implements the algorithm of R's
``src/library/stats/src/zeroin.c`` (Brent 1973, as translated by Forsythe, Malcolm & Moler 1977).

References
----------
Brent, R. P. (1973). *Algorithms for Minimization without Derivatives*. Prentice-Hall.
Forsythe, G. E., Malcolm, M. A. & Moler, C. B. (1977). *Computer Methods for Mathematical
Computations*. Prentice-Hall.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["R_TOL", "RootResult", "uniroot", "zeroin2"]

EPSILON = float(np.finfo(float).eps)
#: ``.Machine$double.eps^0.25``, uniroot's default tolerance as used by metafor.
R_TOL = EPSILON ** 0.25


@dataclass(frozen=True, slots=True)
class RootResult:
    """A root found by :func:`uniroot` (``converged`` False when ``maxiter`` was exhausted)."""

    root: float
    f_root: float
    iterations: int
    estim_prec: float
    converged: bool


def zeroin2(f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float,
            tol: float, maxit: int) -> tuple[float, int, float]:
    """Brent's root finder; returns ``(root, iterations, precision)``.

    Same steps as R's ``R_zeroin2`` (``iterations = -1`` and ``precision = -1`` when it fails).
    ``f(ax)`` and ``f(bx)`` are passed in, as R does, and must have opposite signs.
    """
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a, 0, 0.0
    if fb == 0.0:
        return b, 0, 0.0
    count = maxit + 1
    while count:
        count -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):  # swap so that b is the best approximation
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * EPSILON * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b, maxit - count, abs(c - b)
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):  # interpolation may be tried
            cb = c - b
            if a == c:  # linear interpolation
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:  # step not smaller than the tolerance
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b = b + new_step
        fb = float(f(b))
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, -1, -1.0


def uniroot(f: Callable[[float], float], lower: float, upper: float, *, tol: float = R_TOL,
            maxiter: int = 1000) -> RootResult:
    """Root of ``f`` in ``[lower, upper]`` exactly as R's ``uniroot(f, c(lower, upper), tol=, maxiter=)``.

    Raises ``ValueError`` when ``f(lower)`` and ``f(upper)`` have the same sign (R stops too).
    """
    f_lower, f_upper = float(f(lower)), float(f(upper))
    if np.isnan(f_lower) or np.isnan(f_upper):
        raise ValueError("f() value at an end point is NA")
    if f_lower * f_upper > 0:
        raise ValueError("f() values at end points not of opposite sign")
    root, iterations, prec = zeroin2(f, lower, upper, f_lower, f_upper, tol, maxiter)
    converged = iterations >= 0
    return RootResult(root=root, f_root=float(f(root)), iterations=iterations if converged else maxiter,
                      estim_prec=prec, converged=converged)
