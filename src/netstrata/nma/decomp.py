"""Design-by-treatment decomposition of Cochran's Q (netmeta decomp.design / decomp.tau / tau.within).

Q (total) = Q within designs (heterogeneity) + Q between designs (inconsistency); per-design
heterogeneity, per-design inconsistency contributions, the Q remaining after detaching each design
(design-specific parameters), and Q between designs under the full design-by-treatment interaction
random effects model with its DL tau (tau.within).

References
----------
Krahn U, Binder H, König J (2013). BMC Med Res Methodol 13:35. doi:10.1186/1471-2288-13-35
Higgins JPT et al. (2012). Consistency and inconsistency in network meta-analysis: concepts and
models for multi-arm studies. Res Synth Methods 3:98-110. doi:10.1002/jrsm.1044
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .component import chi2_sf
from .kernel import connected_components
from .krahn import DesignModel, contrast_matrix, design_model

__all__ = ["DesignDecomposition", "decompose", "tau_within", "q_within_between"]


@dataclass(frozen=True, slots=True)
class DesignDecomposition:
    """netmeta decomp.design: frames named after netmeta's components (Q in netmeta's scale)."""

    q_decomp: pd.DataFrame            # index Total / Within designs / Between designs; q, df, pvalue
    q_het_design: pd.DataFrame        # per design: design, q, df, pvalue
    q_inc_detach: pd.DataFrame        # per design (estimable): design, q, df, pvalue
    q_inc_design: pd.Series           # per design row (multi-arm designs repeated), netmeta names
    q_inc_random: pd.DataFrame        # one row: q, df, pvalue, tau_within
    residuals_inc_detach: pd.DataFrame  # design rows × design rows (netmeta orientation)

    def __repr__(self) -> str:
        q = self.q_decomp["q"]
        return (f"DesignDecomposition(total={q.iloc[0]:.4f}, within={q.iloc[1]:.4f}, "
                f"between={q.iloc[2]:.4f}, tau_within={self.q_inc_random['tau_within'].iloc[0]:.4f})")


def _sparse_blocks(blocks, invert: bool = False) -> sparse.csr_matrix:
    return sparse.block_diag([np.linalg.inv(b) if invert else b for b in blocks], format="csr")


def _q_parts(dm: DesignModel):
    """Design-level precision, fitted design rows, Q total, Q within, study precision, residuals."""
    Vi = _sparse_blocks(dm.v_blocks, invert=True)
    X = dm.X
    ViX = Vi @ X
    theta = np.linalg.solve(X.T @ ViX, ViX.T @ dm.te_dir)
    net_design = X @ theta
    Xs = contrast_matrix(dm.s_a, dm.s_b, dm.n)
    Vsi = _sparse_blocks(dm.s_blocks, invert=True)
    r_net = dm.s_te - Xs @ theta
    r_het = dm.s_te - dm.te_dir[dm.s_design_row]
    return Vi, net_design, float(r_net @ (Vsi @ r_net)), float(r_het @ (Vsi @ r_het)), Vsi, r_het


def _het_by_design(dm: DesignModel, Vsi, r_het):
    """Q within each design (studies are nested in designs, so per-row terms add up)."""
    nblk = len(dm.v_blocks)
    blk = dm.design_of_row[dm.s_design_row]
    q = np.bincount(blk, weights=r_het * (Vsi @ r_het), minlength=nblk)
    rows = np.bincount(blk, minlength=nblk)
    return q, rows - (dm.narms - 1), rows


def _detach(dm: DesignModel, Vi):
    """Fitted design rows with design d given its own parameters (NaN if not estimable).

    V is block diagonal by design, so freeing design d's parameters equals fitting the network
    without d (d's rows are then fitted exactly): a downdate of XᵀV⁻¹X.  Estimable iff the other
    designs still connect all treatments (otherwise XᵀV⁻¹X is singular; R's solve() fails).
    """
    X, y = dm.X, dm.te_dir
    nrow, nd = len(y), len(dm.v_blocks)
    ViX, Viy = Vi @ X, Vi @ y
    A, b = X.T @ ViX, ViX.T @ y
    out = np.full((nrow, nd), np.nan)
    rank = np.zeros(nd, dtype=int)
    for d in range(nd):
        sel = dm.design_of_row == d
        rank[d] = dm.n - 1 + int(sel.sum())
        rest = ~sel
        labels = connected_components(dm.a[rest], dm.b[rest], dm.n)
        if labels.max() > 0:      # not estimable: netmeta drops the design (df irrelevant)
            continue
        Ad = A - X[sel].T @ ViX[sel]
        bd = b - X[sel].T @ Viy[sel]
        fit = X @ np.linalg.solve(Ad, bd)
        fit[sel] = y[sel]
        out[:, d] = fit
    return out, rank


def tau_within(dm: DesignModel) -> float:
    """DL tau of the full design-by-treatment interaction model (netmeta tau.within).

    The model fits each design row freely, so (XᵀW₀X)⁻¹ is the design-level covariance and
    tr(C XᵀW₀V₀W₀X) is summed over design blocks; V₀ has 1 on the diagonal and 0.5 within a study.
    """
    Vsi = _sparse_blocks(dm.s_blocks, invert=True)
    nrow = len(dm.te_dir)
    X = sparse.csr_matrix((np.ones(len(dm.s_te)), (np.arange(len(dm.s_te)), dm.s_design_row)),
                          shape=(len(dm.s_te), nrow))
    r = dm.s_te - dm.te_dir[dm.s_design_row]
    q = float(r @ (Vsi @ r))
    V0 = _sparse_blocks([np.eye(b.shape[0]) / 2 + 0.5 for b in dm.s_blocks])
    tr1 = float(Vsi.multiply(V0.T).sum())
    G = (X.T @ (Vsi @ V0 @ Vsi) @ X).tocsr()
    C = _sparse_blocks(dm.v_blocks)
    tr2 = float(C.multiply(G.T).sum())
    if tr1 == tr2:
        return 0.0
    return float(np.sqrt(max(0.0, (q - len(dm.s_te) + nrow) / (tr1 - tr2))))


def q_within_between(study, t1, t2, te, se, narms, labels) -> tuple[float, int, float, int]:
    """(Q within designs, df, Q between designs, df) without the per-design diagnostics."""
    dm = design_model(study, t1, t2, te, se ** 2, narms, labels)
    _, _, q_net, q_het, Vsi, r_het = _q_parts(dm)
    _, df_d, _ = _het_by_design(dm, Vsi, r_het)
    df_het = int(df_d.sum())
    return q_het, df_het, q_net - q_het, int(len(dm.s_te) - (dm.n - 1) - df_het)


def _between(dm: DesignModel) -> tuple[float, int]:
    Vi, _, q_net, q_het, Vsi, r_het = _q_parts(dm)
    _, df_design, _ = _het_by_design(dm, Vsi, r_het)
    df_net = len(dm.s_te) - (dm.n - 1)
    return q_net - q_het, int(df_net - df_design.sum())


def decompose(study, t1, t2, te, se, narms, labels) -> DesignDecomposition:
    """netmeta decomp.design for one connected network with at least three treatments."""
    dm = design_model(study, t1, t2, te, se ** 2, narms, labels)
    Vi, net_design, q_net, q_het, Vsi, r_het = _q_parts(dm)
    q_d, df_d, rows_d = _het_by_design(dm, Vsi, r_het)
    df_net = len(dm.s_te) - (dm.n - 1)
    df_het = int(df_d.sum())
    qs = np.array([q_net, q_het, q_net - q_het])
    dfs = np.array([df_net, df_het, df_net - df_het])
    q_decomp = pd.DataFrame({"q": qs, "df": dfs, "pvalue": chi2_sf(qs, dfs)},
                            index=["Total", "Within designs", "Between designs"])
    first = [int(np.flatnonzero(dm.design_of_row == d)[0]) for d in range(len(dm.v_blocks))]
    dnames = [dm.names[i] for i in first]
    q_het_design = pd.DataFrame({"design": dnames, "q": q_d, "df": df_d, "pvalue": chi2_sf(q_d, df_d)})
    r = dm.te_dir - net_design
    q_inc_design = pd.Series((Vi @ r) * r, index=list(dm.names), name="q")
    fitted, rank = _detach(dm, Vi)
    resid = dm.te_dir[:, None] - fitted[:, dm.design_of_row]   # columns per design row
    same = dm.design_of_row[:, None] == dm.design_of_row[None, :]
    resid[same] = 0.0
    q_det = np.array([float(resid[:, c] @ (Vi @ resid[:, c])) if np.isfinite(fitted[0, d]) else np.nan
                      for d, c in enumerate(first)])
    df_det = len(dm.te_dir) - rank
    ok = np.isfinite(q_det)
    q_inc_detach = pd.DataFrame({"design": dnames, "q": q_det, "df": df_det,
                                 "pvalue": chi2_sf(np.where(ok, q_det, 0), df_det)})[ok].reset_index(drop=True)
    # netmeta's residuals are in the orientation treat2 - treat1 (nma.krahn uses -TE)
    residuals = pd.DataFrame(-resid + 0.0, index=list(dm.names), columns=list(dm.names))
    tw = tau_within(dm)
    dm_r = design_model(study, t1, t2, te, se ** 2 + tw ** 2, narms, labels)
    q_r, df_r = _between(dm_r)
    q_inc_random = pd.DataFrame({"q": [q_r], "df": [df_r], "pvalue": [chi2_sf(q_r, df_r)],
                                 "tau_within": [tw]})
    return DesignDecomposition(q_decomp, q_het_design, q_inc_detach, q_inc_design, q_inc_random,
                               residuals)
