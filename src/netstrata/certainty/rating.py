"""Per-comparison certainty: six CINeMA domain judgements and the overall rating.

Inputs are small frozen dataclasses (:class:`ComparisonEvidence`) so the rules do not depend on
how the network layer stores its results; :mod:`netstrata.certainty.network` builds them from a
``NetworkResult``.

Overall rating (netstrata's default mapping; CINeMA leaves it to the reviewers): start at High,
go down one level per "some concerns" and two per "major concerns", never below Very low;
"not assessable" does not downgrade. A reviewer's rating replaces it only with a recorded
reason (``rating_override``).

A domain that could not be assessed is never silently read as "no concerns": the rating is then
*provisional* (an upper bound), ``not_assessed`` names the domains, and every text form shows it,
e.g. "High (provisional: within-study bias not assessed)" (:attr:`CertaintyRating.label`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from .._summary import Summary
from .._validate import check_option
from .judgement import (DOMAINS, DOWNGRADE, NOT_ASSESSABLE, RATINGS, DomainJudgement, check_reason,
                        provisional_label)
from .rules import DEFAULT_P_THRESHOLDS, contribution_judgement, heterogeneity, imprecision, incoherence, reporting_bias
from .zone import MIDZone

__all__ = ["ComparisonEvidence", "CertaintyRating", "overall_rating", "rate_comparison"]


@dataclass(frozen=True, slots=True)
class ComparisonEvidence:
    """What the rules read about one network comparison (analysis scale, ``treatment1`` vs
    ``treatment2``). ``evidence`` is "direct", "indirect" or "mixed"; missing values are NaN."""

    comparison: str
    treatment1: str
    treatment2: str
    evidence: str
    effect: float
    ci_low: float
    ci_high: float
    pi_low: float = math.nan
    pi_high: float = math.nan
    direct_ci_low: float = math.nan
    direct_ci_high: float = math.nan
    indirect_ci_low: float = math.nan
    indirect_ci_high: float = math.nan
    k: int = 0
    prop_direct: float = math.nan
    difference_pvalue: float = math.nan


def overall_rating(domains, override: tuple[str, str] | None = None) -> tuple[str, str, int, str]:
    """(rating, algorithm rating, downgrades, override reason) from domain judgements."""
    downgrades = int(sum(DOWNGRADE[d.judgement] for d in domains))
    algorithm = RATINGS[min(downgrades, len(RATINGS) - 1)]
    if override is None:
        return algorithm, algorithm, downgrades, ""
    if not (isinstance(override, (tuple, list)) and len(override) == 2):
        raise ValueError(f"a rating override must be a (rating, reason) pair, got {override!r}")
    rating = check_option(override[0], name="rating_overrides", allowed=RATINGS, caller="rate_network")
    return rating, algorithm, downgrades, check_reason(override[1], name="rating_overrides", caller="rate_network")


@dataclass(frozen=True, slots=True)
class CertaintyRating:
    """Confidence in one network estimate: six domain judgements (inputs and rules kept) and the
    overall rating (``rating_algorithm`` before any reviewer override).

    ``not_assessed``: domains whose final judgement is "not assessable" (no study-level
    judgements given, no prediction interval, no loop to check incoherence); ``provisional`` is
    true when there is any, and :attr:`label` is the rating as it must be shown.
    """

    comparison: str
    treatment1: str
    treatment2: str
    evidence: str
    effect: float
    ci_low: float
    ci_high: float
    domains: tuple[DomainJudgement, ...]
    rating: str
    rating_algorithm: str
    downgrades: int
    override_reason: str = ""
    inputs: ComparisonEvidence | None = field(default=None, repr=False)
    provisional: bool = False
    not_assessed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The rating with its provisional qualifier, e.g. "High (provisional: indirectness not assessed)"."""
        return provisional_label(self.rating, self.not_assessed)

    def domain(self, name: str) -> DomainJudgement:
        return next(d for d in self.domains if d.domain == name)

    @property
    def within_study_bias(self) -> DomainJudgement:
        return self.domain("within_study_bias")

    @property
    def reporting_bias(self) -> DomainJudgement:
        return self.domain("reporting_bias")

    @property
    def indirectness(self) -> DomainJudgement:
        return self.domain("indirectness")

    @property
    def imprecision(self) -> DomainJudgement:
        return self.domain("imprecision")

    @property
    def heterogeneity(self) -> DomainJudgement:
        return self.domain("heterogeneity")

    @property
    def incoherence(self) -> DomainJudgement:
        return self.domain("incoherence")

    def to_row(self) -> dict:
        row = {"comparison": self.comparison, "treatment1": self.treatment1, "treatment2": self.treatment2,
               "evidence": self.evidence, "effect": self.effect, "ci_low": self.ci_low, "ci_high": self.ci_high}
        row |= {d.domain: d.judgement for d in self.domains}
        row |= {"downgrades": self.downgrades, "rating": self.rating, "rating_algorithm": self.rating_algorithm,
                "provisional": self.provisional, "not_assessed": ", ".join(self.not_assessed), "label": self.label,
                "overrides": "; ".join([f"{d.domain}: {d.override_reason}" for d in self.domains if d.overridden]
                                       + ([f"rating: {self.override_reason}"] if self.override_reason else []))}
        return row

    def summary(self) -> Summary:
        frame = pd.DataFrame([{"domain": d.domain, "judgement": d.judgement, "algorithm": d.algorithm,
                               "rule": d.rule, "note": d.note, "override_reason": d.override_reason,
                               "inputs": _short(d.inputs)} for d in self.domains]).set_index("domain")
        notes = (f"overall: {self.label} ({self.downgrades} level(s) down from High"
                 + (f"; reviewer override of {self.rating_algorithm}: {self.override_reason}" if self.override_reason else "")
                 + ")",)
        return Summary(f"Certainty of {self.comparison} ({self.evidence} evidence)", frame, notes)

    def __repr__(self) -> str:
        doms = ", ".join(f"{d.domain}={d.judgement!r}" for d in self.domains)
        prov = f", provisional, not_assessed={self.not_assessed!r}" if self.provisional else ""
        return f"CertaintyRating({self.comparison!r}, rating={self.rating!r}{prov}, {doms})"


def _short(inputs: Mapping) -> str:
    parts = []
    for k, v in inputs.items():
        if k in ("studies", "level_reasons"):
            parts.append(f"{k}=<{len(v)}>")
        elif isinstance(v, float):
            parts.append(f"{k}={v:.4g}")
        else:
            parts.append(f"{k}={v}")
    return ", ".join(parts)


def _contribution_domain(domain: str, shares: pd.Series, levels: pd.Series | None, rule: str,
                         reasons: Mapping | None) -> DomainJudgement:
    if levels is None:
        return DomainJudgement(domain, NOT_ASSESSABLE, NOT_ASSESSABLE, rule, {"rule": rule},
                               note="no study-level judgements given")
    shares = shares[shares > 0]
    lv = levels.reindex(shares.index.astype(str))
    why = {s: reasons[s] for s in shares.index.astype(str) if reasons and reasons.get(s)} if reasons else None
    return contribution_judgement(domain, shares.to_numpy(), lv.to_numpy(dtype=int), rule,
                                  studies=shares.index, level_reasons=why)


def rate_comparison(ev: ComparisonEvidence, *, shares: pd.Series, zone: MIDZone, rob: pd.Series | None,
                    indirectness: pd.Series | None = None, rob_rule: str = "majority",
                    indirectness_rule: str = "majority", reporting: str | None = None,
                    reporting_note: str = "", dbt_pvalue: float | None = None,
                    p_thresholds=DEFAULT_P_THRESHOLDS, indirectness_reasons: Mapping | None = None,
                    overrides: Mapping | None = None, rating_override=None, limits: str = "zone",
                    difference_p_gate: float | None = None) -> CertaintyRating:
    """Six domain judgements and the overall rating of one comparison (inputs trusted).

    ``shares``: the comparison's row of the study-level contribution matrix (study -> share);
    ``rob`` / ``indirectness``: study levels 1/2/3 indexed by study; ``overrides``: domain ->
    (judgement, reason).
    """
    doms = {
        "within_study_bias": _contribution_domain("within_study_bias", shares, rob, rob_rule, None),
        "reporting_bias": reporting_bias(reporting, reporting_note),
        "indirectness": _contribution_domain("indirectness", shares, indirectness, indirectness_rule,
                                             indirectness_reasons),
        "imprecision": imprecision(ev.ci_low, ev.ci_high, zone, effect=ev.effect, limits=limits),
        "heterogeneity": heterogeneity(ev.ci_low, ev.ci_high, ev.pi_low, ev.pi_high, zone, effect=ev.effect,
                                       limits=limits),
        "incoherence": incoherence(ev.evidence, zone, direct_ci=(ev.direct_ci_low, ev.direct_ci_high),
                                   indirect_ci=(ev.indirect_ci_low, ev.indirect_ci_high),
                                   dbt_pvalue=dbt_pvalue, p_thresholds=p_thresholds,
                                   difference_pvalue=ev.difference_pvalue, difference_p_gate=difference_p_gate),
    }
    for name, (judgement, reason) in dict(overrides or {}).items():
        doms[name] = doms[name].override(judgement, reason, caller="rate_network")
    domains = tuple(doms[d] for d in DOMAINS)
    rating, algorithm, downgrades, reason = overall_rating(domains, rating_override)
    missing = tuple(d.domain for d in domains if d.judgement == NOT_ASSESSABLE)
    return CertaintyRating(ev.comparison, ev.treatment1, ev.treatment2, ev.evidence, float(ev.effect),
                           float(ev.ci_low), float(ev.ci_high), domains, rating, algorithm, downgrades,
                           reason, ev, provisional=bool(missing), not_assessed=missing)


