"""Responder helpers: number needed to treat from a risk difference, effects in MID units.

``nnt(rd, ci_low=..., ci_high=...)`` turns a risk difference (treatment minus control) into the
number needed to treat for one more beneficial outcome (NNTB) or for one more harmful outcome
(NNTH), with Altman's confidence interval: the reciprocals of the risk-difference limits, which
pass through infinity ("NNTH 50 to ∞ to NNTB 4") when the risk-difference interval includes 0.
``mid_units(effect, mid=...)`` expresses continuous effects (and their intervals) in units of the
minimal important difference.

References
----------
Altman DG (1998). Confidence intervals for the number needed to treat. *BMJ* 317(7168):1309-1312.
doi:10.1136/bmj.317.7168.1309
Laupacis A, Sackett DL, Roberts RS (1988). An assessment of clinically useful measures of the
consequences of treatment. *N Engl J Med* 318(26):1728-1733. doi:10.1056/NEJM198806303182605
Johnston BC, Thorlund K, Schünemann HJ, et al. (2010). Improving the interpretation of quality of
life evidence in meta-analyses: the application of minimal important difference units.
*Health Qual Life Outcomes* 8:116. doi:10.1186/1477-7525-8-116
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from .._dist import norm_isf

from .._summary import Summary
from .._validate import as_float_array, check_level, check_option, check_same_length
from ..errors import ParameterError
from .proportions import check_counts

__all__ = ["NntResult", "MidUnits", "nnt", "nnt_from_counts", "mid_units", "OUTCOMES"]

#: What a positive risk difference (treatment minus control) means.
OUTCOMES = {"beneficial": "a higher risk is better (e.g. responders)",
            "harmful": "a higher risk is worse (e.g. adverse events)"}


def _scalar(value, name: str, caller: str) -> float:
    arr = as_float_array(value, name=name, caller=caller)
    if arr.size != 1:
        raise ParameterError(f"The '{name}' parameter of {caller} must be a single number; got {arr.size} values.")
    return float(arr[0])


def _ci_from(estimate, ci_low, ci_high, se, level, caller):
    """The interval from explicit limits, or estimate ± z·se, or (NaN, NaN) when neither is given."""
    if se is not None and (ci_low is not None or ci_high is not None):
        raise ParameterError(f"{caller} takes either 'se' or 'ci_low'/'ci_high', not both.")
    if (ci_low is None) != (ci_high is None):
        raise ParameterError(f"{caller} needs both 'ci_low' and 'ci_high' (or neither).")
    if se is not None:
        se_ = as_float_array(se, name="se", caller=caller, nonnegative=True)
        z = norm_isf((1.0 - level) / 2.0)
        return estimate - z * se_, estimate + z * se_
    if ci_low is None:
        nan = np.full(np.shape(estimate), np.nan)
        return nan, nan.copy()
    low = as_float_array(ci_low, name="ci_low", caller=caller)
    high = as_float_array(ci_high, name="ci_high", caller=caller)
    bad = np.flatnonzero((low > estimate) | (high < estimate))
    if bad.size:
        i = int(bad[0])
        raise ParameterError(
            f"The interval of {caller} must contain the estimate; position {i} has "
            f"ci_low={low[i]!r}, estimate={np.atleast_1d(estimate)[i]!r}, ci_high={high[i]!r}.")
    return low, high


# --------------------------------------------------------------------------------------------
# Number needed to treat
# --------------------------------------------------------------------------------------------

def _recip(b: float) -> float:
    return math.inf if b == 0 else 1.0 / abs(b)


def _kind(b: float) -> str:
    return "NNTB" if b > 0 else ("NNTH" if b < 0 else "none")


def nnt_limits(b_low: float, b_high: float) -> tuple[float, str, float, str, bool]:
    """Altman's NNT interval from the limits of the benefit-scale risk difference [b_low, b_high].

    Both limits > 0: NNTB 1/b_high to NNTB 1/b_low. Both < 0: NNTH 1/|b_low| to NNTH 1/|b_high|.
    b_low < 0 < b_high: NNTH 1/|b_low| to ∞ to NNTB 1/b_high (the interval passes through ∞).
    Returns (ci_low, ci_low_kind, ci_high, ci_high_kind, through_infinity).
    """
    if math.isnan(b_low) or math.isnan(b_high):
        return math.nan, "none", math.nan, "none", False
    if b_low >= 0 and b_high > 0:
        return _recip(b_high), "NNTB", _recip(b_low), "NNTB", False
    if b_high <= 0 and b_low < 0:
        return _recip(b_low), "NNTH", _recip(b_high), "NNTH", False
    if b_low < 0 < b_high:
        return _recip(b_low), "NNTH", _recip(b_high), "NNTB", True
    return math.inf, "none", math.inf, "none", False  # b_low = b_high = 0


@dataclass(frozen=True, slots=True)
class NntResult:
    """The number needed to treat and its Altman (1998) confidence interval.

    ``nnt`` = 1 / |rd| (inf when rd = 0) and ``kind`` says whether it is an NNTB (benefit) or an
    NNTH (harm). The interval runs from ``ci_low`` (of ``ci_low_kind``) to ``ci_high`` (of
    ``ci_high_kind``), through infinity when ``through_infinity`` (the risk-difference CI
    includes 0). ``rd*`` are as given (treatment minus control).
    """

    rd: float
    rd_ci_low: float
    rd_ci_high: float
    outcome: str
    level: float
    nnt: float
    kind: str
    ci_low: float
    ci_low_kind: str
    ci_high: float
    ci_high_kind: str
    through_infinity: bool

    @property
    def text(self) -> str:
        """Altman's wording, e.g. ``NNTB 10.0 (95% CI NNTH 50.0 to ∞ to NNTB 4.0)``."""
        def fmt(v: float) -> str:
            return "∞" if math.isinf(v) else f"{v:.1f}"
        head = f"{self.kind} {fmt(self.nnt)}" if self.kind != "none" else "NNT ∞"
        if math.isnan(self.ci_low):
            return head
        mid = " to ∞ to " if self.through_infinity else " to "
        return (f"{head} ({100 * self.level:g}% CI {self.ci_low_kind} {fmt(self.ci_low)}{mid}"
                f"{self.ci_high_kind} {fmt(self.ci_high)})")

    def __repr__(self) -> str:
        return f"NntResult({self.text}, rd={self.rd:.4f})"

    def summary(self) -> Summary:
        frame = pd.DataFrame({"estimate": [self.rd, self.nnt], "ci_low": [self.rd_ci_low, self.ci_low],
                              "ci_high": [self.rd_ci_high, self.ci_high],
                              "kind": ["", self.kind]}, index=["risk difference", "NNT"])
        return Summary(title="Number needed to treat (Altman 1998)", frame=frame,
                       notes=(self.text, f"Outcome: {self.outcome} ({OUTCOMES[self.outcome]}).",
                              "NNT interval = reciprocals of the risk-difference limits "
                              "(doi:10.1136/bmj.317.7168.1309)."))


def nnt(rd, *, ci_low=None, ci_high=None, se=None, level: float = 0.95,
        outcome: str = "beneficial") -> NntResult:
    """Number needed to treat from a risk difference, with Altman's (1998) confidence interval.

    Parameters
    ----------
    rd : float
        Risk difference, treatment minus control, as a proportion in [-1, 1].
    ci_low, ci_high : float, optional
        Confidence limits of ``rd``. Alternatively give ``se`` (Wald interval rd ± z·se).
    se : float, optional
        Standard error of ``rd``.
    level : float, default=0.95
    outcome : {"beneficial", "harmful"}, default="beneficial"
        Whether the event counted is good (responders: a positive ``rd`` is a benefit, NNTB) or
        bad (adverse events: a positive ``rd`` is a harm, NNTH).

    Returns
    -------
    NntResult

    References
    ----------
    Altman (1998) doi:10.1136/bmj.317.7168.1309.

    Examples
    --------
    >>> nnt(0.1, ci_low=-0.02, ci_high=0.25).text
    'NNTB 10.0 (95% CI NNTH 50.0 to ∞ to NNTB 4.0)'
    """
    caller = "nnt"
    outcome = check_option(outcome, name="outcome", allowed=tuple(OUTCOMES), caller=caller)
    level = check_level(level, caller=caller)
    rd_ = _scalar(rd, "rd", caller)
    if not -1.0 <= rd_ <= 1.0:
        raise ParameterError(f"The 'rd' parameter of {caller} must be a risk difference in [-1, 1]. Got {rd_!r} instead.")
    low, high = _ci_from(np.array([rd_]), ci_low, ci_high, se, level, caller)
    low, high = float(low[0]), float(high[0])
    sign = 1.0 if outcome == "beneficial" else -1.0
    b, b_low, b_high = sign * rd_, min(sign * low, sign * high), max(sign * low, sign * high)
    lo, lo_kind, hi, hi_kind, through = nnt_limits(b_low, b_high)
    return NntResult(rd=rd_, rd_ci_low=low, rd_ci_high=high, outcome=outcome, level=level,
                     nnt=_recip(b), kind=_kind(b), ci_low=lo, ci_low_kind=lo_kind, ci_high=hi,
                     ci_high_kind=hi_kind, through_infinity=through)


def nnt_from_counts(events_treat, n_treat, events_control, n_control, *, level: float = 0.95,
                    outcome: str = "beneficial") -> NntResult:
    """NNT from one trial's counts: rd = x₁/n₁ - x₂/n₂ with the Wald interval
    rd ± z sqrt(p₁(1-p₁)/n₁ + p₂(1-p₂)/n₂) (metafor ``escalc(measure="RD")``), then :func:`nnt`."""
    caller = "nnt_from_counts"
    x1, n1 = check_counts([events_treat], [n_treat], caller=caller)
    x2, n2 = check_counts([events_control], [n_control], caller=caller)
    p1, p2 = float(x1[0] / n1[0]), float(x2[0] / n2[0])
    se = math.sqrt(p1 * (1 - p1) / n1[0] + p2 * (1 - p2) / n2[0])
    return nnt(p1 - p2, se=se, level=level, outcome=outcome)


# --------------------------------------------------------------------------------------------
# MID units
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)
class MidUnits:
    """Continuous effects expressed in units of the minimal important difference (effect / MID)."""

    effect: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    mid: float
    level: float
    effect_mid: np.ndarray
    ci_low_mid: np.ndarray
    ci_high_mid: np.ndarray

    def __repr__(self) -> str:
        if self.effect.size == 1:
            return (f"MidUnits(mid={self.mid:g}, effect_mid={self.effect_mid[0]:.4f} "
                    f"[{self.ci_low_mid[0]:.4f}, {self.ci_high_mid[0]:.4f}])")
        return f"MidUnits(mid={self.mid:g}, k={self.effect.size})"

    def summary(self) -> Summary:
        frame = pd.DataFrame({"effect": self.effect, "ci_low": self.ci_low, "ci_high": self.ci_high,
                              "effect_mid": self.effect_mid, "ci_low_mid": self.ci_low_mid,
                              "ci_high_mid": self.ci_high_mid})
        return Summary(title=f"Effects in MID units (MID = {self.mid:g})", frame=frame,
                       notes=("MID units = effect / MID (Johnston et al. 2010, doi:10.1186/1477-7525-8-116).",))


def mid_units(effect, *, mid: float, ci_low=None, ci_high=None, se=None,
              level: float = 0.95) -> MidUnits:
    """Express continuous effects (e.g. mean differences) in units of the minimal important difference.

    Parameters
    ----------
    effect : float or array-like
        Effects on the outcome's own scale (e.g. mean difference on a 10 cm VAS).
    mid : float
        The minimal important difference on that scale (> 0), e.g. 1.5 cm.
    ci_low, ci_high : float or array-like, optional
        Confidence limits of ``effect``; or give ``se`` (Wald interval).
    se : float or array-like, optional
    level : float, default=0.95

    Returns
    -------
    MidUnits
        ``effect_mid = effect / mid`` and the limits divided by the same MID.

    References
    ----------
    Johnston et al. (2010) doi:10.1186/1477-7525-8-116.

    Examples
    --------
    >>> mid_units(-1.8, mid=1.5, ci_low=-2.4, ci_high=-1.2).effect_mid
    array([-1.2])
    """
    caller = "mid_units"
    level = check_level(level, caller=caller)
    m = _scalar(mid, "mid", caller)
    if not m > 0:
        raise ParameterError(f"The 'mid' parameter of {caller} must be a positive number. Got {mid!r} instead.")
    y = as_float_array(effect, name="effect", caller=caller)
    if se is not None:
        check_same_length(caller, effect=y, se=np.atleast_1d(se))
    if ci_low is not None and ci_high is not None:
        check_same_length(caller, effect=y, ci_low=np.atleast_1d(ci_low), ci_high=np.atleast_1d(ci_high))
    low, high = _ci_from(y, ci_low, ci_high, se, level, caller)
    return MidUnits(effect=y, ci_low=low, ci_high=high, mid=m, level=level,
                    effect_mid=y / m, ci_low_mid=low / m, ci_high_mid=high / m)
