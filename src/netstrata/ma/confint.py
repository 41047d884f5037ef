"""Q-profile confidence intervals for τ², τ, I² and H² as metafor 3.8-1 ``confint.rma.uni``.

The bounds solve ``Q(τ²) = χ²_{k-p; 1-α/2}`` (lower) and ``χ²_{k-p; α/2}`` (upper), where
``Q(τ²) = y'P(τ²)y`` is the generalised Q statistic, with R's ``uniroot`` on
``[tau2.min, tau2.max] = [min(0, τ̂²), max(100, 10 τ̂²)]``. When a bound lies outside that
interval metafor reports the interval end with a sign (``lb_sign``/``ub_sign`` ``"<"`` or
``">"``); when even τ² = 0 gives a Q below the lower critical value the interval is the null
set (``ci_null``, both bounds 0).

References
----------
Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in meta-analysis.
*Stat Med* 26(1):37-52. doi:10.1002/sim.2514
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from .._dist import chi2_isf, chi2_ppf

from .._summary import Summary
from ..errors import ConvergenceWarning, ParameterError
from ._proj import proj
from .fit import RmaFit
from .zeroin import R_TOL, uniroot

__all__ = ["HeterogeneityCI", "heterogeneity_ci", "qprofile_bounds"]


@dataclass(frozen=True, slots=True)
class HeterogeneityCI:
    """Estimates and Q-profile bounds of τ², τ, I² (percent) and H², with metafor's flags."""

    tau2: float
    tau2_low: float
    tau2_high: float
    tau: float
    tau_low: float
    tau_high: float
    i2: float
    i2_low: float
    i2_high: float
    h2: float
    h2_low: float
    h2_high: float
    lb_sign: str
    ub_sign: str
    ci_null: bool
    level: float
    tau2_min: float
    tau2_max: float

    def to_frame(self) -> pd.DataFrame:
        """Rows tau2, tau, i2, h2; columns estimate, ci_low, ci_high (as metafor's ``confint``)."""
        rows = ("tau2", "tau", "i2", "h2")
        return pd.DataFrame(
            {"estimate": [getattr(self, r) for r in rows],
             "ci_low": [getattr(self, r + "_low") for r in rows],
             "ci_high": [getattr(self, r + "_high") for r in rows]},
            index=list(rows))

    def summary(self) -> Summary:
        notes = []
        if self.ci_null:
            notes.append("The Q-profile interval is the null set (Q at tau2 = 0 is below the lower critical value).")
        if self.lb_sign or self.ub_sign:
            notes.append(f"Bound outside the search interval [{self.tau2_min:g}, {self.tau2_max:g}]: "
                         f"lower '{self.lb_sign}', upper '{self.ub_sign}'.")
        return Summary(f"Heterogeneity: {100 * self.level:g}% Q-profile confidence intervals",
                       self.to_frame(), tuple(notes))

    def __repr__(self) -> str:
        return (f"HeterogeneityCI(tau2={self.tau2:.4f} [{self.lb_sign}{self.tau2_low:.4f}, "
                f"{self.ub_sign}{self.tau2_high:.4f}], i2={self.i2:.2f} [{self.i2_low:.2f}, {self.i2_high:.2f}])")


def qprofile_bounds(y, v, X, level, tau2_min, tau2_max):
    """τ² bounds by Q-profile; returns ``(lb, ub, lb_sign, ub_sign, ci_null)`` (metafor's steps)."""
    k = y.size
    p = 1 if X is None else X.shape[1]
    alpha = 1.0 - level
    crit_u = float(chi2_isf(alpha / 2, k - p))
    crit_l = float(chi2_ppf(alpha / 2, k - p))

    def q_at(t: float) -> float:
        return proj(1.0 / (v + t), X).quad(y)

    def root(target: float) -> float:
        res = uniroot(lambda t: q_at(t) - target, tau2_min, tau2_max, tol=R_TOL, maxiter=1000)
        if not res.converged:
            warnings.warn("Q-profile: uniroot did not converge for a bound.", ConvergenceWarning, stacklevel=4)
        return res.root

    q_max, q_min = q_at(tau2_max), q_at(tau2_min)
    lb = ub = float("nan")
    lb_sign = ub_sign = ""
    ci_null = False
    # upper bound
    if q_min < crit_l:
        lb = ub = tau2_min
        lb_sign = ub_sign = "<"
        ci_null = tau2_min <= 0
    elif q_max > crit_l:
        ub, ub_sign = tau2_max, ">"
    else:
        ub = root(crit_l)
    # lower bound
    if q_max > crit_u:
        lb = ub = tau2_max
        lb_sign = ub_sign = ">"
    elif q_min < crit_u:
        lb = tau2_min
        if tau2_min > 0:
            lb_sign = "<"
    else:
        lb = root(crit_u)
    return lb, ub, lb_sign, ub_sign, ci_null


def heterogeneity_ci(fit: RmaFit, level: float | None = None) -> HeterogeneityCI:
    """Q-profile CIs for τ², τ, I², H² of a random-effects ``fit`` (metafor ``confint(res)``).

    I² and H² bounds use the fit's typical within-study variance ``vt``:
    ``I² = 100 τ²/(vt + τ²)``, ``H² = τ²/vt + 1``.
    """
    if not fit.converged:
        raise ParameterError("heterogeneity_ci: the model's tau2 estimator did not converge; "
                             "no confidence interval can be given. Refit with another method.")
    level = fit.level if level is None else level
    tau2_min = min(0.0, fit.tau2)
    tau2_max = max(100.0, 10.0 * fit.tau2, 10.0 * tau2_min)
    lb, ub, lb_sign, ub_sign, ci_null = qprofile_bounds(fit.y, fit.v, fit.X, level, tau2_min, tau2_max)
    vt = fit.vt

    def root(t: float) -> float:
        return float(np.sqrt(t)) if t >= 0 else float("nan")

    return HeterogeneityCI(
        tau2=fit.tau2, tau2_low=lb, tau2_high=ub,
        tau=root(fit.tau2), tau_low=root(lb), tau_high=root(ub),
        i2=fit.i2, i2_low=100 * lb / (vt + lb), i2_high=100 * ub / (vt + ub),
        h2=fit.h2, h2_low=lb / vt + 1, h2_high=ub / vt + 1,
        lb_sign=lb_sign, ub_sign=ub_sign, ci_null=ci_null, level=level,
        tau2_min=tau2_min, tau2_max=tau2_max)
