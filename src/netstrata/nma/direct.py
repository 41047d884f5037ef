"""Direct (pairwise) evidence inside a network fit (netmeta nma.ruecker 'direct treatment estimates').

For every pair of treatments compared head to head, an inverse-variance pooled estimate over the
study rows of that pair (multi-arm rows taken as they are, with their original se), with
``tau`` added for the random effects model, plus its Q, tau² (DL or REML) and I².
"""
from __future__ import annotations

import numpy as np

from ..ma import rma_fit

__all__ = ["direct_matrices", "i2_from_q"]


def i2_from_q(q: float, df: int) -> float:
    """I² = max(0, (Q − df) / Q) as a fraction (meta/netmeta's definition, whatever the τ² method;
    Higgins & Thompson 2002, doi:10.1002/sim.1186); 0 when Q = 0."""
    return max(0.0, (q - df) / q) if q > 0 else 0.0


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
        if len(y) > 1:
            # Q and tau² of the pairwise model (meta's metagen runs metafor's rma.uni: for REML the
            # same Fisher scoring as netstrata.pairwise, so R's iterate is reproduced); I² from Q
            pw = rma_fit(y, v, None, method, False, 0.95)
            q, t2, i2 = pw.q, pw.tau2, i2_from_q(pw.q, len(y) - 1)
        else:
            q, t2, i2 = 0.0, np.nan, np.nan
        out["q"][i, j] = out["q"][j, i] = q
        out["tau2"][i, j] = out["tau2"][j, i] = t2
        out["i2"][i, j] = out["i2"][j, i] = i2
    return out
