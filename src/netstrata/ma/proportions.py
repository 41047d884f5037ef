"""Single-arm outcome rates: per-study proportions with exact or score intervals, and pooled proportions.

``study_proportions(events, n)`` gives each study's proportion with a Wilson (score) or
Clopper-Pearson (exact) interval. ``pooled_proportion(events, n, measure="PLO")`` pools the
proportions by inverse variance on the logit (``PLO``) or Freeman-Tukey double-arcsine (``PFT``)
scale with any τ² estimator of the pairwise layer (metafor's ``rma(measure=...)``) and
back-transforms the estimate, its confidence interval and the prediction interval: ``expit`` for
the logit, metafor's ``transf.ipft.hm`` (Miller's inversion at the harmonic mean of the sample
sizes) for the double arcsine.

References
----------
Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
*J Am Stat Assoc* 22(158):209-212. doi:10.1080/01621459.1927.10502953
Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case
of the binomial. *Biometrika* 26(4):404-413. doi:10.1093/biomet/26.4.404
Freeman MF, Tukey JW (1950). Transformations related to the angular and the square root.
*Ann Math Stat* 21(4):607-611. doi:10.1214/aoms/1177729756
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation.
*Am Stat* 32(4):138. doi:10.1080/00031305.1978.10479283
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
*J Stat Softw* 36(3):1-48. doi:10.18637/jss.v036.i03
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import special

from .._dist import norm_isf
from .._summary import Summary
from .._validate import as_float_array, check_level, check_option, check_same_length
from ..effects import effect_sizes
from ..errors import ParameterError
from .estimators import METHODS
from .fit import rma_fit
from .pairwise import ci_option
from .pooled import PooledEstimate

__all__ = [
    "IntervalMethod", "PROPORTION_CI_METHODS", "ProportionMeasure", "PROPORTION_MEASURES",
    "StudyProportions", "PooledProportion", "study_proportions", "pooled_proportion",
    "wilson_interval", "clopper_pearson_interval", "ft_transform", "ft_inverse", "ft_inverse_hm",
]


# --------------------------------------------------------------------------------------------
# Boundary check shared with glmm.py
# --------------------------------------------------------------------------------------------

def _show(v) -> str:
    """A number as a user typed it: 11 rather than np.float64(11.0)."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def check_counts(events, n, *, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate event counts and sample sizes: integers, ``n >= 1``, ``0 <= events <= n``.

    Raises :class:`~netstrata.errors.ParameterError` naming the argument, position and value.
    """
    x = as_float_array(events, name="events", caller=caller)
    m = as_float_array(n, name="n", caller=caller)
    check_same_length(caller, events=x, n=m)
    for name, arr in (("events", x), ("n", m)):
        bad = np.flatnonzero(arr != np.round(arr))
        if bad.size:
            i = int(bad[0])
            raise ParameterError(
                f"The '{name}' parameter of {caller} must hold whole numbers (counts); "
                f"position {i} is {_show(arr[i])}.")
    bad = np.flatnonzero(m <= 0)
    if bad.size:
        i = int(bad[0])
        raise ParameterError(
            f"The 'n' parameter of {caller} must be positive; position {i} is {_show(m[i])}.")
    bad = np.flatnonzero((x < 0) | (x > m))
    if bad.size:
        i = int(bad[0])
        raise ParameterError(
            f"The 'events' parameter of {caller} must lie in [0, n]; position {i} is {_show(x[i])} "
            f"with n = {_show(m[i])}.")
    return x, m


def _labels(study, k: int, caller: str) -> tuple[str, ...]:
    if study is None:
        return tuple(str(i + 1) for i in range(k))
    labels = tuple(str(s) for s in study)
    if len(labels) != k:
        raise ParameterError(
            f"The 'study' parameter of {caller} must have one label per study ({k}); got {len(labels)}.")
    return labels


# --------------------------------------------------------------------------------------------
# Interval kernels
# --------------------------------------------------------------------------------------------

def wilson_interval(x: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (no continuity correction).

    centre = (x + z²/2) / (n + z²);  half-width = z / (n + z²) · sqrt(x (n - x) / n + z² / 4)
    (Wilson 1927; Newcombe 1998 doi:10.1002/(SICI)1097-0258(19980430)17:8<857::AID-SIM777>3.0.CO;2-E,
    method 3).
    """
    z = norm_isf((1.0 - level) / 2.0)
    z2 = z * z
    centre = (x + z2 / 2.0) / (n + z2)
    half = z / (n + z2) * np.sqrt(x * (n - x) / n + z2 / 4.0)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def clopper_pearson_interval(x: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson exact interval from beta quantiles.

    lower = B(α/2; x, n - x + 1) (0 when x = 0);  upper = B(1 - α/2; x + 1, n - x) (1 when x = n).
    """
    from scipy import (
        stats,  # beta quantiles (Boost) only here: scipy.stats is slow to import
    )
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        low = np.where(x > 0, stats.beta.ppf(alpha / 2.0, np.maximum(x, 1), n - x + 1), 0.0)
        high = np.where(x < n, stats.beta.isf(alpha / 2.0, x + 1, np.maximum(n - x, 1)), 1.0)
    return low, high


@dataclass(frozen=True, slots=True)
class IntervalMethod:
    """One confidence-interval method for a single proportion."""

    code: str
    label: str
    kernel: Callable[[np.ndarray, np.ndarray, float], tuple[np.ndarray, np.ndarray]]
    reference: str


PROPORTION_CI_METHODS: dict[str, IntervalMethod] = {m.code: m for m in (
    IntervalMethod("wilson", "Wilson (score)", wilson_interval, "doi:10.1080/01621459.1927.10502953"),
    IntervalMethod("clopper-pearson", "Clopper-Pearson (exact)", clopper_pearson_interval,
                   "doi:10.1093/biomet/26.4.404"),
)}


# --------------------------------------------------------------------------------------------
# Freeman-Tukey transformation and Miller's inversion (metafor 3.8-1 R/transf.r)
# --------------------------------------------------------------------------------------------

def ft_transform(p, n):
    """Freeman-Tukey double arcsine of a proportion p with sample size n (``transf.pft``).

    t = ½ [asin sqrt(x / (n + 1)) + asin sqrt((x + 1) / (n + 1))],  x = p n.
    """
    x = np.asarray(p, dtype=float) * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (n + 1.0))))


def ft_inverse(t, n):
    """Miller (1978) inversion of the double arcsine for sample size n (``transf.ipft``).

    p = ½ [1 - sgn(cos 2t) sqrt(1 - (sin 2t + (sin 2t - 1/sin 2t) / n)²)],
    set to 0 below ``ft_transform(0, n)`` and 1 above ``ft_transform(1, n)``; NaN where undefined.
    """
    t = np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2.0 * t)
        p = 0.5 * (1.0 - np.sign(np.cos(2.0 * t)) * np.sqrt(1.0 - (s + (s - 1.0 / s) / n) ** 2))
    p = np.where(t > ft_transform(1.0, n), 1.0, p)
    p = np.where(t < ft_transform(0.0, n), 0.0, p)
    return p


def ft_inverse_hm(t, n):
    """``transf.ipft.hm``: Miller's inversion at the harmonic mean of the sample sizes ``n``."""
    n = np.asarray(n, dtype=float)
    nhm = 1.0 / np.mean(1.0 / n[~np.isnan(n)])
    return ft_inverse(t, nhm)


# --------------------------------------------------------------------------------------------
# Per-study proportions
# --------------------------------------------------------------------------------------------

def _table(cols: dict) -> pd.DataFrame:
    return pd.DataFrame(cols)


def _ptext(p: float) -> str:
    """A p-value for a note: '< .0001' or '= 0.0123'."""
    return "< .0001" if p < 1e-4 else f"= {p:.4f}"


@dataclass(frozen=True, slots=True, eq=False)
class StudyProportions:
    """Each study's proportion ``events / n`` with its confidence interval.

    Attributes
    ----------
    study, events, n, proportion, ci_low, ci_high
        One entry per study.
    method : {'wilson', 'clopper-pearson'}
    level : float
    """

    study: tuple[str, ...]
    events: np.ndarray
    n: np.ndarray
    proportion: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    method: str
    level: float

    @property
    def k(self) -> int:
        return len(self.study)

    def __repr__(self) -> str:
        return (f"StudyProportions(k={self.k}, method={self.method!r}, level={self.level:g}, "
                f"proportion={np.min(self.proportion):.4f}..{np.max(self.proportion):.4f})")

    def to_frame(self) -> pd.DataFrame:
        return _table({"study": list(self.study), "events": self.events, "n": self.n,
                       "proportion": self.proportion, "ci_low": self.ci_low, "ci_high": self.ci_high})

    def summary(self) -> Summary:
        label = PROPORTION_CI_METHODS[self.method].label
        return Summary(title=f"Study proportions ({label} {100 * self.level:g}% CI)",
                       frame=self.to_frame().set_index("study"),
                       notes=(f"Interval: {label}; {PROPORTION_CI_METHODS[self.method].reference}.",))


def study_proportions(events, n, *, method: str = "wilson", level: float = 0.95,
                      study: Sequence[str] | None = None) -> StudyProportions:
    """Per-study proportions with a Wilson (score) or Clopper-Pearson (exact) interval.

    Parameters
    ----------
    events, n : array-like of int
        Events and sample sizes, one per study (``0 <= events <= n``, ``n >= 1``).
    method : {"wilson", "clopper-pearson"}, default="wilson"
    level : float, default=0.95
        Confidence level (0.95 or 95).
    study : sequence of str, optional
        Study labels.

    Returns
    -------
    StudyProportions

    References
    ----------
    Wilson (1927) doi:10.1080/01621459.1927.10502953; Clopper & Pearson (1934)
    doi:10.1093/biomet/26.4.404.

    Examples
    --------
    >>> res = study_proportions([3], [10])
    >>> round(float(res.ci_low[0]), 4), round(float(res.ci_high[0]), 4)
    (0.1078, 0.6032)
    """
    caller = "study_proportions"
    method = check_option(method, name="method", allowed=tuple(PROPORTION_CI_METHODS), caller=caller)
    level = check_level(level, caller=caller)
    x, m = check_counts(events, n, caller=caller)
    low, high = PROPORTION_CI_METHODS[method].kernel(x, m, level)
    return StudyProportions(study=_labels(study, x.size, caller), events=x, n=m, proportion=x / m,
                            ci_low=low, ci_high=high, method=method, level=level)


# --------------------------------------------------------------------------------------------
# Pooled proportions (inverse variance on a transformed scale)
# --------------------------------------------------------------------------------------------

def _escalc(measure: str, x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-study effects and variances from ``netstrata.effect_sizes`` (metafor's ``escalc``
    defaults: for PLO ½ is added to the events and non-events of studies with 0 events or 0
    non-events; nothing is added for PFT)."""

    es = effect_sizes(measure, events=x, n=n)
    return es["effect"].to_numpy(dtype=float), es["variance"].to_numpy(dtype=float)


def _logit_effects(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """escalc(measure="PLO"): y = log(x / (n - x)), v = 1/x + 1/(n - x) after the ½ correction."""
    return _escalc("PLO", x, n)


def _ft_effects(x: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """escalc(measure="PFT"): y = ½[asin sqrt(x/(n+1)) + asin sqrt((x+1)/(n+1))], v = 1/(4n + 2)."""
    return _escalc("PFT", x, n)


def _expit(y, n):
    return special.expit(y)


@dataclass(frozen=True, slots=True)
class ProportionMeasure:
    """A transformed scale for pooling proportions: code, label, effects kernel, back-transform."""

    code: str
    label: str
    effects: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    back: Callable[[np.ndarray, np.ndarray], np.ndarray]
    back_label: str
    reference: str


PROPORTION_MEASURES: dict[str, ProportionMeasure] = {m.code: m for m in (
    ProportionMeasure("PLO", "logit-transformed proportion", _logit_effects, _expit,
                      "expit", "doi:10.18637/jss.v036.i03"),
    ProportionMeasure("PFT", "Freeman-Tukey double-arcsine proportion", _ft_effects, ft_inverse_hm,
                      "Miller (1978) inversion at the harmonic mean n (transf.ipft.hm)",
                      "doi:10.1080/00031305.1978.10479283"),
)}


@dataclass(frozen=True, slots=True, eq=False)
class PooledProportion(PooledEstimate):
    """A pooled proportion: the inverse-variance fit on the transformed scale and its back-transform.

    ``estimate``, ``se``, ``ci_low``/``ci_high`` and ``pi_low``/``pi_high`` are on the analysis
    scale (logit or double arcsine); ``proportion`` and ``proportion_*`` are back-transformed.
    The prediction interval is NaN for the common-effect model (``method="FE"``), as metafor
    does not report one. ``effect``/``variance`` are the per-study values that were pooled.
    """

    measure: str
    method: str
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
    q: float
    q_pvalue: float
    knha: bool
    level: float
    converged: bool
    proportion: float
    proportion_ci_low: float
    proportion_ci_high: float
    proportion_pi_low: float
    proportion_pi_high: float
    study: tuple[str, ...]
    events: np.ndarray
    n: np.ndarray
    effect: np.ndarray
    variance: np.ndarray
    weights: np.ndarray

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    def _backtransform_n(self):
        """Harmonic mean of the sample sizes (the PFT back-transform, ``transf.ipft.hm``)."""
        return 1.0 / float(np.mean(1.0 / self.n))

    def __repr__(self) -> str:
        return (f"PooledProportion(k={self.k}, measure={self.measure!r}, method={self.method!r}, "
                f"proportion={self.proportion:.4f} [{self.proportion_ci_low:.4f}, "
                f"{self.proportion_ci_high:.4f}], tau2={self.tau2:.4f})")

    def summary(self, backtransf: bool = False) -> Summary:
        """Both scales (analysis scale, then the proportion); ``backtransf=True`` keeps only the proportion."""
        rows = {
            "estimate": [self.estimate, self.proportion],
            "ci_low": [self.ci_low, self.proportion_ci_low],
            "ci_high": [self.ci_high, self.proportion_ci_high],
            "pi_low": [self.pi_low, self.proportion_pi_low],
            "pi_high": [self.pi_high, self.proportion_pi_high],
        }
        frame = pd.DataFrame(rows, index=[PROPORTION_MEASURES[self.measure].label, "proportion"])
        frame = frame.iloc[1:] if backtransf else frame
        test = "Knapp-Hartung t" if self.knha else "z"
        notes = (
            f"k = {self.k}; tau2 ({self.method}) = {self.tau2:.4f}; I2 = {self.i2:.1f}%; "
            f"Q = {self.q:.4f} (df = {self.k - 1}, p {_ptext(self.q_pvalue)}).",
            f"Test: {test} = {self.statistic:.4f}, p {_ptext(self.pvalue)}; "
            f"back-transform: {PROPORTION_MEASURES[self.measure].back_label}.",
        )
        return Summary(title=f"Pooled proportion ({self.measure}, {self.method}, "
                             f"{100 * self.level:g}% intervals)", frame=frame, notes=notes)



def pooled_proportion(events, n, *, measure: str = "PLO", method: str = "REML", ci: str = "wald",
                      level: float = 0.95, study: Sequence[str] | None = None,
                      knha: bool | None = None) -> PooledProportion:
    """Pool single-arm proportions by inverse variance on the logit or double-arcsine scale.

    Parameters
    ----------
    events, n : array-like of int
        Events and sample sizes, one per study.
    measure : {"PLO", "PFT"}, default="PLO"
        ``PLO``: logit with ½ added to studies with 0 events or 0 non-events (metafor ``escalc``
        defaults); ``PFT``: Freeman-Tukey double arcsine (offered as an option only; its
        back-transformation depends on the harmonic-mean sample size).
    method : {"FE", "DL", "HE", "HS", "SJ", "PM", "ML", "REML", "EB"}, default="REML"
        τ² estimator (metafor's ``rma(method=...)``).
    ci : {"wald", "hksj"}, default="wald"
        "hksj": Knapp-Hartung adjustment (t-based CI and PI with k - 1 df); ``knha=True`` is its
        deprecated spelling.
    level : float, default=0.95
    study : sequence of str, optional

    Returns
    -------
    PooledProportion

    Notes
    -----
    The prediction interval is ``estimate ± crit · sqrt(se² + τ²)`` on the analysis scale
    (metafor's ``predict.rma``), then back-transformed like the estimate: ``expit`` for PLO and
    ``transf.ipft.hm`` for PFT.

    References
    ----------
    Viechtbauer (2010) doi:10.18637/jss.v036.i03; Miller (1978) doi:10.1080/00031305.1978.10479283;
    Barendregt et al. (2013) doi:10.1136/jech-2013-203104.
    """

    caller = "pooled_proportion"
    ci = ci_option(ci, knha=knha, caller=caller, default="wald")
    measure = check_option(measure, name="measure", allowed=tuple(PROPORTION_MEASURES), caller=caller)
    method = check_option(method, name="method", allowed=tuple(METHODS), caller=caller)
    level = check_level(level, caller=caller)
    x, m = check_counts(events, n, caller=caller)
    spec = PROPORTION_MEASURES[measure]
    y, v = spec.effects(x, m)
    fit = rma_fit(y, v, None, method, ci == "hksj", level)
    est, se = float(fit.beta[0]), float(fit.se[0])
    if method == "FE":
        pi_low = pi_high = float("nan")
    else:
        half = fit.crit * np.sqrt(se * se + fit.tau2)
        pi_low, pi_high = est - half, est + half
    back = lambda t: float(spec.back(np.asarray([t]), m)[0])  # noqa: E731
    return PooledProportion(
        measure=measure, method=method, k=fit.k, estimate=est, se=se,
        statistic=float(fit.statistic[0]), pvalue=float(fit.pvalue[0]),
        ci_low=float(fit.ci_low[0]), ci_high=float(fit.ci_high[0]), pi_low=pi_low, pi_high=pi_high,
        tau2=fit.tau2, i2=fit.i2, h2=fit.h2, q=fit.q, q_pvalue=fit.q_pvalue, knha=fit.knha,
        level=level, converged=fit.converged, proportion=back(est),
        proportion_ci_low=back(fit.ci_low[0]), proportion_ci_high=back(fit.ci_high[0]),
        proportion_pi_low=back(pi_low), proportion_pi_high=back(pi_high),
        study=_labels(study, x.size, caller), events=x, n=m, effect=y, variance=v,
        weights=fit.weights,
    )
