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

from .component import chi2_sf
from .krahn import DesignModel, block_diag, block_inv, contrast_matrix, design_model

__all__ = ["DesignDecomposition", "decompose", "tau_within"]


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


def _q_parts(dm: DesignModel):
    Vi = dm.v_inv
    X = dm.X
    C = np.linalg.inv(X.T @ Vi @ X)
    theta = C @ X.T @ Vi @ dm.te_dir
    net_design = X @ theta
    Xs = contrast_matrix(dm.s_a, dm.s_b, dm.n)
    Vsi = block_inv(list(dm.s_blocks))
    r_net = dm.s_te - Xs @ theta
    r_het = dm.s_te - dm.te_dir[dm.s_design_row]
    return Vi, net_design, float(r_net @ Vsi @ r_net), float(r_het @ Vsi @ r_het), Vsi, r_het


def _het_by_design(dm: DesignModel, Vsi, r_het):
    nblk = len(dm.v_blocks)
    blk = dm.design_of_row[dm.s_design_row]
    q = np.array([float(r_het[blk == d] @ Vsi[np.ix_(blk == d, blk == d)] @ r_het[blk == d])
                  for d in range(nblk)])
    rows = np.array([np.sum(blk == d) for d in range(nblk)])
    df = rows - (dm.narms - 1)
    return q, df, rows


def _detach(dm: DesignModel, Vi: np.ndarray):
    """Fitted design rows with design d given its own parameters (NaN if not estimable)."""
    X = dm.X
    nrow = len(dm.te_dir)
    out = np.full((nrow, len(dm.v_blocks)), np.nan)
    rank = np.zeros(len(dm.v_blocks), dtype=int)
    for d in range(len(dm.v_blocks)):
        sel = dm.design_of_row == d
        Z = np.zeros((nrow, int(sel.sum())))
        Z[np.flatnonzero(sel), np.arange(int(sel.sum()))] = 1.0
        Xb = np.hstack([np.where(sel[:, None], 0.0, X), Z])
        rank[d] = np.linalg.matrix_rank(Xb)
        if rank[d] == Xb.shape[1]:
            A = Xb.T @ Vi
            out[:, d] = Xb @ np.linalg.solve(A @ Xb, A @ dm.te_dir)
    return out, rank


def tau_within(dm: DesignModel) -> float:
    """DL tau of the full design-by-treatment interaction model (netmeta tau.within)."""
    Vsi = block_inv(list(dm.s_blocks))
    nrow = len(dm.te_dir)
    X = np.zeros((len(dm.s_te), nrow))
    X[np.arange(len(dm.s_te)), dm.s_design_row] = 1.0
    C = np.linalg.inv(X.T @ Vsi @ X)
    r = dm.s_te - X @ (C @ X.T @ Vsi @ dm.s_te)
    q = float(r @ Vsi @ r)
    V0 = block_diag([np.eye(b.shape[0]) / 2 + 0.5 for b in dm.s_blocks])
    tr1 = float(np.sum(Vsi * V0.T))
    tr2 = float(np.trace(C @ X.T @ Vsi @ V0 @ Vsi @ X))
    if tr1 == tr2:
        return 0.0
    return float(np.sqrt(max(0.0, (q - len(dm.s_te) + nrow) / (tr1 - tr2))))


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
    q_det = np.array([float(resid[:, c] @ Vi @ resid[:, c]) if np.isfinite(fitted[0, d]) else np.nan
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
