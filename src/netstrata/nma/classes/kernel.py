"""Kernels of the class-effect network models (plain NumPy; arrays in, arrays out).

Treatment effects ``d`` (p = n - 1 treatments versus the reference, d_ref = 0) in classes:

* data (netmeta's random-effects NMA): ``y ~ N(X d, Σ)``, ``Σ = V + tau² K`` block diagonal by
  study (the REML data reduction of :func:`netstrata.nma.component.reml_data`);
* class model: ``d = M mu + Z u``, ``u ~ N(0, S)``, ``S = diag(sigma²_g(k))``: ``mu`` are the class
  effects (the reference's class is anchored at 0 and has no column), ``u`` the treatments'
  deviations from their class effect.  ``M = I`` and no ``Z`` is the independent model (netmeta),
  no ``Z`` the common class model (lumping), ``sigma² > 0`` the exchangeable model (Dias et al.,
  NICE DSU TSD 2; Perren et al. 2025).

Henderson's mixed model equations with the scaled deviations ``v = S^-1/2 u ~ N(0, I)``, so that
``sigma² = 0`` is an ordinary point (Henderson 1975, doi:10.2307/2529430)::

    A = [M, Z S^1/2],  C = Aᵀ Λ A + diag(0_q, I_r),  C θ = Aᵀ b,   Λ = XᵀΣ⁻¹X,  b = XᵀΣ⁻¹y
    d̃ = A θ̂,   Cov(d̃ - d) = A C⁻¹ Aᵀ
    -2 logL_ML   = m log 2π + log|Σ| + log|I + S^1/2 ZᵀΛZ S^1/2| + yᵀΣ⁻¹y - θ̂ᵀAᵀb
    -2 logL_REML = (m - q) log 2π + log|Σ| + log|C| + yᵀΣ⁻¹y - θ̂ᵀAᵀb - log|Mᵀ XᵀX M|

(the last REML term is metafor's constant, so the independent model's REML log-likelihood is
``logLik`` of netmeta's ``rma.mv`` call).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..kernel import laplacian, reduce_multiarm_variances
from ..reml import reml_tau2

__all__ = ["ClassDesign", "LikData", "Terms", "likelihood_data", "data_terms", "graph_terms", "mixed_solve",
           "loglik", "loglik_grad", "fit_variances", "VarianceFit"]

LOG2PI = float(np.log(2 * np.pi))


class ClassDesign(NamedTuple):
    """Class structure of the p non-reference treatments.

    ``M`` (p × q) maps treatments to class effects; ``group[k]`` is the index of treatment k's
    within-class variance parameter (-1: none, i.e. its effect is its class effect).
    """

    M: np.ndarray
    group: np.ndarray
    n_sigma: int

    def scaled_z(self, sigma2: np.ndarray) -> np.ndarray:
        """``Z S^1/2`` (p × r), one column per treatment with a random deviation."""
        rows = np.flatnonzero(self.group >= 0)
        Zs = np.zeros((len(self.group), len(rows)))
        Zs[rows, np.arange(len(rows))] = np.sqrt(np.asarray(sigma2, float)[self.group[rows]])
        return Zs


class LikData(NamedTuple):
    """The reduced data in batches of equally sized study blocks: (y, X, V, K) per batch."""

    groups: tuple
    m: int
    var_y: float


def likelihood_data(y: np.ndarray, X: np.ndarray, V_blocks, K_blocks) -> LikData:
    """Batch the per-study blocks (rows of one study contiguous, in block order)."""
    sizes = np.array([b.shape[0] for b in V_blocks])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    groups = []
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        idx = starts[which][:, None] + np.arange(size)
        groups.append((y[idx], X[idx], np.stack([V_blocks[i] for i in which]),
                       np.stack([K_blocks[i] for i in which])))
    return LikData(tuple(groups), len(y), float(np.var(y)) if len(y) > 1 else 1.0)


class Terms(NamedTuple):
    """Data terms at one tau² (Σ = V + tau² K, inverted study by study)."""

    lam: np.ndarray       # XᵀΣ⁻¹X
    b: np.ndarray         # XᵀΣ⁻¹y
    yy: float             # yᵀΣ⁻¹y
    logdet: float         # log|Σ|
    xtx: np.ndarray       # XᵀX (metafor's REML constant)
    tr_k: float           # tr(Σ⁻¹K)
    omega: np.ndarray     # XᵀΣ⁻¹KΣ⁻¹X
    parts: tuple          # per batch (Σ⁻¹X, Σ⁻¹y, K) for the residual term of the tau² score


def data_terms(data: LikData, tau2: float) -> Terms:
    """The data terms of the likelihood and its gradient at ``tau2``."""
    p = data.groups[0][1].shape[2]
    lam, b, xtx, omega = np.zeros((p, p)), np.zeros(p), np.zeros((p, p)), np.zeros((p, p))
    yy = logdet = tr_k = 0.0
    parts = []
    for yb, Xb, Vb, Kb in data.groups:
        S = Vb + tau2 * Kb
        Si = np.linalg.inv(S)
        SiX = Si @ Xb
        Siy = np.einsum("sij,sj->si", Si, yb)
        lam += np.einsum("sij,sik->jk", Xb, SiX)
        b += np.einsum("sij,si->j", Xb, Siy)
        xtx += np.einsum("sij,sik->jk", Xb, Xb)
        yy += float(np.einsum("si,si->", yb, Siy))
        logdet += float(np.sum(np.linalg.slogdet(S)[1]))
        tr_k += float(np.einsum("sij,sji->", Si, Kb))
        omega += np.einsum("sji,sjk,skl->il", SiX, Kb, SiX)
        parts.append((SiX, Siy, Kb))
    return Terms(lam, b, yy, logdet, xtx, tr_k, omega, tuple(parts))


def graph_terms(t1, t2, te, var, blocks, n: int, reference: int, tau2: float):
    """``(Λ, b)`` of the graph fit (netmeta's estimates): ``L = BᵀWB``, ``b = BᵀW te`` with the
    reduced weights of ``var + tau²`` (Rücker 2012), reference row and column removed."""
    w = 1.0 / reduce_multiarm_variances(var + tau2, list(blocks))
    L = laplacian(t1, t2, w, n)
    rhs = np.bincount(t1, weights=w * te, minlength=n) - np.bincount(t2, weights=w * te, minlength=n)
    keep = np.delete(np.arange(n), reference)
    return L[np.ix_(keep, keep)], rhs[keep]


class Solution(NamedTuple):
    theta: np.ndarray     # (q + r) class effects then scaled deviations
    cinv: np.ndarray | None   # C⁻¹: prediction-error covariance of theta (None: not asked for)
    A: np.ndarray         # [M, Z S^1/2]
    quad: float           # θ̂ᵀ Aᵀ b
    logdet_c: float
    logdet_d: float       # log|I + S^1/2 ZᵀΛZ S^1/2|

    def c_inverse(self) -> np.ndarray:
        """C⁻¹ (a ValueError when the solution was computed with ``inverse=False``)."""
        if self.cinv is None:
            raise ValueError("this Solution was computed without C⁻¹ (mixed_solve(..., inverse=False))")
        return self.cinv


def mixed_solve(lam: np.ndarray, b: np.ndarray, design: ClassDesign, sigma2, inverse: bool = True) -> Solution:
    """Solve Henderson's equations ``C θ = Aᵀ b`` (see the module docstring); ``C⁻¹`` only with
    ``inverse`` (the likelihood needs the Cholesky factor alone)."""
    Zs = design.scaled_z(sigma2) if design.n_sigma else np.zeros((lam.shape[0], 0))
    A = np.hstack([design.M, Zs])
    q, r = design.M.shape[1], Zs.shape[1]
    C = A.T @ lam @ A
    C[q:, q:] += np.eye(r)
    rhs = A.T @ b
    if not C.size:
        return Solution(np.zeros(0), np.zeros((0, 0)), A, 0.0, 0.0, 0.0)
    from scipy.linalg import cho_factor, cho_solve   # here: scipy.linalg costs ~30 ms to import
    chol = cho_factor(C, lower=True)
    theta = cho_solve(chol, rhs)
    cinv = cho_solve(chol, np.eye(len(C))) if inverse else None
    logdet_c = 2.0 * float(np.sum(np.log(np.diag(chol[0]))))
    logdet_d = float(np.linalg.slogdet(C[q:, q:])[1]) if r else 0.0
    return Solution(theta, cinv, A, float(theta @ rhs), logdet_c, logdet_d)


def loglik(data: LikData, design: ClassDesign, tau2: float, sigma2, reml: bool, terms=None) -> float:
    """(Restricted) log-likelihood of the reduced data (module docstring); -inf if not defined.
    ``terms``: :func:`data_terms` at ``tau2`` if already computed."""
    lam, b, yy, logdet, xtx = (data_terms(data, tau2) if terms is None else terms)[:5]
    try:
        sol = mixed_solve(lam, b, design, sigma2, inverse=False)
    except np.linalg.LinAlgError:          # scipy.linalg raises the same class
        return -np.inf
    resid = yy - sol.quad
    if not reml:
        return -0.5 * (data.m * LOG2PI + logdet + sol.logdet_d + resid)
    q = design.M.shape[1]
    const = float(np.linalg.slogdet(design.M.T @ xtx @ design.M)[1]) if q else 0.0
    return -0.5 * ((data.m - q) * LOG2PI + logdet + sol.logdet_c + resid - const)


def loglik_grad(design: ClassDesign, sigma2, reml: bool, terms: Terms) -> np.ndarray:
    """Gradient of the (restricted) log-likelihood in (tau², sigma²_1, ...), from Henderson's
    solution (Searle, Casella & McCulloch 1992, ch. 6): for a variance with ``dV/dθ = V̇``,
    ``dℓ/dθ = -½ [tr(P V̇) - eᵀ V̇ e]``, ``e = Σ⁻¹(y - X d̃)`` (= P y), P the REML projection
    (ML: V⁻¹).  With T = I - ΛZs D⁻¹ Zsᵀ, D = I + ZsᵀΛZs: XᵀV⁻¹X = TΛ and XᵀV⁻¹KV⁻¹X = TΩTᵀ;
    V̇ = K for tau² and W_g W_gᵀ (W = XZ, the group's columns) for sigma²_g."""
    lam, b = terms.lam, terms.b
    sol = mixed_solve(lam, b, design, sigma2, inverse=False)
    d = sol.A @ sol.theta
    q = design.M.shape[1]
    Zs = sol.A[:, q:]
    p = lam.shape[0]
    Dinv = np.linalg.inv(np.eye(Zs.shape[1]) + Zs.T @ lam @ Zs) if Zs.shape[1] else np.zeros((0, 0))
    T = np.eye(p) - lam @ Zs @ Dinv @ Zs.T
    Q = T @ lam
    quad_k = sum(float(np.einsum("si,sij,sj->", e, K, e)) for e, K in
                 ((Siy - SiX @ d, K) for SiX, Siy, K in terms.parts))
    tr_k = terms.tr_k - float(np.trace(Dinv @ Zs.T @ terms.omega @ Zs)) if Zs.shape[1] else terms.tr_k
    if reml and q:
        M = design.M
        F = np.linalg.inv(M.T @ Q @ M)
        tr_k -= float(np.trace(F @ M.T @ T @ terms.omega @ T.T @ M))
        Q = Q - Q @ M @ F @ M.T @ Q
    grad = np.zeros(1 + design.n_sigma)
    grad[0] = -0.5 * (tr_k - quad_k)
    rows = np.flatnonzero(design.group >= 0)
    if len(rows):
        g_vec = (b - lam @ d)[rows]
        per = -0.5 * (np.diag(Q)[rows] - g_vec ** 2)
        np.add.at(grad, 1 + design.group[rows], per)
    return grad


class VarianceFit(NamedTuple):
    tau2: float
    sigma2: np.ndarray    # one value per variance group
    loglik: float
    converged: bool


def _upper(data: LikData) -> float:
    """Upper bound of the standard deviations searched (far beyond any plausible value)."""
    return float(np.sqrt(max(100.0, 100.0 * data.var_y)))


def _tau2_only(data: LikData, design: ClassDesign, reml: bool) -> VarianceFit:
    """tau² of a model without within-class variances: REML by the score equation (netmeta's
    estimate when ``design`` is the independent model), ML by bounded Brent on tau."""
    if reml and design.M.shape[1]:
        X = np.concatenate([np.concatenate(list(g[1]), axis=0) for g in data.groups]) @ design.M
        y = np.concatenate([g[0].ravel() for g in data.groups])
        Vb = [v for g in data.groups for v in g[2]]
        Kb = [k for g in data.groups for k in g[3]]
        tau2 = reml_tau2(y, X, Vb, Kb)
        ok = bool(np.isfinite(tau2))
    else:
        f = lambda t: -loglik(data, design, t * t, (), reml)  # noqa: E731
        from scipy.optimize import minimize_scalar   # here: scipy.optimize costs ~0.1 s to import
        res = minimize_scalar(f, bounds=(0.0, _upper(data)), method="bounded",
                              options={"xatol": 1e-10, "maxiter": 500})
        t = float(res.x) if f(float(res.x)) <= f(0.0) else 0.0
        tau2, ok = t * t, bool(res.success)
    return VarianceFit(tau2, np.zeros(0), loglik(data, design, tau2, (), reml), ok)


def fit_variances(data: LikData, design: ClassDesign, *, reml: bool, tau2: float | None = None,
                  starts=()) -> VarianceFit:
    """Maximise the (restricted) likelihood over tau² (unless fixed by ``tau2``) and the
    within-class variances, all ≥ 0 (SLSQP with bounds on the variances, so that the boundary 0
    is a bound, not a stationary point as it would be on the standard-deviation scale; SLSQP
    needs far fewer evaluations than L-BFGS-B here).

    ``starts`` are candidate (tau2, sigma2) points (the boundary sigma² = 0 among them); the best
    optimum found from them is returned and is never below any start's likelihood.
    """
    free_tau = tau2 is None
    if design.n_sigma == 0:
        if tau2 is None:
            return _tau2_only(data, design, reml)
        return VarianceFit(float(tau2), np.zeros(0), loglik(data, design, float(tau2), (), reml), True)

    def unpack(x):
        return (float(x[0]) if free_tau else float(tau2)), np.asarray(x[int(free_tau):], float)

    cache: dict[float, Terms] = {}

    def terms(t2):
        if t2 not in cache:
            cache.clear()
            cache[t2] = data_terms(data, t2)
        return cache[t2]

    def f(x):
        t2, s2 = unpack(x)
        return -loglik(data, design, t2, s2, reml, terms(t2))

    def jac(x):
        t2, s2 = unpack(x)
        g = -loglik_grad(design, s2, reml, terms(t2))
        return g if free_tau else g[1:]

    ub = _upper(data) ** 2
    bounds = [(0.0, ub)] * (design.n_sigma + int(free_tau))
    best: tuple[float, np.ndarray, bool] | None = None
    for t2, s2 in starts:
        x0 = np.r_[[t2] if free_tau else [], np.broadcast_to(np.asarray(s2, float), (design.n_sigma,))]
        x0 = np.clip(x0, 0.0, ub)
        from scipy.optimize import minimize   # here: scipy.optimize costs ~0.1 s to import
        res = minimize(f, x0, jac=jac, method="SLSQP", bounds=bounds, options={"ftol": 1e-14, "maxiter": 500})
        xc = np.clip(np.asarray(res.x, float), 0.0, ub)
        cand = (f(xc), xc, bool(res.success))
        f0 = f(x0)
        if f0 < cand[0]:
            cand = (f0, x0, cand[2])
        if best is None or cand[0] < best[0]:
            best = cand
    if best is None:
        raise ValueError("fit_variances: a model with within-class variances needs at least one start")
    t2, s2 = unpack(best[1])
    return VarianceFit(t2, s2, -best[0], best[2])
