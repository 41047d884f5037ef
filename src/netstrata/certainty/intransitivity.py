"""Intransitivity as a reason to rate down indirectness (CINeMA; GRADE for NMA).

CINeMA judges intransitivity within its indirectness domain: the comparison's evidence should
come from studies similar in the effect modifiers that matter (Nikolakopoulou 2020; Salanti 2014).
netstrata makes two flags computable, each with the level it sets the comparison's indirectness
to (never lower than the study-level judgement):

``strata``
    The studies that contribute to the estimate (positive share of the contribution matrix) come
    from more than one clinical stratum (the plan's stratification variables: region, diagnosis,
    ...): the estimate answers a question about a mixture of populations the plan keeps apart.
    Level 3 (major concerns), whatever the evidence type.
``modifier``
    Among the direct comparisons that inform an indirect or mixed estimate, a declared effect
    modifier is imbalanced beyond the plan's threshold (Cramér's V for categorical modifiers,
    largest |SMD| for continuous ones; ``[certainty.transitivity]``). Indirect-only estimates rest
    entirely on the transitivity assumption: level 3 (major concerns). Mixed estimates also have
    direct evidence: level 2 (some concerns). Direct-only estimates are not flagged (their
    studies' differences are heterogeneity, judged elsewhere).

References
----------
Nikolakopoulou A, Higgins JPT, Papakonstantinou T, et al. CINeMA: an approach for assessing
confidence in the results of a network meta-analysis. PLoS Med 2020;17:e1003082.
doi:10.1371/journal.pmed.1003082
Salanti G, Del Giovane C, Chaimani A, Caldwell DM, Higgins JPT. Evaluating the quality of
evidence from a network meta-analysis. PLoS One 2014;9:e99682. doi:10.1371/journal.pone.0099682
Brignardello-Petersen R, Bonner A, Alexander PE, et al. Advances in the GRADE approach to rate
the certainty in estimates from a network meta-analysis. J Clin Epidemiol 2018;93:36-44.
doi:10.1016/j.jclinepi.2017.10.005
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

__all__ = ["Flag", "FLAG_LEVELS", "strata_flag", "strata_flag_arrays", "modifier_flag", "combine_flags"]

#: (kind, evidence) -> level the flag sets indirectness to; evidence "*" = any
FLAG_LEVELS = MappingProxyType({("strata", "*"): 3, ("modifier", "indirect"): 3, ("modifier", "mixed"): 2})


@dataclass(frozen=True, slots=True)
class Flag:
    """One intransitivity flag of one comparison: what triggered it and the level it sets."""

    kind: str
    level: int
    text: str


def _level(kind: str, evidence: str) -> int | None:
    return FLAG_LEVELS.get((kind, "*"), FLAG_LEVELS.get((kind, evidence)))


def strata_flag(shares: pd.Series, stratum_of: Mapping[str, str], evidence: str = "mixed") -> Flag | None:
    """Flag an estimate whose contributing studies come from more than one clinical stratum.

    ``shares``: study -> contribution share of one comparison; ``stratum_of``: study -> stratum
    label (a study without one counts as its own unknown stratum, "not recorded").
    """
    shares = shares[shares > 0]
    return strata_flag_arrays(shares.index.tolist(), shares.to_numpy().tolist(), stratum_of, evidence)


def strata_flag_arrays(studies: Sequence, shares: Sequence[float], stratum_of: Mapping[str, str],
                       evidence: str = "mixed") -> Flag | None:
    """:func:`strata_flag` of the contributing studies and their (positive) shares, given as two
    sequences in the same order (no Series per comparison)."""
    level = _level("strata", evidence)
    if level is None or not len(studies):
        return None
    by: dict[str, float] = {}
    for study, w in zip(studies, shares):
        label = stratum_of.get(str(study)) or "not recorded"
        by[label] = by.get(label, 0.0) + float(w)
    if len(by) < 2:
        return None
    total = sum(by.values())
    parts = ", ".join(f"{k} ({v / total:.0%})" for k, v in sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))
    return Flag("strata", level,
                f"the evidence mixes clinical strata: {parts}")


def modifier_flag(evidence: str, modifier: str, measure: str, value: float, threshold: float,
                  detail: str = "") -> Flag | None:
    """Flag an indirect or mixed estimate whose informing comparisons differ in ``modifier``
    beyond ``threshold`` (``measure`` "cramers_v" or "max_abs_smd"); None when not flagged."""
    level = _level("modifier", evidence)
    if level is None or not value > threshold:
        return None
    name = {"cramers_v": "Cramér's V", "max_abs_smd": "largest |SMD|"}.get(measure, measure)
    text = (f"{modifier} differs between the comparisons that inform this {evidence} estimate "
            f"({name} {value:.2f} > {threshold:g})")
    return Flag("modifier", level, text + (f": {detail}" if detail else ""))


def combine_flags(flags: Iterable[Flag | None]) -> tuple[int, tuple[str, ...]] | None:
    """(highest level, texts) of a comparison's flags, or None when there are none."""
    present = [f for f in flags if f is not None]
    if not present:
        return None
    return max(f.level for f in present), tuple(f.text for f in present)
