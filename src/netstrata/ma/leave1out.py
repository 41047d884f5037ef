"""Leave-one-out sensitivity analysis as metafor 3.8-1 ``leave1out.rma.uni``.

Study ``i`` is removed and the intercept-only model refitted with the same method, test and
level; a refit that fails (e.g. a non-converging estimator) gives NaN in its row, as metafor's
``try()`` does.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._summary import Summary
from .fit import RmaFit, rma_fit

__all__ = ["LeaveOneOut", "leave1out"]

_COLUMNS = ("estimate", "se", "statistic", "pvalue", "ci_low", "ci_high", "q", "q_pvalue", "tau2", "i2", "h2")


@dataclass(frozen=True, slots=True, eq=False)
class LeaveOneOut:
    """One row per omitted study (arrays of length k); ``statistic`` is z or t as in the fit.

    ``tau2`` is NaN throughout for a common-effect (FE) fit, as metafor omits it.
    """

    omitted: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    q: np.ndarray
    q_pvalue: np.ndarray
    tau2: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    converged: np.ndarray
    method: str

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({c: getattr(self, c) for c in _COLUMNS}, index=self.omitted)
        frame.index.name = "omitted"
        return frame

    def summary(self) -> Summary:
        return Summary(f"Leave-one-out analysis ({self.method})", self.to_frame())

    def __repr__(self) -> str:
        return (f"LeaveOneOut(k={self.omitted.size}, method={self.method!r}, "
                f"estimate range [{np.nanmin(self.estimate):.4f}, {np.nanmax(self.estimate):.4f}])")


def leave1out(fit: RmaFit, labels=None) -> LeaveOneOut:
    """Refit ``fit`` (intercept-only) k times, each time without one study."""
    k = fit.k
    out = {c: np.full(k, np.nan) for c in _COLUMNS}
    conv = np.zeros(k, dtype=bool)
    keep = np.ones(k, dtype=bool)
    y, v = fit.observed()
    for i in range(k):
        keep[i] = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = rma_fit(y[keep], v[keep], None, fit.method, fit.knha, fit.level)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            r = None
        keep[i] = True
        if r is None or not r.converged:
            continue
        conv[i] = True
        for c, val in (("estimate", r.beta[0]), ("se", r.se[0]), ("statistic", r.statistic[0]),
                       ("pvalue", r.pvalue[0]), ("ci_low", r.ci_low[0]), ("ci_high", r.ci_high[0]),
                       ("q", r.q), ("q_pvalue", r.q_pvalue), ("tau2", r.tau2), ("i2", r.i2), ("h2", r.h2)):
            out[c][i] = val
    if fit.method == "FE":  # metafor drops tau2 from leave1out() of a common-effect model
        out["tau2"][:] = np.nan
    omitted = np.arange(1, k + 1) if labels is None else np.asarray(labels)
    return LeaveOneOut(omitted=omitted, converged=conv, method=fit.method, **out)
