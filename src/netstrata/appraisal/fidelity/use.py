"""Using fidelity in analyses: a stratifier column, a covariate, an inclusion rule.

- :func:`with_fidelity`: the arms table with ``fidelity_tier`` and ``fidelity_score`` columns
  (stratify by tier; use the score as a meta-regression covariate);
- :func:`fidelity_subset`: the arms / studies kept by an inclusion rule (``"T1_only"``,
  ``"exclude_T3"``, ...) and the exclusion-register rows of those left out, for the
  "conforming-only" and "exclude non-conforming" sensitivity analyses (domain brief F3.3).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from ..._validate import check_option
from ...data.register import REASONS, Exclusion, ExclusionRegister
from ...errors import ParameterError
from .appraise import plan_inclusion
from .rules import INCLUSION_RULES, NOT_APPLICABLE, TIERS, InclusionRule

__all__ = ["InclusionRule", "INCLUSION_RULES", "FIDELITY_REASON", "FidelitySelection", "fidelity_subset",
           "with_fidelity"]

#: Exclusion-register reason code for rows left out by a fidelity inclusion rule.
FIDELITY_REASON = "fidelity_rule"
FIDELITY_REASON_LABEL = "Excluded by a technical-fidelity inclusion rule"


@dataclass(frozen=True, slots=True, eq=False)
class FidelitySelection:
    """Arms kept by a fidelity inclusion rule and the register rows of those left out."""

    rule: str
    allowed: tuple[str, ...]
    level: str
    arms: pd.DataFrame
    studies: tuple[str, ...]
    exclusions: tuple[Exclusion, ...]

    def register(self, base: ExclusionRegister | None = None) -> ExclusionRegister:
        """``base`` (e.g. ``review.register``) plus these exclusions, with the fidelity reason declared."""
        base = base or ExclusionRegister()
        reasons = dict(base.reasons) if base.reasons else {c: r.label for c, r in REASONS.items()}
        reasons.setdefault(FIDELITY_REASON, FIDELITY_REASON_LABEL)
        return ExclusionRegister(base.rows + self.exclusions, MappingProxyType(reasons))

    def __repr__(self) -> str:
        return (f"FidelitySelection(rule={self.rule!r}, level={self.level!r}, arms={len(self.arms)}, "
                f"studies={len(self.studies)}, excluded_rows={len(self.exclusions)})")


def _arms_of(arms) -> pd.DataFrame:
    return arms if isinstance(arms, pd.DataFrame) else arms.arms


def with_fidelity(arms, fidelity) -> pd.DataFrame:
    """The arms table plus ``fidelity_tier`` (T1/T2/TU/T3, NA for arms without a checklist) and
    ``fidelity_score`` (share of scored criteria met) columns, for stratification or meta-regression."""
    frame = _arms_of(arms)
    appraised = fidelity.arms
    keys = list(zip(appraised["study"], appraised["arm"]))       # (study, arm) is unique there
    tier, score = dict(zip(keys, appraised["tier"])), dict(zip(keys, appraised["score"]))
    key = list(zip(frame["study"], frame["arm"]))
    out = frame.copy()
    out["fidelity_tier"] = [tier.get(k, NOT_APPLICABLE) for k in key]
    out["fidelity_score"] = [float(score.get(k, math.nan)) for k in key]
    return out


def _allowed(rule) -> tuple[str, tuple[str, ...]]:
    if isinstance(rule, str):
        code = check_option(rule, name="rule", allowed=tuple(INCLUSION_RULES), caller="fidelity_subset")
        return code, INCLUSION_RULES[code].allowed
    tiers = tuple(rule)
    bad = [t for t in tiers if t not in TIERS]
    if bad or not tiers:
        raise ParameterError(f"The 'rule' parameter of fidelity_subset must be a rule name {list(INCLUSION_RULES)} "
                             f"or a non-empty collection of tiers {list(TIERS)}. Got {rule!r} instead.")
    return "tiers " + "+".join(tiers), tiers


def fidelity_subset(arms, fidelity, rule=None, *, level: str = "arm",
                    keep_unappraised: bool = True) -> FidelitySelection:
    """Arms (or whole studies) allowed by a fidelity inclusion rule, and register rows for the rest.

    Parameters
    ----------
    arms : Review or DataFrame
        Arms table with ``study, arm`` (and ``family``: arms without one are controls, always kept
        with their study).
    fidelity : FidelityResult
        From :func:`netstrata.appraisal.fidelity.appraise_fidelity`.
    rule : {"all", "T1_only", "exclude_T3", "exclude_T3_TU"} or collection of tiers, optional
        Tiers an active arm must have to be kept; default: the plan's ``[appraisal.fidelity]
        inclusion`` when ``arms`` is a review that sets one, else ``"exclude_T3"``.
    level : {"arm", "study"}, default="arm"
        ``"arm"``: leave out failing active arms; a study left without an active arm is left out
        whole. ``"study"``: leave out every study with a failing active arm.
    keep_unappraised : bool, default=True
        Keep active arms without a checklist (tier ``NA``).
    """
    if rule is None:
        rule = plan_inclusion(getattr(arms, "plan", None)) or "exclude_T3"
    code, allowed = _allowed(rule)
    level = check_option(level, name="level", allowed=("arm", "study"), caller="fidelity_subset")
    frame = with_fidelity(arms, fidelity)
    info = fidelity.arms.set_index(["study", "arm"])
    active = frame["family"].notna() if "family" in frame else frame["fidelity_tier"] != NOT_APPLICABLE
    ok = frame["fidelity_tier"].isin(allowed) | (frame["fidelity_tier"].eq(NOT_APPLICABLE) & keep_unappraised)
    failing = active & ~ok
    bad_studies = set(frame.loc[failing, "study"])
    if level == "arm":
        left = frame[~failing]
        alive = set(left.loc[active[~failing], "study"])
        drop = failing | ~frame["study"].isin(alive)
    else:
        drop = frame["study"].isin(bad_studies)
    rows = [_exclusion(r, info, code, allowed, level, bool(f))
            for r, f in zip(frame[drop].itertuples(index=False), failing[drop])]
    kept = frame[~drop]
    return FidelitySelection(rule=code, allowed=tuple(allowed), level=level, arms=kept,
                             studies=tuple(dict.fromkeys(kept["study"])), exclusions=tuple(rows))


def _exclusion(r, info, code, allowed, level, failed: bool) -> Exclusion:
    tier = r.fidelity_tier
    if failed:
        why = info["critical_failed"].get((r.study, r.arm), "") if (r.study, r.arm) in info.index else ""
        label = TIERS[tier].label if tier in TIERS else "no checklist"
        msg = (f"arm tier {tier} ({label}{'; critical failed: ' + why if why else ''}) is not allowed by "
               f"rule '{code}' (allowed: {', '.join(allowed)})")
    elif level == "study":
        msg = f"another active arm of the study is not allowed by rule '{code}'; rule applied per study"
    else:
        msg = f"no active arm of the study is left under rule '{code}'"
    return Exclusion(study=r.study, reason_code=FIDELITY_REASON, message=msg, stage="analysis", arm=r.arm)
