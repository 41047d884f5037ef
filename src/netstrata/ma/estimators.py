"""Heterogeneity (τ²) estimators of metafor 3.8-1 ``rma.uni``, one small kernel each.

Every kernel takes the mean-centred effects ``ymc`` (metafor centres ``yi`` before estimating τ²),
the sampling variances ``v`` and the design ``X`` (``None`` = intercept only) and returns a
:class:`Tau2Estimate`. The estimates are truncated at 0 as metafor does (``tau2.min = 0``).
The registry :data:`METHODS` lists the estimators (code, label, reference).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ConvergenceWarning
from ._proj import proj
from .zeroin import R_TOL, uniroot

__all__ = ["Method", "METHODS", "Tau2Estimate", "estimate_tau2", "THRESHOLD", "MAXITER"]

#: metafor's control defaults for the iterative estimators.
THRESHOLD = 1e-5
MAXITER = 100
LOG2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, slots=True)
class Method:
    """One τ² estimator: code as in metafor, a label, whether iterative, and its reference."""

    code: str
    label: str
    iterative: bool
    reference: str


METHODS: dict[str, Method] = {m.code: m for m in (
    Method("FE", "common (fixed) effect", False, "doi:10.1002/jrsm.12"),
    Method("DL", "DerSimonian-Laird", False, "doi:10.1016/0197-2456(86)90046-2"),
    Method("HE", "Hedges (variance components)", False, "doi:10.1037/0033-2909.93.2.388"),
    Method("HS", "Hunter-Schmidt", False, "isbn:9781412904797"),
    Method("SJ", "Sidik-Jonkman", False, "doi:10.1080/10543400500202876"),
    Method("PM", "Paule-Mandel", True, "doi:10.6028/jres.087.022"),
    Method("ML", "maximum likelihood", True, "doi:10.3102/10769986030003261"),
    Method("REML", "restricted maximum likelihood", True, "doi:10.3102/10769986030003261"),
    Method("EB", "empirical Bayes (Morris)", True, "doi:10.1080/01621459.1983.10477920"),
)}


@dataclass(frozen=True, slots=True)
class Tau2Estimate:
    """τ², its standard error, and how the estimation ended."""

    tau2: float
    se_tau2: float
    converged: bool = True
    iterations: int = 0
    message: str = ""


def _pos(t: float) -> float:
    return max(t, 0.0)


def _fe(ymc, v, X, k, p) -> Tau2Estimate:
    return Tau2Estimate(0.0, float("nan"))


def _he(ymc, v, X, k, p) -> Tau2Estimate:
    """Hedges: τ² = (y'(I-H)y - tr((I-H)V)) / (k-p), ordinary least squares projection."""
    pr = proj(np.ones_like(v), X)
    tr_pv = float(np.sum(v * pr.diag()))
    tau2 = _pos((pr.quad(ymc) - tr_pv) / (k - p))
    se = np.sqrt((2 * pr.trace2(v, v) + 4 * tau2 * tr_pv + 2 * tau2**2 * (k - p)) / (k - p) ** 2)
    return Tau2Estimate(tau2, float(se))


def _dl(ymc, v, X, k, p) -> Tau2Estimate:
    """DerSimonian-Laird: τ² = (Q - (k-p)) / tr P with P built on w = 1/v."""
    w = 1.0 / v
    pr = proj(w, X)
    tr_p = pr.trace()
    tau2 = _pos((pr.quad(ymc) - (k - p)) / tr_p)
    se = np.sqrt((2 * (k - p) + 4 * tau2 * tr_p + 2 * tau2**2 * pr.trace2(w, w)) / tr_p**2)
    return Tau2Estimate(tau2, float(se))


def _hs(ymc, v, X, k, p) -> Tau2Estimate:
    """Hunter-Schmidt: τ² = (Q - k) / sum(1/v)."""
    w = 1.0 / v
    pr = proj(w, X)
    sw = float(np.sum(w))
    tau2 = _pos((pr.quad(ymc) - k) / sw)
    se = np.sqrt((2 * (k - p) + 4 * tau2 * pr.trace() + 2 * tau2**2 * pr.trace2(w, w)) / sw**2)
    return Tau2Estimate(tau2, float(se))


def _sj(ymc, v, X, k, p) -> Tau2Estimate:
    """Sidik-Jonkman: τ²₀ = mean((y-ȳ)²); τ² = τ²₀ · y'Py / (k-p) with w = 1/(v + τ²₀)."""
    tau2_0 = float(np.mean(ymc * ymc))  # var(ymci) * (k-1)/k
    w = 1.0 / (v + tau2_0)
    pr = proj(w, X)
    tau2 = _pos(tau2_0 * pr.quad(ymc) / (k - p))
    wv = w * v
    inner = 2 * pr.trace2(wv, wv) + 4 * tau2 * pr.trace2(wv, w) + 2 * tau2**2 * pr.trace2(w, w)
    return Tau2Estimate(tau2, float(np.sqrt(tau2_0**2 / (k - p) ** 2 * inner)))


def _mad(y: np.ndarray) -> float:
    """R's ``mad``: 1.4826 · median |y - median y|."""
    return 1.4826 * float(np.median(np.abs(y - np.median(y))))


def _se_eb(v, tau2, k, p) -> float:
    """metafor's SE for EB and PM: sqrt(2 k² / (k-p) / (sum w)²), w = 1/(v + τ²)."""
    return float(np.sqrt(2 * k**2 / (k - p) / np.sum(1.0 / (v + tau2)) ** 2))


def _pm(ymc, v, X, k, p) -> Tau2Estimate:
    """Paule-Mandel: root of Q(τ²) = k - p by R's uniroot on [0, max(100, 10 mad(y)²)]."""
    target = k - p

    def gap(t: float) -> float:
        return proj(1.0 / (v + t), X).quad(ymc) - target

    upper = max(100.0, 10.0 * _mad(ymc) ** 2)
    if gap(0.0) < 0:
        return Tau2Estimate(0.0, _se_eb(v, 0.0, k, p))
    if gap(upper) > 0:
        msg = (f"Paule-Mandel: Q(tau2) is still above k-p at tau2.max = {upper:g}; "
               "no estimate (metafor stops: \"Value of 'tau2.max' too low\"). Try another method.")
        return Tau2Estimate(float("nan"), float("nan"), False, 0, msg)
    res = uniroot(gap, 0.0, upper, tol=R_TOL, maxiter=MAXITER)
    if not res.converged:
        msg = "Paule-Mandel: uniroot did not converge (metafor stops: 'Error in iterative search for tau2')."
        return Tau2Estimate(float("nan"), float("nan"), False, res.iterations, msg)
    tau2 = _pos(res.root)
    return Tau2Estimate(tau2, _se_eb(v, tau2, k, p), True, res.iterations)


def _loglik(ymc, v, X, tau2, reml: bool, p: int) -> float:
    """ML or REML log-likelihood at τ² (metafor's ll0check form, without the |X'X| term)."""
    w = 1.0 / (v + tau2)
    k = v.size
    if X is None:  # closed form: RSS = Σw(y-ȳ_w)², log|X'WX| = log Σw
        sw = w.sum()
        e = ymc - (w @ ymc) / sw
        rss, logdet = float(w @ (e * e)), float(np.log(sw))
    else:
        pr = proj(w, X)
        rss, logdet = pr.quad(ymc), pr.logdet_xwx()
    ll = -0.5 * (k - p if reml else k) * LOG2PI - 0.5 * float(np.log(v + tau2).sum()) - 0.5 * rss
    return ll - 0.5 * logdet if reml else ll


def _fisher_step_int(method: str, ymc, v, tau2, k) -> float:
    """Fisher step for an intercept-only model in closed form (no projection object).

    With w = 1/(v+τ²), S1 = Σw, S2 = Σw², S3 = Σw³ and e = y - ȳ_w:
    tr P = S1 - S2/S1, tr PP = S2 - 2 S3/S1 + (S2/S1)², y'Py = Σ w e², y'PPy = Σ w² e².
    """
    w = 1.0 / (v + tau2)
    s1 = w.sum()
    e = ymc - (w @ ymc) / s1
    we = w * e
    if method == "EB":
        return ((we @ e) * k / (k - 1) - k) / s1
    s2 = w @ w
    if method == "ML":
        return ((we @ we) - s1) / s2
    r = s2 / s1
    return ((we @ we) - (s1 - r)) / (s2 - 2.0 * ((w * w) @ w) / s1 + r * r)


def _fisher_step(method: str, ymc, v, X, tau2, k, p) -> float:
    """One Fisher scoring step for τ² (Viechtbauer 2005, eqs. for ML, REML, EB)."""
    if X is None:
        return _fisher_step_int(method, ymc, v, tau2, k)
    w = 1.0 / (v + tau2)
    pr = proj(w, X)
    if method == "EB":
        return (pr.quad(ymc) * k / (k - p) - k) / float(np.sum(w))
    py = pr.apply(ymc)
    if method == "ML":
        return (float(py @ py) - float(np.sum(w))) / float(np.sum(w * w))
    return (float(py @ py) - pr.trace()) / pr.trace2(w, w)  # REML


def _fisher(method: str, ymc, v, X, k, p) -> Tau2Estimate:
    """ML / REML / EB by Fisher scoring from the HE estimate, metafor's rules.

    Stop when |Δτ²| < 1e-5; at most 100 steps; halve a step that would make τ² negative.
    For ML/REML, if the log-likelihood at τ² = 0 is larger by more than eps^0.25, use τ² = 0.
    """
    tau2 = _he(ymc, v, X, k, p).tau2  # already max(0, HE)
    change, it, converged = THRESHOLD + 1.0, 0, True
    while change > THRESHOLD:
        it += 1
        old = tau2
        adj = _fisher_step(method, ymc, v, X, tau2, k, p)
        if np.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > MAXITER:
            converged = False
            break
    if not converged:
        msg = (f"Fisher scoring for {method} did not converge in {MAXITER} iterations "
               "(metafor stops with an error); the result is marked converged=False and its tau2 is "
               "the last iterate. Try method='PM' or 'DL', or centre/rescale continuous moderators.")
        return Tau2Estimate(_pos(tau2), float("nan"), False, it, msg)
    message = ""
    if method in ("ML", "REML") and tau2 > THRESHOLD:
        reml = method == "REML"
        if _loglik(ymc, v, X, 0.0, reml, p) - _loglik(ymc, v, X, tau2, reml, p) > R_TOL:
            message = "Fisher scoring may have got stuck at a local maximum; tau2 set to 0 (as metafor)."
            tau2 = 0.0
    tau2 = _pos(tau2)
    w = 1.0 / (v + tau2)
    if method == "ML":
        se = float(np.sqrt(2.0 / np.sum(w * w)))
    elif method == "REML":
        se = float(np.sqrt(2.0 / proj(w, X).trace2(w, w)))
    else:
        se = _se_eb(v, tau2, k, p)
    return Tau2Estimate(tau2, se, True, it, message)


_KERNELS: dict[str, Callable[..., Tau2Estimate]] = {
    "FE": _fe, "DL": _dl, "HE": _he, "HS": _hs, "SJ": _sj, "PM": _pm,
    "ML": lambda *a: _fisher("ML", *a),
    "REML": lambda *a: _fisher("REML", *a),
    "EB": lambda *a: _fisher("EB", *a),
}


def estimate_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray | None, method: str) -> Tau2Estimate:
    """τ² by ``method`` (a key of :data:`METHODS`) for effects ``y``, variances ``v``, design ``X``.

    Emits a :class:`~netstrata.errors.ConvergenceWarning` when an iterative estimator fails.
    """
    k = y.size
    p = 1 if X is None else X.shape[1]
    est = _KERNELS[method](y - np.mean(y), v, X, k, p)
    if est.message:
        warnings.warn(est.message, ConvergenceWarning, stacklevel=3)
    return est
