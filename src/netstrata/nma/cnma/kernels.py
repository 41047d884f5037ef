"""Kernels of the additive component network meta-analysis model (plain NumPy, arrays in/out).

The model (Rücker, Petropoulou & Schwarzer 2020, section 2; netmeta ``nma.additive``)::

    delta = B theta,   theta = C beta   =>   delta = X beta,  X = B C   (m × c)

with B the edge-vertex incidence matrix of the study comparisons (m × n), C the treatments ×
components matrix and beta the component effects.  Weighted least squares with the multi-arm
adjusted weights W of the standard model (Rücker 2012):

    L  = Xᵀ W X = Cᵀ (Bᵀ W B) C          (c × c; ``L.matrix`` of netcomb)
    L⁺ = ginv(L)  = Cov(beta)            (``Lplus.matrix``; entries below 10·eps set to 0)
    beta = L⁺ Xᵀ W te = L⁺ Cᵀ (Bᵀ W te)
    theta = C beta, Cov(theta) = C L⁺ Cᵀ; fitted comparisons delta = X beta
    Q_additive = (te - delta)ᵀ W (te - delta)

Nothing here builds an m × m matrix: ``Bᵀ W B`` is the weighted Laplacian of the standard
kernel and ``Bᵀ W te`` two bincounts.

References
----------
Rücker G, Petropoulou M, Schwarzer G (2020). Biom J 62:808-821, section 2.
doi:10.1002/bimj.201800167 (the further references are in :func:`netstrata.component_network`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernel import MultiArmBlock, dl_tau2, laplacian

__all__ = ["AdditiveFit", "design_x", "fit_additive", "additive_tau2", "rank_and_rowspace",
           "unidentified", "in_rowspace", "cov_resistance"]

EPS = np.finfo(float).eps


class AdditiveFit(NamedTuple):
    """One weighted least squares fit of the additive model (c = components, n = treatments)."""

    L: np.ndarray          # (c, c) Xᵀ W X
    lplus: np.ndarray      # (c, c) ginv(L) = Cov(beta)
    beta: np.ndarray       # (c,) component effects
    theta: np.ndarray      # (n,) combination (treatment) effects C beta
    cov_theta: np.ndarray  # (n, n) C L⁺ Cᵀ
    fitted: np.ndarray     # (m,) X beta = theta[t1] - theta[t2]
    q: float               # Σ w (te - fitted)²


def design_x(C: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> np.ndarray:
    """X = B C (m × c): row r is C[t1_r] - C[t2_r] (netmeta ``X.matrix``)."""
    return C[t1] - C[t2]


def _ginv(L: np.ndarray) -> np.ndarray:
    """MASS::ginv (SVD, singular values below sqrt(eps)·max dropped), then netmeta's
    ``Lplus[is.zero(Lplus)] <- 0`` (|x| < 10·eps)."""
    out = np.linalg.pinv(L, rcond=np.sqrt(EPS)) if L.size else L.copy()
    out[np.abs(out) < 10 * EPS] = 0.0
    return out


def fit_additive(te: np.ndarray, w: np.ndarray, t1: np.ndarray, t2: np.ndarray,
                 C: np.ndarray) -> AdditiveFit:
    """WLS fit of delta = B C beta with weights ``w`` (reduced for multi-arm studies)."""
    n = C.shape[0]
    L = C.T @ laplacian(t1, t2, w, n) @ C                   # Xᵀ W X = Cᵀ (Bᵀ W B) C
    lplus = _ginv(L)
    wte = w * te
    btw = np.bincount(t1, weights=wte, minlength=n) - np.bincount(t2, weights=wte, minlength=n)
    beta = lplus @ (C.T @ btw)                              # L⁺ Xᵀ W te
    theta = C @ beta
    cov_theta = C @ lplus @ C.T
    fitted = theta[t1] - theta[t2]
    resid = te - fitted
    return AdditiveFit(L, lplus, beta, theta, cov_theta, fitted, float(np.sum(w * resid * resid)))


def additive_tau2(fit: AdditiveFit, df: int, w: np.ndarray, t1: np.ndarray, t2: np.ndarray,
                  single_rows: np.ndarray, blocks: list[MultiArmBlock]) -> float:
    """netmeta's moment estimator of tau² for the additive model (nma.additive):

    ``tau² = max(0, (Q_add - df) / tr((I - H) M W))``, ``H = X L⁺ Xᵀ W``, ``M = (B Bᵀ ∘ E)/2``.
    Since X = B C, ``tr(H M W) = ½ Σ_s tr(C L⁺ Cᵀ L_s²)`` with ``L_s`` the Laplacian of study s:
    the generalised DerSimonian-Laird trace of the standard kernel (:func:`dl_tau2`) with the
    treatment covariance ``C L⁺ Cᵀ`` in place of the Laplacian's pseudoinverse.  NaN if df == 0.
    """
    return dl_tau2(fit.q, df, w, fit.cov_theta, t1, t2, single_rows, blocks)


def rank_and_rowspace(X: np.ndarray) -> tuple[int, np.ndarray]:
    """(rank of X, orthonormal basis of its row space as columns (c × rank)).

    From the eigen-decomposition of the small Gram matrix ``Xᵀ X`` (c × c; X holds small
    integers, so ``Xᵀ X`` is exact): eigenvalues above ``1e-10 · max`` count (computed zeros are
    ~c·eps·max, the smallest nonzero eigenvalue of a network design many orders above 1e-10 of
    the largest).  Equals R's ``qr(X)$rank`` on such matrices, at a fraction of an SVD of X.
    """
    c = X.shape[1]
    if X.size == 0:
        return 0, np.zeros((c, 0))
    lam, vec = np.linalg.eigh(X.T @ X)
    keep = lam > 1e-10 * max(lam[-1], 0.0) if lam[-1] > 0 else np.zeros(c, bool)
    return int(keep.sum()), vec[:, keep]


def in_rowspace(rows: np.ndarray, basis: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """True where a row vector lies in the row space of X (a linear function of beta that the
    data identify: an estimable contrast).  ``rows`` (k × c), ``basis`` from
    :func:`rank_and_rowspace`."""
    rows = np.atleast_2d(rows)
    resid = rows - (rows @ basis) @ basis.T
    return np.linalg.norm(resid, axis=1) <= tol * np.maximum(1.0, np.linalg.norm(rows, axis=1))


def unidentified(basis: np.ndarray, c: int) -> np.ndarray:
    """Components not identifiable from the data (unit vector e_k outside the row space of X);
    netmeta finds them from the eigenvectors of X⁺X with eigenvalue 0, which span the same null
    space."""
    return ~in_rowspace(np.eye(c), basis)


def cov_resistance(cov: np.ndarray) -> np.ndarray:
    """Variance of every difference i - j: ``cov_ii + cov_jj - 2 cov_ij`` (zero diagonal)."""
    d = np.diag(cov)
    out = d[:, None] + d[None, :] - 2.0 * cov
    np.fill_diagonal(out, 0.0)
    return np.maximum(out, 0.0)
