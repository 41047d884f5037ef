"""Begg and Mazumdar's rank correlation test for funnel plot asymmetry (metafor 3.8-1 ``ranktest``).

Kendall's tau between the standardized deviates y*_i = (y_i - theta_FE) / sqrt(v_i - v_FE) and
the variances v_i, with R's ``cor.test(..., method = "kendall", exact = TRUE)`` p-value: the
exact permutation distribution when there are no ties, else the normal approximation with the
tie-corrected variance (and a warning, as R warns "Cannot compute exact p-value with ties").

References
----------
Begg CB, Mazumdar M (1994). Biometrics 50(4):1088-1101. doi:10.2307/2533446
Kendall MG (1938). Biometrika 30(1-2):81-93. doi:10.1093/biomet/30.1-2.81
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from ..._dist import norm_cdf, norm_sf

from ..._summary import Summary
from ..._validate import as_float_array, check_same_length
from ...errors import ParameterError, StatisticalWarning
from .regtest import model_inputs

__all__ = ["RankTestResult", "ranktest", "kendall_tau", "kendall_test"]


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------

def begg_deviates(y: np.ndarray, v: np.ndarray) -> np.ndarray:
    """y*_i = (y_i - theta) / sqrt(v_i - v_theta), theta = sum w y / sum w, v_theta = 1/sum w, w = 1/v."""
    w = 1 / v
    theta = np.sum(w * y) / np.sum(w)
    return (y - theta) / np.sqrt(v - 1 / np.sum(w))


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b as R's ``cor(method = "kendall")``: sum over all ordered pairs of
    sign(dx) sign(dy), divided by sqrt(sum sign(dx)^2) sqrt(sum sign(dy)^2)."""
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    nx, ny = np.sum(sx * sx), np.sum(sy * sy)
    if nx == 0 or ny == 0:
        return float("nan")
    return float(min(1.0, np.sum(sx * sy) / (np.sqrt(nx) * np.sqrt(ny))))


@lru_cache(maxsize=64)
def _kendall_counts(n: int) -> tuple[int, ...]:
    """Number of permutations of n items with j inversions (Mahonian numbers), j = 0..n(n-1)/2.

    c_n(j) = sum_{i=0}^{n-1} c_{n-1}(j - i), as R's ``ckendall`` recursion, in exact integers.
    """
    counts = [1]
    for m in range(2, n + 1):
        width = len(counts) + m - 1
        cum = [0]
        for c in counts:
            cum.append(cum[-1] + c)
        new = []
        for j in range(width):
            hi = min(j, len(counts) - 1)
            lo = j - (m - 1)
            new.append(cum[hi + 1] - (cum[lo] if lo > 0 else 0))
        counts = new
    return tuple(counts)


def pkendall(q: float, n: int) -> float:
    """P(T <= q) of Kendall's statistic T (number of concordant pairs) under independence (R's pkendall)."""
    q = np.floor(q + 1e-7)
    if q < 0:
        return 0.0
    if q > n * (n - 1) / 2:
        return 1.0
    counts = _kendall_counts(n)
    # exact integers divided once (R divides its double sums by gamma(n + 1); same to ~1 ulp)
    return sum(counts[: int(q) + 1]) / math.factorial(n)


def _tie_sizes(x: np.ndarray) -> np.ndarray:
    """Sizes of the groups of tied values (R: table(x[duplicated(x)]) + 1)."""
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def kendall_normal(r: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """z statistic and two-sided p-value of tau with the tie-corrected variance of S (R's cor.test).

    S = tau sqrt((T0 - T1)(T0 - T2)); Var S = (v0 - vt - vu)/18 + v1/(2n(n-1)) + v2/(9n(n-1)(n-2)).
    """
    n = x.size
    xt, yt = _tie_sizes(x), _tie_sizes(y)
    t0 = n * (n - 1) / 2
    t1, t2 = np.sum(xt * (xt - 1)) / 2, np.sum(yt * (yt - 1)) / 2
    s = r * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt, vu = np.sum(xt * (xt - 1) * (2 * xt + 5)), np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = s / np.sqrt(var_s)
    return float(z), float(2 * min(norm_cdf(z), norm_sf(z)))


def kendall_exact(r: float, n: int) -> tuple[float, float]:
    """Concordant-pair count q = round((tau + 1) n (n - 1) / 4) and its exact two-sided p-value."""
    q = float(np.round((r + 1) * n * (n - 1) / 4))
    p = 1 - pkendall(q - 1, n) if q > n * (n - 1) / 4 else pkendall(q, n)
    return q, min(2 * p, 1.0)


def kendall_test(x: np.ndarray, y: np.ndarray, exact: bool = True):
    """(tau, statistic, p-value, used_exact, ties) as R's two-sided Kendall ``cor.test``."""
    n = x.size
    ties = min(np.unique(x).size, np.unique(y).size) < n
    r = kendall_tau(x, y)
    if not np.isfinite(r):
        return np.nan, np.nan, np.nan, False, ties
    if exact and not ties:
        q, p = kendall_exact(r, n)
        return r, q, p, True, ties
    z, p = kendall_normal(r, x, y)
    return r, z, p, False, ties


# --------------------------------------------------------------------------------------------
# Result and entry point
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RankTestResult:
    """Begg and Mazumdar's rank correlation test.

    ``kendall_tau`` is Kendall's tau-b between standardized effects and variances;
    ``statistic`` is the concordant-pair count T (``exact=True``) or the z value (normal
    approximation, used with ties); ``ties`` says whether ties were present.
    """

    kendall_tau: float
    statistic: float
    pvalue: float
    k: int
    exact: bool
    ties: bool
    method: str = "Begg-Mazumdar"

    def __repr__(self) -> str:
        kind = "exact" if self.exact else "normal"
        return f"RankTestResult(k={self.k}, kendall_tau={self.kendall_tau:.4f}, pvalue={self.pvalue:.4g}, {kind})"

    def summary(self) -> Summary:
        frame = pd.DataFrame(
            {"kendall_tau": [self.kendall_tau], "statistic": [self.statistic], "pvalue": [self.pvalue],
             "k": [self.k]}, index=["rank correlation test"])
        kind = ("exact permutation p-value (statistic = concordant pairs)" if self.exact
                else "normal approximation (statistic = z)")
        notes = [f"Begg & Mazumdar (1994) doi:10.2307/2533446; {kind}."]
        if self.ties:
            notes.append("Ties among the standardized effects or variances: exact p-value not available.")
        return Summary(title="Rank correlation test for funnel plot asymmetry", frame=frame, notes=tuple(notes))


def ranktest(effect, variance=None, *, exact: bool = True) -> RankTestResult:
    """Begg and Mazumdar's rank correlation test for funnel plot asymmetry (metafor's ``ranktest``).

    Parameters
    ----------
    effect, variance : array-like, or a fitted model and None
        Per-study effects and their sampling variances (variances, not standard errors); or a
        ``PairwiseResult``/``RmaFit`` whose effects and variances are used.
    exact : bool, default=True
        Exact permutation p-value when there are no ties (metafor's default); with ties, or
        ``exact=False``, the normal approximation with tie-corrected variance is used.

    Returns
    -------
    RankTestResult

    Warns
    -----
    StatisticalWarning
        When ``exact=True`` but there are ties (R: "Cannot compute exact p-value with ties").

    Notes
    -----
    The standardized deviates use the common-effect (inverse-variance) mean whatever model was
    fitted, as metafor does: y*_i = (y_i - theta) / sqrt(v_i - 1/sum w).

    References
    ----------
    Begg & Mazumdar (1994) doi:10.2307/2533446.

    Examples
    --------
    >>> res = ranktest([0.1, 0.3, -0.2, 0.5, 0.4], [0.01, 0.04, 0.02, 0.09, 0.05])
    >>> round(res.kendall_tau, 4), round(res.pvalue, 4)
    (0.6, 0.2333)
    """
    caller = "ranktest"
    effect, variance, _, _ = model_inputs(effect, variance, {}, caller)
    y = as_float_array(effect, name="effect", caller=caller)
    v = as_float_array(variance, name="variance", caller=caller, positive=True)
    check_same_length(caller, effect=y, variance=v)
    if y.size < 3:
        raise ParameterError(f"The 'effect' parameter of {caller} needs at least 3 studies; got {y.size}.")
    if not isinstance(exact, (bool, np.bool_)):
        raise ParameterError(f"The 'exact' parameter of {caller} must be True or False. Got {exact!r} instead.")
    # Kendall's tau ignores study order; sorting first makes the floating-point sums (and so
    # which near-equal deviates count as ties) independent of the order the studies came in.
    order = np.lexsort((y, v))
    tau, stat, p, used_exact, ties = kendall_test(begg_deviates(y[order], v[order]), v[order], bool(exact))
    if exact and ties:
        warnings.warn("ranktest: ties among the standardized effects or the variances; the exact p-value "
                      "cannot be computed, so the normal approximation is used (R: 'Cannot compute exact "
                      "p-value with ties').", StatisticalWarning, stacklevel=2)
    return RankTestResult(kendall_tau=tau, statistic=stat, pvalue=p, k=int(y.size), exact=used_exact,
                          ties=bool(ties))
