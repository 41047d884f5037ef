"""Threshold analysis kernels (Phillippo et al. 2018, section 3; nmathresh 0.1.6), plain NumPy.

Notation (K treatments, index 0 = reference, d = d_1..d_{K-1} versus the reference; N data points):

* influence matrix ``H = Σ_post Xᵀ V⁻¹`` (K-1 × N): the change in d when data point n moves by 1;
* contrasts ``d_ab = d_b - d_a`` for a < b in the order (0,1), (0,2), ..., (1,2), ...:
  ``D`` (K(K-1)/2 × K-1) with -1 at a and +1 at b (no column for the reference);
* solution matrix ``U_ab,n = (-d_ab ± mcid) / (D H)_ab,n``: the change to data point n at which
  contrast ab reaches zero (or ±mcid); ``U*`` its rows with the optimal treatment k*;
* the thresholds of data point n are the smallest positive and the largest negative entries of
  its column of U* (``get_int``); the invariant interval is ``y + [lo, hi]``.

An entry of ``D H`` that is 0 in exact arithmetic (a data point that cannot move a contrast) is
~1e-16 in floating point and would give a threshold of ~1e15; entries with ``|D H| < zero_tol``
are set to ±inf in U* (no threshold from that contrast), as the reference's ``*_clean`` analyses.

References
----------
Phillippo DM, Dias S, Ades AE, Didelez V, Welton NJ (2018). Sensitivity of treatment
recommendations to bias in network meta-analysis. J R Stat Soc A 181:843-867. doi:10.1111/rssa.12341
Phillippo DM, Dias S, Welton NJ, Caldwell DM, Taske N, Ades AE (2019). Threshold analysis as an
alternative to GRADE for assessing confidence in guideline recommendations based on network
meta-analyses. Ann Intern Med 170:538-546. doi:10.7326/M18-3542
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["contrast_pairs", "contrast_matrix", "influence", "optimal_set", "kstar_rows", "get_int",
           "ThreshArrays", "nma_thresh", "recon_vcov", "Reconstruction"]


def contrast_pairs(K: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of every contrast d_ab, a < b, in nmathresh's order (d_i2ab)."""
    a, b = np.triu_indices(K, 1)
    return a, b


def contrast_matrix(K: int) -> np.ndarray:
    """D: row ab has -1 at d_a and +1 at d_b (no column for treatment 0, d_0 = 0)."""
    a, b = contrast_pairs(K)
    D = np.zeros((len(a), K))
    D[np.arange(len(a)), a] = -1.0
    D[np.arange(len(a)), b] = 1.0
    return D[:, 1:]


def influence(post: np.ndarray, X: np.ndarray, lhood: np.ndarray) -> np.ndarray:
    """``H = post Xᵀ V⁻¹``; a diagonal V may hold infinite variances (precision 0)."""
    if not np.any(lhood[~np.eye(len(lhood), dtype=bool)]):
        with np.errstate(divide="ignore"):
            prec = 1.0 / np.diag(lhood)
        return post @ (X.T * prec[None, :])
    return post @ np.linalg.solve(lhood, X).T


def optimal_set(mean_dk: np.ndarray, *, opt_max: bool, rank: int, sub: np.ndarray,
                mcid: float, decision_rule: bool) -> np.ndarray:
    """Indices (0 = reference) of k*: the treatment of rank ``rank`` among ``sub`` (d_0 = 0
    counts), or with the MID decision rule the set with ``|d_k| ≥ mcid`` in the good direction
    and within ``mcid`` of the best."""
    d = np.r_[0.0, mean_dk]
    d = np.where(np.isin(np.arange(len(d)), sub), d, np.nan)
    s = 1.0 if opt_max else -1.0      # s·d large is good
    if decision_rule and mcid > 0:
        best = np.nanmax(s * d)
        with np.errstate(invalid="ignore"):
            return np.flatnonzero((s * d >= mcid) & (best - s * d <= mcid))
    order = np.argsort(np.where(np.isnan(d), np.inf, -s * d), kind="stable")
    return order[rank - 1: rank]


def kstar_rows(K: int, kstar: np.ndarray, sub: np.ndarray, decision_rule: bool) -> np.ndarray:
    """Rows of U with k*: exactly one of a, b in k* (both in ``sub``); with the MID decision
    rule, any contrast between k* and ``sub`` (switches within k* matter there)."""
    a, b = contrast_pairs(K)
    ina, inb = np.isin(a, kstar), np.isin(b, kstar)
    sa, sb = np.isin(a, sub), np.isin(b, sub)
    if decision_rule:
        return np.flatnonzero((ina & sb) | (inb & sa))
    return np.flatnonzero((ina ^ inb) & sa & sb)


def _other(pairs: np.ndarray, rows: np.ndarray, kstar: np.ndarray) -> tuple[int, ...]:
    return tuple(int(t) for r in rows for t in pairs[r] if t not in kstar)


def get_int(x: np.ndarray, kstar: np.ndarray, pairs: np.ndarray, *, mcid_rule: bool = False,
            mean_dk=None, infl=None, opt_max: bool = False):
    """(lo, new k* at lo, hi, new k* at hi) of one column ``x`` of U* (nmathresh ``get.int``).

    ``pairs`` (rows of U*, 2 columns) are the contrasts (a, b); new k* are tuples of treatment
    indices (empty: no threshold).  Non-finite entries give no threshold.
    """
    fin = np.isfinite(x)
    if not mcid_rule:
        pos, neg = fin & (x > 0), fin & (x < 0)
        hi = float(np.min(x[pos])) if pos.any() else np.inf
        lo = float(np.max(x[neg])) if neg.any() else -np.inf
        hi_new = _other(pairs, np.flatnonzero(x == hi), kstar) if np.isfinite(hi) else ()
        lo_new = _other(pairs, np.flatnonzero(x == lo), kstar) if np.isfinite(lo) else ()
        return lo, lo_new, hi, hi_new
    lo, lo_new = _mcid_side(x, fin & (x < 0), kstar, pairs, mean_dk, infl, opt_max, -np.inf)
    hi, hi_new = _mcid_side(x, fin & (x > 0), kstar, pairs, mean_dk, infl, opt_max, np.inf)
    return lo, lo_new, hi, hi_new


def _mcid_side(x, mask, kstar, pairs, mean_dk, infl, opt_max, none):
    """One side of the MID decision rule: step outwards through the candidate solutions; a
    contrast with the reference changes the set at once, another only if it involves the best
    treatment at that point (nmathresh get.int, mcid = TRUE)."""
    idx = np.flatnonzero(mask)
    idx = idx[np.argsort(np.abs(x[idx]), kind="stable")]
    dk = np.unique(pairs)
    for i in idx:
        a, b = int(pairs[i, 0]), int(pairs[i, 1])
        if a == 0:
            return float(x[i]), tuple(int(k) for k in kstar if k != b)
        d_thr = np.r_[0.0, mean_dk + x[i] * infl][dk]
        best = dk[d_thr == (d_thr.max() if opt_max else d_thr.min())]
        if a in best or b in best:
            if a in kstar and b in kstar:
                drop = {a, b} - set(best.tolist())
                return float(x[i]), tuple(int(k) for k in kstar if k not in drop)
            add = {a, b} - set(best.tolist())
            return float(x[i]), tuple(sorted(set(int(k) for k in kstar) | add))
    return none, ()


class ThreshArrays(NamedTuple):
    H: np.ndarray           # (K-1, N)
    U: np.ndarray           # (K(K-1)/2, N), raw
    DH: np.ndarray          # (K(K-1)/2, N)
    rows: np.ndarray        # rows of U in U*
    Ukstar: np.ndarray      # U[rows] with |DH| < zero_tol set to inf
    kstar: np.ndarray       # treatment indices
    lo: np.ndarray
    lo_new: tuple
    hi: np.ndarray
    hi_new: tuple


def nma_thresh(mean_dk: np.ndarray, lhood: np.ndarray, post: np.ndarray, X: np.ndarray, *,
               opt_max: bool, rank: int = 1, sub: np.ndarray | None = None, mcid: float = 0.0,
               mcid_type: str = "decision", zero_tol: float = 1e-10) -> ThreshArrays:
    """Thresholds of every data point (nmathresh ``nma_thresh``, FE/marginal model).

    ``mcid_type``: ``"decision"`` (the optimal set is decided by the MID) or ``"change"`` (the
    best treatment, switching only when another is better by at least ``mcid``).
    """
    K = len(mean_dk) + 1
    sub = np.arange(K) if sub is None else np.asarray(sub, int)
    H = influence(post, X, lhood)
    D = contrast_matrix(K)
    contr = D @ mean_dk
    DH = D @ H
    shift = -np.sign(contr) * mcid if mcid_type == "change" else np.sign(contr) * mcid
    with np.errstate(divide="ignore", invalid="ignore"):
        U = (-contr + shift)[:, None] / DH
    rule = mcid > 0 and mcid_type == "decision"
    kstar = optimal_set(mean_dk, opt_max=opt_max, rank=rank, sub=sub, mcid=mcid, decision_rule=rule)
    rows = kstar_rows(K, kstar, sub, rule)
    Uk = np.where(np.abs(DH[rows]) < zero_tol, np.inf, U[rows])
    a, b = contrast_pairs(K)
    pairs = np.c_[a[rows], b[rows]]
    out = [get_int(Uk[:, n], kstar, pairs, mcid_rule=rule, mean_dk=mean_dk, infl=H[:, n], opt_max=opt_max)
           for n in range(H.shape[1])]
    lo, lo_new, hi, hi_new = (list(t) for t in zip(*out)) if out else ([], [], [], [])
    return ThreshArrays(H, U, DH, rows, Uk, kstar, np.array(lo, float), tuple(lo_new), np.array(hi, float),
                        tuple(hi_new))


class Reconstruction(NamedTuple):
    variances: np.ndarray
    precisions: np.ndarray
    rss_total: float
    rss_fixed: float
    rss_fitted: float
    kl_divergence: float


def _precision_system(X: np.ndarray, K: int):
    """R p = s of nmathresh ``recon_vcov``: s = lower triangle (column-major, with diagonal) of
    the likelihood precision XᵀV⁻¹X, p the precisions of the edges (one column per edge)."""
    p = K - 1
    col_of: dict[tuple[int, int], int] = {}
    cols: list[np.ndarray] = []
    R = np.zeros((p * (p + 1) // 2, 0))

    def pos(i, j):              # position of D[i, j] (i ≥ j, 0-based) in the lower triangle
        return j * p - j * (j - 1) // 2 + (i - j)

    for row in X:
        a = np.flatnonzero(row == -1)
        b = np.flatnonzero(row == 1)
        key = (int(a[0]) if len(a) else -1, int(b[0]))
        if key not in col_of:
            col = np.zeros(p * (p + 1) // 2)
            ia, ib = key
            if ia >= 0:
                lo_, hi_ = min(ia, ib), max(ia, ib)
                col[pos(ia, ia)] = col[pos(ib, ib)] = 1.0
                col[pos(hi_, lo_)] = -1.0
            else:
                col[pos(ib, ib)] = 1.0
            col_of[key] = len(cols)
            cols.append(col)
    R = np.column_stack(cols) if cols else R
    return R, np.array([col_of[(int(np.flatnonzero(r == -1)[0]) if np.any(r == -1) else -1,
                                int(np.flatnonzero(r == 1)[0]))] for r in X]), pos


def recon_vcov(post: np.ndarray, X: np.ndarray, *, prior_precision=1e-4,
               prior_covariance: np.ndarray | None = None) -> Reconstruction:
    """Reconstruct a diagonal contrast-level likelihood covariance from a posterior covariance
    (nmathresh ``recon_vcov``; Phillippo et al. 2018, section 4.2): solve
    ``post⁻¹ - prior⁻¹ = Xᵀ diag(p) X`` for the precisions p ≥ 0 by non-negative least squares.

    ``prior_precision = 0`` is a flat prior (a frequentist covariance).  Returns the variances
    1/p (inf where p = 0) in the order of X's rows, and nmathresh's diagnostics (``rss_fixed``
    is the squared residual of the first structurally zero element, as nmathresh computes it).
    """
    K = post.shape[0] + 1
    post_p = np.linalg.inv(post)
    if prior_covariance is None and np.isscalar(prior_precision) and prior_precision == 0:
        prior_p = np.zeros_like(post)
    else:
        cov = (np.diag(np.broadcast_to(1.0 / np.asarray(prior_precision, float), (K - 1,)))
               if prior_covariance is None else np.asarray(prior_covariance, float))
        prior_p = np.linalg.inv(cov)
    Dm = post_p - prior_p
    il = np.tril_indices(K - 1)
    order = np.lexsort((il[0], il[1]))              # column-major lower triangle
    s = Dm[il[0][order], il[1][order]]
    R, col, _ = _precision_system(np.asarray(X), K)
    from scipy.optimize import nnls   # here, not at the top: scipy.optimize costs ~0.1 s to import
    x, rnorm = nnls(R, s, maxiter=50 * R.shape[1] + 100)
    resid = R @ x - s
    zero_rows = np.flatnonzero(~R.any(axis=1))
    rss_fixed = float(resid[zero_rows[0]] ** 2) if len(zero_rows) else 0.0
    prec = x[col]
    with np.errstate(divide="ignore"):
        var = 1.0 / prec
    fin = np.isfinite(var)
    Xf = X[fin]
    fit_cov = np.linalg.inv(prior_p + Xf.T @ (Xf * prec[fin][:, None]))
    kl = 0.5 * (np.trace(np.linalg.solve(fit_cov, post)) - (K - 1)
                + np.linalg.slogdet(fit_cov)[1] - np.linalg.slogdet(post)[1])
    return Reconstruction(var, prec, float(rnorm ** 2), rss_fixed, float(rnorm ** 2) - rss_fixed, float(kl))
