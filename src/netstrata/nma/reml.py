"""REML estimate of the network tau² exactly as netmeta 2.9-0 obtains it from metafor::rma.mv.

netmeta (netmeta.R, "method.tau = REML") builds a reduced contrast data set: within each study
only the comparisons with the study's baseline are kept (the network reference if the study has
it, otherwise the study's last treatment in sorted order), oriented "other vs baseline".  It then
calls ``rma.mv(yi, V, mods = contrasts - 1, random = ~ factor(comparison) | studlab, rho = 0.5,
method = "REML")``: a compound-symmetry random effect per study with a common tau² and a fixed
correlation of 0.5 between different comparisons of one study.  With arm-level input netmeta's
V has the shared baseline arm's variance as the within-study covariance (calcV); netstrata
recovers that covariance from the pairwise variances (identical for consistent input).  Given
contrasts alone netmeta uses a diagonal V, and so does netstrata (``covariance=False``).

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

__all__ = ["reml_design", "reml_tau2", "reml_score"]


def reml_design(study: np.ndarray, t1: np.ndarray, t2: np.ndarray, te: np.ndarray,
                var: np.ndarray, n: int, reference: int, covariance: bool = True, full: bool = False):
    """Reduced data (y, X, V blocks, K blocks) of netmeta's rma.mv call (blocks = studies, rows
    of a study contiguous, in study order).

    Rows are kept per study in the order given (netmeta's own order); ``reference`` is netmeta's
    reference index (the first treatment).  ``K`` is the random-effects correlation pattern
    (1 on the diagonal, 0.5 between different comparisons of one study).  The covariance of two
    kept comparisons of a multi-arm study is the variance of their shared baseline arm,
    recovered from the pairwise variances as ``(v_ab + v_ac - v_bc) / 2``: identical to netmeta's
    calcV for arm-level input; ``covariance=False`` gives netmeta's diagonal V for contrasts
    alone.  (A study whose block is not positive definite falls back to diagonal.)  ``X`` has
    n - 1 columns (the last treatment dropped, netmeta's parametrisation), or all n with ``full``.
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
        if covariance and len(keep) > 1:
            pair = {(min(a, b), max(a, b)): var[i] for i, a, b in zip(r, t1[r], t2[r])}
            for i in range(len(keep)):
                for j in range(i + 1, len(keep)):
                    a, b = other[i], other[j]
                    c = 0.5 * (var[keep[i]] + var[keep[j]] - pair[(min(a, b), max(a, b))])
                    Vs[i, j] = Vs[j, i] = c
            if np.linalg.eigvalsh(Vs)[0] <= 0:
                Vs = np.diag(var[keep])
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
    return y, (X if full else X[:, :-1]), blocks_v, blocks_k


class _Blocks:
    """y, X, V, K split into batched study blocks, so Σ = V + tau² K is inverted per study."""

    def __init__(self, y, X, V_blocks, K_blocks):
        sizes = np.array([b.shape[0] for b in V_blocks])
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        self.groups = []
        for b in np.unique(sizes):
            which = np.flatnonzero(sizes == b)
            idx = starts[which][:, None] + np.arange(b)
            Vb = np.stack([V_blocks[i] for i in which])
            Kb = np.stack([K_blocks[i] for i in which])
            self.groups.append((y[idx], X[idx], Vb, Kb))

    def score(self, tau2: float) -> float:
        p = self.groups[0][1].shape[2]
        XtSiX = np.zeros((p, p)); XtSiy = np.zeros(p); M = np.zeros((p, p)); tr = 0.0
        parts = []
        for yb, Xb, Vb, Kb in self.groups:
            Si = np.linalg.inv(Vb + tau2 * Kb)
            SiX = Si @ Xb
            Siy = np.einsum("sij,sj->si", Si, yb)
            XtSiX += np.einsum("sij,sik->jk", Xb, SiX)
            XtSiy += np.einsum("sij,si->j", Xb, Siy)
            M += np.einsum("sij,sik,skl->jl", SiX, Kb, SiX)
            tr += float(np.einsum("sij,sji->", Si, Kb))
            parts.append((SiX, Siy, Kb))
        beta = np.linalg.solve(XtSiX, XtSiy)
        tr -= float(np.trace(np.linalg.solve(XtSiX, M)))
        quad = 0.0
        for SiX, Siy, Kb in parts:
            Py = Siy - SiX @ beta
            quad += float(np.einsum("si,sij,sj->", Py, Kb, Py))
        return 0.5 * (quad - tr)


def reml_score(tau2: float, y, X, V_blocks, K_blocks) -> float:
    """d logL_REML / d tau² = ½ (yᵀ P K P y - tr(P K)), P = Σ⁻¹ - Σ⁻¹X(XᵀΣ⁻¹X)⁻¹XᵀΣ⁻¹.

    tr(P K) = tr(Σ⁻¹K) - tr((XᵀΣ⁻¹X)⁻¹ XᵀΣ⁻¹ K Σ⁻¹X); Σ is block diagonal by study.
    """
    return _Blocks(y, X, V_blocks, K_blocks).score(tau2)


def reml_tau2(y, X, V_blocks, K_blocks) -> float:
    """Maximiser of the restricted likelihood over tau² ≥ 0 (0 if the score at 0 is ≤ 0).

    ``V_blocks`` / ``K_blocks``: per-study blocks of V and K, in the row order of y and X.
    """
    blocks = _Blocks(y, X, V_blocks, K_blocks)
    if blocks.score(0.0) <= 0:
        return 0.0
    hi = max(1.0, float(np.var(y)) * 10)
    while blocks.score(hi) > 0:
        hi *= 10
        if hi > 1e12:
            return float("inf")
    from scipy.optimize import brentq  # here, not at the top: scipy.optimize costs ~0.1 s to import
    return brentq(blocks.score, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
