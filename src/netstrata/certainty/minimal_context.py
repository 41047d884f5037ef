"""Conclusions from a network by the minimally contextualised framework (GRADE, Brignardello-Petersen 2020).

Every intervention is placed against the reference (placebo / sham) and against the others,
separately for the high-or-moderate and the low-or-very-low certainty evidence (BMJ 2020;371:m3900,
steps 1 to 5):

* **inferior to the reference**: the CI of the intervention versus the reference lies entirely
  on the harmful side of the null;
* **no different from the reference** (the framework's "among the least effective"): the CI
  includes the null;
* **superior** to the reference: level 1. An intervention superior to at least one level-k
  intervention of the same certainty group (the CI of their network comparison excludes the null)
  is level k + 1. The highest occupied level is "among the most effective", the levels between
  "among the intermediate effective".

Statements follow the certainty of the comparison with the reference: high certainty states it,
moderate adds "probably", low "may be", very low "the evidence is very uncertain whether".
The threshold is the null effect (the framework's "minimal" context); the partially
contextualised framework (m3907, MID thresholds) is what netstrata's summary of findings uses.

Reference
---------
Brignardello-Petersen R, Florez ID, Izcovich A, et al. GRADE approach to drawing conclusions from
a network meta-analysis using a minimally contextualised framework. BMJ 2020;371:m3900.
doi:10.1136/bmj.m3900
"""
from __future__ import annotations

from types import MappingProxyType

import pandas as pd

from .._validate import check_option
from ..errors import ParameterError

__all__ = ["minimally_contextualised", "GROUPS", "CATEGORY_LABELS", "HEDGES"]

GROUPS = MappingProxyType({"High": "high or moderate", "Moderate": "high or moderate", "Low": "low or very low",
                           "Very low": "low or very low"})
CATEGORY_LABELS = ("among the most effective", "among the intermediate effective",
                   "no different from the reference", "inferior to the reference")
HEDGES = MappingProxyType({"High": "{x} is {c}", "Moderate": "{x} is probably {c}", "Low": "{x} may be {c}",
                           "Very low": "the evidence is very uncertain whether {x} is {c}"})


def _oriented(table, a: str, b: str):
    """(effect, ci_low, ci_high, rating) of a versus b from the table, or None."""
    for r in table.ratings:
        if (r.treatment1, r.treatment2) == (a, b):
            return r.effect, r.ci_low, r.ci_high, r
        if (r.treatment1, r.treatment2) == (b, a):
            return -r.effect, -r.ci_high, -r.ci_low, r
    return None


def _better(table, a: str, b: str, sign: float) -> bool:
    """a is better than b: the CI of a versus b excludes the null on the beneficial side."""
    hit = _oriented(table, a, b)
    return hit is not None and min(sign * hit[1], sign * hit[2]) > 0


def _levels(table, members: list[str], sign: float) -> dict[str, int]:
    """Level of each superior intervention: 1, or one more than the best level it beats."""
    level = {x: 1 for x in members}
    for _ in range(len(members)):
        changed = False
        for x in members:
            best = max((level[y] for y in members if y != x and _better(table, x, y, sign)), default=0)
            if best + 1 > level[x]:
                level[x], changed = best + 1, True
        if not changed:
            break
    return level


def minimally_contextualised(table, *, reference: str, small_values: str = "desirable",
                             labels=None) -> pd.DataFrame:
    """Categories of every intervention versus ``reference`` (see the module notes).

    Parameters
    ----------
    table : CertaintyTable
        Ratings of every comparison of one network (either framework).
    reference : str
        The reference node (e.g. the sham procedure).
    small_values : {"desirable", "undesirable"}
        Whether small values of the analysis-scale effect are good (pain) or bad (success).
    labels : mapping node -> text, optional

    Returns
    -------
    DataFrame
        ``intervention, effect, ci_low, ci_high, certainty, group, level, category, statement``
        (effects on the analysis scale, intervention versus reference).
    """
    small_values = check_option(small_values, name="small_values", allowed=("desirable", "undesirable"),
                                caller="minimally_contextualised")
    sign = -1.0 if small_values == "desirable" else 1.0
    treatments = sorted({t for r in table.ratings for t in (r.treatment1, r.treatment2)})
    if reference not in treatments:
        raise ParameterError(f"The 'reference' parameter of minimally_contextualised must be one of {treatments}. "
                             f"Got {reference!r} instead.")
    labels = dict(labels or {})
    rows = []
    for x in treatments:
        hit = None if x == reference else _oriented(table, x, reference)
        if hit is not None:
            e, lo, hi, r = hit
            rows.append({"intervention": x, "effect": e, "ci_low": lo, "ci_high": hi, "certainty": r.rating,
                         "group": GROUPS[r.rating], "superior": min(sign * lo, sign * hi) > 0,
                         "inferior": max(sign * lo, sign * hi) < 0})
    out = pd.DataFrame(rows, columns=["intervention", "effect", "ci_low", "ci_high", "certainty", "group",
                                      "superior", "inferior"])
    out["level"], out["top"] = 0, False
    for group in out["group"].unique():
        members = list(out.loc[(out["group"] == group) & out["superior"], "intervention"])
        levels = _levels(table, members, sign)
        top = max(levels.values(), default=0)
        for x, lv in levels.items():
            out.loc[out["intervention"] == x, "level"] = lv
            out.loc[out["intervention"] == x, "top"] = lv == top
    out["category"] = [_category(inf, lv, top) for inf, lv, top in zip(out["inferior"], out["level"], out["top"])]
    out["statement"] = [_sentence(HEDGES[c].format(x=labels.get(x, x), c=cat))
                        for x, c, cat in zip(out["intervention"], out["certainty"], out["category"])]
    return out.drop(columns=["superior", "inferior", "top"]).reset_index(drop=True)


def _category(inferior: bool, level: int, top: bool) -> str:
    if inferior:
        return CATEGORY_LABELS[3]
    if level == 0:
        return CATEGORY_LABELS[2]
    return CATEGORY_LABELS[0] if top else CATEGORY_LABELS[1]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
