"""Numerical kernels of ``netmetabin`` (Mantel-Haenszel and non-central hypergeometric
network meta-analysis): arrays and small frames in, arrays out. See :mod:`netstrata.nma.netmetabin`.

References
----------
Efthimiou O, Rücker G, Schwarzer G, Higgins JPT, Egger M, Salanti G. Network meta-analysis of
rare events using the Mantel-Haenszel method. Stat Med 2019;38:2992-3012. doi:10.1002/sim.8158
Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up data.
Biometrics 1985;41:55-68. doi:10.2307/2530643
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...ma import rma_fit
from ..direct import i2_from_q

__all__ = ["mh_design", "mh_direct", "iv_heterogeneity", "mh_exclusions", "mh_network",
           "mh_direct_matrices", "nch_network"]


# --------------------------------------------------------------------------- kernels
def mh_design(events: np.ndarray, n: np.ndarray):
    """Generalised Mantel-Haenszel log odds ratios of one design (Efthimiou 2019, section 2).

    ``events``, ``n``: studies × treatments of the design. With per-study totals N,
    ``c_xy = Σ_s e_x f_y / N`` (f = non-events) and ``L_xy = log(c_xy / c_yx)``; the design
    estimate of x versus y is the row-mean contrast ``L̄_xy = (Σ_z L_xz − Σ_z L_yz) / T``.
    Returns ``(Lbar, var, cov)`` with var[x, y] = Var(L̄_xy) and cov[x, y] =
    Cov(L̄_0x, L̄_0y) (netmeta netmetabin.R, "U.xyy", "U.xyz" terms).
    """
    e, f = events.astype(float), (n - events).astype(float)
    tot = n.sum(axis=1).astype(float)
    t = e.shape[1]
    c = np.einsum("sx,sy->xys", e, f) / tot
    d = (e[:, :, None] + f[:, None, :]).transpose(1, 2, 0) / tot
    C = c.sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(C / C.T)
        ct, dt = c.transpose(1, 0, 2), d.transpose(1, 0, 2)
        uyy = ((c * d).sum(2) / (2 * C**2) + (c * dt + ct * d).sum(2) / (2 * C * C.T)
               + (ct * dt).sum(2) / (2 * C.T**2))
        w2 = 1.0 / tot**2
        ps1 = np.einsum("s,sx,sy,sz->xyz", w2, e, f, f)
        ps2 = np.einsum("s,sx,sy,sz->xyz", w2, e + f, f, e)
        ps3 = np.einsum("s,sx,sy,sz->xyz", w2, e + f, e, f)
        ps4 = np.einsum("s,sx,sy,sz->xyz", w2, f, e, e)
        Cxy, Cyx = C[:, :, None], C.T[:, :, None]          # C[x, y], C[y, x]
        Cxz, Czx = C[:, None, :], C.T[:, None, :]          # C[x, z], C[z, x]
        uxyz = (ps1 / (3 * Cxy * Cxz) + ps2 / (3 * Cxy * Czx) + ps3 / (3 * Cyx * Cxz)
                + ps4 / (3 * Cyx * Czx))
    idx = np.arange(t)
    distinct = ((idx[:, None, None] != idx[None, :, None]) & (idx[:, None, None] != idx[None, None, :])
                & (idx[None, :, None] != idx[None, None, :]))
    uxyz = np.where(distinct, uxyz, 0.0)
    np.fill_diagonal(uyy, 0.0)
    lbar = (L.sum(axis=1)[:, None] - L.sum(axis=1)[None, :]) / t
    upxx = uyy.sum(axis=1) + uxyz.sum(axis=(1, 2))
    unew = uxyz + np.where(idx[:, None, None] != idx[None, :, None], 1.0, 0.0) \
        * (idx[None, :, None] == idx[None, None, :]) * uyy[:, :, None]
    upxy = (unew.sum(axis=0) - unew.sum(axis=2) - unew.sum(axis=2).T
            + unew[idx[:, None], idx[None, :], idx[None, :]])
    var = (upxx[:, None] - 2 * upxy + upxx[None, :]) / t**2
    cov = (upxx[0] - upxy[0][None, :] - upxy[:, [0]] + upxy) / t**2
    return lbar, var, cov


def mh_direct(a, b, c, d):
    """Mantel-Haenszel log odds ratio with the Robins-Breslow-Greenland variance (no correction).

    Tables (a, b; c, d) = (events, non-events) of treatment 1 and 2; N = a + b + c + d.
    """
    N = a + b + c + d
    R, S = a * d / N, b * c / N
    P, Q = (a + d) / N, (b + c) / N
    var = ((P * R).sum() / (2 * R.sum() ** 2) + (P * S + Q * R).sum() / (2 * R.sum() * S.sum())
           + (Q * S).sum() / (2 * S.sum() ** 2))
    return float(np.log(R.sum() / S.sum())), float(np.sqrt(var))


def _design_labels(arms: pd.DataFrame, order: dict) -> pd.Series:
    """Design of each study: its treatments in network order joined by ':'."""
    return arms.groupby("study", sort=False)["treatment"].agg(
        lambda t: ":".join(sorted(set(t), key=order.__getitem__)))


def mh_exclusions(arms: pd.DataFrame, order: dict) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Stage I of Efthimiou 2019 (netmeta netmetabin.R steps i, iii, iv).

    Drop studies without any event or with only events; drop an arm whose treatment has no
    event (or only events) summed over all studies of its design; drop designs left with one
    treatment. Returns the remaining arms (with a ``design`` column) and messages.
    """
    notes = []
    arms = arms.assign(design=arms["study"].map(_design_labels(arms, order)))
    tot = arms.groupby("study", sort=False)[["events", "nonevents"]].sum()
    bad = tot.index[(tot["events"] == 0) | (tot["nonevents"] == 0)]
    if len(bad):
        notes.append("Studies without any events (or with only events) excluded: "
                     + ", ".join(f"'{s}'" for s in bad))
        arms = arms[~arms["study"].isin(bad)]
    cell = arms.groupby(["design", "treatment"], sort=False)[["events", "nonevents"]].sum()
    sparse = cell.index[(cell["events"] == 0) | (cell["nonevents"] == 0)]
    if len(sparse):
        notes.append("Treatment arms without events (or with only events) in a design excluded: "
                     + ", ".join(f"'{t} in {d}'" for d, t in sparse))
        key = pd.MultiIndex.from_frame(arms[["design", "treatment"]])
        arms = arms[~key.isin(sparse)]
    size = arms.groupby("design", sort=False)["treatment"].nunique()
    single = size.index[size == 1]
    if len(single):
        notes.append("Designs with a single treatment arm excluded: "
                     + ", ".join(f"'{d}'" for d in single))
        arms = arms[~arms["design"].isin(single)]
    return arms, tuple(notes)


def mh_network(arms: pd.DataFrame, treatments: tuple[str, ...]):
    """Stage II: design-level MH estimates combined by generalised least squares.

    Parameters θ (θ_0 = 0) with design rows ``y = θ_a − θ_b`` for the design's first treatment
    a versus each other treatment b; ``θ̂ = (Xᵀ V⁻¹ X)⁻¹ Xᵀ V⁻¹ y``; Q = rᵀ V⁻¹ r.
    Returns (theta, cov_theta, q, df).
    """
    pos = {t: i for i, t in enumerate(treatments)}
    ys, blocks, rows = [], [], []
    for _, g in arms.groupby("design", sort=True):
        trts = sorted(g["treatment"].unique(), key=pos.__getitem__)
        ev = g.pivot(index="study", columns="treatment", values="events")[trts].to_numpy()
        nn = g.pivot(index="study", columns="treatment", values="n")[trts].to_numpy()
        lbar, var, cov = mh_design(ev, nn)
        t = len(trts)
        v = cov[1:, 1:].copy()
        v[np.diag_indices(t - 1)] = var[0, 1:]
        ys.append(lbar[0, 1:])
        blocks.append(v)
        for b in trts[1:]:
            x = np.zeros(len(treatments))
            x[pos[trts[0]]], x[pos[b]] = 1.0, -1.0
            rows.append(x[1:])
    y = np.concatenate(ys)
    V = np.zeros((len(y), len(y)))
    at = 0
    for v in blocks:
        V[at:at + len(v), at:at + len(v)] = v
        at += len(v)
    X = np.vstack(rows)
    W = np.linalg.inv(V)
    cov = np.linalg.inv(X.T @ W @ X)
    beta = cov @ X.T @ W @ y
    r = y - X @ beta
    theta, cov_theta = np.r_[0.0, beta], np.zeros((len(treatments),) * 2)
    cov_theta[1:, 1:] = cov
    return theta, cov_theta, float(r @ W @ r), len(y) - (len(treatments) - 1)


def iv_heterogeneity(a, b, c, d, incr: float = 0.5):
    """Q, DL τ² and I² of study log odds ratios (meta ``metabin`` with ``Q.Cochrane = FALSE``).

    ``incr`` is added to every cell of a table with a zero cell; tables without events (or
    with only events) in both arms are left out. τ² = max(0, (Q − df) / (Σw − Σw²/Σw)),
    I² = max(0, (Q − df) / Q); NaN for a single table (Q = 0 then).
    """
    keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    add = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), incr, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    y, v = np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    if len(y) < 2:
        return (0.0 if len(y) else np.nan), np.nan, np.nan
    fit = rma_fit(y, v, None, "DL", False, 0.95)
    return fit.q, fit.tau2, i2_from_q(fit.q, len(y) - 1)


def mh_direct_matrices(arms: pd.DataFrame, treatments: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Direct MH estimates of every pair compared within a study (cell [i, j] = i versus j):
    ``te``, ``se``, study count ``k`` and the pair's ``q``, ``tau2``, ``i2``."""
    n = len(treatments)
    pos = {t: i for i, t in enumerate(treatments)}
    out = {key: np.full((n, n), np.nan) for key in ("te", "se", "q", "tau2", "i2")}
    out["k"] = np.zeros((n, n), int)
    tables: dict[tuple[int, int], list] = {}
    for _, g in arms.groupby("study", sort=False):
        g = g.assign(p=g["treatment"].map(pos)).sort_values("p")
        rec = g[["p", "events", "nonevents"]].to_numpy()
        for u in range(len(rec)):
            for v in range(u + 1, len(rec)):
                tables.setdefault((int(rec[u, 0]), int(rec[v, 0])), []).append(
                    (rec[u, 1], rec[u, 2], rec[v, 1], rec[v, 2]))
    for (i, j), tab in tables.items():
        a, b, c, d = (np.array(col, float) for col in zip(*tab))
        est, s = mh_direct(a, b, c, d)
        out["te"][i, j], out["te"][j, i] = est, -est
        het = (s, len(tab)) + iv_heterogeneity(a, b, c, d)
        for key, val in zip(("se", "k", "q", "tau2", "i2"), het):
            out[key][i, j] = out[key][j, i] = val
    return out




def _nch_terms(x: np.ndarray, studies) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, gradient and Hessian of the NCH approximation (θ_0 fixed at 0).

    Per study with arms sorted by treatment (baseline b = first arm), N₁ events in total:
    ``ℓ = Σ_{k>b} r_k (θ_k − θ_b) − N₁ log(n_b + Σ_{k>b} n_k exp(θ_k − θ_b))``
    (netmeta netmetabin.R ``myLik1``; Efthimiou 2019, section 2.3).
    """
    n = len(x)
    ll, grad, hess = 0.0, np.zeros(n), np.zeros((n, n))
    for pos, r, nn in studies:
        lin = x[pos[1:]] - x[pos[0]]
        ex = nn[1:] * np.exp(lin)
        den = nn[0] + ex.sum()
        share = ex / den
        ll += float(r[1:] @ lin - r.sum() * np.log(den))
        jac = np.zeros((len(pos) - 1, n))
        jac[np.arange(len(pos) - 1), pos[1:]] = 1.0
        jac[:, pos[0]] -= 1.0
        grad += jac.T @ (r[1:] - r.sum() * share)
        hess -= r.sum() * jac.T @ (np.diag(share) - np.outer(share, share)) @ jac
    return ll, grad, hess


def nch_network(arms: pd.DataFrame, treatments: tuple[str, ...], tol: float = 1e-13,
                max_iter: int = 100):
    """Common-effect non-central hypergeometric network (approximate likelihood) by Newton.

    Maximises the (concave) log-likelihood of :func:`_nch_terms` to ``tol`` with step halving;
    Cov(θ̂) = (−∇²ℓ)⁻¹ from the analytic Hessian. Returns (theta, cov_theta, loglik).
    Note: netmeta stops R's L-BFGS-B early (factr 1e7, finite-difference gradients), so its
    estimates differ from this maximum by up to ~1e-3.
    """
    pos = {t: i for i, t in enumerate(treatments)}
    studies = []
    for _, g in arms.groupby("study", sort=False):
        g = g.assign(p=g["treatment"].map(pos)).sort_values("p")
        studies.append((g["p"].to_numpy(), g["events"].to_numpy(float), g["n"].to_numpy(float)))
    free = np.arange(1, len(treatments))
    x = np.zeros(len(treatments))
    ll, grad, hess = _nch_terms(x, studies)
    for _ in range(max_iter):
        step = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        t = 1.0
        while True:
            trial = x.copy()
            trial[free] -= t * step
            new = _nch_terms(trial, studies)
            if new[0] >= ll - 1e-12 * abs(ll) or t < 1e-8:
                break
            t /= 2
        x, (ll, grad, hess) = trial, new
        if np.max(np.abs(t * step)) < tol:
            break
    cov = np.zeros((len(x), len(x)))
    cov[np.ix_(free, free)] = np.linalg.inv(-hess[np.ix_(free, free)])
    return x, cov, ll
