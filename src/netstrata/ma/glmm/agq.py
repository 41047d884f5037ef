"""Kernels of the binomial-normal (random-intercept logistic) model for single proportions.

Model: x_i ~ Binomial(n_i, expit(μ + τ u_i)), u_i ~ N(0, 1). The marginal likelihood of study i
is ∫ Binom(x_i | expit(μ + τ u)) φ(u) du; lme4's ``glmer(nAGQ=q)`` approximates it by adaptive
Gauss-Hermite quadrature centred at the conditional mode, and reports the deviance relative to
the saturated model (Bates et al. 2015; lme4's ``glmerAGQ``):

    h_i(u)  = ½ d_i(μ + τ u) + u²/2                     (d_i: binomial deviance residual)
    u_i     = argmin h_i;   H_i = h_i''(u_i) = 1 + τ² n_i π_i (1 - π_i)
    dev_i   = 2 h_i(u_i) + log H_i - 2 log Σ_j w_j exp(z_j²/2 - [h_i(u_i + z_j/√H_i) - h_i(u_i)])

with (z_j, w_j) the q-point Gauss-Hermite rule for the standard normal density. q = 1 is the
Laplace approximation. The log-likelihood is ``ll_saturated - ½ Σ dev_i`` (metafor's ``ll.ML``).

References
----------
Liu Q, Pierce DA (1994). A note on Gauss-Hermite quadrature. *Biometrika* 81(3):624-629.
doi:10.1093/biomet/81.3.624
Pinheiro JC, Bates DM (1995). Approximations to the log-likelihood function in the nonlinear
mixed-effects model. *J Comput Graph Stat* 4(1):12-35. doi:10.1080/10618600.1995.10474663
Bates D, Mächler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models using lme4.
*J Stat Softw* 67(1):1-48. doi:10.18637/jss.v067.i01
"""
from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite import hermgauss
from scipy import special

__all__ = ["binomial_deviance", "conditional_modes", "agq_deviance", "quad_deviance",
           "saturated_loglik", "normal_gh_rule", "glm_saturated", "wald_homogeneity"]

_DBL_EPS = float(np.finfo(float).eps)


def normal_gh_rule(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of ∫ f(z) φ(z) dz ≈ Σ w_j f(z_j): z = √2 x, w = w_H / √π (Golub-Welsch)."""
    x, w = hermgauss(q)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def binomial_deviance(x, n, eta):
    """Binomial deviance residual d = 2[x log(x / nπ) + (n - x) log((n - x) / n(1 - π))], π = expit(η).

    log π = -log(1 + e^-η) and log(1 - π) = -log(1 + e^η) are evaluated without overflow.
    """
    log_p = -np.logaddexp(0.0, -eta)
    log_q = -np.logaddexp(0.0, eta)
    return 2.0 * (special.xlogy(x, x / n) - x * log_p + special.xlogy(n - x, (n - x) / n) - (n - x) * log_q)


def saturated_loglik(x, n) -> float:
    """Σ log Binom(x_i | n_i, x_i / n_i), with the binomial coefficients (R's ``logLik(glm)``)."""
    lchoose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    return float(np.sum(lchoose + special.xlogy(x, x / n) + special.xlogy(n - x, (n - x) / n)))


def _h(x, n, mu, tau, u):
    """h(u) = ½ d(μ + τ u) + u²/2 (half of lme4's per-group ``devc``)."""
    return 0.5 * binomial_deviance(x, n, mu + tau * u) + 0.5 * u * u


def conditional_modes(x, n, mu: float, tau: float, tol: float = 1e-12, maxiter: int = 100):
    """Conditional modes u_i and curvatures H_i = h''(u_i) by safeguarded Newton.

    h'(u) = u - τ (x - n π(μ + τ u)) is increasing, with its root in [τ (x - n), τ x]; a Newton
    step leaving the current bracket is replaced by bisection.
    """
    lo, hi = tau * (x - n), tau * x
    u = np.zeros_like(x, dtype=float)
    u = np.clip(u, lo, hi)
    for _ in range(maxiter):
        pi = special.expit(mu + tau * u)
        g = u - tau * (x - n * pi)
        hess = 1.0 + tau * tau * n * pi * (1.0 - pi)
        lo = np.where(g < 0, u, lo)
        hi = np.where(g > 0, u, hi)
        new = u - g / hess
        new = np.where((new <= lo) | (new >= hi), 0.5 * (lo + hi), new)
        step = np.max(np.abs(new - u)) if u.size else 0.0
        u = new
        if step < tol:
            break
    pi = special.expit(mu + tau * u)
    return u, 1.0 + tau * tau * n * pi * (1.0 - pi)


def agq_deviance(x, n, mu: float, tau: float, nagq: int = 7) -> np.ndarray:
    """Per-study AGQ deviance relative to the saturated model (lme4 ``glmerAGQ``); see module doc."""
    u0, hess = conditional_modes(x, n, mu, tau)
    h0 = _h(x, n, mu, tau, u0)
    dev = 2.0 * h0 + np.log(hess)
    if nagq <= 1:
        return dev
    z, w = normal_gh_rule(nagq)
    sd = 1.0 / np.sqrt(hess)
    uj = u0[:, None] + sd[:, None] * z[None, :]
    dh = _h(x[:, None], n[:, None], mu, tau, uj) - h0[:, None]
    log_mult = special.logsumexp(np.log(w)[None, :] + 0.5 * z[None, :] ** 2 - dh, axis=1)
    return dev - 2.0 * log_mult


def quad_deviance(x, n, mu: float, tau: float) -> np.ndarray:
    """Per-study deviance -2 log ∫ exp(-½ d(μ + τ u)) φ(u) du by adaptive quadrature (QUADPACK).

    The integrand is centred at the conditional mode and scaled by its curvature; the range
    covers ±12 curvature units and ±12 in u (the prior's scale), which holds all the mass.
    This is the exact value that AGQ approximates.
    """
    from scipy import integrate        # here, not at the top: scipy.integrate costs ~40 ms to import
    u0, hess = conditional_modes(x, n, mu, tau)
    out = np.empty(len(x))
    for i in range(len(x)):
        sd = 1.0 / np.sqrt(hess[i])
        h0 = _h(x[i], n[i], mu, tau, u0[i])
        f = lambda s: np.exp(-(_h(x[i], n[i], mu, tau, u0[i] + sd * s) - h0))  # noqa: E731
        # the tails decay at least like φ(u), so ±12 in u (not only in s) bounds the mass
        b = 12.0 * max(1.0, 1.0 / sd)
        val = sum(integrate.quad(f, a, c, epsabs=0.0, epsrel=1e-13, limit=500)[0]
                  for a, c in ((-b, -12.0), (-12.0, 12.0), (12.0, b)) if c > a)
        # ∫ exp(-½d) φ du = exp(-h0) sd / √(2π) ∫ exp(-(h - h0)) ds
        out[i] = 2.0 * h0 - 2.0 * np.log(sd * val / np.sqrt(2.0 * np.pi))
    return out


# --------------------------------------------------------------------------------------------
# The saturated logistic model (one coefficient per study), fitted as R's glm.fit does
# --------------------------------------------------------------------------------------------

_THRESH = 30.0


def _linkinv(eta):
    """R's C_logit_linkinv: expit with η clamped to [-30, 30] (ε or 1/ε at the ends)."""
    e = np.where(eta < -_THRESH, _DBL_EPS, np.where(eta > _THRESH, 1.0 / _DBL_EPS, np.exp(np.clip(eta, -_THRESH, _THRESH))))
    return e / (1.0 + e)


def _mu_eta(eta):
    """R's C_logit_mu_eta: dμ/dη = e^η / (1 + e^η)², ε outside [-30, 30]."""
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    return np.where(np.abs(eta) > _THRESH, _DBL_EPS, e / (1.0 + e) ** 2)


def _glm_dev(x, n, mu):
    y = x / n
    return 2.0 * n * (special.xlogy(y, y / mu) + special.xlogy(1.0 - y, (1.0 - y) / (1.0 - mu)))


def glm_saturated(x, n, epsilon: float = 1e-8, maxit: int = 25):
    """The saturated binomial GLM (``glm(cbind(x, n - x) ~ study)``) by R's IRLS, study by study.

    IRLS (Newton-Raphson for the canonical link) is invariant to the coding of the study
    effects, so R's joint fit equals per-study updates θ_i ← η_i + (y_i - μ_i)/μ'_i started at
    μ_i = (x_i + ½)/(n_i + 1), stopped when |D - D_old| / (|D| + 0.1) < ε (``glm.control``).
    Studies with 0 or n events drift towards ∓∞ until that rule stops them, as in R.

    Returns
    -------
    theta : the per-study logits at the last iterate
    weight : the IRLS weights n μ'(η)² / (μ(1 - μ)) of the last iteration (the inverse of the
        variances ``vcov`` reports, computed before the final update, as glm.fit does)
    loglik : R's ``logLik`` of the fit (with binomial coefficients)
    """
    y = x / n
    mu = (n * y + 0.5) / (n + 1.0)
    eta = np.log(mu / (1.0 - mu))
    dev_old = float(np.sum(_glm_dev(x, n, mu)))
    weight = np.zeros_like(y)
    for _ in range(maxit):
        d = _mu_eta(eta)
        weight = n * d * d / (mu * (1.0 - mu))
        eta = eta + (y - mu) / d
        mu = _linkinv(eta)
        dev = float(np.sum(_glm_dev(x, n, mu)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            break
        dev_old = dev
    lchoose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
    loglik = float(np.sum(lchoose + special.xlogy(x, mu) + special.xlogy(n - x, 1.0 - mu)))
    return eta, weight, loglik


def wald_homogeneity(theta, weight) -> float:
    """Wald test that all study logits are equal: Σ W_i (θ_i - θ̄_W)², θ̄_W = Σ W θ / Σ W.

    This is metafor's ``QE.Wld`` (the Wald test of the k - 1 study coefficients of the saturated
    model), written in the coding-free form.
    """
    tbar = np.sum(weight * theta) / np.sum(weight)
    return float(np.sum(weight * (theta - tbar) ** 2))
