"""Graph-theoretical network meta-analysis kernel (plain NumPy, arrays in, arrays out).

The model is the electrical-network formulation of Rücker (2012): treatments are vertices,
study comparisons are edges with weights ``w = 1/variance``; the weighted Laplacian
``L = Bᵀ W B`` (n × n, n = treatments) and its Moore-Penrose pseudoinverse ``L⁺`` give every
network estimate and its variance.  Multi-arm studies enter with *reduced* weights so that the
k(k-1)/2 comparisons of a k-arm study carry the information of k-1 independent contrasts
(Rücker 2012, section 3.3; Gutman & Xiao 2004, theorem 7).

Index conventions (shared by every function here and documented in notes/nma_kernel.md)
-------------------------------------------------------------------------------------
* treatments are ``0 .. n-1`` (netmeta's order: sorted labels);
* one row (edge) per study comparison: ``t1[r]``, ``t2[r]`` (ints), ``te[r]`` = effect of
  ``t1`` versus ``t2`` (netmeta's TE), ``var[r]`` its variance (seTE², plus tau² for the random
  effects model);
* ``study[r]`` is an int study code; rows of one study need not be contiguous.

Nothing here builds an m × m matrix except :func:`hat_matrix`, which exists for diagnostics
(contribution matrix) and is never called by the fit itself.

References
----------
Rücker G (2012). Network meta-analysis, electrical networks and graph theory.
Res Synth Methods 3:312-324. doi:10.1002/jrsm.1058
Rücker G, Schwarzer G (2014). Reduce dimension or reduce weights? Comparing two approaches to
multi-arm studies in network meta-analysis. Stat Med 33:4353-4369. doi:10.1002/sim.6236
Jackson D, White IR, Riley RD (2012). Quantifying the impact of between-study heterogeneity in
multivariate meta-analyses. Stat Med 31:3805-3820 (generalised DL). doi:10.1002/sim.5453
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

__all__ = [
    "MultiArmBlock",
    "GraphFit",
    "multiarm_blocks",
    "reduce_multiarm_variances",
    "laplacian",
    "laplacian_pinv",
    "fit_graph",
    "resistance",
    "dl_tau2",
    "hat_matrix",
    "incidence",
    "pscores",
    "connected_components",
]


class MultiArmBlock(NamedTuple):
    """Multi-arm studies with the same number of arms ``k``, stacked.

    ``arms[s]`` are the k treatment indices of study s (ascending); ``rows[s, p]`` is the row of
    local pair p, pairs in the order (0,1), (0,2), ..., (1,2), ... (``np.triu_indices(k, 1)``).
    """

    k: int
    studies: np.ndarray  # (s,) study codes
    arms: np.ndarray     # (s, k) treatment indices
    rows: np.ndarray     # (s, k(k-1)/2) row indices


class GraphFit(NamedTuple):
    """Result of :func:`fit_graph` (all arrays; n = treatments, m = rows)."""

    lplus: np.ndarray    # (n, n) pseudoinverse of the weighted Laplacian = Cov of node potentials
    theta: np.ndarray    # (n,) node potentials; estimate of i vs j is theta[i] - theta[j]
    fitted: np.ndarray   # (m,) network estimate for each row (netmeta TE.nma)
    q: float             # sum_r w_r (te_r - fitted_r)^2 (netmeta Q)


@lru_cache(maxsize=64)
def pairs(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.triu_indices(k, 1)`` (the pairs (i, j), i < j, in row order) and ``pos`` (k·k,),
    ``pos[i * k + j]`` = the number of pair (i, j); computed once per k (read-only arrays:
    every multi-arm study of every fit asks for them)."""
    i, j = np.triu_indices(k, 1)
    pos = np.full(k * k, -1, dtype=np.int64)
    pos[i * k + j] = np.arange(len(i))
    for a in (i, j, pos):
        a.flags.writeable = False
    return i, j, pos


def multiarm_blocks(study: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> list[MultiArmBlock]:
    """Group the rows of studies with more than one row by number of arms.

    Assumes each multi-arm study has every one of its k(k-1)/2 pairs exactly once (checked at
    the boundary).
    """
    order = np.lexsort((t2, t1, study))
    s_sorted = study[order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    groups: dict[int, tuple[list, list, list]] = {}
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        rows = order[start:start + size]
        arms = np.unique(np.r_[t1[rows], t2[rows]])
        k = len(arms)
        lo = np.searchsorted(arms, np.minimum(t1[rows], t2[rows]))
        hi = np.searchsorted(arms, np.maximum(t1[rows], t2[rows]))
        *_, pos = pairs(k)
        local = np.empty(size, dtype=np.int64)
        local[pos[lo * k + hi]] = rows
        g = groups.setdefault(k, ([], [], []))
        g[0].append(study[rows[0]])
        g[1].append(arms)
        g[2].append(local)
    return [MultiArmBlock(k, np.asarray(g[0]), np.vstack(g[1]), np.vstack(g[2]))
            for k, g in sorted(groups.items())]


def reduce_multiarm_variances(var: np.ndarray, blocks: list[MultiArmBlock]) -> np.ndarray:
    """Variances with multi-arm studies replaced by their reduced (adjusted) variances.

    For a k-arm study with pairwise variances R (k × k, zero diagonal) the study's Laplacian is
    ``L = (-1/2 · P R P)⁺`` with ``P = I - J/k`` (Gutman & Xiao theorem 7; netmeta multiarm.R);
    the reduced weight of pair (a, b) is ``-L[a, b]`` and its reduced variance ``1/(-L[a, b])``.
    Negative weights contributing < 0.1% of the total are set to 0 (variance inf), as netmeta.
    """
    out = np.array(var, dtype=float, copy=True)
    for blk in blocks:
        k = blk.k
        iu = pairs(k)[:2]
        s = blk.rows.shape[0]
        R = np.zeros((s, k, k))
        R[:, iu[0], iu[1]] = var[blk.rows]
        R = R + R.transpose(0, 2, 1)
        P = np.eye(k) - 1.0 / k
        Lt = -0.5 * (P @ R @ P)
        # pseudoinverse of a Laplacian-like matrix with null space 1: (X - J/k)^-1 + J/k
        L = np.linalg.inv(Lt - 1.0 / k) + 1.0 / k
        W = -L[:, iu[0], iu[1]]
        total = np.abs(W).sum(axis=1, keepdims=True)
        W = np.where((W < 0) & (np.abs(W) / total < 0.001), 0.0, W)
        with np.errstate(divide="ignore"):
            out[blk.rows] = 1.0 / W
    return out


def laplacian(t1: np.ndarray, t2: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """Weighted Laplacian ``L = Bᵀ W B`` (n × n) without forming B (Rücker 2012, eq. 9)."""
    flat = np.bincount(t1 * n + t2, weights=w, minlength=n * n).reshape(n, n)
    off = flat + flat.T
    return np.diag(off.sum(axis=1)) - off


def laplacian_pinv(L: np.ndarray) -> np.ndarray:
    """Moore-Penrose pseudoinverse of a connected graph's Laplacian: ``(L - J/n)⁻¹ + J/n``.

    Same identity as netmeta's ``invmat`` (Rücker 2012, eq. 11).
    """
    n = L.shape[0]
    return np.linalg.inv(L - 1.0 / n) + 1.0 / n


def fit_graph(te: np.ndarray, w: np.ndarray, t1: np.ndarray, t2: np.ndarray, n: int) -> GraphFit:
    """Weighted least squares fit on the graph: ``theta = L⁺ Bᵀ W te``, fitted = B theta.

    Equivalent to netmeta's ``v = H te`` with ``H = B L⁺ Bᵀ W`` (Rücker 2012, eq. 13) but never
    forms the m × m hat matrix.  Q = (te - fitted)ᵀ W (te - fitted) (Rücker 2012, eq. 15).
    """
    lplus = laplacian_pinv(laplacian(t1, t2, w, n))
    wte = w * te
    rhs = np.bincount(t1, weights=wte, minlength=n) - np.bincount(t2, weights=wte, minlength=n)
    theta = lplus @ rhs
    fitted = theta[t1] - theta[t2]
    resid = te - fitted
    return GraphFit(lplus, theta, fitted, float(np.sum(w * resid * resid)))


def resistance(lplus: np.ndarray) -> np.ndarray:
    """Resistance distances ``R_ij = L⁺_ii + L⁺_jj - 2 L⁺_ij`` = variance of estimate i vs j."""
    d = np.diag(lplus)
    out = d[:, None] + d[None, :] - 2.0 * lplus
    np.fill_diagonal(out, 0.0)
    return np.maximum(out, 0.0)


def dl_tau2(q: float, df: float, w: np.ndarray, lplus: np.ndarray, t1: np.ndarray,
            t2: np.ndarray, single_rows: np.ndarray, blocks: list[MultiArmBlock]) -> float:
    """Generalised DerSimonian-Laird tau² (netmeta nma.ruecker; Jackson et al. 2012).

    ``tau² = max(0, (Q - df) / tr((I - H) M W))`` with ``M = (B Bᵀ ∘ E)/2`` (E = same study).
    Since ``M`` is block diagonal with study blocks ``B_s B_sᵀ / 2``:
    ``tr(M W) = Σ w`` and ``tr(H M W) = ½ Σ_s tr(L⁺ L_s²)`` with ``L_s = B_sᵀ W_s B_s``; for a
    two-arm row this is ``w² R_ab``.  ``w`` are the (reduced) weights of the fit; ``single_rows``
    indexes rows of one-comparison studies.  Returns NaN when df == 0.
    """
    if df <= 0:
        return float("nan")
    R = lplus[t1, t1] + lplus[t2, t2] - 2.0 * lplus[t1, t2]
    trace_h = float(np.sum(w[single_rows] ** 2 * R[single_rows]))
    for blk in blocks:
        k = blk.k
        iu = pairs(k)[:2]
        Wl = np.zeros((blk.rows.shape[0], k, k))
        Wl[:, iu[0], iu[1]] = w[blk.rows]
        Wl = Wl + Wl.transpose(0, 2, 1)
        Ls = -Wl
        idx = np.arange(k)
        Ls[:, idx, idx] = Wl.sum(axis=2)
        Lp = lplus[blk.arms[:, :, None], blk.arms[:, None, :]]
        trace_h += 0.5 * float(np.einsum("sij,sjk,ski->", Lp, Ls, Ls))
    denom = float(np.sum(w)) - trace_h
    return max(0.0, (q - df) / denom)


def incidence(t1: np.ndarray, t2: np.ndarray, n: int) -> np.ndarray:
    """Edge-vertex incidence matrix B (m × n): +1 at t1, -1 at t2 (netmeta createB)."""
    B = np.zeros((len(t1), n))
    r = np.arange(len(t1))
    B[r, t1] = 1.0
    B[r, t2] = -1.0
    return B


def hat_matrix(lplus: np.ndarray, t1: np.ndarray, t2: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-level hat matrix ``H = B L⁺ Bᵀ W`` (m × m; netmeta H.matrix).  Diagnostics only."""
    G = (lplus[t1][:, t1] - lplus[t1][:, t2] - lplus[t2][:, t1] + lplus[t2][:, t2])
    return G * w[None, :]


def pscores(te: np.ndarray, se: np.ndarray, small_values_desirable: bool) -> np.ndarray:
    """P-scores (Rücker & Schwarzer 2015, doi:10.1186/s12874-015-0060-8; netmeta netrank).

    ``P_i = mean_{j≠i} Φ(∓ te_ij / se_ij)`` where ``te[i, j]`` is i versus j; minus sign when
    small values are desirable.  Cells with NaN (e.g. across sub-networks) are skipped.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        z = te / se
    p = ndtr(-z if small_values_desirable else z)
    np.fill_diagonal(p, np.nan)
    p[~np.isfinite(z)] = np.nan
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.where(np.isnan(p), np.nan, p), axis=1)


def connected_components(t1: np.ndarray, t2: np.ndarray, n: int) -> np.ndarray:
    """Component label (0, 1, ...) of every treatment; labels ordered by smallest treatment
    (as ``scipy.sparse.csgraph.connected_components``, without building a sparse matrix:
    union-find over the edges, then labels in order of each component's first vertex)."""
    parent = list(range(n))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(np.asarray(t1).tolist(), np.asarray(t2).tolist()):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    labels: dict[int, int] = {}
    return np.array([labels.setdefault(root(i), len(labels)) for i in range(n)], dtype=np.int32)
