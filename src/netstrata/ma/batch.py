"""Batched intercept-only τ² estimation (REML, ML, EB) for many datasets at once.

For multiverse / simulation work: ``Y`` and ``V`` are (n, k) arrays holding n datasets, with NaN
padding for datasets with fewer studies. Each row follows exactly metafor's Fisher scoring
(start at max(0, HE), stop when |Δτ²| < 1e-5, at most 100 steps, step halving, and the
log-likelihood check at τ² = 0 for ML/REML) but all rows advance together in NumPy; a row stops
changing once it has converged. Results agree with :func:`netstrata.ma.fit.rma_fit` up to the
last bits of floating-point summation order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .estimators import LOG2PI, MAXITER, THRESHOLD
from .zeroin import R_TOL

__all__ = ["BatchFit", "rma_batch"]


@dataclass(frozen=True, slots=True, eq=False)
class BatchFit:
    """Per-dataset results (arrays of length n); Wald (z) intervals; NaN where not converged."""

    k: np.ndarray
    tau2: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    method: str


def _step(method, ymc, v, m, tau2, k):
    """Vectorised Fisher step (see estimators._fisher_step_int), one row per dataset."""
    w = m / (v + tau2[:, None])
    s1 = w.sum(axis=1)
    e = ymc - ((w * ymc).sum(axis=1) / s1)[:, None]
    we = w * e
    if method == "EB":
        return ((we * e).sum(axis=1) * k / (k - 1) - k) / s1
    w2 = w * w
    s2 = w2.sum(axis=1)
    if method == "ML":
        return ((we * we).sum(axis=1) - s1) / s2
    r = s2 / s1
    return ((we * we).sum(axis=1) - (s1 - r)) / (s2 - 2.0 * (w2 * w).sum(axis=1) / s1 + r * r)


def _loglik(ymc, v, m, tau2, k, reml):
    w = m / (v + tau2[:, None])
    s1 = w.sum(axis=1)
    e = ymc - ((w * ymc).sum(axis=1) / s1)[:, None]
    ll = -0.5 * (k - 1 if reml else k) * LOG2PI - 0.5 * (m * np.log(v + tau2[:, None])).sum(axis=1) \
        - 0.5 * (w * e * e).sum(axis=1)
    return ll - 0.5 * np.log(s1) if reml else ll


def rma_batch(Y, V, method: str = "REML", level: float = 0.95) -> BatchFit:
    """Fit intercept-only random-effects models to each row of ``Y``/``V`` (NaN = no study).

    Parameters
    ----------
    Y, V : array-like (n, k)
        Effects and sampling variances; NaN marks padding. Every row needs >= 2 studies.
    method : {'REML', 'ML', 'EB'}
    level : float
        Confidence level of the Wald intervals.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    V = np.atleast_2d(np.asarray(V, dtype=float))
    m = (np.isfinite(Y) & np.isfinite(V)).astype(float)
    k = m.sum(axis=1)
    y = np.where(m > 0, Y, 0.0)
    v = np.where(m > 0, V, 1.0)
    ymc = (y - (y.sum(axis=1) / k)[:, None]) * m
    # HE start: (y'(I - 11'/k)y - tr((I - 11'/k)V)) / (k - 1), truncated at 0
    tau2 = np.maximum(0.0, ((ymc * ymc).sum(axis=1) - (v * m).sum(axis=1) * (1 - 1 / k)) / (k - 1))
    active = np.ones(tau2.size, dtype=bool)
    converged = np.ones(tau2.size, dtype=bool)
    iterations = np.zeros(tau2.size, dtype=int)
    for it in range(1, MAXITER + 2):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        t = tau2[idx]
        adj = np.nan_to_num(_step(method, ymc[idx], v[idx], m[idx], t, k[idx]), nan=0.0)
        while np.any(t + adj < 0.0):
            adj = np.where(t + adj < 0.0, adj / 2.0, adj)
        new = t + adj
        tau2[idx] = new
        iterations[idx] = it
        done = np.abs(t - new) <= THRESHOLD
        if it > MAXITER:  # as metafor: step 101 marks non-convergence whatever its change
            converged[idx] = False
            done[:] = True
        active[idx[done]] = False
    if method in ("ML", "REML"):
        reml = method == "REML"
        chk = converged & (tau2 > THRESHOLD)
        if np.any(chk):
            ll0 = _loglik(ymc[chk], v[chk], m[chk], np.zeros(chk.sum()), k[chk], reml)
            ll1 = _loglik(ymc[chk], v[chk], m[chk], tau2[chk], k[chk], reml)
            tau2[np.flatnonzero(chk)[ll0 - ll1 > R_TOL]] = 0.0
    w = m / (v + tau2[:, None])
    s1 = w.sum(axis=1)
    est = (w * y).sum(axis=1) / s1
    se = 1.0 / np.sqrt(s1)
    crit = -special.ndtri((1.0 - level) / 2.0)
    est = np.where(converged, est, np.nan)
    return BatchFit(k=k.astype(int), tau2=np.where(converged, tau2, np.nan), estimate=est,
                    se=np.where(converged, se, np.nan), ci_low=est - crit * se, ci_high=est + crit * se,
                    converged=converged, iterations=iterations, method=method)
