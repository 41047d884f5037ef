"""Duval and Tweedie's trim-and-fill method (metafor 3.8-1 ``trimfill.rma.uni``).

The side with missing studies is taken from the sign of the slope of an Egger-type
meta-regression on the standard error (negative slope: studies missing on the right), the
effects are flipped so that missing studies are always on the left, and then, starting from
k0 = 0, the k0 largest effects are trimmed, the estimate is refitted on the k - k0 remaining
ones and k0 re-estimated from the signed ranks of the centred effects (L0, R0 or Q0), until k0
no longer changes. The k0 trimmed studies are then mirrored about the trimmed estimate and the
model refitted on the k + k0 studies.

References
----------
Duval SJ, Tweedie RL (2000a). Biometrics 56(2):455-463. doi:10.1111/j.0006-341x.2000.00455.x
Duval SJ, Tweedie RL (2000b). J Am Stat Assoc 95(449):89-98. doi:10.1080/01621459.2000.10473905
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._summary import Summary
from ..._validate import as_float_array, check_level, check_option, check_same_length
from ...errors import ConvergenceWarning, DataError, ParameterError
from .regtest import METHODS, model_inputs
from ..fit import RmaFit, rma_fit
from ..pairwise import ci_option

__all__ = ["TrimFillResult", "trimfill", "TRIMFILL_ESTIMATORS"]

TRIMFILL_ESTIMATORS = {
    "L0": "Duval & Tweedie (2000) L0, from the Wilcoxon rank sum",
    "R0": "Duval & Tweedie (2000) R0, from the rightmost run of ranks",
    "Q0": "Duval & Tweedie (2000) Q0",
}


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------

def signed_ranks(centred: np.ndarray) -> np.ndarray:
    """sign(c_i) rank(|c_i|), ranks 1..k with ties broken by position (R's ties.method="first")."""
    order = np.argsort(np.abs(centred), kind="stable")
    ranks = np.empty(centred.size)
    ranks[order] = np.arange(1, centred.size + 1)
    return np.sign(centred) * ranks


def _var_sr(k: int, k0: float) -> float:
    """Variance of the Wilcoxon statistic S_r given k0 missing studies (Duval & Tweedie 2000b)."""
    return (k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0 - 18 * k * k0**2
            - 18 * k * k0 + 6 * k**2 * k0) / 24


def estimate_k0(sr: np.ndarray, estimator: str) -> tuple[float, float]:
    """Unrounded k0 and its standard error from the signed ranks.

    R0 = k - (largest negative rank) - 1, se = sqrt(2 max(0, R0) + 2);
    L0 = (4 S_r - k(k+1)) / (2k - 1), se = 4 sqrt(Var S_r) / (2k - 1);
    Q0 = k - 1/2 - sqrt(2k^2 - 4 S_r + 1/4), se = 2 sqrt(Var S_r) / sqrt((k - 1/2)^2 - Q0 (2k - Q0 - 1)),
    with S_r the sum of the positive ranks.
    """
    k = sr.size
    if estimator == "R0":
        neg = -sr[sr < 0]
        if neg.size == 0:
            raise DataError("trimfill: the R0 estimator is undefined because no effect lies below the trimmed "
                            "estimate (all effects are equal?); use estimator='L0'.")
        k0 = (k - neg.max()) - 1
        return float(k0), float(np.sqrt(2 * max(0.0, k0) + 2))
    s_r = float(np.sum(sr[sr > 0]))
    with np.errstate(invalid="ignore"):  # a negative variance gives se = NaN, as in R
        if estimator == "L0":
            k0 = (4 * s_r - k * (k + 1)) / (2 * k - 1)
            return k0, float(4 * np.sqrt(_var_sr(k, k0)) / (2 * k - 1))
        k0 = k - 0.5 - np.sqrt(2 * k**2 - 4 * s_r + 0.25)
        return float(k0), float(2 * np.sqrt(_var_sr(k, k0)) / np.sqrt((k - 0.5) ** 2 - k0 * (2 * k - k0 - 1)))


def r0_pvalue(k0: int) -> float:
    """P(R0 >= k0) under no missing studies: 1 - sum_{j=0}^{k0} 2^-(j+1) (metafor's p.k0)."""
    return 1.0 - sum(0.5 ** (j + 1) for j in range(k0 + 1))


def estimate_side(y: np.ndarray, v: np.ndarray, method: str) -> str:
    """'right' when the slope on sqrt(v) of the meta-regression is negative, else 'left'."""
    X = np.column_stack([np.ones(y.size), np.sqrt(v)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slope = rma_fit(y, v, X, method, False, 0.95).beta[1]
    return "right" if slope < 0 else "left"


def trim_iterations(y: np.ndarray, v: np.ndarray, method: str, estimator: str, max_iter: int):
    """Iterate k0 to a fixed point on effects sorted ascending and flipped so that missing studies
    are on the left. Returns (k0, se_k0, trimmed estimate, iterations, converged).

    Raises DataError where metafor stops with an error (k0 undefined, or every study trimmed).
    """
    k = y.size
    k0_prev, k0, it, se_k0, beta = -1, 0, 0, np.nan, np.nan
    while k0 != k0_prev:
        if it == max_iter:
            return k0, se_k0, beta, it, False
        k0_prev, it = k0, it + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            beta = float(rma_fit(y[: k - k0], v[: k - k0], None, method, False, 0.95).beta[0])
        k0_raw, se_raw = estimate_k0(signed_ranks(y - beta), estimator)
        if not np.isfinite(k0_raw):  # R stops ("missing value where TRUE/FALSE needed")
            raise DataError(f"trimfill: the {estimator} estimate of the number of missing studies is undefined "
                            f"for these data; use estimator='L0'.")
        k0 = int(max(0, round(k0_raw)))
        if k0 >= k:  # R stops: nothing left to fit after trimming
            raise DataError(f"trimfill: the {estimator} estimator trims all {k} studies; too few studies "
                            "for trim and fill.")
        se_k0 = se_raw if np.isnan(se_raw) else max(0.0, float(se_raw))
    return k0, se_k0, beta, it, True


# --------------------------------------------------------------------------------------------
# Result and entry point
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)
class TrimFillResult:
    """Trim-and-fill analysis: the estimated number of missing studies and the refitted model.

    ``effect``/``variance``/``study`` are the filled data set (observed studies first, in their
    order, then the ``k0`` filled ones, labelled "Filled 1".."Filled k0"); ``filled`` marks the
    filled ones. ``fit`` is the ``RmaFit`` on the filled data (on the observed data when k0 = 0);
    the usual quantities are exposed as properties. ``p_k0`` is defined for R0 only.
    """

    k0: int
    se_k0: float
    p_k0: float
    side: str
    estimator: str
    effect: np.ndarray
    variance: np.ndarray
    filled: np.ndarray
    study: tuple
    fit: RmaFit
    iterations: int
    converged: bool

    method = property(lambda self: self.fit.method)
    k = property(lambda self: self.fit.k)
    estimate = property(lambda self: float(self.fit.beta[0]))
    se = property(lambda self: float(self.fit.se[0]))
    statistic = property(lambda self: float(self.fit.statistic[0]))
    pvalue = property(lambda self: float(self.fit.pvalue[0]))
    ci_low = property(lambda self: float(self.fit.ci_low[0]))
    ci_high = property(lambda self: float(self.fit.ci_high[0]))
    tau2 = property(lambda self: self.fit.tau2)
    se_tau2 = property(lambda self: self.fit.se_tau2)
    q = property(lambda self: self.fit.q)
    q_pvalue = property(lambda self: self.fit.q_pvalue)
    i2 = property(lambda self: self.fit.i2)
    h2 = property(lambda self: self.fit.h2)

    def __repr__(self) -> str:
        return (f"TrimFillResult(k0={self.k0}, side={self.side!r}, estimator={self.estimator!r}, k={self.k}, "
                f"method={self.method!r}, estimate={self.estimate:.4f} [{self.ci_low:.4f}, {self.ci_high:.4f}], "
                f"tau2={self.tau2:.4f})")

    def summary(self) -> Summary:
        frame = pd.DataFrame({
            "estimate": [self.estimate], "se": [self.se], "ci_low": [self.ci_low], "ci_high": [self.ci_high],
            "statistic": [self.statistic], "pvalue": [self.pvalue], "tau2": [self.tau2], "q": [self.q],
            "q_pvalue": [self.q_pvalue], "i2": [self.i2], "k": [self.k], "k0": [self.k0],
            "se_k0": [self.se_k0]}, index=[f"filled ({self.method})"])
        notes = [f"Estimated missing studies on the {self.side} side: {self.k0} "
                 f"(estimator {self.estimator}, SE {self.se_k0:.4f}"
                 + (f", p = {self.p_k0:.4g})." if self.estimator == "R0" else ").")]
        if not self.converged:
            notes.append(f"The trim-and-fill iterations did not converge in {self.iterations} steps.")
        notes.append("Duval & Tweedie (2000) doi:10.1111/j.0006-341x.2000.00455.x")
        return Summary(title="Trim-and-fill analysis", frame=frame, notes=tuple(notes))


def trimfill(effect, variance=None, *, method: str | None = None, ci: str | None = None,
             level: float | None = None, estimator: str = "L0", side: str | None = None, max_iter: int = 100,
             study=None, knha: bool | None = None) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill method (metafor's ``trimfill``).

    Parameters
    ----------
    effect, variance : array-like, or a fitted model and None
        Per-study effects and their sampling variances (variances, not standard errors); or an
        intercept-only ``PairwiseResult``/``RmaFit`` whose data and settings are used.
    method : {"FE", "DL", "HE", "HS", "SJ", "PM", "ML", "REML", "EB"}, optional
        Model of the original analysis (default "REML", or the fitted model's); used for the
        trimming fits and the final refit.
    ci : {"wald", "hksj"}, optional
        "hksj": Knapp-Hartung tests in the final refit (default "wald", or the fitted model's;
        metafor's refit uses z tests, see Notes). ``knha`` (True/False) is its deprecated spelling.
    level : float, optional
        Confidence level of the final refit (default 0.95, or the fitted model's).
    estimator : {"L0", "R0", "Q0"}, default="L0"
        Estimator of the number of missing studies.
    side : {"left", "right"}, optional
        Side of the funnel plot with missing studies; estimated from the sign of the Egger
        slope (metafor's default) when omitted.
    max_iter : int, default=100
        Maximum number of trimming iterations.
    study : sequence, optional
        Study labels (1..k if omitted); filled studies are labelled "Filled 1", ...

    Returns
    -------
    TrimFillResult

    Warns
    -----
    ConvergenceWarning
        When k0 has not settled after ``max_iter`` iterations (metafor stops with an error); the
        result then has ``converged=False`` and uses the last k0.

    Notes
    -----
    metafor 3.8-1 refits the filled data with z tests and a 95% level whatever the original
    model used; netstrata uses ``ci`` and ``level`` as given (identical for the defaults).

    References
    ----------
    Duval & Tweedie (2000a) doi:10.1111/j.0006-341x.2000.00455.x; Duval & Tweedie (2000b)
    doi:10.1080/01621459.2000.10473905.
    """
    caller = "trimfill"
    ci = ci_option(ci, knha=knha, caller=caller)
    knha = None if ci is None else ci == "hksj"
    effect, variance, base, settings = model_inputs(effect, variance, dict(method=method, knha=knha, level=level),
                                                    caller)
    if base is not None and base.shape[1] > 1:
        raise ParameterError(f"{caller} applies only to models without moderators; got a model with "
                             f"{base.shape[1]} coefficients.")
    method, knha, level = settings["method"], settings["knha"], settings["level"]
    method = check_option(method, name="method", allowed=METHODS, caller=caller)
    estimator = check_option(estimator, name="estimator", allowed=tuple(TRIMFILL_ESTIMATORS), caller=caller)
    level = check_level(level, caller=caller)
    if side is not None:
        side = check_option(side, name="side", allowed=("left", "right"), caller=caller)
    if not isinstance(max_iter, (int, np.integer)) or isinstance(max_iter, bool) or max_iter < 1:
        raise ParameterError(f"The 'max_iter' parameter of {caller} must be a positive integer. "
                             f"Got {max_iter!r} instead.")
    if not isinstance(knha, (bool, np.bool_)):
        raise ParameterError(f"The 'knha' parameter of {caller} must be True or False. Got {knha!r} instead.")
    y = as_float_array(effect, name="effect", caller=caller)
    v = as_float_array(variance, name="variance", caller=caller, positive=True)
    check_same_length(caller, effect=y, variance=v)
    if y.size < 2:
        raise ParameterError(f"The 'effect' parameter of {caller} needs at least 2 studies; got {y.size}.")
    labels = tuple(range(1, y.size + 1)) if study is None else tuple(study)
    if len(labels) != y.size:
        raise ParameterError(f"The 'study' parameter of {caller} must have {y.size} labels; got {len(labels)}.")
    return _trimfill(y, v, method, bool(knha), level, estimator, side, int(max_iter), labels)


def _trimfill(y, v, method, knha, level, estimator, side, max_iter, labels) -> TrimFillResult:
    side = side or estimate_side(y, v, method)
    flip = -1.0 if side == "right" else 1.0
    order = np.argsort(flip * y, kind="stable")  # R's sort(): stable radix ordering
    ys, vs = flip * y[order], v[order]
    k0, se_k0, beta, iters, converged = trim_iterations(ys, vs, method, estimator, max_iter)
    if not converged:
        warnings.warn(f"trimfill: the number of missing studies did not settle within max_iter={max_iter} "
                      f"iterations (last k0 = {k0}); increase max_iter or try another estimator.",
                      ConvergenceWarning, stacklevel=3)
    k = y.size
    # mirror the k0 most extreme studies about the trimmed estimate: 2 beta - y on the flipped
    # scale, computed in metafor's order of operations, -((y - beta) - beta)
    y_fill = -flip * ((ys[k - k0:] - beta) - beta)
    effect = np.concatenate([y, y_fill])
    variance = np.concatenate([v, vs[k - k0:]])
    fit = rma_fit(effect, variance, None, method, knha, level)
    filled = np.concatenate([np.zeros(k, dtype=bool), np.ones(k0, dtype=bool)])
    for arr in (effect, variance, filled):
        arr.flags.writeable = False
    return TrimFillResult(
        k0=k0, se_k0=float(se_k0), p_k0=r0_pvalue(k0) if estimator == "R0" else np.nan, side=side,
        estimator=estimator, effect=effect, variance=variance, filled=filled,
        study=labels + tuple(f"Filled {i}" for i in range(1, k0 + 1)), fit=fit, iterations=iters,
        converged=converged)
