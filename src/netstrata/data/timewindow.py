"""Time-window rules: which follow-up time point of a study enters an analysis.

A rule is written in the plan as text, e.g. ``"closest to but not after 12 weeks"`` (Wang 2025:
"closest to, but not over, 3 months for injections and 6 months for ablation"), or as a table
``{rule = "closest_not_after", target = 3, unit = "months", tolerance_weeks = 1}``.
Months are converted with 52/12 weeks per month.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TypeGuard

import numpy as np

__all__ = ["TimeWindow", "parse_window", "RULES", "WEEKS_PER"]

RULES = ("closest_not_after", "closest_not_before", "closest")
WEEKS_PER = {"week": 1.0, "month": 52.0 / 12.0, "day": 1.0 / 7.0}
_UNITS = {"weeks": "week", "week": "week", "wk": "week", "wks": "week", "w": "week",
          "months": "month", "month": "month", "mo": "month", "m": "month",
          "days": "day", "day": "day", "d": "day"}
_TEXT = re.compile(
    r"^\s*closest\s+to(?:\s*,?\s*but\s+not\s+(?P<side>after|over|exceeding|later\s+than|before|earlier\s+than)\s*,?)?"
    r"\s+(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """``rule`` in RULES, ``target_weeks``, a ``tolerance_weeks`` allowance, and the rule as written."""

    rule: str
    target_weeks: float
    tolerance_weeks: float = 0.0
    text: str = ""

    def choose(self, times) -> float | None:
        """The time point this rule selects among ``times`` (weeks; NaN ignored), or None."""
        t = np.asarray([x for x in times if x is not None and not math.isnan(x)], dtype=float)
        if self.rule == "closest_not_after":
            t = t[t <= self.target_weeks + self.tolerance_weeks]
            return float(t.max()) if t.size else None
        if self.rule == "closest_not_before":
            t = t[t >= self.target_weeks - self.tolerance_weeks]
            return float(t.min()) if t.size else None
        if not t.size:
            return None
        d = np.abs(t - self.target_weeks)
        return float(t[d == d.min()].min())  # ties: the earlier time point

    def describe(self) -> str:
        words = {"closest_not_after": "closest to but not after", "closest_not_before": "closest to but not before",
                 "closest": "closest to"}[self.rule]
        tol = f", tolerance {self.tolerance_weeks:g} wk" if self.tolerance_weeks else ""
        if self.text and not self.text.startswith("{"):
            return f"{self.text} (= {self.target_weeks:.4g} weeks{tol})"
        return f"{words} {self.target_weeks:.4g} weeks{tol}"


def parse_window(value, tolerance_weeks: float = 0.0) -> tuple[TimeWindow | None, str | None]:
    """Parse a rule from text or a table; return (window, None) or (None, what is wrong)."""
    if isinstance(value, str):
        m = _TEXT.match(value)
        if not m:
            return None, ("a rule like 'closest to but not after 12 weeks', 'closest to but not before "
                          "6 months' or 'closest to 26 weeks'")
        unit = _UNITS.get(m["unit"].lower())
        if unit is None:
            return None, f"a unit in weeks, months or days (found {m['unit']!r})"
        side = (m["side"] or "").lower()
        rule = "closest" if not side else ("closest_not_before" if side.split()[0] in ("before", "earlier")
                                           else "closest_not_after")
        return TimeWindow(rule, float(m["value"]) * WEEKS_PER[unit], float(tolerance_weeks), value), None
    if isinstance(value, dict):
        given, unit = value.get("rule"), _UNITS.get(str(value.get("unit", "weeks")).lower())
        target, tol = value.get("target"), value.get("tolerance_weeks", tolerance_weeks)
        if given not in RULES:
            return None, f"'rule' one of {list(RULES)} (found {given!r})"
        if unit is None:
            return None, f"'unit' weeks, months or days (found {value.get('unit')!r})"
        if not _is_number(target) or target < 0 or not _is_number(tol) or tol < 0:
            return None, "a non-negative number for 'target' and 'tolerance_weeks'"
        return TimeWindow(str(given), float(target) * WEEKS_PER[unit], float(tol), str(value)), None
    return None, "a rule as text ('closest to but not after 12 weeks') or a table"


def _is_number(x: object) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
