"""Fidelity kernels: does a reported value meet an item's standard, and the tier of one arm.

Tier rules (domain brief C, "fidelity tier"); which items are critical is a panel decision
(:class:`TierRules`, overridable in the plan and recorded in every result):

- ``T3`` non-conforming: at least one critical item is reported and fails its standard;
- ``T1`` conforming: every critical item is reported and meets its standard (optionally also
  requiring that no reported non-critical item fails: ``noncritical_fail_demotes``);
- ``T2`` partly conforming: no critical failure, some critical items not reported or unclear, but
  the share of critical items reported and met is at least ``min_reported_share``;
- ``TU`` insufficient reporting: no critical failure and that share is below ``min_reported_share``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

# Status of an item in fidelity.csv ("not reported" is not "not done"); declared with the table.
from ...data.spec import ITEM_STATUSES

__all__ = ["Tier", "TIERS", "TIER_ORDER", "ITEM_STATUSES", "JUDGEMENTS", "TierRules", "judge_item",
           "tier_of", "worst_tier", "NOT_APPLICABLE", "InclusionRule", "INCLUSION_RULES"]


@dataclass(frozen=True, slots=True)
class Tier:
    code: str
    label: str
    rank: int          # higher = worse; the arm's tier over several checklists is the worst


TIERS: dict[str, Tier] = {t.code: t for t in (
    Tier("T1", "standard-conforming", 0),
    Tier("T2", "partially conforming", 1),
    Tier("TU", "insufficient reporting", 2),
    Tier("T3", "non-conforming", 3),
)}
TIER_ORDER = tuple(TIERS)
#: Tier of arms without a checklist (control arms, families with no checklist).
NOT_APPLICABLE = "NA"
#: Judgement of one item of one arm.
JUDGEMENTS = ("met", "not_met", "not_reported", "unclear", "not_scored")


@dataclass(frozen=True, slots=True)
class TierRules:
    """The panel's tier rules: critical items per checklist and the two thresholds.

    Parameters
    ----------
    critical : mapping of checklist id -> tuple of item fields
        Critical items (default: the pack's ``critical = true`` items).
    min_reported_share : float, default=0.5
        Share of critical items reported and met that separates T2 from TU.
    noncritical_fail_demotes : bool, default=False
        If True, a T1 arm with a reported non-critical item failing its standard becomes T2.
    source : str
        Where the rules come from ("pack default", "plan [appraisal.fidelity]", "argument").
    """

    critical: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    min_reported_share: float = 0.5
    noncritical_fail_demotes: bool = False
    source: str = "pack default"

    def as_dict(self) -> dict:
        return {"critical": {k: list(v) for k, v in self.critical.items()},
                "min_reported_share": self.min_reported_share,
                "noncritical_fail_demotes": self.noncritical_fail_demotes, "source": self.source}

    @staticmethod
    def default(checklists) -> "TierRules":
        return TierRules(MappingProxyType({c.id: c.default_critical for c in checklists}))


def _number(value: str) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def judge_item(item, status: str, value: str | None) -> str:
    """Judgement of one item: met / not_met / not_reported / unclear / not_scored.

    ``status`` comes first: a value only counts when it is ``reported``. Numbers are judged
    against ``min``/``max`` (inclusive unless the bound is exclusive), a choice against the
    conforming codes, a set by whether every required code is present.
    """
    if not item.scored:
        return "not_scored"
    if status != "reported":
        return status if status in ("not_reported", "unclear") else "not_reported"
    v = "" if value is None else str(value).strip()
    if item.kind == "number":
        x = _number(v)
        if x is None:
            return "unclear"
        ok_lo = item.min is None or (x > item.min if item.min_exclusive else x >= item.min)
        ok_hi = item.max is None or (x < item.max if item.max_exclusive else x <= item.max)
        return "met" if ok_lo and ok_hi else "not_met"
    if item.kind == "set":
        present = {p.strip() for p in v.split("|") if p.strip()}
        return "met" if set(item.requires) <= present else "not_met"
    return "met" if v in item.conforming else "not_met"


def tier_of(critical_judgements, noncritical_judgements, rules: TierRules) -> str:
    """Tier from the judgements of the critical and of the other scored items (see module doc)."""
    crit = list(critical_judgements)
    if any(j == "not_met" for j in crit):
        return "T3"
    share = sum(j == "met" for j in crit) / len(crit) if crit else 1.0
    if share == 1.0:
        demote = rules.noncritical_fail_demotes and any(j == "not_met" for j in noncritical_judgements)
        return "T2" if demote else "T1"
    return "T2" if share >= rules.min_reported_share else "TU"


def worst_tier(tiers) -> str:
    """The worst of several tiers (T3 > TU > T2 > T1); NA when there is none."""
    tiers = [t for t in tiers if t in TIERS]
    return max(tiers, key=lambda t: TIERS[t].rank) if tiers else NOT_APPLICABLE


# ------------------------------------------------------------------------------------ inclusion rules
@dataclass(frozen=True, slots=True)
class InclusionRule:
    """A named set of tiers an analysis keeps (the plan's ``[appraisal.fidelity] inclusion``)."""

    code: str
    label: str
    allowed: tuple[str, ...]


INCLUSION_RULES: dict[str, InclusionRule] = {r.code: r for r in (
    InclusionRule("all", "every arm, whatever its tier", ("T1", "T2", "TU", "T3")),
    InclusionRule("T1_only", "standard-conforming arms only", ("T1",)),
    InclusionRule("exclude_T3", "exclude non-conforming arms", ("T1", "T2", "TU")),
    InclusionRule("exclude_T3_TU", "exclude non-conforming and insufficiently reported arms", ("T1", "T2")),
)}
