"""Network measures (netmeta netmeasures): direct evidence proportion, mean path length, minimal
parallelism (design and study level) and the aggregated hat matrix H̃.

References
----------
König J, Krahn U, Binder H (2013). Visualizing the flow of evidence in network meta-analysis and
characterizing mixed treatment comparisons. Stat Med 32:5414-5429. doi:10.1002/sim.6001
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .krahn import design_model, pair_rows
from .prepare import collate_key

__all__ = ["NetMeasures", "net_measures", "direct_proportion"]


@dataclass(frozen=True, slots=True)
class NetMeasures:
    """netmeta netmeasures; Series indexed by comparison 'a:b' (all pairs, netmeta order)."""

    proportion: pd.Series
    meanpath: pd.Series
    minpar: pd.Series
    minpar_study: pd.Series
    h_tilde: pd.DataFrame      # comparisons × designs

    def __repr__(self) -> str:
        return (f"NetMeasures(comparisons={len(self.proportion)}, "
                f"mean proportion direct={float(np.mean(self.proportion)):.4f})")


def direct_proportion(t1, t2, se, n: int, tau2: float, network_var: np.ndarray) -> np.ndarray:
    """Direct evidence proportion per pair i < j (netmeta order): network variance / variance of
    the inverse-variance pooled direct rows (multi-arm rows taken as independent, as netmeta);
    0 where there is no direct evidence."""
    i, j = pair_rows(n)
    w = 1.0 / (se ** 2 + tau2)
    wsum = np.bincount(t1 * n + t2, weights=w, minlength=n * n)[i * n + j]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(wsum > 0, network_var[i, j] * wsum, 0.0)


def _tilde(H: np.ndarray, groups: list[str]) -> tuple[np.ndarray, list[str]]:
    """0.5 (|Σ h| + Σ |h|) over the columns of each group; groups sorted as R's split() sorts."""
    keys = sorted(set(groups), key=collate_key)
    g = np.array(groups, dtype=object)
    out = np.column_stack([0.5 * (np.abs(H[:, g == k].sum(axis=1)) + np.abs(H[:, g == k]).sum(axis=1))
                           for k in keys])
    return out, keys


def net_measures(study, t1, t2, te, se, narms, labels, studies, tau2: float,
                 network_var: np.ndarray) -> NetMeasures:
    """netmeasures of one connected network; ``tau2`` = 0 (common) or the network tau² (random)."""
    n = len(labels)
    i, j = pair_rows(n)
    names = [f"{labels[a]}:{labels[b]}" for a, b in zip(i, j)]
    prop = pd.Series(direct_proportion(t1, t2, se, n, tau2, network_var), index=names)
    if n == 2:
        one = pd.Series([1.0], index=names)
        return NetMeasures(prop, one, pd.Series(dtype=float), pd.Series(dtype=float), pd.DataFrame())
    dm = design_model(study, t1, t2, te, se ** 2 + tau2, narms, labels)
    ht, dkeys = _tilde(dm.hat(), list(dm.names))
    hs, _ = _tilde(dm.hat_studies(), [studies[s] for s in dm.s_study])
    return NetMeasures(prop, pd.Series(ht.sum(axis=1), index=names),
                       pd.Series(1.0 / np.abs(ht).max(axis=1), index=names),
                       pd.Series(1.0 / np.abs(hs).max(axis=1), index=names),
                       pd.DataFrame(ht, index=names, columns=dkeys))
