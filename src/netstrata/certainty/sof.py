"""Summary-of-findings rows per stratum: effect versus the reference, absolute effect, effect in
MID units, certainty and GRADE's plain-language statement.

Absolute effects (GRADE; Guyatt 2013 J Clin Epidemiol 66:158): with control risk ``p0`` the
intervention risk is ``RR·p0`` (RR), ``OR·p0 / (1 − p0 + OR·p0)`` (OR) or ``p0 + RD`` (RD); the
difference per 1000 and its CI follow from the CI of the relative effect (the maps are monotone).

Effect size categories follow the partially contextualised framework (Brignardello-Petersen
2020): the point estimate is classed trivial / small / moderate / large by thresholds, here in
MID units (``|effect| / MID`` on the analysis scale; ``|log ratio| / |log MID|`` for ratio
measures) or, with a baseline risk, optionally in events per 1000. Statements are GRADE's
informative statements (Santesso 2020), kept as a table.

References
----------
Santesso N, Glenton C, Dahm P, et al. GRADE guidelines 26: informative statements to communicate
the findings of systematic reviews of interventions. J Clin Epidemiol 2020;119:126-135.
doi:10.1016/j.jclinepi.2019.10.014
Brignardello-Petersen R, Izcovich A, Rochwerg B, et al. GRADE approach to drawing conclusions
from a network meta-analysis using a partially contextualised framework. BMJ 2020;371:m3907.
doi:10.1136/bmj.m3907
Guyatt GH, Oxman AD, Santesso N, et al. GRADE guidelines 12: preparing summary of findings
tables — binary outcomes. J Clin Epidemiol 2013;66:158-172. doi:10.1016/j.jclinepi.2012.01.012
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from .._summary import Summary
from ..errors import ParameterError
from .judgement import not_assessed_text
from .network import CertaintyTable

__all__ = ["SofTable", "summary_of_findings", "WORDING", "CATEGORIES", "DEFAULT_THRESHOLDS",
           "ABSOLUTE_RISK", "absolute_effect", "effect_category", "statement"]

CATEGORIES = ("trivial", "small", "moderate", "large")
DEFAULT_THRESHOLDS = (1.0, 2.0, 3.0)   # small, moderate, large in MID units (netstrata default; set per outcome)

# (certainty, category) -> statement; {x} intervention, {y} outcome, {noun} reduction/increase,
# {verbs} reduces/increases, {verb} reduce/increase (Santesso 2020, Table 3; "probably" for moderate).
_TRIVIAL = "results in little to no difference in {y}"
WORDING = MappingProxyType({
    ("High", "large"): "{x} results in a large {noun} in {y}",
    ("High", "moderate"): "{x} {verbs} {y}",
    ("High", "small"): "{x} {verbs} {y} slightly",
    ("High", "trivial"): "{x} " + _TRIVIAL,
    ("Moderate", "large"): "{x} probably results in a large {noun} in {y}",
    ("Moderate", "moderate"): "{x} probably {verbs} {y}",
    ("Moderate", "small"): "{x} probably {verbs} {y} slightly",
    ("Moderate", "trivial"): "{x} probably " + _TRIVIAL,
    ("Low", "large"): "{x} may result in a large {noun} in {y}",
    ("Low", "moderate"): "{x} may {verb} {y}",
    ("Low", "small"): "{x} may {verb} {y} slightly",
    ("Low", "trivial"): "{x} may result in little to no difference in {y}",
    **{("Very low", c): "The evidence is very uncertain about the effect of {x} on {y}" for c in CATEGORIES},
})
_DIRECTION = {True: {"noun": "reduction", "verbs": "reduces", "verb": "reduce"},
              False: {"noun": "increase", "verbs": "increases", "verb": "increase"}}


def _rr(rel, p0):
    return rel * p0


def _or(rel, p0):
    return rel * p0 / (1 - p0 + rel * p0)


def _rd(rel, p0):
    return p0 + rel


# measure -> intervention risk from the relative effect on the natural scale and control risk
ABSOLUTE_RISK = MappingProxyType({"RR": _rr, "OR": _or, "PETO": _or, "RD": _rd})


def absolute_effect(measure: str, effect, p0: float) -> np.ndarray:
    """Risk difference (intervention − control) per 1000 for natural-scale ``effect`` values."""
    return 1000 * (ABSOLUTE_RISK[measure](np.asarray(effect, float), p0) - p0)


def effect_category(size: float, thresholds=DEFAULT_THRESHOLDS) -> str:
    """Category of ``|size|`` given (small, moderate, large) thresholds (lower bounds, inclusive)."""
    return CATEGORIES[int(np.searchsorted(np.asarray(thresholds, float), abs(size), side="right"))]


def statement(certainty: str, category: str, effect: float, intervention: str, outcome: str) -> str:
    """GRADE plain-language statement; ``effect`` < 0 on the analysis scale reads as a reduction."""
    words = _DIRECTION[bool(effect < 0)]
    return WORDING[(certainty, category)].format(x=intervention, y=outcome, **words) + "."


@dataclass(frozen=True, slots=True)
class SofTable:
    """Summary-of-findings rows (one per intervention versus the reference) of one stratum."""

    stratum: str
    outcome: str
    reference: str
    measure: str
    frame: pd.DataFrame
    thresholds: tuple[float, float, float]
    threshold_scale: str

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> Summary:
        cols = [c for c in ("intervention", "effect", "ci_low", "ci_high", "per_1000", "per_1000_ci_low",
                            "per_1000_ci_high", "mid_units", "category", "certainty", "provisional", "statement")
                if c in self.frame.columns]
        frame = self.frame.copy()
        if "not_assessed" in frame.columns:     # the certainty stays a plain level; its qualifier sits beside it
            frame["provisional"] = [not_assessed_text(t.split(", ")) if t else "" for t in frame["not_assessed"]]
        notes = (f"{self.measure} versus {self.reference}; effect-size thresholds (small, moderate, large) = "
                 f"{self.thresholds} {self.threshold_scale}",
                 "statements: GRADE informative statements (Santesso 2020, doi:10.1016/j.jclinepi.2019.10.014)")
        title = f"Summary of findings: {self.outcome}" + (f" ({self.stratum})" if self.stratum else "")
        return Summary(title, frame[cols].set_index("intervention"), notes)

    def __repr__(self) -> str:
        return f"SofTable(stratum={self.stratum!r}, outcome={self.outcome!r}, reference={self.reference!r}, rows={len(self.frame)})"


def _oriented(table: CertaintyTable, x: str, ref: str):
    for r in table.ratings:
        if (r.treatment1, r.treatment2) == (x, ref):
            return r, r.effect, r.ci_low, r.ci_high
        if (r.treatment1, r.treatment2) == (ref, x):
            return r, -r.effect, -r.ci_high, -r.ci_low
    return None


def _check_thresholds(thresholds, name: str) -> tuple[float, float, float]:
    t = tuple(float(v) for v in thresholds)
    if len(t) != 3 or not (0 < t[0] <= t[1] <= t[2]) or not all(map(math.isfinite, t)):
        raise ParameterError(f"The '{name}' parameter of summary_of_findings must be three increasing positive "
                             f"numbers (small, moderate, large). Got {thresholds!r} instead.")
    return t


def summary_of_findings(table: CertaintyTable, *, reference: str, outcome: str, stratum: str = "",
                        baseline_risk: float | None = None, thresholds=DEFAULT_THRESHOLDS,
                        absolute_thresholds=None, labels: dict | None = None) -> SofTable:
    """Summary-of-findings rows: every treatment versus ``reference``.

    Parameters
    ----------
    table : CertaintyTable
        From :func:`~netstrata.certainty.rate_network`.
    reference : str
        Comparator of every row (e.g. the sham node).
    outcome : str
        Outcome as it should read in a sentence ("pain at 6 months").
    baseline_risk : float in (0, 1), optional
        Control-group risk for OR / RR / RD: adds events per 1000 with CI.
    thresholds : (small, moderate, large), default=(1, 2, 3)
        Effect-size category thresholds in MID units.
    absolute_thresholds : (small, moderate, large), optional
        Thresholds in events per 1000 (needs ``baseline_risk``); used instead of ``thresholds``.
    labels : mapping node -> text, optional
        How treatments read in statements.
    """
    measure, zone, labels = table.zone.measure, table.zone, dict(labels or {})
    thresholds = _check_thresholds(thresholds, "thresholds")
    if baseline_risk is not None:
        if measure not in ABSOLUTE_RISK:
            raise ParameterError(f"The 'baseline_risk' parameter of summary_of_findings applies to measures "
                                 f"{sorted(ABSOLUTE_RISK)}; the table's measure is {measure!r}.")
        if not 0 < float(baseline_risk) < 1:
            raise ParameterError(f"The 'baseline_risk' parameter of summary_of_findings must be in (0, 1). "
                                 f"Got {baseline_risk!r} instead.")
    if absolute_thresholds is not None:
        if baseline_risk is None:
            raise ParameterError("The 'absolute_thresholds' parameter of summary_of_findings needs 'baseline_risk'.")
        thresholds, scale = _check_thresholds(absolute_thresholds, "absolute_thresholds"), "events per 1000"
    else:
        scale = "MID units"
    treatments = list(dict.fromkeys(t for r in table.ratings for t in (r.treatment1, r.treatment2)))
    if reference not in treatments:
        raise ParameterError(f"The 'reference' parameter of summary_of_findings must be one of {treatments}. "
                             f"Got {reference!r} instead.")
    rows = []
    for x in treatments:
        hit = None if x == reference else _oriented(table, x, reference)
        if hit is None:
            continue
        rating, eff, lo, hi = hit
        back = np.exp if zone.log_scale else (lambda v: v)
        row = {"stratum": stratum, "outcome": outcome, "intervention": x, "comparator": reference,
               "measure": measure, "effect": float(back(eff)), "ci_low": float(back(lo)), "ci_high": float(back(hi)),
               "evidence": rating.evidence}
        mid_units = eff / (zone.high if eff >= 0 else -zone.low)
        row["mid_units"] = float(mid_units)
        if baseline_risk is not None:
            d = absolute_effect(measure, back(np.array([eff, lo, hi])), float(baseline_risk))
            row |= {"baseline_per_1000": 1000 * float(baseline_risk),
                    "intervention_per_1000": 1000 * float(baseline_risk) + float(d[0]),
                    "per_1000": float(d[0]), "per_1000_ci_low": float(d[1]), "per_1000_ci_high": float(d[2])}
        size = row["per_1000"] if absolute_thresholds is not None else mid_units
        row["category"] = effect_category(size, thresholds)
        row["certainty"] = rating.rating
        row |= {"provisional": rating.provisional, "not_assessed": ", ".join(rating.not_assessed),
                "certainty_label": rating.label}
        row["statement"] = statement(rating.rating, row["category"], eff, labels.get(x, x), outcome)
        if rating.provisional:
            row["statement"] += f" The certainty is provisional ({not_assessed_text(rating.not_assessed)})."
        rows.append(row)
    return SofTable(stratum, outcome, reference, measure, pd.DataFrame(rows), thresholds, scale)
