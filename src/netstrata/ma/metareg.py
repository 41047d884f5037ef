"""Meta-regression (mixed-effects models) as metafor 3.8-1 ``rma(yi, vi, mods = ~ ...)``.

Coefficients with z (or Knapp-Hartung t) tests, the omnibus test QM of all non-intercept
coefficients (chi-square; F with (m, k-p) df for Knapp-Hartung), the residual heterogeneity
test QE, residual τ², and the pseudo R² of Raudenbush (2009) as metafor computes it:
``max(0, 100 (τ²_RE - τ²) / τ²_RE)`` with τ²_RE from the intercept-only model fitted with the
same method (0 when τ²_RE is exactly 0). For ``method='FE'`` metafor reports the adjusted R² of
the weighted least-squares regression instead; so does this function.

References
----------
Raudenbush, S. W. (2009). Analyzing effect sizes: random-effects models. In Cooper, Hedges &
Valentine (eds), *The Handbook of Research Synthesis and Meta-Analysis*, 2nd ed., 295-315.
Thompson, S. G. & Higgins, J. P. T. (2002). How should meta-regression analyses be undertaken
and interpreted? *Stat Med* 21(11):1559-1573. doi:10.1002/sim.1187
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._summary import Summary
from .._validate import check_level
from ..errors import ParameterError, StatisticalWarning
from .confint import heterogeneity_ci
from .design import design_matrix, moderator_frame
from .fit import RmaFit, rma_fit
from .pairwise import validate_inputs

__all__ = ["MetaRegressionResult", "meta_regression"]


@dataclass(frozen=True, slots=True, eq=False)
class MetaRegressionResult:
    """A fitted meta-regression; coefficient arrays follow ``names``.

    ``qm_df`` is ``(m,)`` for the chi-square test or ``(m, k - p)`` for the F test
    (``ci='hksj'``); ``r2`` is percent (None without an intercept or with no moderators);
    ``rows`` are the indices of the studies used (studies with a missing moderator are omitted).
    """

    k: int
    p: int
    method: str
    ci: str
    level: float
    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray
    df: int | None
    qm: float
    qm_df: tuple[int, ...]
    qm_pvalue: float
    q: float
    q_pvalue: float
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    r2: float | None
    converged: bool
    iterations: int
    rows: np.ndarray
    fit: RmaFit

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def q_df(self) -> int:
        return self.k - self.p

    def confint(self, level: float | None = None):
        """Q-profile CIs of the residual τ², τ, I², H² (metafor ``confint`` on a mods model)."""
        if self.method == "FE":
            raise ParameterError("confint: a common-effect (method='FE') model has no tau2 to bound.")
        return heterogeneity_ci(self.fit, None if level is None else check_level(level, caller="confint"))

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: coef, se, statistic, pvalue, ci_low, ci_high."""
        return pd.DataFrame({"coef": self.coef, "se": self.se, "statistic": self.statistic,
                             "pvalue": self.pvalue, "ci_low": self.ci_low, "ci_high": self.ci_high},
                            index=list(self.names))

    def summary(self) -> Summary:
        test = f"F({self.qm_df[0]}, {self.qm_df[1]})" if len(self.qm_df) == 2 else f"chi2({self.qm_df[0]})"
        r2 = "n/a" if self.r2 is None else f"{self.r2:.2f}%"
        notes: tuple[str, ...] = (f"k = {self.k}; residual tau2 = {self.tau2:.4g} ({self.method}); I2 = {self.i2:.2f}%; R2 = {r2}.",
                 f"Test of moderators QM = {self.qm:.4f}, {test}, p = {self.qm_pvalue:.4g}.",
                 f"Residual heterogeneity QE = {self.q:.4f}, df = {self.q_df}, p = {self.q_pvalue:.4g}.")
        if not self.converged:
            notes += ("WARNING: the tau2 estimator did not converge; numbers are not reliable.",)
        return Summary(f"Meta-regression ({self.method})", self.to_frame(), notes)

    def __repr__(self) -> str:
        return (f"MetaRegressionResult(k={self.k}, p={self.p}, method={self.method!r}, "
                f"qm={self.qm:.4f}, qm_pvalue={self.qm_pvalue:.4g}, tau2={self.tau2:.4f})")


def _r2_fe(fit: RmaFit) -> float:
    """metafor for FE: max(0, 100 · adjusted R²) of lm(yi ~ X, weights = 1/vi)."""
    y, v = fit.observed()
    w = 1.0 / v
    X = np.ones((fit.k, 1)) if fit.X is None else fit.X   # None: the intercept-only design
    if np.var(y) == 0:
        return 0.0
    resid = y - X @ fit.beta
    ybar = np.sum(w * y) / np.sum(w)
    r2 = 1.0 - np.sum(w * resid**2) / np.sum(w * (y - ybar) ** 2)
    adj = 1.0 - (1.0 - r2) * (fit.k - 1) / (fit.k - fit.p)
    return max(0.0, 100.0 * adj)


def _r2(fit: RmaFit) -> float:
    """Pseudo R² (percent) against the intercept-only model with the same method and test."""
    if fit.method == "FE":
        return _r2_fe(fit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = rma_fit(*fit.observed(), None, fit.method, fit.knha, fit.level)
    if not base.converged:
        return float("nan")
    if base.tau2 == 0.0:
        return 0.0
    return max(0.0, 100.0 * (base.tau2 - fit.tau2) / base.tau2)


def meta_regression(effect, variance, moderators, *, method: str = "REML", ci: str = "wald",
                    level: float = 0.95, intercept: bool = True) -> MetaRegressionResult:
    """Mixed-effects meta-regression of ``effect`` on ``moderators`` (metafor ``rma(mods=)``).

    Parameters
    ----------
    effect, variance : array-like (k,)
    moderators : DataFrame, dict of columns, Series or array
        Numeric columns are continuous; text/categorical/boolean columns become treatment
        dummies named ``column[level]`` with the first (sorted) level as reference.
        Studies with a missing moderator are omitted (with a warning, as metafor).
    method, ci, level : as in :func:`netstrata.pairwise`.
    intercept : bool
        Include an intercept (default) as metafor does.

    Returns
    -------
    MetaRegressionResult

    Examples
    --------
    >>> from netstrata.ma import meta_regression
    >>> y = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01]
    >>> v = [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004]
    >>> res = meta_regression(y, v, {"lat": [44, 55, 42, 52, 13, 44, 19, 13]})
    >>> res
    MetaRegressionResult(k=8, p=2, method='REML', qm=9.9995, qm_pvalue=0.001566, tau2=0.1026)
    >>> res.names
    ('intercept', 'lat')
    """
    caller = "meta_regression"
    y, v, method, ci, level = validate_inputs(effect, variance, method, ci, level, caller)
    frame = moderator_frame(moderators, y.size, caller)
    design = design_matrix(frame, intercept=bool(intercept), caller=caller)
    if design.rows.size < y.size:
        warnings.warn(f"{caller}: {y.size - design.rows.size} studies with missing moderators omitted "
                      "from model fitting.", StatisticalWarning, stacklevel=2)
    y, v, X = y[design.rows], v[design.rows], design.X
    k, p = X.shape
    if p + (0 if method == "FE" else 1) > k:
        raise ParameterError(f"{caller}: the number of parameters to estimate ({p}"
                             f"{'' if method == 'FE' else ' + tau2'}) is larger than the number of studies ({k}).")
    fit = rma_fit(y, v, X, method, ci == "hksj", level)
    r2 = _r2(fit) if (design.intercept and p > 1) else None
    qm_m, qm_df2 = fit.qm_df
    return MetaRegressionResult(
        k=k, p=p, method=method, ci=ci, level=level, names=design.names, coef=fit.beta, se=fit.se,
        statistic=fit.statistic, pvalue=fit.pvalue, ci_low=fit.ci_low, ci_high=fit.ci_high,
        vcov=fit.vcov, df=fit.df, qm=fit.qm,
        qm_df=(qm_m,) if qm_df2 is None else (qm_m, qm_df2), qm_pvalue=fit.qm_pvalue,
        q=fit.q, q_pvalue=fit.q_pvalue, tau2=fit.tau2, se_tau2=fit.se_tau2, i2=fit.i2, h2=fit.h2,
        r2=r2, converged=fit.converged, iterations=fit.iterations, rows=design.rows, fit=fit)
