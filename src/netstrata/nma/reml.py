"""REML estimate of the network tau² exactly as netmeta 2.9-0 obtains it from metafor::rma.mv.

netmeta (netmeta.R, "method.tau = REML") builds a reduced contrast data set: within each study
only the comparisons with the study's baseline are kept (the network reference if the study has
it, otherwise the study's last treatment in sorted order), oriented "other vs baseline".  It then
calls ``rma.mv(yi, V, mods = contrasts - 1, random = ~ factor(comparison) | studlab, rho = 0.5,
method = "REML")``: a compound-symmetry random effect per study with a common tau² and a fixed
correlation of 0.5 between different comparisons of one study.  V holds the sampling variances
(diagonal) unless arm-level information is available (then the shared baseline arm's variance is
the within-study covariance; netmeta calcV).

rma.mv maximises the restricted likelihood with nlminb; we solve the score equation of the same
one-parameter likelihood with Brent's method to machine precision, so the optimum, not the
optimiser's path, is reproduced.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw 36(3).
doi:10.18637/jss.v036.i03
Harville DA (1977). Maximum likelihood approaches to variance component estimation. JASA 72:320-338.
doi:10.1080/01621459.1977.10480998
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import brentq

__all__ = ["reml_design", "reml_tau2", "reml_score"]


def reml_design(study: np.ndarray, t1: np.ndarray, t2: np.ndarray, te: np.ndarray,
                var: np.ndarray, n: int, reference: int, cov_from_arms: bool):
    """Reduced data (y, X, V, K) of netmeta's rma.mv call.

    Rows are kept per study in the order given (netmeta's own order); ``reference`` is netmeta's
    reference index (the first treatment).  ``K`` is the random-effects correlation pattern
    (1 on the diagonal, 0.5 between different comparisons of one study).  With
    ``cov_from_arms`` the covariance of two kept comparisons of a study is the variance of their
    shared baseline arm, recovered from the pairwise variances as
    ``(v_ab + v_ac - v_bc) / 2`` (identical to netmeta calcV when the pairwise variances come
    from arm-level data).
    """
    ys, rows_t, base_t, blocks_v, blocks_k = [], [], [], [], []
    for s in np.unique(study):
        r = np.flatnonzero(study == s)
        arms = np.unique(np.r_[t1[r], t2[r]])
        base = reference if reference in arms else arms[-1]
        keep = r[(t1[r] == base) | (t2[r] == base)]
        other = np.where(t1[keep] == base, t2[keep], t1[keep])
        y = np.where(t1[keep] == base, -te[keep], te[keep])
        Vs = np.diag(var[keep])
        if cov_from_arms and len(keep) > 1:
            pair = {(min(a, b), max(a, b)): var[i] for i, a, b in zip(r, t1[r], t2[r])}
            for i in range(len(keep)):
                for j in range(i + 1, len(keep)):
                    a, b = other[i], other[j]
                    c = 0.5 * (var[keep[i]] + var[keep[j]] - pair[(min(a, b), max(a, b))])
                    Vs[i, j] = Vs[j, i] = c
        Ks = np.full((len(keep), len(keep)), 0.5)
        np.fill_diagonal(Ks, 1.0)
        ys.append(y)
        rows_t.append(other)
        base_t.append(np.full(len(keep), base))
        blocks_v.append(Vs)
        blocks_k.append(Ks)
    y = np.concatenate(ys)
    other = np.concatenate(rows_t)
    base = np.concatenate(base_t)
    X = np.zeros((len(y), n))
    X[np.arange(len(y)), other] = 1.0
    X[np.arange(len(y)), base] = -1.0
    X = X[:, :-1]
    return y, X, _block_diag(blocks_v), _block_diag(blocks_k)


def _block_diag(blocks):
    size = sum(b.shape[0] for b in blocks)
    out = np.zeros((size, size))
    i = 0
    for b in blocks:
        k = b.shape[0]
        out[i:i + k, i:i + k] = b
        i += k
    return out


def reml_score(tau2: float, y, X, V, K) -> float:
    """d logL_REML / d tau² = ½ (yᵀ P K P y - tr(P K)), P = Σ⁻¹ - Σ⁻¹X(XᵀΣ⁻¹X)⁻¹XᵀΣ⁻¹.

    tr(P K) = tr(Σ⁻¹K) - tr((XᵀΣ⁻¹X)⁻¹ XᵀΣ⁻¹ K Σ⁻¹X), so P itself is never formed.
    """
    S = cho_factor(V + tau2 * K)
    Si_X = cho_solve(S, X)
    Si_y = cho_solve(S, y)
    XtSiX = X.T @ Si_X
    Py = Si_y - Si_X @ np.linalg.solve(XtSiX, Si_X.T @ y)
    tr = np.trace(cho_solve(S, K)) - np.trace(np.linalg.solve(XtSiX, Si_X.T @ K @ Si_X))
    return 0.5 * (float(Py @ K @ Py) - float(tr))


def reml_tau2(y, X, V, K) -> float:
    """Maximiser of the restricted likelihood over tau² ≥ 0 (0 if the score at 0 is ≤ 0)."""
    if reml_score(0.0, y, X, V, K) <= 0:
        return 0.0
    hi = max(1.0, float(np.var(y)) * 10)
    while reml_score(hi, y, X, V, K) > 0:
        hi *= 10
        if hi > 1e12:
            return float("inf")
    return brentq(reml_score, 0.0, hi, args=(y, X, V, K), xtol=1e-15, rtol=4 * np.finfo(float).eps,
                  maxiter=500)
