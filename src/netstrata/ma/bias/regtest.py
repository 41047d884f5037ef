"""Egger's regression test for funnel plot asymmetry and its variants (metafor 3.8-1 ``regtest``).

``model="rma"`` adds the predictor (by default the standard error) as a moderator of the
meta-analytic model fitted with the same method (FE or a τ² estimator) and tests its
coefficient (z, or t with Knapp-Hartung); ``model="lm"`` is Egger's classical weighted linear
regression of y_i on the predictor with weights 1/v_i and a t test on k - 2 df. For predictors
that vanish as studies grow large (se, variance, 1/n, 1/sqrt(n)) the intercept is the "limit
estimate" (the effect of an infinitely precise study) with its confidence interval.

References
----------
Egger M, Davey Smith G, Schneider M, Minder C (1997). BMJ 315(7109):629-634.
doi:10.1136/bmj.315.7109.629
Sterne JAC, Egger M (2005). Regression methods to detect publication and other bias in
meta-analysis. In: Publication bias in meta-analysis, Wiley, pp. 99-110.
Stanley TD, Doucouliagos H (2014). Res Synth Methods 5(1):60-78. doi:10.1002/jrsm.1095
Viechtbauer W (2010). J Stat Softw 36(3):1-48. doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from ..._dist import t_isf, t_sf

from ..._summary import Summary
from ..._validate import as_float_array, check_level, check_option, check_same_length
from ...errors import DataError, ParameterError
from ..fit import RmaFit, rma_fit
from ..pairwise import ci_option

__all__ = ["Predictor", "REGTEST_PREDICTORS", "RegTestResult", "regtest", "wls_lm", "model_inputs"]

METHODS = ("FE", "DL", "HE", "HS", "SJ", "PM", "ML", "REML", "EB")


@dataclass(frozen=True, slots=True)
class Predictor:
    """A regtest predictor: how it is computed, whether it needs sample sizes, and whether it
    vanishes for an infinitely large study (then the intercept is the limit estimate)."""

    code: str
    label: str
    make: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    needs_n: bool
    limit: bool


def _sizes(n: np.ndarray | None) -> np.ndarray:
    """The sample sizes of a ``needs_n`` predictor (the caller checked they were given)."""
    if n is None:
        raise ValueError("this regtest predictor needs sample sizes (needs_n=True) and got none")
    return n


REGTEST_PREDICTORS: dict[str, Predictor] = {
    p.code: p
    for p in (
        Predictor("sei", "standard error (Egger)", lambda v, n: np.sqrt(v), False, True),
        Predictor("vi", "sampling variance", lambda v, n: v, False, True),
        Predictor("ni", "sample size", lambda v, n: _sizes(n), True, False),
        Predictor("ninv", "inverse sample size", lambda v, n: 1 / _sizes(n), True, True),
        Predictor("sqrtni", "square root of sample size", lambda v, n: np.sqrt(_sizes(n)), True, False),
        Predictor("sqrtninv", "inverse square root of sample size", lambda v, n: 1 / np.sqrt(_sizes(n)), True, True),
    )
}


@dataclass(frozen=True, slots=True, eq=False)
class LmFit:
    """Weighted least-squares fit as R's ``lm(y ~ X - 1, weights = w)`` reports it."""

    beta: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pvalue: np.ndarray
    df: int
    sigma2: float


def wls_lm(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> LmFit:
    """Weighted least squares via QR of sqrt(w) X: beta = (X'WX)^-1 X'Wy,
    sigma^2 = sum w e^2 / (k - p), Var(beta) = sigma^2 (X'WX)^-1, t tests on k - p df."""
    sw = np.sqrt(w)
    qmat, rmat = np.linalg.qr(X * sw[:, None])
    beta = np.linalg.solve(rmat, qmat.T @ (y * sw))
    k, p = X.shape
    df = k - p
    resid = (y - X @ beta) * sw
    sigma2 = float(resid @ resid) / df
    rinv = np.linalg.inv(rmat)
    se = np.sqrt(sigma2 * np.sum(rinv * rinv, axis=1))  # diag(R^-1 R^-T) = row sums of squares
    t = beta / se
    return LmFit(beta=beta, se=se, statistic=t, pvalue=2 * t_sf(np.abs(t), df), df=df, sigma2=sigma2)


@dataclass(frozen=True, slots=True, eq=False)
class RegTestResult:
    """Regression test for funnel plot asymmetry.

    ``statistic``/``pvalue`` test the predictor's coefficient (z, or t on ``df`` degrees of
    freedom); ``limit_estimate`` with ``limit_ci_low``/``limit_ci_high`` is the intercept when
    the predictor vanishes for large studies (NaN otherwise). ``coef``/``coef_se`` are the
    (intercept, predictor) coefficients of the fitted model; ``fit`` is the ``RmaFit``
    (``model="rma"``) or ``LmFit`` (``model="lm"``).
    """

    model: str
    predictor: str
    method: str
    statistic: float
    pvalue: float
    df: int | None
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float
    coef: np.ndarray
    coef_se: np.ndarray
    k: int
    level: float
    fit: object

    def __repr__(self) -> str:
        stat = "z" if self.df is None else f"t({self.df})"
        return (f"RegTestResult(k={self.k}, model={self.model!r}, predictor={self.predictor!r}, "
                f"{stat}={self.statistic:.4f}, pvalue={self.pvalue:.4g}, limit_estimate={self.limit_estimate:.4f} "
                f"[{self.limit_ci_low:.4f}, {self.limit_ci_high:.4f}])")

    def summary(self) -> Summary:
        frame = pd.DataFrame({
            "estimate": [self.limit_estimate, self.coef[-1]],
            "se": [self.coef_se[0] if np.isfinite(self.limit_estimate) else np.nan, self.coef_se[-1]],
            "ci_low": [self.limit_ci_low, np.nan],
            "ci_high": [self.limit_ci_high, np.nan],
            "statistic": [np.nan, self.statistic],
            "df": [np.nan, np.nan if self.df is None else float(self.df)],
            "pvalue": [np.nan, self.pvalue],
        }, index=["intercept (limit estimate)", f"{self.predictor} (asymmetry test)"])
        kind = ("weighted linear regression (Egger 1997)" if self.model == "lm"
                else f"meta-regression ({self.method})")
        label = REGTEST_PREDICTORS[self.predictor].label
        notes = (f"Model: {kind}; predictor: {label}; k = {self.k}; level {self.level:.0%}.",
                 "Egger et al. (1997) doi:10.1136/bmj.315.7109.629")
        return Summary(title="Regression test for funnel plot asymmetry", frame=frame, notes=notes)


def regtest(effect, variance=None, *, model: str = "rma", predictor: str = "sei", method: str | None = None,
            ci: str | None = None, level: float | None = None, n=None, knha: bool | None = None) -> RegTestResult:
    """Regression test for funnel plot asymmetry (metafor's ``regtest``; Egger's test by default).

    Parameters
    ----------
    effect, variance : array-like, or a fitted model and None
        Per-study effects and their sampling variances (variances, not standard errors); or a
        ``PairwiseResult``/``MetaRegressionResult``/``RmaFit`` whose data, method, test and level
        are used (as metafor's ``regtest(res)``; moderators of a meta-regression are kept).
    model : {"rma", "lm"}, default="rma"
        "rma": meta-regression on the predictor with the model of ``method``/``ci`` (metafor's
        default, pass the settings of the fitted model); "lm": Egger's weighted linear
        regression with weights 1/variance and a t test.
    predictor : {"sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"}, default="sei"
        Standard error, variance, sample size, its inverse, square root or inverse square root.
    method : {"FE", "DL", "HE", "HS", "SJ", "PM", "ML", "REML", "EB"}, optional
        τ² estimator (or FE) of ``model="rma"``; default "REML", or the fitted model's.
    ci : {"wald", "hksj"}, optional
        "hksj": Knapp-Hartung t test for ``model="rma"``; default "wald", or the fitted model's.
    level : float, optional
        Confidence level of the limit estimate; default 0.95, or the fitted model's.
    n : array-like, optional
        Total sample sizes, needed by the sample-size predictors.
    knha : bool, optional
        Deprecated spelling of ``ci`` (True = "hksj").

    Returns
    -------
    RegTestResult

    References
    ----------
    Egger et al. (1997) doi:10.1136/bmj.315.7109.629; Viechtbauer (2010) doi:10.18637/jss.v036.i03.

    Examples
    --------
    >>> res = regtest([0.1, 0.3, -0.2, 0.5, 0.4], [0.01, 0.04, 0.02, 0.09, 0.05], model="lm")
    >>> round(res.statistic, 4)
    1.3134
    """
    caller = "regtest"
    ci = ci_option(ci, knha=knha, caller=caller)
    knha = None if ci is None else ci == "hksj"
    effect, variance, base, settings = model_inputs(effect, variance, dict(method=method, knha=knha, level=level),
                                                    caller)
    model = check_option(model, name="model", allowed=("rma", "lm"), caller=caller)
    pred = REGTEST_PREDICTORS[check_option(predictor, name="predictor", allowed=tuple(REGTEST_PREDICTORS),
                                           caller=caller)]
    method = check_option(settings["method"], name="method", allowed=METHODS, caller=caller)
    level = check_level(settings["level"], caller=caller)
    knha = settings["knha"]
    if not isinstance(knha, (bool, np.bool_)):
        raise ParameterError(f"The 'knha' parameter of {caller} must be True or False. Got {knha!r} instead.")
    y, v, nn = _check_inputs(effect, variance, n, pred, caller)

    base = np.ones((y.size, 1)) if base is None else base
    p = base.shape[1]
    X = np.column_stack([base, pred.make(v, nn)])
    if y.size <= p + 1 or np.linalg.matrix_rank(X) < p + 1:
        raise DataError(f"{caller}: the model matrix is not of full rank after adding the predictor "
                        f"'{pred.code}' (k = {y.size}); the test cannot be carried out.")
    fit: RmaFit | LmFit
    if model == "rma":
        fit = rma_fit(y, v, X, method, bool(knha), level)
        lo, hi = float(fit.ci_low[0]), float(fit.ci_high[0])
    else:
        fit = wls_lm(y, X, 1 / v)
        crit = t_isf((100 - 100 * level) / 200, fit.df)
        lo, hi = fit.beta[0] - crit * fit.se[0], fit.beta[0] + crit * fit.se[0]
    coef, coef_se = np.asarray(fit.beta, dtype=float), np.asarray(fit.se, dtype=float)
    limit = pred.limit and p == 1  # metafor: only for an intercept-only model
    return RegTestResult(
        model=model, predictor=pred.code, method="FE" if model == "lm" else method,
        statistic=float(fit.statistic[p]), pvalue=float(fit.pvalue[p]), df=fit.df,
        limit_estimate=float(coef[0]) if limit else np.nan, limit_ci_low=float(lo) if limit else np.nan,
        limit_ci_high=float(hi) if limit else np.nan, coef=coef, coef_se=coef_se, k=int(y.size), level=level,
        fit=fit)


def model_inputs(effect, variance, settings: dict, caller: str):
    """Unpack a fitted model passed instead of arrays: (effect, variance, moderators or None, settings).

    Accepts an object with a ``fit`` attribute (PairwiseResult, MetaRegressionResult) or an
    RmaFit itself (``y``, ``v``, ``X``, ``method``, ``knha``, ``level``). Explicit settings win;
    missing ones default to the model's, else to REML, z tests and 0.95.
    """
    defaults = dict(method="REML", knha=False, level=0.95)
    base = None
    if variance is None:
        fit = getattr(effect, "fit", effect)
        if not all(hasattr(fit, a) for a in ("y", "v", "X", "method", "knha", "level")) or fit.y is None:
            raise ParameterError(f"The 'variance' parameter of {caller} is required unless 'effect' is a fitted "
                                 f"model (PairwiseResult or RmaFit); got {type(effect).__name__}.")
        defaults = dict(method=fit.method, knha=bool(fit.knha), level=fit.level)
        effect, variance, base = fit.y, fit.v, fit.X
    merged = {key: defaults[key] if val is None else val for key, val in settings.items()}
    return effect, variance, base, merged


def _check_inputs(effect, variance, n, pred: Predictor, caller: str):
    y = as_float_array(effect, name="effect", caller=caller)
    v = as_float_array(variance, name="variance", caller=caller, positive=True)
    nn = None if n is None else as_float_array(n, name="n", caller=caller)
    check_same_length(caller, effect=y, variance=v, n=nn)
    if pred.needs_n:
        if nn is None:
            raise ParameterError(f"The 'n' parameter of {caller} is required for predictor '{pred.code}'.")
        if np.any(nn <= 0):
            raise ParameterError(f"The 'n' parameter of {caller} must be positive.")
    return y, v, nn
