"""CINeMA domain rules: small pure functions driven by rule tables (data, not if-ladders).

Each function returns a :class:`~netstrata.certainty.judgement.DomainJudgement` that keeps the
rule's name and every number it read. Intervals are on the analysis scale (log for ratios) and
``zone`` is a :class:`~netstrata.certainty.zone.MIDZone`.

References
----------
Nikolakopoulou A, Higgins JPT, Papakonstantinou T, et al. CINeMA: an approach for assessing
confidence in the results of a network meta-analysis. PLoS Med 2020;17:e1003082.
doi:10.1371/journal.pmed.1003082
Papakonstantinou T, Nikolakopoulou A, Higgins JPT, Egger M, Salanti G. CINeMA: software for
semiautomated assessment of the confidence in the results of network meta-analysis. Campbell
Syst Rev 2020;16:e1080. doi:10.1002/cl2.1080
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Sequence, TypeGuard

import numpy as np

from ..errors import ParameterError
from .judgement import LEVEL_JUDGEMENT, MAJOR, NO, NOT_ASSESSABLE, SOME, DomainJudgement
from .zone import MIDZone

__all__ = ["AggregationRule", "AGGREGATION_RULES", "aggregate_level", "contribution_judgement",
           "REPORTING_BIAS", "reporting_bias", "crossings", "LimitRule", "LIMIT_RULES", "IMPRECISION_TABLE", "imprecision",
           "HETEROGENEITY_TABLE", "heterogeneity", "areas", "shared_areas", "SHARED_AREAS_TABLE",
           "EVIDENCE", "DEFAULT_P_THRESHOLDS", "pvalue_band", "incoherence"]

_HALF_TOL = 1e-9    # float noise: a mean within this of x.5 rounds up; majority totals this close tie


# --------------------------------------------------------------------------- within-study bias, indirectness
def _majority(shares: np.ndarray, levels: np.ndarray) -> int:
    """Level with the largest summed contribution; a tie goes to the lower level (CINeMA's
    ``majRule`` keeps the first maximum over levels in ascending order). Totals within
    ``_HALF_TOL`` (relative) of the largest count as tied, so summation order cannot break a tie."""
    totals = np.array([shares[levels == lv].sum() for lv in (1, 2, 3)])
    return int(np.flatnonzero(totals >= totals.max() - _HALF_TOL * totals.sum())[0]) + 1


def _average(shares: np.ndarray, levels: np.ndarray) -> int:
    """Contribution-weighted mean level, rounded half up (CINeMA's ``meanRule``, JS Math.round)."""
    mean = float(np.sum(shares * levels) / np.sum(shares))
    return int(math.floor(mean + 0.5 + _HALF_TOL))


def _highest(shares: np.ndarray, levels: np.ndarray) -> int:
    """Highest level among studies that contribute (CINeMA's ``maxRule``)."""
    return int(levels[shares > 0].max())


@dataclass(frozen=True, slots=True)
class AggregationRule:
    code: str
    label: str
    kernel: Callable[[np.ndarray, np.ndarray], int]
    reference: str


AGGREGATION_RULES = MappingProxyType({r.code: r for r in (
    AggregationRule("majority", "level with the largest share of contributions (ties: lower level)", _majority,
                    "doi:10.1371/journal.pmed.1003082"),
    AggregationRule("average", "contribution-weighted mean level, rounded half up", _average,
                    "doi:10.1371/journal.pmed.1003082"),
    AggregationRule("highest", "highest level among contributing studies", _highest,
                    "doi:10.1371/journal.pmed.1003082"),
)})


def aggregate_level(shares, levels, rule: str) -> int:
    """Aggregate study levels (1/2/3) weighted by contribution shares with ``rule``."""
    return AGGREGATION_RULES[rule].kernel(np.asarray(shares, float), np.asarray(levels, int))


def contribution_judgement(domain: str, shares, levels, rule: str, *, studies=None,
                           level_reasons: dict | None = None) -> DomainJudgement:
    """Within-study bias or indirectness of one comparison from per-study contributions.

    ``shares``: contribution of each study to the network estimate (a row of the study-level
    contribution matrix; only positive shares enter); ``levels``: the studies' levels 1/2/3.
    """
    shares, levels = np.asarray(shares, float), np.asarray(levels, int)
    keep = shares > 0
    shares, levels = shares[keep], levels[keep]
    total = shares.sum()
    by_level = {lv: float(shares[levels == lv].sum() / total) for lv in (1, 2, 3)}
    level = aggregate_level(shares, levels, rule)
    inputs = {"rule": rule, "share_low": by_level[1], "share_some": by_level[2], "share_high": by_level[3],
              "mean_level": float(np.sum(shares * levels) / total), "level": level}
    if studies is not None:
        names = np.asarray(list(studies), dtype=object)[keep]
        inputs["studies"] = {str(s): (w, lv) for s, w, lv in zip(names, (shares / total).tolist(), levels.tolist())}
    if level_reasons:
        inputs["level_reasons"] = dict(level_reasons)
    return DomainJudgement(domain, LEVEL_JUDGEMENT[level], LEVEL_JUDGEMENT[level], rule, inputs,
                           note=AGGREGATION_RULES[rule].label)


# --------------------------------------------------------------------------- reporting bias
# CINeMA records "undetected" / "suspected"; netstrata reads "suspected" as some concerns (one
# level down, as GRADE rates down once for suspected publication bias).
REPORTING_BIAS = MappingProxyType({"undetected": NO, "suspected": SOME})


def reporting_bias(value: str | None = None, note: str = "") -> DomainJudgement:
    """CINeMA's across-studies (reporting) bias: a recorded judgement, no algorithm.

    ``None`` means nobody recorded one: "undetected" with a note saying so.
    """
    recorded = value is not None
    value = "undetected" if value is None else value
    text = note or ("" if recorded else "no judgement recorded; default 'undetected'")
    return DomainJudgement("reporting_bias", REPORTING_BIAS[value], REPORTING_BIAS[value], "recorded",
                           {"reporting_bias": value, "recorded": recorded}, note=text)


# --------------------------------------------------------------------------- imprecision, heterogeneity
def crossings(low: float, high: float, zone) -> int:
    """How many zone limits lie strictly inside the interval (low, high): 0, 1 or 2.

    ``zone`` is a :class:`MIDZone` or a pair of limits."""
    zl, zh = (zone.low, zone.high) if isinstance(zone, MIDZone) else zone
    return int(low < zl < high) + int(low < zh < high)


def _zone_limits(effect: float | None, zone: MIDZone) -> tuple[float, float]:
    """The two limits of the zone of equivalence (Nikolakopoulou 2020; CINeMA documentation)."""
    return zone.limits


def _app_limits(effect: float | None, zone: MIDZone) -> tuple[float, float]:
    """CINeMA 2.0 web application ("Toshi's rule", Imprecision/Rules.purs): the limit on the
    point estimate's side is replaced by the null, i.e. the limits are the null and the MID on
    the opposite side."""
    if effect is None:
        raise ParameterError("The 'effect' parameter is required with limits='cinema_app' (the point "
                             "estimate decides which zone limit the null replaces). Got None instead.")
    return (zone.low, 0.0) if effect > 0 else ((0.0, zone.high) if effect < 0 else (0.0, 0.0))


@dataclass(frozen=True, slots=True)
class LimitRule:
    code: str
    label: str
    limits: Callable[[float | None, MIDZone], tuple[float, float]]


LIMIT_RULES = MappingProxyType({r.code: r for r in (
    LimitRule("zone", "crossings of the two limits of the zone of equivalence", _zone_limits),
    LimitRule("cinema_app", "CINeMA 2.0 web application: crossings of the null and the opposite-side MID",
              _app_limits),
)})

IMPRECISION_TABLE = MappingProxyType({0: NO, 1: SOME, 2: MAJOR})


def _finite_value(value: float | None) -> TypeGuard[float]:
    return value is not None and bool(np.isfinite(value))


def _finite(*values: float | None) -> bool:
    return all(_finite_value(v) for v in values)


def _inside(low: float, high: float, zone: MIDZone) -> bool:
    return low > zone.low and high < zone.high


def imprecision(ci_low: float, ci_high: float, zone: MIDZone, *, effect: float | None = None,
                limits: str = "zone") -> DomainJudgement:
    """Network CI crossing both / one / neither limit → major / some / no concerns.

    ``limits``: "zone" (default; the zone of equivalence) or "cinema_app" (needs ``effect``).
    """
    inputs: dict[str, object] = {"ci_low": ci_low, "ci_high": ci_high, "zone_low": zone.low,
                                 "zone_high": zone.high}
    rule = f"CI crossings ({limits})"
    if not _finite(ci_low, ci_high):
        return DomainJudgement("imprecision", NOT_ASSESSABLE, NOT_ASSESSABLE, rule, inputs,
                               note="no confidence interval")
    lim = LIMIT_RULES[limits].limits(effect, zone)
    n = 0 if _inside(ci_low, ci_high, zone) else crossings(ci_low, ci_high, lim)
    inputs |= {"limits": lim, "ci_crossings": n}
    return DomainJudgement("imprecision", IMPRECISION_TABLE[n], IMPRECISION_TABLE[n], rule, inputs)


# (CI crossings, PI crossings) -> judgement; None = cannot occur (a PI contains its CI).
HETEROGENEITY_TABLE = MappingProxyType({
    (0, 0): NO, (0, 1): SOME, (0, 2): MAJOR,
    (1, 0): None, (1, 1): NO, (1, 2): SOME,
    (2, 0): None, (2, 1): None, (2, 2): NO,
})


def heterogeneity(ci_low: float, ci_high: float, pi_low: float, pi_high: float, zone: MIDZone, *,
                  effect: float | None = None, limits: str = "zone") -> DomainJudgement:
    """Concordance of CI and prediction interval relative to the zone (CINeMA table).

    Not assessable without a prediction interval (netmeta gives none with fewer than two
    degrees of freedom). A PI crossing fewer limits than its CI cannot come from one fit and
    raises ``ValueError``. ``limits`` as in :func:`imprecision` (the web application counts the
    PI against the whole zone when the CI lies inside it).
    """
    inputs: dict[str, object] = {"ci_low": ci_low, "ci_high": ci_high, "pi_low": pi_low, "pi_high": pi_high,
                                 "zone_low": zone.low, "zone_high": zone.high}
    rule = f"CI x PI crossings ({limits})"
    if not _finite(ci_low, ci_high, pi_low, pi_high):
        return DomainJudgement("heterogeneity", NOT_ASSESSABLE, NOT_ASSESSABLE, rule, inputs,
                               note="no prediction interval (fewer than two degrees of freedom)")
    inside = _inside(ci_low, ci_high, zone)
    lim = zone.limits if inside else LIMIT_RULES[limits].limits(effect, zone)
    key = (0 if inside else crossings(ci_low, ci_high, lim), crossings(pi_low, pi_high, lim))
    inputs |= {"limits": lim, "ci_crossings": key[0], "pi_crossings": key[1]}
    out = HETEROGENEITY_TABLE[key]
    if out is None:
        raise ValueError(f"the prediction interval ({pi_low}, {pi_high}) crosses fewer zone limits than the "
                         f"confidence interval ({ci_low}, {ci_high}); a prediction interval must contain the "
                         "confidence interval of the same estimate")
    return DomainJudgement("heterogeneity", out, out, rule, inputs)


# --------------------------------------------------------------------------- incoherence
def areas(low: float, high: float, zone: MIDZone) -> tuple[bool, bool, bool]:
    """Which areas the interval covers: A (left of the zone), B (the zone), C (right of it)."""
    return (low < zone.low, low < zone.high and high > zone.low, high > zone.high)


def shared_areas(direct: tuple[float, float], indirect: tuple[float, float], zone: MIDZone) -> int:
    """Agreement of the direct and indirect CIs: the number of areas A, B, C that both cover or
    both miss (CINeMA ``getRuleJudgement``), 0 to 3."""
    return sum(d == i for d, i in zip(areas(*direct, zone), areas(*indirect, zone)))


SHARED_AREAS_TABLE = MappingProxyType({0: MAJOR, 1: MAJOR, 2: SOME, 3: NO})
EVIDENCE = ("direct", "indirect", "mixed")
DEFAULT_P_THRESHOLDS = (0.01, 0.10)


def pvalue_band(p: float, thresholds: Sequence[float] = DEFAULT_P_THRESHOLDS) -> str:
    """Design-by-treatment p: p > upper → no concerns; lower ≤ p ≤ upper → some; p < lower → major."""
    lower, upper = thresholds
    return NO if p > upper else (SOME if p >= lower else MAJOR)


def incoherence(evidence: str, zone: MIDZone, *, direct_ci: Sequence[float] | None = None,
                indirect_ci: Sequence[float] | None = None,
                dbt_pvalue: float | None = None, p_thresholds: Sequence[float] = DEFAULT_P_THRESHOLDS,
                difference_pvalue: float | None = None, difference_p_gate: float | None = None) -> DomainJudgement:
    """Incoherence of one comparison (CINeMA).

    direct only → no concerns; indirect only → band of the global design-by-treatment p
    (not assessable when the network has no loops, e.g. a star); mixed → agreement of the direct
    and indirect CIs over the areas A/B/C (0 or 1 → major, 2 → some, 3 → no concerns).
    ``difference_p_gate`` (off by default; CINeMA 2.0's web application uses 0.10): a mixed
    comparison whose side-splitting p (``difference_pvalue``) is at least the gate has no concerns.
    """
    inputs: dict[str, object] = {"evidence": evidence}
    if evidence == "direct":
        return DomainJudgement("incoherence", NO, NO, "direct only", inputs)
    if evidence == "indirect":
        inputs |= {"dbt_pvalue": dbt_pvalue, "p_thresholds": tuple(p_thresholds)}
        if not _finite_value(dbt_pvalue):
            return DomainJudgement("incoherence", NOT_ASSESSABLE, NOT_ASSESSABLE, "design-by-treatment p", inputs,
                                   note="no design-by-treatment test: the network has no loops")
        out = pvalue_band(dbt_pvalue, p_thresholds)
        return DomainJudgement("incoherence", out, out, "design-by-treatment p", inputs)
    inputs |= {"direct_ci": tuple(direct_ci) if direct_ci is not None else None,
               "indirect_ci": tuple(indirect_ci) if indirect_ci is not None else None,
               "zone_low": zone.low, "zone_high": zone.high}
    if direct_ci is None or indirect_ci is None or not _finite(*direct_ci, *indirect_ci):
        return DomainJudgement("incoherence", NOT_ASSESSABLE, NOT_ASSESSABLE, "shared areas", inputs,
                               note="direct or indirect confidence interval missing")
    if difference_p_gate is not None:
        inputs |= {"difference_pvalue": difference_pvalue, "difference_p_gate": difference_p_gate}
        if _finite_value(difference_pvalue) and difference_pvalue >= difference_p_gate:
            return DomainJudgement("incoherence", NO, NO, "side-splitting p gate", inputs)
    (d_low, d_high), (i_low, i_high) = direct_ci, indirect_ci
    n = shared_areas((d_low, d_high), (i_low, i_high), zone)
    inputs |= {"direct_areas": areas(d_low, d_high, zone), "indirect_areas": areas(i_low, i_high, zone),
               "shared_areas": n}
    return DomainJudgement("incoherence", SHARED_AREAS_TABLE[n], SHARED_AREAS_TABLE[n], "shared areas", inputs)
