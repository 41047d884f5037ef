"""Per-comparison certainty: six CINeMA domain judgements and the overall rating.

Inputs are small frozen dataclasses (:class:`ComparisonEvidence`) so the rules do not depend on
how the network layer stores its results; :mod:`netstrata.certainty.network` builds them from a
``NetworkResult``.

Overall rating (netstrata's default mapping; CINeMA leaves it to the reviewers): start at the
GRADE start level of the evidence's design (:mod:`netstrata.certainty.start`: randomised High,
non-randomised Low, or High when judged with ROBINS-I), go down one level per "some concerns" and
two per "major concerns", never below Very low; "not assessable" and "not applicable" do not
downgrade. *Caps* (:class:`Cap`) then bound the rating from above with a recorded rule (a lumped
analysis never above the stratified analyses of the same comparison; most of the evidence at
critical risk of bias). A reviewer's rating replaces the result only with a recorded reason
(``rating_override``).

A domain that could not be assessed is never silently read as "no concerns": the rating is then
*provisional* (an upper bound), ``not_assessed`` names the domains, and every text form shows it,
e.g. "High (provisional: within-study bias not assessed)" (:attr:`CertaintyRating.label`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping

import pandas as pd

from .._summary import Summary
from .._validate import check_option
from .judgement import (DOMAIN_LABELS, DOMAINS, DOWNGRADE, MAJOR, NOT_APPLICABLE, NOT_ASSESSABLE, RATINGS,
                        DomainJudgement, check_reason, lowest, provisional_label, rating_after)
from .rules import DEFAULT_P_THRESHOLDS, contribution_judgement, heterogeneity, imprecision, incoherence, reporting_bias
from .start import START_LEVELS, StartLevel
from .zone import MIDZone

__all__ = ["ComparisonEvidence", "CertaintyRating", "Cap", "overall_rating", "overall_override", "rate_comparison",
           "with_cap", "footnote", "contribution_domain", "critical_cap"]

RANDOMISED = START_LEVELS[("randomised", "any")]


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


@dataclass(frozen=True, slots=True)
class Cap:
    """An upper bound on a rating from a recorded rule: ``rating`` is the highest allowed."""

    rating: str
    rule: str
    reason: str
    source: str = ""

    def to_dict(self) -> dict:
        return {"rating": self.rating, "rule": self.rule, "reason": self.reason, "source": self.source}


def overall_rating(domains, override: tuple[str, str] | None = None, *, start: str = "High",
                   caps=()) -> tuple[str, str, int, str]:
    """(rating, algorithm rating, downgrades, override reason) from domain judgements: ``start``
    lowered one level per downgrade (floor Very low), then bounded by every cap."""
    downgrades = int(sum(DOWNGRADE[d.judgement] for d in domains))
    rating, algorithm, reason = overall_override(rating_after(start, downgrades), caps, override)
    return rating, algorithm, downgrades, reason


def overall_override(uncapped: str, caps=(), override: tuple[str, str] | None = None) -> tuple[str, str, str]:
    """(rating, algorithm rating, override reason): ``uncapped`` bounded by every cap, then
    replaced by a reviewer's (rating, reason) when given."""
    algorithm = lowest(uncapped, *(c.rating for c in caps))
    if override is None:
        return algorithm, algorithm, ""
    if not (isinstance(override, (tuple, list)) and len(override) == 2):
        raise ValueError(f"a rating override must be a (rating, reason) pair, got {override!r}")
    rating = check_option(override[0], name="rating_overrides", allowed=RATINGS, caller="rate_network")
    return rating, algorithm, check_reason(override[1], name="rating_overrides", caller="rate_network")


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
    #: where the rating starts (GRADE: by design) and why
    start: StartLevel = RANDOMISED
    #: upper bounds applied after the domains (rule, reason, source)
    caps: tuple[Cap, ...] = ()
    #: the evidence layer rated ("randomised", "nonrandomised", "comparative")
    layer: str = "randomised"
    #: the rating framework ("cinema"; "grade_nma" for GRADE's approach to NMA)
    framework: str = "cinema"
    #: the framework's rating before caps and any reviewer override
    uncapped: str = ""
    #: how the framework reached ``uncapped`` when it is not "start minus downgrades" (GRADE NMA)
    steps: tuple[str, ...] = ()

    @property
    def start_level(self) -> str:
        return self.start.level

    @property
    def start_reason(self) -> str:
        return self.start.reason

    @property
    def footnotes(self) -> tuple[str, ...]:
        """One plain sentence per domain that rated down or was overridden, then caps and the
        reviewer's rating override (for footnotes under a summary of findings)."""
        out = [f"How the rating was reached (GRADE for NMA): {'; '.join(self.steps)}."] if self.steps else []
        out += [footnote(d) for d in self.domains if d.downgrade or d.overridden]
        top = RATINGS.index(self.uncapped) if self.uncapped else 0
        out += [f"Capped at {c.rating}: {c.reason}." for c in self.caps if RATINGS.index(c.rating) > top]
        if self.override_reason:
            out.append(f"Rating set to {self.rating} by the panel (rules gave {self.rating_algorithm}): "
                       f"{self.override_reason.rstrip('.')}.")
        return tuple(out)

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
        row |= {"start_level": self.start.level, "start_reason": self.start.reason, "layer": self.layer,
                "framework": self.framework, "caps": "; ".join(f"{c.rating}: {c.reason}" for c in self.caps),
                "downgrades": self.downgrades, "rating": self.rating, "rating_algorithm": self.rating_algorithm,
                "provisional": self.provisional, "not_assessed": ", ".join(self.not_assessed), "label": self.label,
                "overrides": "; ".join([f"{d.domain}: {d.override_reason}" for d in self.domains if d.overridden]
                                       + ([f"rating: {self.override_reason}"] if self.override_reason else []))}
        return row

    def summary(self) -> Summary:
        frame = pd.DataFrame([{"domain": d.domain, "judgement": d.judgement, "algorithm": d.algorithm,
                               "rule": d.rule, "note": d.note, "override_reason": d.override_reason,
                               "inputs": _short(d.inputs)} for d in self.domains]).set_index("domain")
        notes = (f"overall: {self.label} ({self.downgrades} level(s) down from {self.start.level}: {self.start.reason}"
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


def contribution_domain(domain: str, shares: pd.Series, levels: pd.Series | None, rule: str,
                         reasons: Mapping | None) -> DomainJudgement:
    if levels is None:
        return DomainJudgement(domain, NOT_ASSESSABLE, NOT_ASSESSABLE, rule, {"rule": rule},
                               note="no study-level judgements given")
    values = shares.to_numpy()
    keep = values > 0                          # shares[shares > 0], as arrays
    studies = shares.index[keep]
    names = studies.astype(str).tolist()
    pos = levels.index.get_indexer(names) if levels.index.is_unique else None
    if pos is None or (pos < 0).any():          # a study without a level: reindex's NaN and its error
        lv = levels.reindex(names).to_numpy(dtype=int)
    else:
        lv = levels.to_numpy()[pos].astype(int)
    why = {s: reasons[s] for s in names if reasons and reasons.get(s)} if reasons else None
    return contribution_judgement(domain, values[keep], lv, rule, studies=studies.tolist(), level_reasons=why)


# Intransitivity raises indirectness (CINeMA: "indirectness ... includes intransitivity", Nikolakopoulou
# 2020); level 3 -> major concerns, 2 -> some concerns.
_FLAG_JUDGEMENT = {2: "some concerns", 3: MAJOR}


def _with_intransitivity(dom: DomainJudgement, flags) -> DomainJudgement:
    """The indirectness judgement raised to the level of the comparison's intransitivity flags
    ``(level, (text, ...))``; the flags are kept in the inputs."""
    if not flags or not flags[1]:
        return dom
    level, texts = int(flags[0]), tuple(flags[1])
    inputs = dict(dom.inputs) | {"intransitivity_flags": list(texts), "intransitivity_level": level,
                                 "study_level_judgement": dom.algorithm}
    order = ("no concerns", "some concerns", MAJOR)
    base = dom.algorithm if dom.algorithm in order else "no concerns"
    judged = _FLAG_JUDGEMENT.get(level, base)
    out = max(base, judged, key=order.index)
    rule = f"{dom.rule} + intransitivity"
    note = "; ".join(texts)
    return DomainJudgement(dom.domain, out, out, rule, inputs, note=note)


def _single_study_heterogeneity(ev: ComparisonEvidence) -> DomainJudgement:
    return DomainJudgement("heterogeneity", NOT_APPLICABLE, NOT_APPLICABLE, "one study", {"k": 1},
                           note="one study: there is no between-study heterogeneity to judge (GRADE does not "
                                "rate down for inconsistency; the single study's limits show in imprecision)")


def critical_cap(rob_critical: pd.Series | None, shares: pd.Series) -> tuple[Cap, ...]:
    """GRADE 18: ROBINS-I "critical" rates down three levels; when studies at critical risk give
    at least half of the evidence the rating is at most Very low."""
    if rob_critical is None:
        return ()
    if not len(rob_critical) and (shares.to_numpy() > 0).any():
        return ()                               # no study at critical risk: 0% of positive shares
    shares = shares[shares > 0]
    crit = float(shares[shares.index.astype(str).isin(set(map(str, rob_critical)))].sum() / shares.sum())
    if crit < 0.5:
        return ()
    return (Cap("Very low", "critical risk of bias",
                f"{crit:.0%} of the evidence comes from studies at critical risk of bias (ROBINS-I), which rates "
                "down three levels", "Schünemann 2019 (GRADE 18), doi:10.1016/j.jclinepi.2018.01.012"),)


def rate_comparison(ev: ComparisonEvidence, *, shares: pd.Series, zone: MIDZone, rob: pd.Series | None,
                    indirectness: pd.Series | None = None, rob_rule: str = "majority",
                    indirectness_rule: str = "majority", reporting: str | None = None,
                    reporting_note: str = "", dbt_pvalue: float | None = None,
                    p_thresholds=DEFAULT_P_THRESHOLDS, indirectness_reasons: Mapping | None = None,
                    overrides: Mapping | None = None, rating_override=None, limits: str = "zone",
                    difference_p_gate: float | None = None, start: StartLevel = RANDOMISED,
                    intransitivity=None, caps=(), layer: str = "randomised", single_study: bool = False,
                    rob_critical=None) -> CertaintyRating:
    """Six domain judgements and the overall rating of one comparison (inputs trusted).

    ``shares``: the comparison's row of the study-level contribution matrix (study -> share);
    ``rob`` / ``indirectness``: study levels 1/2/3 indexed by study; ``overrides``: domain ->
    (judgement, reason); ``start``: the design's start level; ``intransitivity``: ``(level,
    flags)`` raising indirectness; ``caps``: upper bounds; ``single_study``: one study (its
    heterogeneity is "not applicable"); ``rob_critical``: studies at critical risk (ROBINS-I).
    """
    doms = {
        "within_study_bias": contribution_domain("within_study_bias", shares, rob, rob_rule, None),
        "reporting_bias": reporting_bias(reporting, reporting_note),
        "indirectness": _with_intransitivity(
            contribution_domain("indirectness", shares, indirectness, indirectness_rule, indirectness_reasons),
            intransitivity),
        "imprecision": imprecision(ev.ci_low, ev.ci_high, zone, effect=ev.effect, limits=limits),
        "heterogeneity": _single_study_heterogeneity(ev) if single_study else heterogeneity(
            ev.ci_low, ev.ci_high, ev.pi_low, ev.pi_high, zone, effect=ev.effect, limits=limits),
        "incoherence": incoherence(ev.evidence, zone, direct_ci=(ev.direct_ci_low, ev.direct_ci_high),
                                   indirect_ci=(ev.indirect_ci_low, ev.indirect_ci_high),
                                   dbt_pvalue=dbt_pvalue, p_thresholds=p_thresholds,
                                   difference_pvalue=ev.difference_pvalue, difference_p_gate=difference_p_gate),
    }
    for name, (judgement, reason) in dict(overrides or {}).items():
        doms[name] = doms[name].override(judgement, reason, caller="rate_network")
    domains = tuple(doms[d] for d in DOMAINS)
    caps = tuple(caps) + critical_cap(rob_critical, shares)
    rating, algorithm, downgrades, reason = overall_rating(domains, rating_override, start=start.level, caps=caps)
    missing = tuple(d.domain for d in domains if d.judgement == NOT_ASSESSABLE
                    or (d.inputs.get("study_level_judgement") == NOT_ASSESSABLE and d.judgement != MAJOR))
    return CertaintyRating(ev.comparison, ev.treatment1, ev.treatment2, ev.evidence, float(ev.effect),
                           float(ev.ci_low), float(ev.ci_high), domains, rating, algorithm, downgrades,
                           reason, ev, provisional=bool(missing), not_assessed=missing, start=start,
                           caps=caps, layer=layer, uncapped=rating_after(start.level, downgrades))


def with_cap(rating: CertaintyRating, cap: Cap) -> CertaintyRating:
    """``rating`` with one more cap applied (the reviewer's override, if any, still wins)."""
    caps = rating.caps + (cap,)
    uncapped = rating.uncapped or rating_after(rating.start.level, rating.downgrades)
    algorithm = lowest(uncapped, *(c.rating for c in caps))
    new = rating.rating if rating.override_reason else algorithm
    return replace(rating, rating=new, rating_algorithm=algorithm, caps=caps, uncapped=uncapped)


# --------------------------------------------------------------------------- footnotes
_LEVEL_WORDS = {1: "one level", 2: "two levels"}


def _pct(x) -> str:
    return f"{100 * float(x):.0f}%"


def _limits(n: int) -> str:
    return {0: "neither limit", 1: "one limit", 2: "both limits"}.get(int(n), f"{n} limits")


def _first_reasons(level_reasons: dict, limit: int) -> list[str]:
    """The first ``limit`` distinct reasons (text before " (level") in the studies' "; "-joined
    reasons, in order: all that a footnote shows (three, and whether there are more)."""
    out: dict[str, None] = {}
    for v in level_reasons.values():
        for r in str(v).split("; "):
            if r:
                out.setdefault(r.split(" (level")[0])
        if len(out) >= limit:
            break
    return list(out)[:limit]


def _inputs_text(d: DomainJudgement) -> str:
    """The numbers behind one domain judgement, in words."""
    i = d.inputs
    if d.domain in ("within_study_bias", "indirectness", "risk_of_bias") and "share_high" in i:
        parts = [f"{_pct(i[k])} {w}" for k, w in (("share_high", "high"), ("share_some", "some concerns"),
                                                  ("share_low", "low")) if i.get(k)]
        text = f"evidence from studies at {', '.join(parts)} ({i.get('rule')} rule)"
        reasons = _first_reasons(i.get("level_reasons") or {}, 4)
        if reasons:
            text += "; " + "; ".join(reasons[:3]) + ("; ..." if len(reasons) > 3 else "")
        if i.get("intransitivity_flags"):
            text += "; intransitivity: " + "; ".join(i["intransitivity_flags"])
        return text
    if d.domain == "indirectness" and i.get("intransitivity_flags"):
        return "intransitivity: " + "; ".join(i["intransitivity_flags"])
    if d.domain == "imprecision" and "includes_null" in i:
        return ("the confidence interval spans both an important benefit and an important harm" if i["spans_zone"]
                else "the confidence interval includes the null effect" if i["includes_null"] else "")
    if d.domain == "imprecision" and "ci_crossings" in i:
        return f"the confidence interval crosses {_limits(i['ci_crossings'])} of the zone of equivalence"
    if d.domain == "heterogeneity" and "pi_crossings" in i:
        return (f"the prediction interval crosses {_limits(i['pi_crossings'])} of the zone of equivalence, the "
                f"confidence interval {_limits(i['ci_crossings'])}")
    if d.domain == "incoherence":
        if "shared_areas" in i:
            return f"direct and indirect confidence intervals share {i['shared_areas']} of 3 areas"
        if i.get("dbt_pvalue") is not None:
            return f"design-by-treatment test p = {i['dbt_pvalue']:.3g}"
    if d.domain == "reporting_bias":
        return f"reporting bias {i.get('reporting_bias')}"
    return d.note


def footnote(d: DomainJudgement) -> str:
    """A sentence explaining one domain judgement: "Imprecision: major concerns (the confidence
    interval crosses 2 limit(s) ...); rated down two levels." Overrides name their reason."""
    label = DOMAIN_LABELS.get(d.domain, d.domain.replace("_", " "))
    scope = d.inputs.get("estimate")
    text = f"{label[:1].upper()}{label[1:]}" + (f" ({scope} estimate)" if scope in ("direct", "indirect") else
                                                 f" (direct evidence of {scope})" if scope else "") + f": {d.judgement}"
    why = _inputs_text(d)
    if why:
        text += f" ({why})"
    if d.overridden:
        text += f"; set by the panel (rules gave {d.algorithm}): {d.override_reason}"
    if d.downgrade:
        text += f"; rated down {_LEVEL_WORDS.get(d.downgrade, f'{d.downgrade} levels')}"
    return text + "."
