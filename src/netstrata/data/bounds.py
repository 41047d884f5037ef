"""Plausibility bounds: values that pass the column types but cannot be analysed as they are.

A record (an outcome or contrast row) with such a value does not enter any analysis; it gets an
exclusion-register row with reason ``implausible_value`` and a message naming the column, the
value and the bound, and :func:`netstrata.appraisal.check_plausibility` lists it (rule P12).
The bounds are data (:data:`BOUNDS`), one entry per rule:

* an arm size above ten million (no trial arm has enrolled that many people; a typo or a
  misplaced exponent, e.g. ``1e30``);
* an SD or SE below a millionth of the estimate it goes with (an SD of ``1e-300`` beside a mean
  of 5) or below 1e-150 when the estimate is 0 (its square underflows: infinite weight), or a
  value above 1e150 (its square overflows: zero weight);
* a confidence interval of zero width (rounded limits equal to the estimate: ``SE = 0``, an
  infinite weight) or narrower than a millionth of its limits.

References
----------
Higgins JPT et al. (eds). Cochrane Handbook v6.5, section 6.5.2.2 (SE from a confidence interval).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

__all__ = ["Bound", "BOUNDS", "MAX_ARM_SIZE", "MIN_RELATIVE", "NUMERIC_FLOOR", "NUMERIC_CEILING",
           "bound_problems"]

MAX_ARM_SIZE = 1e7          # participants in one arm
MIN_RELATIVE = 1e-6         # an SD, SE or CI width below this fraction of its estimate
NUMERIC_FLOOR = 1e-150      # x**2 underflows below ~1.5e-154
NUMERIC_CEILING = 1e150     # x**2 overflows above ~1.3e154


@dataclass(frozen=True, slots=True)
class Bound:
    """One plausibility rule: its code, the columns it reads and what it says."""

    code: str
    columns: tuple[str, ...]
    label: str


BOUNDS: dict[str, Bound] = {b.code: b for b in (
    Bound("arm_size", ("n",), f"arm size at most {MAX_ARM_SIZE:,.0f}"),
    Bound("dispersion", ("sd", "se"), f"SD or SE at least {MIN_RELATIVE:g} x |estimate| (>= {NUMERIC_FLOOR:g}) "
                                      f"and at most {NUMERIC_CEILING:g}"),
    Bound("magnitude", ("mean", "effect", "ci_low", "ci_high"), f"|value| at most {NUMERIC_CEILING:g}"),
    Bound("ci_width", ("ci_low", "ci_high"), f"CI width at least {MIN_RELATIVE:g} x its largest |limit|"),
)}


def _num(row: Mapping, name: str) -> float | None:
    v = row.get(name)
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _shown(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e16 or not float(x).is_integer() else f"{x:.3g}"


def _dispersion(value: float, estimate: float | None, what: str, of: str) -> str | None:
    if value > NUMERIC_CEILING:
        return f"{what} {_shown(value)} is above {NUMERIC_CEILING:g}: its square overflows (zero weight)"
    if estimate and value < MIN_RELATIVE * abs(estimate):
        return (f"{what} {_shown(value)} is less than {MIN_RELATIVE:g} times the {of} ({_shown(estimate)}): "
                "an implausibly precise value (a transcription error?)")
    if value < NUMERIC_FLOOR:
        return f"{what} {_shown(value)} is below {NUMERIC_FLOOR:g}: its square underflows (infinite weight)"
    return None


def bound_problems(row: Mapping) -> list[tuple[str, float, str]]:
    """Every bound a record violates, as ``(column, value, message)``.

    ``row`` holds any of ``n``, ``mean``, ``sd`` (an arm) or ``effect``, ``ci_low``, ``ci_high``,
    ``se`` (a contrast); missing or NaN values are not judged (the selection rules handle them).
    """
    out: list[tuple[str, float, str]] = []
    n = _num(row, "n")
    if n is not None and n > MAX_ARM_SIZE:
        out.append(("n", n, f"arm size {_shown(n)} exceeds {MAX_ARM_SIZE:,.0f}: no trial arm is that large "
                            "(a typo or a misplaced exponent?)"))
    for col in ("mean", "effect", "ci_low", "ci_high"):
        v = _num(row, col)
        if v is not None and abs(v) > NUMERIC_CEILING:
            out.append((col, v, f"{col} {_shown(v)} is beyond +/-{NUMERIC_CEILING:g}"))
    for col, est, of in (("sd", "mean", "mean"), ("se", "effect", "effect")):
        v = _num(row, col)
        if v is None or v <= 0:
            continue
        message = _dispersion(v, _num(row, est), col.upper(), of)
        if message:
            out.append((col, v, message))
    lo, hi = _num(row, "ci_low"), _num(row, "ci_high")
    if lo is not None and hi is not None and _num(row, "se") is None:
        width, scale = hi - lo, max(abs(lo), abs(hi))
        if width <= 0:
            out.append(("ci_high", hi, f"the confidence interval [{_shown(lo)}, {_shown(hi)}] has zero width: "
                                       "its SE would be 0 (infinite weight); re-extract the limits with more "
                                       "decimals or use a reported SE or p-value"))
        elif width < MIN_RELATIVE * scale or width < NUMERIC_FLOOR:
            out.append(("ci_high", hi, f"the confidence interval [{_shown(lo)}, {_shown(hi)}] is narrower than "
                                       f"{MIN_RELATIVE:g} times its limits: an implausibly precise value"))
    return out
