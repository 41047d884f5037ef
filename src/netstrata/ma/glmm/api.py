"""Random-effects logistic (binomial-normal) meta-analysis of single proportions by maximum likelihood.

``proportion_glmm(events, n)`` fits the model of metafor's ``rma.glmm(measure="PLO")`` (which
calls ``lme4::glmer(cbind(x, n - x) ~ 1 + (1 | study), family=binomial, nAGQ=7)``): the
likelihood is approximated by adaptive Gauss-Hermite quadrature (:mod:`.agq`) and maximised
over (μ, τ); the standard error of μ comes from the observed information of that likelihood (the
inverse Hessian of the deviance over (τ, μ), as lme4's ``vcov`` does). It also reports the two
heterogeneity tests of ``rma.glmm`` (Wald and likelihood-ratio tests of the saturated model
against the common-effect model), I² and H² with metafor's typical within-study variance, and the
fit statistics.

References
----------
Stijnen T, Hamza TH, Özdemir P (2010). Random effects meta-analysis of event outcome in the
framework of the generalized linear mixed model with applications in sparse data.
*Stat Med* 29(29):3046-3067. doi:10.1002/sim.4040
Hamza TH, van Houwelingen HC, Stijnen T (2008). The binomial distribution of meta-analysis was
preferred to model within-study variability. *J Clin Epidemiol* 61(1):41-51.
doi:10.1016/j.jclinepi.2007.03.016
Bates D, Mächler M, Bolker B, Walker S (2015). *J Stat Softw* 67(1):1-48. doi:10.18637/jss.v067.i01
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from ..._dist import chi2_sf, norm_isf, norm_sf
from ..._summary import Summary
from ..._validate import check_level
from ...errors import ConvergenceWarning, ParameterError
from ..fit import rma_fit
from ..pooled import PooledEstimate
from ..proportions import _labels, _logit_effects, _ptext, check_counts
from .agq import (
    agq_deviance,
    binomial_deviance,
    glm_saturated,
    saturated_loglik,
    wald_homogeneity,
)

__all__ = ["GlmmProportion", "proportion_glmm"]

_TAU_MAX = 50.0


@dataclass(frozen=True, slots=True, eq=False)
class GlmmProportion(PooledEstimate):
    """The binomial-normal model for single proportions (metafor ``rma.glmm(measure="PLO")``).

    ``estimate``, ``se``, ``ci_*``, ``pi_*`` are on the logit scale; ``proportion*`` are their
    ``expit``. ``q_wald``/``q_lrt`` (df = k - 1) are metafor's ``QE.Wld``/``QE.LRT``; ``loglik``
    is ``ll.ML`` (with binomial coefficients) and ``deviance`` is ``-2 (ll.ML - ll.QE)``.
    """

    k: int
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    h2: float
    vt: float
    q_wald: float
    q_wald_pvalue: float
    q_lrt: float
    q_lrt_pvalue: float
    q_df: int
    loglik: float
    deviance: float
    aic: float
    bic: float
    aicc: float
    nagq: int
    level: float
    converged: bool
    study: tuple[str, ...]
    events: np.ndarray
    n: np.ndarray
    measure: str = "PLO"

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    @property
    def proportion(self) -> float:
        return float(special.expit(self.estimate))

    @property
    def proportion_ci_low(self) -> float:
        return float(special.expit(self.ci_low))

    @property
    def proportion_ci_high(self) -> float:
        return float(special.expit(self.ci_high))

    @property
    def proportion_pi_low(self) -> float:
        return float(special.expit(self.pi_low))

    @property
    def proportion_pi_high(self) -> float:
        return float(special.expit(self.pi_high))

    def __repr__(self) -> str:
        return (f"GlmmProportion(k={self.k}, nagq={self.nagq}, estimate={self.estimate:.4f} "
                f"[{self.ci_low:.4f}, {self.ci_high:.4f}], proportion={self.proportion:.4f}, "
                f"tau2={self.tau2:.4f})")

    def summary(self, backtransf: bool = False) -> Summary:
        """Both scales (logit, then the proportion); ``backtransf=True`` keeps only the proportion."""
        frame = pd.DataFrame(
            {"estimate": [self.estimate, self.proportion],
             "ci_low": [self.ci_low, self.proportion_ci_low],
             "ci_high": [self.ci_high, self.proportion_ci_high],
             "pi_low": [self.pi_low, self.proportion_pi_low],
             "pi_high": [self.pi_high, self.proportion_pi_high]},
            index=["logit proportion", "proportion"])
        frame = frame.iloc[1:] if backtransf else frame
        notes = (
            f"Binomial-normal model, ML with {self.nagq}-point adaptive Gauss-Hermite quadrature; "
            f"k = {self.k}; tau2 = {self.tau2:.4f}; I2 = {self.i2:.1f}%.",
            f"z = {self.statistic:.4f}, p {_ptext(self.pvalue)}; heterogeneity: "
            f"Wald = {self.q_wald:.4f} (p {_ptext(self.q_wald_pvalue)}), "
            f"LRT = {self.q_lrt:.4f} (p {_ptext(self.q_lrt_pvalue)}), df = {self.q_df}.",
            f"logLik = {self.loglik:.4f}; deviance = {self.deviance:.4f}; AIC = {self.aic:.4f}.",
        )
        return Summary(title=f"Pooled proportion, random-effects logistic model "
                             f"({100 * self.level:g}% intervals)", frame=frame, notes=notes)


# --------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------

def _deviance(x, n, nagq):
    return lambda par: float(np.sum(agq_deviance(x, n, par[0], abs(par[1]), nagq)))


def _hessian(f, par, h=1e-4):
    """Central-difference gradient and Hessian of f at par (lme4's ``deriv12`` uses δ = 1e-4)."""
    d = len(par)
    f0 = f(par)
    grad = np.zeros(d)
    hess = np.zeros((d, d))
    e = np.eye(d) * h
    for i in range(d):
        fp, fm = f(par + e[i]), f(par - e[i])
        grad[i] = (fp - fm) / (2 * h)
        hess[i, i] = (fp - 2 * f0 + fm) / (h * h)
        for j in range(i):
            v = (f(par + e[i] + e[j]) - f(par + e[i] - e[j]) - f(par - e[i] + e[j])
                 + f(par - e[i] - e[j])) / (4 * h * h)
            hess[i, j] = hess[j, i] = v
    return grad, hess


def _start(x, n):
    """Starting values: the DerSimonian-Laird fit on the logit scale."""

    y, v = _logit_effects(x, n)
    fit = rma_fit(y, v, None, "DL", False, 0.95)
    return np.array([float(fit.beta[0]), max(np.sqrt(fit.tau2), 0.1)])


def _polish_mu(dev, par, h=1e-4):
    """Newton steps on μ alone at a boundary τ (deviance even in τ: ∂/∂τ = 0 at τ = 0)."""
    par = par.copy()
    for _ in range(5):
        fp, f0, fm = dev(par + [h, 0.0]), dev(par), dev(par - [h, 0.0])
        curv = (fp - 2 * f0 + fm) / (h * h)
        if not curv > 0:
            break
        step = (fp - fm) / (2 * h) / curv
        par[0] -= step
        if abs(step) < 1e-10:
            break
    return par


def _fit_ml(x, n, nagq):
    """Maximise the AGQ likelihood over (μ, τ ≥ 0); polish interior optima by Newton steps."""
    from scipy import optimize        # here, not at the top: scipy.optimize costs ~0.1 s to import
    dev = _deviance(x, n, nagq)
    res = optimize.minimize(dev, _start(x, n), method="L-BFGS-B",
                            bounds=[(None, None), (0.0, _TAU_MAX)],
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 500})
    par = np.array(res.x, dtype=float)
    converged = bool(res.success) or res.status == 2  # status 2: no further progress possible
    if par[1] <= 1e-3:
        par = _polish_mu(dev, par)
    for _ in range(5):
        if par[1] <= 1e-3:
            break
        grad, hess = _hessian(dev, par)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.any(np.linalg.eigvalsh(hess) <= 0):
            break
        cand = par - step
        if cand[1] < 0 or dev(cand) > dev(par) + 1e-12:
            break
        par = cand
        if np.max(np.abs(step)) < 1e-10:
            break
    if par[1] >= _TAU_MAX * 0.999:
        converged = False
    return par, dev(par), converged, dev


def _mu_variance(dev, par) -> float:
    """Var(μ̂) = [2 H⁻¹]_μμ from the Hessian H of the deviance over (μ, τ); at τ = 0 only ∂²/∂μ²."""
    _, hess = _hessian(dev, par)
    if par[1] <= 1e-3:
        return 2.0 / hess[0, 0]
    try:
        return float(2.0 * np.linalg.inv(hess)[0, 0])
    except np.linalg.LinAlgError:
        return float("nan")


def _typical_variance(x, n) -> float:
    """metafor's vt = (k - 1) / tr(P), P = W - W11'W / ΣW, W = 1/v of escalc's PLO variances."""
    _, v = _logit_effects(x, n)
    w = 1.0 / v
    return (len(w) - 1) / (np.sum(w) - np.sum(w * w) / np.sum(w))


def proportion_glmm(events, n, *, level: float = 0.95, nagq: int = 7,
                    study: Sequence[str] | None = None) -> GlmmProportion:
    """Random-effects logistic (binomial-normal) model for single proportions, fitted by ML.

    Parameters
    ----------
    events, n : array-like of int
        Events and sample sizes, one per study (at least two studies). No continuity
        correction is applied to the model (0 and n events are used as they are).
    level : float, default=0.95
        Confidence level for the Wald CI of μ and the prediction interval.
    nagq : int, default=7
        Number of adaptive Gauss-Hermite quadrature points (1 = Laplace), as ``glmer(nAGQ=)``.
    study : sequence of str, optional

    Returns
    -------
    GlmmProportion

    Notes
    -----
    The CI is μ̂ ± z·se and the prediction interval μ̂ ± z·sqrt(se² + τ̂²) (metafor's
    ``predict.rma`` for ``rma.glmm``); both are back-transformed with ``expit``. The
    heterogeneity tests compare the saturated logistic model (one logit per study) with the
    common-effect model: Wald = Σ W_i (θ_i - θ̄)² and LRT = its likelihood-ratio statistic, both on
    k - 1 df. I² = τ² / (τ² + vt) with vt the typical variance of the (corrected) escalc logits.

    References
    ----------
    Stijnen, Hamza & Özdemir (2010) doi:10.1002/sim.4040; Bates et al. (2015)
    doi:10.18637/jss.v067.i01.
    """
    caller = "proportion_glmm"
    level = check_level(level, caller=caller)
    if isinstance(nagq, bool) or not isinstance(nagq, (int, np.integer)) or not 1 <= nagq <= 100:
        raise ParameterError(
            f"The 'nagq' parameter of {caller} must be an integer in [1, 100]. Got {nagq!r} instead.")
    x, m = check_counts(events, n, caller=caller)
    k = x.size
    if k < 2:
        raise ParameterError(
            f"The 'events' parameter of {caller} must hold at least 2 studies to estimate tau2; got {k}.")
    if np.all(x == 0) or np.all(x == m):
        raise ParameterError(
            f"The 'events' parameter of {caller} has {'no events' if np.all(x == 0) else 'only events'} "
            "in every study; the pooled logit is not finite.")
    par, dev_ml, converged, dev = _fit_ml(x, m, int(nagq))
    if not converged:
        warnings.warn("The binomial-normal model did not converge (tau2 estimate diverging or "
                      "optimiser failure); results are unreliable.", ConvergenceWarning, stacklevel=2)
    mu, tau = float(par[0]), float(par[1])
    var_mu = _mu_variance(dev, par)
    se = float(np.sqrt(var_mu)) if var_mu > 0 else float("nan")  # Hessian not positive definite
    crit = float(norm_isf((1.0 - level) / 2.0))
    theta, weight, ll_qe = glm_saturated(x, m)
    # common-effect model: logit of the pooled proportion; its deviance against the saturated model
    p_fe = np.sum(x) / np.sum(m)
    ll_fe = saturated_loglik(x, m) - 0.5 * float(np.sum(binomial_deviance(x, m, np.log(p_fe / (1 - p_fe)))))
    q_wald = max(wald_homogeneity(theta, weight), 0.0)
    q_lrt = max(-2.0 * (ll_fe - ll_qe), 0.0)
    ll_ml = ll_qe - 0.5 * dev_ml
    vt = float(_typical_variance(x, m))
    tau2 = tau * tau
    kk = max(k, 4)
    return GlmmProportion(
        k=k, estimate=mu, se=se, statistic=mu / se, pvalue=float(2 * norm_sf(abs(mu / se))),
        ci_low=mu - crit * se, ci_high=mu + crit * se,
        pi_low=mu - crit * np.sqrt(se * se + tau2), pi_high=mu + crit * np.sqrt(se * se + tau2),
        tau2=tau2, i2=100.0 * tau2 / (vt + tau2), h2=tau2 / vt + 1.0, vt=vt,
        q_wald=q_wald, q_wald_pvalue=float(chi2_sf(q_wald, k - 1)),
        q_lrt=q_lrt, q_lrt_pvalue=float(chi2_sf(q_lrt, k - 1)), q_df=k - 1,
        loglik=ll_ml, deviance=dev_ml, aic=-2 * ll_ml + 4, bic=-2 * ll_ml + 2 * np.log(k),
        aicc=-2 * ll_ml + 4 * kk / (kk - 3), nagq=int(nagq), level=level, converged=converged,
        study=_labels(study, k, caller), events=x, n=m,
    )
