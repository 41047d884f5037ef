"""Direct (pairwise) evidence inside a network fit (netmeta nma.ruecker 'direct treatment estimates').

For every pair of treatments compared head to head, an inverse-variance pooled estimate over the
study rows of that pair (multi-arm rows taken as they are, with their original se), with
``tau`` added for the random effects model, plus its Q, tau² (DL or REML) and I².
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from ..ma import pairwise

__all__ = ["direct_matrices", "pairwise_tau2_reml"]


def pairwise_tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """Exact REML tau² of a pairwise random effects model (root of the REML score; Harville 1977)."""
    if len(y) < 2:
        return np.nan

    def score(t2):
        w = 1.0 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        r = y - mu
        return np.sum(w * w * r * r) - np.sum(w) + np.sum(w * w) / np.sum(w)

    if score(0.0) <= 0:
        return 0.0
    hi = max(1.0, np.var(y) * 10)
    while score(hi) > 0:
        hi *= 10
    return brentq(score, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)


def direct_matrices(t1, t2, te, se, n: int, tau2: float, method: str) -> dict[str, np.ndarray]:
    """n × n matrices TE, seTE (common and with tau2), Q, tau2, I2 (fraction); NaN off-evidence.

    Cell [i, j] is i versus j (TE antisymmetric, the others symmetric).
    """
    out = {k: np.full((n, n), np.nan) for k in ("te", "se", "te_random", "se_random", "q", "tau2", "i2")}
    key = t1 * n + t2
    for kk in np.unique(key):
        i, j = divmod(int(kk), n)
        sel = key == kk
        y, v = te[sel], se[sel] ** 2
        for suffix, add in (("", 0.0), ("_random", tau2 if np.isfinite(tau2) else 0.0)):
            w = 1.0 / (v + add)
            est = np.sum(w * y) / np.sum(w)
            out["te" + suffix][i, j], out["te" + suffix][j, i] = est, -est
            out["se" + suffix][i, j] = out["se" + suffix][j, i] = np.sqrt(1.0 / np.sum(w))
        w = 1.0 / v
        q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
        k = len(y)
        if k > 1:
            if method == "REML":
                # meta's metagen(method.tau = "REML") runs metafor's rma.uni: same algorithm
                # (Fisher scoring from HE, threshold 1e-5) as netstrata.pairwise, so R's
                # iterate is reproduced rather than the exact optimum
                t2 = pairwise(y, v, method="REML").tau2
            else:
                t2 = max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w * w) / np.sum(w)))
            i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
        else:
            t2 = i2 = np.nan
        out["q"][i, j] = out["q"][j, i] = q
        out["tau2"][i, j] = out["tau2"][j, i] = t2
        out["i2"][i, j] = out["i2"][j, i] = i2
    return out
