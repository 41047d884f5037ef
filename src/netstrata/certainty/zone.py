"""The zone of clinical equivalence around no effect, set by the minimal important difference.

CINeMA's imprecision, heterogeneity and incoherence rules compare intervals with the range of
equivalence ``(low, high)`` around the null effect (Nikolakopoulou 2020). netstrata keeps it on
the *analysis* scale: for ratio measures (OR, RR, ROM, IRR, HR) the MID is given as a ratio and
the zone is ``(-|log mid|, +|log mid|)`` (an OR of 0.8 gives 0.8 to 1.25); for difference
measures (MD, SMD, RD, ...) a positive MID ``d`` gives ``(-d, d)``. An asymmetric zone can be
given directly as ``(low, high)`` on the analysis scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..effects.registry import get_measure
from ..errors import ParameterError

__all__ = ["MIDZone", "mid_zone", "RATIO_MEASURES"]

# Ratio measures not in the escalc registry but common in NMA input (analysed on the log scale).
RATIO_MEASURES = ("HR",)


@dataclass(frozen=True, slots=True)
class MIDZone:
    """Zone of equivalence ``(low, high)`` on the analysis scale, ``low < 0 < high``.

    ``mid`` is the value the user gave (a ratio for ratio measures), ``log_scale`` whether the
    analysis scale is the log of the natural one.
    """

    low: float
    high: float
    measure: str
    mid: float | None
    log_scale: bool

    @property
    def limits(self) -> tuple[float, float]:
        return (self.low, self.high)

    @property
    def half_width(self) -> float:
        """The MID on the analysis scale (the zone's upper limit), used for "MID units"."""
        return self.high

    def natural(self) -> tuple[float, float]:
        """The zone on the natural scale (ratios for ratio measures)."""
        return (math.exp(self.low), math.exp(self.high)) if self.log_scale else (self.low, self.high)

    def __repr__(self) -> str:
        lo, hi = self.natural()
        return f"MIDZone(measure={self.measure!r}, zone=({lo:.4g}, {hi:.4g}){' ratio' if self.log_scale else ''})"


def _is_ratio(measure: str) -> tuple[str, bool]:
    if isinstance(measure, str) and measure.upper() in RATIO_MEASURES:
        return measure.upper(), True
    m = get_measure(measure, caller="mid_zone")
    return m.code, m.is_ratio


def mid_zone(mid=None, measure: str = "MD", *, zone: tuple[float, float] | None = None) -> MIDZone:
    """Build the zone of equivalence from a minimal important difference.

    Parameters
    ----------
    mid : float
        For ratio measures a ratio ≠ 1 (0.8 and 1.25 give the same zone); otherwise a positive
        difference on the measure's scale (e.g. 1.5 cm on a 10 cm VAS).
    measure : str
        Effect measure code (``netstrata.effects`` registry, or "HR").
    zone : (low, high), optional
        An explicit, possibly asymmetric zone on the analysis scale (log scale for ratios), with
        ``low < 0 < high``; used instead of ``mid``.
    """
    code, ratio = _is_ratio(measure)
    if zone is not None:
        try:
            low, high = (float(v) for v in zone)
        except (TypeError, ValueError):
            raise ParameterError(f"The 'zone' parameter of mid_zone must be a pair (low, high). Got {zone!r} instead.") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < 0 < high):
            raise ParameterError(f"The 'zone' parameter of mid_zone must satisfy low < 0 < high on the analysis "
                                 f"scale{' (log)' if ratio else ''}. Got {zone!r} instead.")
        return MIDZone(low, high, code, None, ratio)
    try:
        value = float(mid)
    except (TypeError, ValueError):
        raise ParameterError(f"The 'mid' parameter of mid_zone must be a number. Got {mid!r} instead.") from None
    if ratio:
        if not (math.isfinite(value) and value > 0 and value != 1):
            raise ParameterError(f"The 'mid' parameter of mid_zone must be a ratio > 0 and != 1 for measure "
                                 f"{code!r} (e.g. 0.8 or 1.25). Got {mid!r} instead.")
        half = abs(math.log(value))
    else:
        if not (math.isfinite(value) and value > 0):
            raise ParameterError(f"The 'mid' parameter of mid_zone must be a positive difference for measure "
                                 f"{code!r}. Got {mid!r} instead.")
        half = value
    return MIDZone(-half, half, code, value, ratio)
