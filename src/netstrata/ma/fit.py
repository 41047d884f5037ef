"""The general meta-analytic (mixed-effects) model kernel: metafor 3.8-1 ``rma.uni`` for ``yi, vi, mods``.

``rma_fit(y, v, X, method, knha, level)`` estimates τ², then the coefficients by weighted least
squares with w = 1/(v + τ²), their Wald (z) or Knapp-Hartung (t, ``knha=True``) tests, the
omnibus test QM, the residual heterogeneity test QE, I² and H². It trusts its inputs (the public
functions validate); ``X = None`` means an intercept-only model and then no QR is done.

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
*J Stat Softw* 36(3):1-48. doi:10.18637/jss.v036.i03
Knapp, G. & Hartung, J. (2003). Improved tests for a random effects meta-regression with a
single covariate. *Stat Med* 22(17):2693-2710. doi:10.1002/sim.1482
Higgins, J. P. T. & Thompson, S. G. (2002). Quantifying heterogeneity in a meta-analysis.
*Stat Med* 21(11):1539-1558. doi:10.1002/sim.1186
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..errors import StatisticalWarning
from ._proj import proj
from .estimators import LOG2PI, estimate_tau2

__all__ = ["RmaFit", "rma_fit"]

_DBL_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True, slots=True, eq=False)
class RmaFit:
    """Everything ``rma.uni`` reports for one model; arrays are per coefficient (length ``p``).

    ``weights`` are in percent (metafor's ``weights()``); ``df`` is ``k - p`` for the
    Knapp-Hartung test and ``None`` for the z test; ``statistic`` holds z or t values;
    ``qm_df`` is ``(m, None)`` (chi-square) or ``(m, k - p)`` (F, Knapp-Hartung).
    ``se_tau2`` is NaN for FE. ``converged`` is False when the τ² estimator failed (a
    ``ConvergenceWarning`` was emitted; metafor would stop with an error).
    """

    beta: np.ndarray
    vcov: np.ndarray
    tau2: float
    se_tau2: float
    q: float
    q_pvalue: float
    qm: float
    qm_pvalue: float
    k: int
    p: int
    df: int | None
    statistic: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    i2: float
    h2: float
    weights: np.ndarray
    converged: bool
    iterations: int
    method: str
    knha: bool
    level: float
    # beyond the agreed fields
    qm_df: tuple[int, int | None] = (1, None)
    crit: float = float("nan")
    vt: float = float("nan")
    ll_ml: float = float("nan")
    ll_reml: float = float("nan")
    y: np.ndarray | None = None
    v: np.ndarray | None = None
    X: np.ndarray | None = None

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def observed(self) -> tuple[np.ndarray, np.ndarray]:
        """``(y, v)`` the model was fitted to (``rma_fit`` always stores them; a ValueError for a
        hand-built fit without them)."""
        if self.y is None or self.v is None:
            raise ValueError("this RmaFit does not carry the effects and variances it was fitted to")
        return self.y, self.v

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def intercept_only(self) -> bool:
        return self.X is None

    def fit_stats(self, kind: str | None = None) -> dict[str, float]:
        """logLik, deviance, AIC, BIC, AICc as metafor's ``fitstats`` (``kind`` 'ML' or 'REML').

        Default kind: 'ML' for ML fits, else 'REML'. Parameters counted: p (+1 for τ² unless FE).
        ML deviance is relative to the saturated model; REML deviance is -2 logLik.
        """
        kind = kind or ("ML" if self.method == "ML" else "REML")
        parms = self.p + (0 if self.method == "FE" else 1)
        if kind == "ML":
            ll, n = self.ll_ml, self.k
            sat = -0.5 * float(np.sum(LOG2PI + np.log(self.observed()[1]))) if self.k > self.p else ll
            dev = -2.0 * (ll - sat)
        else:
            ll, n = self.ll_reml, self.k - self.p
            dev = -2.0 * ll
        m = max(n, parms + 2)
        return {"logLik": ll, "deviance": dev, "AIC": -2 * ll + 2 * parms,
                "BIC": -2 * ll + parms * float(np.log(n)), "AICc": -2 * ll + 2 * parms * m / (m - parms - 1)}


def _btt(X: np.ndarray | None, p: int) -> np.ndarray:
    """Coefficients in the omnibus test: all but the intercept when there is one and p > 1."""
    if p > 1 and X is not None and np.all(np.abs(X[:, 0] - 1.0) < 1e-8):
        return np.arange(1, p)
    return np.arange(p)


def _tests(beta, vb, k, p, btt, knha, level):
    """z or t tests of the coefficients, the omnibus QM test, and CI bounds."""
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    if p == 1:
        qm = float(beta[0] * beta[0] / vb[0, 0]) if vb[0, 0] > 0 else float("nan")
    else:
        try:
            qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt]))
        except np.linalg.LinAlgError:
            qm = float("nan")
    m = len(btt)
    alpha = 1.0 - level
    if knha:
        ddf = k - p
        qm = qm / m
        qm_df = (m, ddf)
        # scipy.special directly (what scipy.stats calls) to keep small refits fast
        qm_p = float(special.fdtrc(m, ddf, qm)) if ddf > 0 else float("nan")
        pval = 2 * special.stdtr(ddf, -np.abs(stat)) if ddf > 0 else np.full(p, np.nan)
        crit = float(-special.stdtrit(ddf, alpha / 2)) if ddf > 0 else float("nan")
    else:
        qm_df = (m, None)
        qm_p = float(special.chdtrc(m, qm))
        pval = 2 * special.ndtr(-np.abs(stat))
        crit = float(-special.ndtri(alpha / 2))
    return stat, pval, crit, qm, qm_p, qm_df


def _heterogeneity(y, v, X, k, p, tau2, fixed: bool):
    """QE with w = 1/v on the centred effects, its p-value, I², H² and the typical variance vt."""
    if k <= p:
        return 0.0, 1.0, 0.0, 1.0, 0.0
    w = 1.0 / v
    ymc = y - y.mean()
    if X is None:  # closed form: Q = Σw(y-ȳ_w)², tr P = Σw - Σw²/Σw
        sw = w.sum()
        e = ymc - (w @ ymc) / sw
        qe, tr_p = max(0.0, float(w @ (e * e))), float(sw - (w @ w) / sw)
    else:
        pr = proj(w, X)
        qe, tr_p = max(0.0, pr.quad(ymc)), pr.trace()
    qe_p = float(special.chdtrc(k - p, qe))
    vt = (k - p) / tr_p
    if fixed:
        i2 = max(0.0, 100.0 * (qe - (k - p)) / qe) if qe > 0 else 0.0  # R: max(0, -Inf) = 0
        h2 = qe / (k - p)
    else:
        i2 = 100.0 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1.0
    return qe, qe_p, i2, h2, vt


def rma_fit(y: np.ndarray, v: np.ndarray, X: np.ndarray | None = None, method: str = "REML",
            knha: bool = False, level: float = 0.95) -> RmaFit:
    """Fit the (mixed-effects) meta-analytic model as metafor's ``rma.uni``.

    Parameters
    ----------
    y, v : ndarray (k,)
        Effects and their sampling variances (v > 0).
    X : ndarray (k, p) or None
        Design matrix of full column rank; ``None`` is an intercept-only model (fast path).
        An intercept column, if present, must be the first column.
    method : {'FE', 'DL', 'HE', 'HS', 'SJ', 'PM', 'ML', 'REML', 'EB'}
    knha : bool
        Knapp-Hartung t/F tests (metafor ``test="knha"``) instead of z/chi-square tests.
    level : float
        Confidence level as a fraction.
    """
    y = np.array(y, dtype=float)  # copies: the frozen result must not see later changes
    v = np.array(v, dtype=float)
    k = y.size
    p = 1 if X is None else X.shape[1]
    fixed = method == "FE"
    if k == 1:  # metafor: tau2 = 0 and test = "z" when k = 1
        est_tau2, est_se, conv, iters = 0.0, float("nan"), True, 0
        knha = False
    else:
        est = estimate_tau2(y, v, X, method)
        est_tau2, est_se, conv, iters = est.tau2, est.se_tau2, est.converged, est.iterations
    tau2 = 0.0 if fixed else est_tau2
    w = 1.0 / (v + tau2)
    if X is None:  # intercept only: β = Σwy/Σw, var = 1/Σw, log|X'WX| = log Σw
        sw = float(w.sum())
        beta, vb, logdet_xwx = np.array([(w @ y) / sw]), np.array([[1.0 / sw]]), float(np.log(sw))
    else:
        pr = proj(w, X)
        beta, vb, logdet_xwx = pr.solve(y), pr.inv_xwx(), pr.logdet_xwx()
    resid = y - (beta[0] if X is None else X @ beta)
    rss = float(w @ (resid * resid))
    if knha:
        if fixed:
            warnings.warn("Knapp-Hartung method is not meant for a common-effect (FE) model.",
                          StatisticalWarning, stacklevel=2)
        vb = vb * (0.0 if rss <= _DBL_EPS else rss / (k - p))
    stat, pval, crit, qm, qm_p, qm_df = _tests(beta, vb, k, p, _btt(X, p), knha, level)
    se = np.sqrt(np.diag(vb))
    qe, qe_p, i2, h2, vt = _heterogeneity(y, v, X, k, p, tau2, fixed)
    logdet_xx = float(np.log(k)) if X is None else float(np.linalg.slogdet(X.T @ X)[1])
    sum_log = float(np.log(v + tau2).sum())
    ll_ml = -0.5 * k * LOG2PI - 0.5 * sum_log - 0.5 * rss
    ll_reml = -0.5 * (k - p) * LOG2PI + 0.5 * logdet_xx - 0.5 * sum_log - 0.5 * logdet_xwx - 0.5 * rss
    return RmaFit(
        beta=beta, vcov=vb, tau2=float(tau2), se_tau2=float("nan") if fixed else est_se,
        q=qe, q_pvalue=qe_p, qm=qm, qm_pvalue=qm_p, k=k, p=p, df=(k - p) if knha else None,
        statistic=stat, pvalue=np.asarray(pval, dtype=float), ci_low=beta - crit * se,
        ci_high=beta + crit * se, i2=float(i2), h2=float(h2), weights=100.0 * w / np.sum(w),
        converged=conv, iterations=iters, method=method, knha=knha, level=level, qm_df=qm_df,
        crit=crit, vt=float(vt), ll_ml=float(ll_ml), ll_reml=float(ll_reml), y=y, v=v, X=X,
    )
