"""Subgroup analysis: one pairwise meta-analysis per subgroup and tests of subgroup differences.

Two tests are reported, as in the literature:

* ``q_between`` (separate τ² per subgroup, the RevMan / ``meta::update(subgroup=)`` default):
  Cochran's Q of the subgroup estimates with weights 1/se_g², on G-1 df (Borenstein & Higgins 2013);
* ``qm`` (common τ²): the omnibus test of the mixed-effects meta-regression on the subgroup factor,
  i.e. metafor's ``rma(yi, vi, mods = ~ factor(group))`` QM test (chi-square, or F with Knapp-Hartung).

References
----------
Borenstein, M. & Higgins, J. P. T. (2013). Meta-analysis and subgroups. *Prev Sci* 14(2):134-143.
doi:10.1007/s11121-013-0377-7
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .._summary import Summary
from ..errors import ParameterError
from .design import _levels
from .metareg import MetaRegressionResult, meta_regression
from .pairwise import PairwiseResult, pairwise, validate_inputs

__all__ = ["SubgroupResult", "subgroups"]


@dataclass(frozen=True, slots=True, eq=False)
class SubgroupResult:
    """Per-subgroup fits (in level order) and the two tests of subgroup differences."""

    levels: tuple
    fits: tuple[PairwiseResult, ...]
    q_between: float
    q_between_df: int
    q_between_pvalue: float
    qm: float
    qm_df: tuple[int, ...]
    qm_pvalue: float
    common_tau2: MetaRegressionResult | None
    method: str
    ci: str
    level: float

    def __getitem__(self, level) -> PairwiseResult:
        return self.fits[self.levels.index(level)]

    def to_frame(self) -> pd.DataFrame:
        rows = {lv: {"k": f.k, "estimate": f.estimate, "se": f.se, "ci_low": f.ci_low,
                     "ci_high": f.ci_high, "tau2": f.tau2, "i2": f.i2, "q": f.q}
                for lv, f in zip(self.levels, self.fits)}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "subgroup"
        return frame

    def summary(self) -> Summary:
        notes = (f"Test of subgroup differences (separate tau2): Q = {self.q_between:.4f}, "
                 f"df = {self.q_between_df}, p = {self.q_between_pvalue:.4g}.",
                 f"Test of moderators (common tau2, meta-regression): QM = {self.qm:.4f}, "
                 f"df = {self.qm_df}, p = {self.qm_pvalue:.4g}.")
        return Summary(f"Subgroup analysis ({self.method})", self.to_frame(), notes)

    def __repr__(self) -> str:
        return (f"SubgroupResult(groups={len(self.levels)}, method={self.method!r}, "
                f"q_between={self.q_between:.4f}, p={self.q_between_pvalue:.4g})")


def _between(fits) -> tuple[float, int, float]:
    """Cochran's Q of subgroup estimates, weights 1/se²: Σ w_g (θ_g - θ̄_w)², df G-1."""
    est = np.array([f.estimate for f in fits])
    w = 1.0 / np.array([f.se for f in fits]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / np.sum(w)) ** 2))
    df = len(fits) - 1
    return q, df, float(special.chdtrc(df, q))


def subgroups(effect, variance, groups, *, method: str = "REML", ci: str = "wald",
              level: float = 0.95) -> SubgroupResult:
    """Meta-analyse each subgroup separately and test for subgroup differences.

    Parameters
    ----------
    effect, variance : array-like (k,)
    groups : array-like (k,)
        Subgroup label of each study (levels sorted, or a pandas Categorical's order).
    method, ci, level : as in :func:`netstrata.pairwise` (used within subgroups and for the
        common-τ² meta-regression).

    Examples
    --------
    >>> from netstrata.ma import subgroups
    >>> y = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01]
    >>> v = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004]
    >>> subgroups(y, v, ["a", "a", "b", "b", "a", "b", "a", "b"], method="DL")
    SubgroupResult(groups=2, method='DL', q_between=0.1243, p=0.7244)
    """
    caller = "subgroups"
    y, v, method, ci, level = validate_inputs(effect, variance, method, ci, level, caller)
    g = pd.Series(groups).reset_index(drop=True)
    if len(g) != y.size:
        raise ParameterError(f"The arguments of {caller} must have the same length; "
                             f"got effect={y.size}, groups={len(g)}.")
    if g.isna().any():
        raise ParameterError(f"The 'groups' parameter of {caller} has missing labels at positions "
                             f"{np.flatnonzero(g.isna().to_numpy()).tolist()}.")
    levels = tuple(_levels(g))
    if len(levels) < 2:
        raise ParameterError(f"The 'groups' parameter of {caller} needs at least 2 subgroups; got {levels!r}.")
    fits = tuple(pairwise(y[(g == lv).to_numpy()], v[(g == lv).to_numpy()], method=method, ci=ci, level=level)
                 for lv in levels)
    q, df, p = _between(fits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            common = meta_regression(y, v, pd.DataFrame({"group": pd.Categorical(g, categories=levels)}),
                                     method=method, ci=ci, level=level)
        qm, qm_df, qm_p = common.qm, common.qm_df, common.qm_pvalue
    except ParameterError:  # too few studies for the common-tau2 model
        common, qm, qm_df, qm_p = None, float("nan"), (len(levels) - 1,), float("nan")
    return SubgroupResult(levels=levels, fits=fits, q_between=q, q_between_df=df, q_between_pvalue=p,
                          qm=qm, qm_df=qm_df, qm_pvalue=qm_p, common_tau2=common, method=method,
                          ci=ci, level=level)
