"""netstrata.effects (layer 1): effect sizes, zero-cell rules, conversions, arm -> contrast reshaping.

* ``effect_sizes(measure, data=None, ...)``: metafor's ``escalc``, with netstrata's argument names
  or metafor's (``ai``, ``bi``, ``ci``, ``di``, ``n1i``, ... and column names of ``data``; see
  :mod:`netstrata.effects.columns`); measures are declared once in ``MEASURES``.
* ``arms_to_contrasts(arms, measure, ...)``: netmeta's ``pairwise()``; returns ``Contrasts``
  (estimable pairs in ``.contrasts``, the rest with a reason in ``.dropped``).
* ``se_from_ci``, ``mean_sd_from_median``, ``check_sd_vs_se``: conversions a reviewer needs.
"""
from __future__ import annotations

from .contrasts import PAIRWISE_MEASURES, Contrasts, arms_to_contrasts
from .conversions import Converted, check_sd_vs_se, mean_sd_from_median, se_from_ci
from .escalc import effect_sizes
from .registry import MEASURES, Measure, get_measure

__all__ = [
    "effect_sizes", "MEASURES", "Measure", "get_measure",
    "arms_to_contrasts", "Contrasts", "PAIRWISE_MEASURES",
    "se_from_ci", "mean_sd_from_median", "check_sd_vs_se", "Converted",
]
